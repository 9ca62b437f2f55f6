// dist.c — the collectives of data-parallel training (see dist.h): an MPI implementation,
// compiled with -DFT_HAVE_MPI, and a one-process world otherwise (or when no launcher
// started this process). The share of a step's rows each rank trains on is here too.
#include "train/dist.h"
#include "core/err.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FT_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1;
static size_t g_bucket = (size_t)1 << 22;

// The launcher's world size from the environment (0 = not started by a launcher).
static long launcher_size(void) {
    static const char *const VARS[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof VARS / sizeof *VARS; i++) {
        const char *v = getenv(VARS[i]);
        if (v && *v) return strtol(v, NULL, 10);
    }
    return getenv("PMIX_RANK") || getenv("PMI_RANK") ? 1 : 0;
}

int ft_dist_rank(void) { return g_rank; }
int ft_dist_size(void) { return g_size; }
size_t ft_dist_bucket(void) { return g_bucket; }
void ft_dist_set_bucket(size_t n) {
    if (n > 0) g_bucket = n;
}

void ft_dist_rows(uint64_t first, int rows, uint64_t total, int unit, int rank, int size, int *r0, int *nr) {
    if (unit < 1) unit = 1;
    uint64_t ex = (total + (uint64_t)unit - 1) / (uint64_t)unit;
    uint64_t lo = ex * (uint64_t)rank / (uint64_t)size * (uint64_t)unit;
    uint64_t hi = rank + 1 == size ? total : ex * (uint64_t)(rank + 1) / (uint64_t)size * (uint64_t)unit;
    if (hi > total) hi = total;
    uint64_t a = first > lo ? first : lo, b = first + (uint64_t)rows < hi ? first + (uint64_t)rows : hi;
    if (b <= a) {
        *r0 = 0;
        *nr = 0;
        return;
    }
    *r0 = (int)(a - first);
    *nr = (int)(b - a);
}

// Host staging of device buffers (grown on demand).
static float *g_host;
static size_t g_host_n;

static float *host_stage(size_t n) {
    if (n <= g_host_n) return g_host;
    float *p = ft_realloc(g_host, n * sizeof(float));
    if (!p) return NULL;
    g_host = p;
    g_host_n = n;
    return p;
}

static void host_stage_free(void) {
    free(g_host);
    g_host = NULL;
    g_host_n = 0;
}

void ft_dist_shard(size_t n, int rank, int size, size_t *lo, size_t *hi) {
    *lo = rank == 0 ? 0 : (size_t)((unsigned __int128)n * (unsigned)rank / (unsigned)size) & ~(size_t)15;
    *hi = rank + 1 == size ? n : (size_t)((unsigned __int128)n * (unsigned)(rank + 1) / (unsigned)size) & ~(size_t)15;
    if (*lo > n) *lo = n;
    if (*hi < *lo) *hi = *lo;
}

int ft_dist_zero_optim(ft_optim *o, size_t lo, size_t hi) {
    if (!o->ops->host_access) return ft_err("--zero 1: the optimizer state must be in host memory (--device cpu)");
    if (hi - lo > (size_t)INT_MAX) return ft_err("--zero 1: a shard of %zu parameters is too large for one MPI message", hi - lo);
    size_t ns = hi - lo, bytes = (ns ? ns : 1) * sizeof(float);
    float *m = o->ops->alloc(bytes), *v = o->ops->alloc(bytes);
    ft_param_range *r = o->n_ranges ? ft_malloc(o->n_ranges * sizeof *r) : NULL;
    if (!m || !v || (o->n_ranges && !r)) {
        o->ops->free(m);
        o->ops->free(v);
        free(r);
        return ft_err_ctx("--zero 1: optimizer state of %zu parameters", ns);
    }
    if (ns) {
        memcpy(m, o->m + lo, ns * sizeof(float));
        memcpy(v, o->v + lo, ns * sizeof(float));
    }
    size_t nr = 0;
    for (size_t i = 0; i < o->n_ranges; i++) {   // each range cut to [lo, hi), shifted by lo
        size_t a = o->ranges[i].offset, b = a + o->ranges[i].n;
        if (a < lo) a = lo;
        if (b > hi) b = hi;
        if (b <= a) continue;
        r[nr++] = (ft_param_range){a - lo, b - a, o->ranges[i].decay};
    }
    o->ops->free(o->m);
    o->ops->free(o->v);
    free(o->ranges);
    o->m = m;
    o->v = v;
    o->n = ns;
    // a full table that covered nothing of this shard leaves no range: decay-free, not "decay all"
    if (o->n_ranges && nr == 0) r[nr++] = (ft_param_range){0, 0, 0};
    o->ranges = r;
    o->n_ranges = o->n_ranges ? nr : 0;
    return 0;
}

