// test_ops_mem.c — device memory in the op table (kernels/ops.h "memory") and the guard
// backend (kernels/guard/): alloc/upload/download/copy/zero round trips on the CPU and the
// guard tables; the guard's ops equal the CPU kernels bit for bit on device buffers; the
// KV-cache attention op against a double-precision naive softmax; and the guard's rule: a
// host read or write of a device buffer faults (SIGSEGV, checked in a forked child), a host
// pointer given to a guard op aborts, a freed buffer faults.
#include "ops_check.h"
#include "ops.h"
#include "core/err.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

// Runs fn in a child; returns the signal that ended it (0 if it exited normally).
static int child_signal(void (*fn)(void *), void *arg) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        signal(SIGSEGV, SIG_DFL);
        if (!freopen("/dev/null", "w", stderr)) _exit(3);   // the guard's abort message
        fn(arg);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void roundtrip(const ft_ops *o) {
    enum { N = 1000 };
    float h[N], back[N];
    for (int i = 0; i < N; i++) h[i] = (float)i * 0.5f - 7.0f;
    float *a = o->alloc(N * sizeof(float)), *b = o->alloc(N * sizeof(float));
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(o->upload(a, h, sizeof h), 0);
    assert_int_equal(o->copy(b, a, sizeof h), 0);
    assert_int_equal(o->zero(a + 10, 5 * sizeof(float)), 0);
    assert_int_equal(o->download(back, a, sizeof back), 0);
    for (int i = 0; i < N; i++) assert_true(back[i] == (i >= 10 && i < 15 ? 0.0f : h[i]));
    assert_int_equal(o->download(back, b, sizeof back), 0);
    assert_memory_equal(back, h, sizeof h);
    o->free(a);
    o->free(b);
    o->free(NULL);
}

static void test_cpu_memory(void **st) {
    const ft_ops *o = ft_ops_cpu();
    assert_int_equal(o->device, FT_DEVICE_CPU);
    assert_int_equal(o->host_access, 1);
    roundtrip(o);
    float *p = o->alloc(3);
    assert_int_equal((uintptr_t)p % 64, 0);
    o->free(p);
}

static void test_guard_memory(void **st) {
    const ft_ops *o = ft_ops_guard();
    assert_non_null(o);
    assert_int_equal(o->device, FT_DEVICE_GUARD);
    assert_int_equal(o->host_access, 0);
    roundtrip(o);
    assert_ptr_equal(ft_ops_by_name("guard"), o);
    assert_ptr_equal(ft_ops_by_name("cpu"), ft_ops_cpu());
    assert_null(ft_ops_by_name("tpu"));
    assert_non_null(strstr(ft_errmsg(), "unknown device 'tpu'"));
}

// --- the rule: no host access of device memory -------------------------------------------
static void host_read(void *p) { volatile float x = *(volatile float *)p; (void)x; }
static void host_write(void *p) { *(volatile float *)p = 1.0f; }
static void host_memset(void *p) { memset(p, 0, 16); }
static void host_ptr_to_op(void *dev) {   // a host buffer where a device buffer belongs
    float host[16] = {0};
    ft_ops_guard()->add_inplace(dev, host, 16);
}
static void use_after_free(void *unused) {
    const ft_ops *o = ft_ops_guard();
    float one = 1.0f, *p = o->alloc(sizeof(float));
    o->upload(p, &one, sizeof one);
    o->free(p);
    o->add_inplace(p, p, 1);   // the shadow pages of a freed buffer are inaccessible again
}

static void test_guard_faults(void **st) {
    const ft_ops *o = ft_ops_guard();
    float *d = o->alloc(64 * sizeof(float));
    float zeros[64] = {0};
    assert_int_equal(o->upload(d, zeros, sizeof zeros), 0);
    assert_int_equal(child_signal(host_read, d), SIGSEGV);
    assert_int_equal(child_signal(host_write, d + 63), SIGSEGV);
    assert_int_equal(child_signal(host_memset, d), SIGSEGV);
    assert_int_equal(child_signal(host_ptr_to_op, d), SIGABRT);
    assert_int_equal(child_signal(use_after_free, NULL), SIGSEGV);
    // and the same accesses through the op table are fine
    float h[64];
    o->add_inplace(d, d, 64);
    assert_int_equal(o->download(h, d, sizeof h), 0);
    assert_memory_equal(h, zeros, sizeof h);
    o->free(d);
    // the CPU table's buffers are host memory: the same read is fine there
    float *c = ft_ops_cpu()->alloc(sizeof(float));
    assert_int_equal(child_signal(host_read, c), 0);
    ft_ops_cpu()->free(c);
}

// --- guard ops == CPU ops bit for bit -------------------------------------------------------
static void *up(const ft_ops *o, const void *h, size_t bytes) {
    void *d = o->alloc(bytes);
    assert_non_null(d);
    assert_int_equal(o->upload(d, h, bytes), 0);
    return d;
}

