// ckpt.c — atomic training checkpoints (see ckpt.h).
#include "train/ckpt.h"
#include "core/err.h"
#include "core/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CK_MAGIC "FTCK"
#define CK_VERSION 1u

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

static char *pathf(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = ft_malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

long ft_ckpt_step_of(const char *dir) {
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    if (strncmp(base, "step-", 5)) return -1;
    char *end;
    long s = strtol(base + 5, &end, 10);
    if (end == base + 5 || *end || s < 0) return -1;
    return s;
}

static int write_chunk(FILE *f, uint64_t *h, const void *p, size_t n, const char *path) {
    *h = fnv(*h, p, n);
    if (n && fwrite(p, 1, n, f) != n) return ft_err("%s: write failed: %s", path, strerror(errno));
    return 0;
}

static int write_file_sync(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return ft_err("%s: %s", path, strerror(errno));
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) { if (errno == EINTR) continue; close(fd); return ft_err("%s: %s", path, strerror(errno)); }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) || close(fd)) return ft_err("%s: %s", path, strerror(errno));
    return 0;
}

static void rm_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = pathf(dir, e->d_name);
            if (p) { unlink(p); free(p); }
        }
        closedir(d);
    }
    rmdir(dir);
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

// Steps of the complete checkpoints under root, ascending (malloc'd).
static long *list_steps(const char *root, size_t *count) {
    *count = 0;
    DIR *d = opendir(root);
    if (!d) return NULL;
    long *v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long s = ft_ckpt_step_of(e->d_name);
        if (s < 0) continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            long *nv = realloc(v, cap * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        v[(*count)++] = s;
    }
    closedir(d);
    if (v) qsort(v, *count, sizeof *v, cmp_long);
    return v;
}

int ft_ckpt_save(const char *root, long step, const float *params, const float *m, const float *v, size_t n,
                 const char *state_json, int keep, long protect_step) {
    if (ft_mkdirs(root)) return -1;
    // Remove leftovers of interrupted saves.
    DIR *d = opendir(root);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (!strncmp(e->d_name, ".tmp-step-", 10)) {
                char *p = pathf(root, e->d_name);
                if (p) { rm_tree(p); free(p); }
            }
        closedir(d);
    }
    char name[64], tmpname[96];
    snprintf(name, sizeof name, "step-%08ld", step);
    snprintf(tmpname, sizeof tmpname, ".tmp-%s-%ld", name, (long)getpid());
    char *final = pathf(root, name), *tmp = pathf(root, tmpname);
    char *bin = NULL, *js = NULL;
    int rc = -1;
    if (!final || !tmp) goto out;
    rm_tree(tmp);
    if (mkdir(tmp, 0755)) { ft_err("%s: %s", tmp, strerror(errno)); goto out; }
    bin = pathf(tmp, "state.bin");
    js = pathf(tmp, "state.json");
    if (!bin || !js) goto out;
    FILE *f = fopen(bin, "wb");
    if (!f) { ft_err("%s: %s", bin, strerror(errno)); goto out; }
    uint64_t h = 0xCBF29CE484222325ull, n64 = n;
    uint32_t ver = CK_VERSION;
    int bad = write_chunk(f, &h, CK_MAGIC, 4, bin) || write_chunk(f, &h, &ver, 4, bin) ||
              write_chunk(f, &h, &n64, 8, bin) || write_chunk(f, &h, params, n * 4, bin) ||
              write_chunk(f, &h, m, n * 4, bin) || write_chunk(f, &h, v, n * 4, bin);
    if (!bad && fwrite(&h, 8, 1, f) != 1) bad = ft_err("%s: write failed", bin);
    if (!bad && (fflush(f) || fsync(fileno(f)))) bad = ft_err("%s: %s", bin, strerror(errno));
    if (fclose(f) && !bad) bad = ft_err("%s: %s", bin, strerror(errno));
    if (bad) goto out;
    if (write_file_sync(js, state_json, strlen(state_json))) goto out;
    rm_tree(final);   // re-saving the same step replaces it
    if (rename(tmp, final)) { ft_err("%s: rename to %s: %s", tmp, final, strerror(errno)); goto out; }
    int dfd = open(root, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    rc = 0;
    if (keep > 0) {
        size_t cnt;
        long *steps = list_steps(root, &cnt);
        size_t kept = 0;
        for (size_t i = cnt; i-- > 0;) {
            if (steps[i] == protect_step) continue;
            if (++kept <= (size_t)keep) continue;
            char old[64];
            snprintf(old, sizeof old, "step-%08ld", steps[i]);
            char *p = pathf(root, old);
            if (p) { rm_tree(p); free(p); }
        }
        free(steps);
    }
out:
    if (rc && tmp) rm_tree(tmp);
    free(final); free(tmp); free(bin); free(js);
    return rc;
}