int ft_dist_bcast_buf(const ft_ops *ops, float *buf, size_t n, int root) {
    if (g_size == 1 || n == 0) return 0;
    size_t bytes = n * sizeof(float);
    if (ops->host_access) return ft_dist_bcast(buf, bytes, root);
    float *host = host_stage(n);
    if (!host) return -1;
    if (ops->download(host, buf, bytes) || ft_dist_bcast(host, bytes, root) || ops->upload(buf, host, bytes))
        return ft_err_ctx("broadcast of %zu parameters", n);
    return 0;
}

int ft_dist_allreduce_buf(const ft_ops *ops, float *buf, size_t n) {
    if (g_size == 1 || n == 0) return 0;
    size_t bytes = n * sizeof(float);
    if (ops->host_access) return ft_dist_allreduce_f32(buf, n);
    float *host = host_stage(n);
    if (!host) return -1;
    if (ops->download(host, buf, bytes) || ft_dist_allreduce_f32(host, n) || ops->upload(buf, host, bytes))
        return ft_err_ctx("all-reduce of %zu gradients", n);
    return 0;
}

#ifdef FT_HAVE_MPI
static int g_mpi = 0;   // this process joined an MPI job
// ---- MPI ----------------------------------------------------------------------------------
static int mpi_fail(int code, const char *what) {
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "error %d", code);
    return ft_err("MPI %s on rank %d of %d: %s", what, g_rank, g_size, s);
}

const char *ft_dist_backend(void) { return g_mpi ? "mpi" : "none"; }

int ft_dist_init(void) {
    if (g_mpi || launcher_size() == 0) return 0;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int rc = MPI_Init(NULL, NULL);
        if (rc != MPI_SUCCESS) return ft_err("MPI_Init failed (error %d): is this the launcher's MPI?", rc);
    }
    // errors come back as codes (messages), not as MPI's own abort
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_mpi = 1;
    return 0;
}

void ft_dist_finalize(void) {
    host_stage_free();
    if (!g_mpi) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
    g_mpi = 0;
}

void ft_dist_abort(int code) {
    if (g_mpi && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
}

int ft_dist_bcast(void *buf, size_t bytes, int root) {
    if (g_size == 1) return 0;
    char *p = buf;
    while (bytes) {
        int c = bytes > (size_t)INT_MAX ? INT_MAX : (int)bytes;
        int rc = MPI_Bcast(p, c, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "broadcast");
        p += c;
        bytes -= (size_t)c;
    }
    return 0;
}

static int allreduce(void *buf, size_t n, size_t elem, MPI_Datatype type, MPI_Op op, size_t bucket) {
    if (g_size == 1) return 0;
    if (bucket > (size_t)INT_MAX) bucket = (size_t)INT_MAX;
    char *p = buf;
    while (n) {
        size_t c = n < bucket ? n : bucket;
        int rc = MPI_Allreduce(MPI_IN_PLACE, p, (int)c, type, op, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "all-reduce");
        p += c * elem;
        n -= c;
    }
    return 0;
}

int ft_dist_allreduce_f32(float *buf, size_t n) { return allreduce(buf, n, sizeof *buf, MPI_FLOAT, MPI_SUM, g_bucket); }
int ft_dist_allreduce_f64(double *buf, size_t n) { return allreduce(buf, n, sizeof *buf, MPI_DOUBLE, MPI_SUM, INT_MAX); }
int ft_dist_allreduce_max_i32(int32_t *buf, size_t n) { return allreduce(buf, n, sizeof *buf, MPI_INT32_T, MPI_MAX, INT_MAX); }

int ft_dist_barrier(void) {
    if (g_size == 1) return 0;
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(rc, "barrier");
}

// counts and displacements (floats) of every rank's shard of n
static int shard_layout(size_t n, int **counts, int **displs) {
    *counts = ft_malloc((size_t)g_size * sizeof **counts);
    *displs = ft_malloc((size_t)g_size * sizeof **displs);
    if (!*counts || !*displs) return -1;
    for (int r = 0; r < g_size; r++) {
        size_t lo, hi;
        ft_dist_shard(n, r, g_size, &lo, &hi);
        if (hi - lo > (size_t)INT_MAX || lo > (size_t)INT_MAX)
            return ft_err("--zero 1: %zu parameters are too many for one MPI all-gather", n);
        (*counts)[r] = (int)(hi - lo);
        (*displs)[r] = (int)lo;
    }
    return 0;
}

int ft_dist_allgather_shards(float *buf, size_t n) {
    if (g_size == 1) return 0;
    int *c = NULL, *d = NULL, rc = shard_layout(n, &c, &d);
    if (!rc && (rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, c, d, MPI_FLOAT, MPI_COMM_WORLD)) != MPI_SUCCESS)
        rc = mpi_fail(rc, "all-gather");
    free(c);
    free(d);
    return rc;
}