static void test_guard_equals_cpu(void **st) {
    const ft_ops *c = ft_ops_cpu(), *g = ft_ops_guard();
    enum { B = 2, T = 9, Hq = 4, Hkv = 2, D = 8, C = 32, V = 41, N = B * T };
    oc_seed(7);
    float *x = oc_randf(N * C, 1), *w = oc_randf(V * C, 0.5f), *q = oc_randf(N * Hq * D, 1),
          *k = oc_randf(N * Hkv * D, 1), *v = oc_randf(N * Hkv * D, 1), *nw = oc_randf(C, 1);
    int32_t tgt[N], doc[N];
    uint8_t mask[N];
    for (int i = 0; i < N; i++) { tgt[i] = oc_int(V); doc[i] = i % T < 4 ? 0 : 1; mask[i] = i % 3 != 0; }
    float *dx = x, *dw = w, *dq = q, *dk = k, *dv = v, *dnw = nw;
    float *gx = up(g, x, N * C * 4), *gw = up(g, w, V * C * 4), *gq = up(g, q, N * Hq * D * 4),
          *gk = up(g, k, N * Hkv * D * 4), *gv = up(g, v, N * Hkv * D * 4), *gnw = up(g, nw, C * 4);
    int32_t *gt = up(g, tgt, sizeof tgt), *gdoc = up(g, doc, sizeof doc);
    uint8_t *gm = up(g, mask, sizeof mask);
    // CPU on host buffers
    float *ro = malloc(N * V * 4), *rr = malloc(N * 4), *ra = malloc(N * Hq * D * 4), *rl = malloc(N * Hq * 4),
          *rdh = calloc(N * C, 4), *rdw = calloc(V * C, 4), *rc = malloc(T * Hq * D * 4);
    c->matmul(ro, dx, dw, NULL, N, C, V);
    c->rmsnorm(rdh, rr, dx, dnw, N, C, 1e-5f);
    c->attention(ra, rl, dq, dk, dv, doc, B, T, Hq, Hkv, D);
    c->attention_cached(rc, dq + 3 * Hq * D, dk, dv, T - 3, 3, Hq, Hkv, D);
    float *rdh2 = calloc(N * C, 4);
    double rloss = c->lm_head_xent(rdh2, rdw, dx, dw, tgt, mask, N, C, V, 0.5f);
    // guard on device buffers
    float *go = g->alloc(N * V * 4), *gr = g->alloc(N * 4), *ga = g->alloc(N * Hq * D * 4),
          *gl = g->alloc(N * Hq * 4), *gdh = g->alloc(N * C * 4), *gdw = g->alloc(V * C * 4),
          *gc = g->alloc(T * Hq * D * 4), *gdh2 = g->alloc(N * C * 4);
    g->zero(gdh2, N * C * 4);
    g->zero(gdw, V * C * 4);
    g->matmul(go, gx, gw, NULL, N, C, V);
    g->rmsnorm(gdh, gr, gx, gnw, N, C, 1e-5f);
    g->attention(ga, gl, gq, gk, gv, gdoc, B, T, Hq, Hkv, D);
    g->attention_cached(gc, gq + 3 * Hq * D, gk, gv, T - 3, 3, Hq, Hkv, D);
    double gloss = g->lm_head_xent(gdh2, gdw, gx, gw, gt, gm, N, C, V, 0.5f);
    assert_true(gloss == rloss);
    struct { const float *dev, *ref; size_t n; } cmp[] = {
        {go, ro, N * V}, {gr, rr, N}, {gdh, rdh, N * C}, {ga, ra, N * Hq * D}, {gl, rl, N * Hq},
        {gc, rc, (T - 3) * Hq * D}, {gdh2, rdh2, N * C}, {gdw, rdw, V * C}};
    for (size_t i = 0; i < sizeof cmp / sizeof *cmp; i++) {
        float *h = malloc(cmp[i].n * 4);
        assert_int_equal(g->download(h, cmp[i].dev, cmp[i].n * 4), 0);
        assert_memory_equal(h, cmp[i].ref, cmp[i].n * 4);
        free(h);
    }
    void *all[] = {gx, gw, gq, gk, gv, gnw, gt, gdoc, gm, go, gr, ga, gl, gdh, gdw, gc, gdh2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) g->free(all[i]);
    void *hs[] = {x, w, q, k, v, nw, ro, rr, ra, rl, rdh, rdw, rc, rdh2};
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++) free(hs[i]);
}

// --- attention_cached against a naive double softmax ------------------------------------------
static void test_attention_cached(void **st) {
    enum { Hq = 6, Hkv = 2, D = 8, P0 = 5, NQ = 4, CTX = P0 + NQ };
    oc_seed(11);
    float *q = oc_randf(NQ * Hq * D, 1), *k = oc_randf(CTX * Hkv * D, 1), *v = oc_randf(CTX * Hkv * D, 1);
    float out[NQ * Hq * D];
    double want[NQ * Hq * D];
    ft_ops_cpu()->attention_cached(out, q, k, v, NQ, P0, Hq, Hkv, D);
    for (int i = 0; i < NQ; i++)
        for (int h = 0; h < Hq; h++) {
            int kh = h / (Hq / Hkv), ctx = P0 + i + 1;
            double s[CTX], mx = -INFINITY, sum = 0;
            for (int j = 0; j < ctx; j++) {
                double d = 0;
                for (int e = 0; e < D; e++) d += (double)q[(i * Hq + h) * D + e] * k[(j * Hkv + kh) * D + e];
                s[j] = d / sqrt((double)D);
                if (s[j] > mx) mx = s[j];
            }
            for (int j = 0; j < ctx; j++) sum += s[j] = exp(s[j] - mx);
            for (int e = 0; e < D; e++) {
                double o = 0;
                for (int j = 0; j < ctx; j++) o += s[j] / sum * v[(j * Hkv + kh) * D + e];
                want[(i * Hq + h) * D + e] = o;
            }
        }
    assert_true(oc_relerr("attention_cached", out, want, NQ * Hq * D, 2e-5) <= 2e-5);
    free(q); free(k); free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_memory),
        cmocka_unit_test(test_guard_memory),
        cmocka_unit_test(test_guard_faults),
        cmocka_unit_test(test_guard_equals_cpu),
        cmocka_unit_test(test_attention_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