int ft_ckpt_load(const char *dir, float *params, float *m, float *v, size_t n, char **state_json) {
    *state_json = NULL;
    char *bin = pathf(dir, "state.bin"), *js = pathf(dir, "state.json");
    int rc = -1;
    ft_map map = {0};
    if (!bin || !js) goto out;
    if (ft_map_open(bin, &map)) goto out;
    size_t want = 16 + 12 * n + 8;
    if (map.size != want) { ft_err("%s: %zu bytes, expected %zu for %zu parameters", bin, map.size, want, n); goto out; }
    uint32_t ver;
    uint64_t n64, sum;
    memcpy(&ver, map.data + 4, 4);
    memcpy(&n64, map.data + 8, 8);
    memcpy(&sum, map.data + want - 8, 8);
    if (memcmp(map.data, CK_MAGIC, 4) || ver != CK_VERSION) { ft_err("%s: not an ft checkpoint (bad magic or version)", bin); goto out; }
    if (n64 != n) { ft_err("%s: holds %llu parameters, the run has %zu", bin, (unsigned long long)n64, n); goto out; }
    if (fnv(0xCBF29CE484222325ull, map.data, want - 8) != sum) { ft_err("%s: checksum mismatch (corrupt file)", bin); goto out; }
    memcpy(params, map.data + 16, n * 4);
    memcpy(m, map.data + 16 + 4 * n, n * 4);
    memcpy(v, map.data + 16 + 8 * n, n * 4);
    size_t len;
    if (ft_read_all(js, state_json, &len)) goto out;
    rc = 0;
out:
    ft_map_close(&map);
    free(bin); free(js);
    return rc;
}

char *ft_ckpt_latest(const char *root, size_t n, char **skipped) {
    if (skipped) *skipped = NULL;
    size_t cnt;
    long *steps = list_steps(root, &cnt);
    char *found = NULL;
    for (size_t i = cnt; i-- > 0 && !found;) {
        char name[64];
        snprintf(name, sizeof name, "step-%08ld", steps[i]);
        char *p = pathf(root, name);
        if (!p) break;
        // Verify by size and checksum without keeping the data.
        char *bin = pathf(p, "state.bin");
        ft_map map = {0};
        int ok = 0;
        if (bin && !ft_map_open(bin, &map)) {
            size_t want = 16 + 12 * n + 8;
            uint64_t sum;
            if (map.size == want) {
                memcpy(&sum, map.data + want - 8, 8);
                ok = !memcmp(map.data, CK_MAGIC, 4) && fnv(0xCBF29CE484222325ull, map.data, want - 8) == sum;
            }
            if (!ok) ft_err("%s: incomplete or corrupt (size %zu, expected %zu)", bin, map.size, want);
            ft_map_close(&map);
        }
        char *js = pathf(p, "state.json");
        if (ok && js && access(js, R_OK)) { ok = 0; ft_err("%s: missing", js); }
        free(js);
        free(bin);
        if (ok) found = p;
        else {
            if (skipped && !*skipped) *skipped = ft_strdup(ft_errmsg());
            free(p);
        }
    }
    free(steps);
    ft_err_clear();
    return found;
}