int ft_dist_reduce_scatter_shards(float *buf, size_t n) {
    if (g_size == 1) return 0;
    int *c = NULL, *d = NULL, rc = shard_layout(n, &c, &d);
    if (!rc && (rc = MPI_Reduce_scatter(MPI_IN_PLACE, buf, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD)) != MPI_SUCCESS)
        rc = mpi_fail(rc, "reduce-scatter");
    if (!rc && d[g_rank]) memmove(buf + d[g_rank], buf, (size_t)c[g_rank] * sizeof *buf);   // in place: at the front
    free(c);
    free(d);
    return rc;
}

int ft_dist_gather_shards(const float *shard, float *full, size_t n) {
    if (g_size == 1) {
        if (n) memcpy(full, shard, n * sizeof(float));
        return 0;
    }
    int *c = NULL, *d = NULL, rc = shard_layout(n, &c, &d);
    if (!rc && (rc = MPI_Gatherv(shard, c[g_rank], MPI_FLOAT, full, c, d, MPI_FLOAT, 0, MPI_COMM_WORLD)) != MPI_SUCCESS)
        rc = mpi_fail(rc, "gather");
    free(c);
    free(d);
    return rc;
}

int ft_dist_gather_bytes(const char *buf, size_t len, char **all, size_t *lens) {
    *all = NULL;
    if (len > (size_t)INT_MAX) return ft_err("rank %d: %zu bytes are too many for one MPI gather", g_rank, len);
    uint64_t l = len, *ls = g_rank == 0 ? ft_malloc((size_t)g_size * sizeof *ls) : NULL;
    int *c = g_rank == 0 ? ft_malloc((size_t)g_size * sizeof *c) : NULL, *d = g_rank == 0 ? ft_malloc((size_t)g_size * sizeof *d) : NULL;
    int rc = g_rank == 0 && (!ls || !c || !d) ? -1 : 0;   // (a failed rank 0 is aborted by its tool)
    if (!rc && (rc = MPI_Gather(&l, 1, MPI_UINT64_T, ls, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD)) != MPI_SUCCESS)
        rc = mpi_fail(rc, "gather");
    size_t tot = 0;
    for (int r = 0; !rc && g_rank == 0 && r < g_size; r++) {
        if (tot > (size_t)INT_MAX - ls[r]) { rc = ft_err("%zu bytes are too many for one MPI gather", tot + ls[r]); break; }
        c[r] = (int)ls[r];
        d[r] = (int)tot;
        lens[r] = ls[r];
        tot += ls[r];
    }
    if (!rc && g_rank == 0 && !(*all = ft_malloc(tot + 1))) rc = -1;
    if (!rc && (rc = MPI_Gatherv(buf, (int)len, MPI_CHAR, *all, c, d, MPI_CHAR, 0, MPI_COMM_WORLD)) != MPI_SUCCESS)
        rc = mpi_fail(rc, "gather");
    if (!rc && *all) (*all)[tot] = 0;
    if (rc) {
        free(*all);
        *all = NULL;
    }
    free(ls);
    free(c);
    free(d);
    return rc;
}

int ft_dist_same_u64(uint64_t x) {
    if (g_size == 1) return 1;
    uint64_t v[2] = {x, ~x};   // max(x) and max(~x) = ~min(x)
    int rc = MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "all-reduce");
    return v[0] == ~v[1];
}

#else
// ---- one process ------------------------------------------------------------------------------
const char *ft_dist_backend(void) { return "none"; }

int ft_dist_init(void) {
    long n = launcher_size();
    if (n > 1)
        return ft_err("started by an MPI launcher with %ld processes, but this build has no MPI "
                      "(install libopenmpi-dev, rebuild: `make` prints ✓ MPI)", n);
    return 0;
}

void ft_dist_finalize(void) { host_stage_free(); }
void ft_dist_abort(int code) { (void)code; }
int ft_dist_bcast(void *buf, size_t bytes, int root) { (void)buf, (void)bytes, (void)root; return 0; }
int ft_dist_allreduce_f32(float *buf, size_t n) { (void)buf, (void)n; return 0; }
int ft_dist_allreduce_f64(double *buf, size_t n) { (void)buf, (void)n; return 0; }
int ft_dist_allreduce_max_i32(int32_t *buf, size_t n) { (void)buf, (void)n; return 0; }
int ft_dist_barrier(void) { return 0; }
int ft_dist_same_u64(uint64_t x) { (void)x; return 1; }
int ft_dist_allgather_shards(float *buf, size_t n) { (void)buf, (void)n; return 0; }
int ft_dist_reduce_scatter_shards(float *buf, size_t n) { (void)buf, (void)n; return 0; }
int ft_dist_gather_bytes(const char *buf, size_t len, char **all, size_t *lens) {
    if (!(*all = ft_malloc(len + 1))) return -1;
    if (len) memcpy(*all, buf, len);
    (*all)[len] = 0;
    lens[0] = len;
    return 0;
}
int ft_dist_gather_shards(const float *shard, float *full, size_t n) {
    if (n) memcpy(full, shard, n * sizeof(float));
    return 0;
}
#endif
