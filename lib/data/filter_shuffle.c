// filter_shuffle.c — seeded shuffle of a stream larger than memory: records are scattered
// into FT_SHUF_BUCKETS random buckets (kept in memory, spilled to unlinked temporary files
// when the budget is exceeded), then each bucket is Fisher-Yates shuffled and emitted.
// Random bucket keys followed by a uniform shuffle within buckets is a uniform permutation.
#include "data/filter.h"
#include "core/err.h"
#include "core/hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    uint8_t *buf;    // [u32 len][bytes] ...
    size_t len, cap;
    FILE *f;         // spilled part, or NULL
} bucket;

struct ft_shuffle {
    uint64_t seed;
    ft_rng rng;
    size_t mem_limit, mem_used;
    char *tmpdir;
    int spilled;
    bucket b[FT_SHUF_BUCKETS];
};

ft_shuffle *ft_shuffle_new(uint64_t seed, size_t mem_bytes, const char *tmpdir) {
    ft_shuffle *s = ft_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->seed = seed;
    ft_rng_seed(&s->rng, seed ^ 0x5f5f5348554646ULL);
    s->mem_limit = mem_bytes ? mem_bytes : ((size_t)1 << 30);
    if (!tmpdir || !*tmpdir) tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
    s->tmpdir = ft_strdup(tmpdir);
    if (!s->tmpdir) { free(s); return NULL; }
    return s;
}

static int spill(ft_shuffle *s) {
    for (int i = 0; i < FT_SHUF_BUCKETS; i++) {
        bucket *b = &s->b[i];
        if (!b->len) continue;
        if (!b->f) {
            size_t n = strlen(s->tmpdir) + 32;
            char *path = ft_malloc(n);
            if (!path) return -1;
            snprintf(path, n, "%s/ft-filter-shuf.XXXXXX", s->tmpdir);
            int fd = mkstemp(path);
            if (fd < 0) {
                ft_err("%s: cannot create a temporary file for --shuffle: %s (set --tmp-dir)", s->tmpdir, strerror(errno));
                free(path);
                return -1;
            }
            unlink(path);   // anonymous: nothing is left behind, whatever happens
            free(path);
            b->f = fdopen(fd, "w+b");
            if (!b->f) { close(fd); return ft_err("%s: fdopen: %s", s->tmpdir, strerror(errno)); }
        }
        if (fwrite(b->buf, 1, b->len, b->f) != b->len)
            return ft_err("%s: writing a --shuffle temporary file: %s", s->tmpdir, strerror(errno));
        free(b->buf);
        b->buf = NULL;
        b->len = b->cap = 0;
    }
    s->mem_used = 0;
    s->spilled = 1;
    return 0;
}

int ft_shuffle_add(ft_shuffle *s, const void *blob, uint32_t len) {
    bucket *b = &s->b[ft_rng_below(&s->rng, FT_SHUF_BUCKETS)];
    size_t need = b->len + 4 + len;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < need) cap *= 2;
        uint8_t *p = ft_realloc(b->buf, cap);
        if (!p) return -1;
        s->mem_used += cap - b->cap;
        b->buf = p;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, &len, 4);
    memcpy(b->buf + b->len + 4, blob, len);
    b->len = need;
    if (s->mem_used > s->mem_limit) return spill(s);
    return 0;
}

int ft_shuffle_spilled(const ft_shuffle *s) { return s->spilled; }

int ft_shuffle_finish(ft_shuffle *s, int (*emit)(void *ctx, const uint8_t *blob, uint32_t len), void *ctx) {
    if (s->spilled && spill(s)) return -1;
    size_t *off = NULL, off_cap = 0;
    int rc = 0;
    for (int i = 0; i < FT_SHUF_BUCKETS && !rc; i++) {
        bucket *b = &s->b[i];
        uint8_t *data = b->buf;
        size_t len = b->len;
        if (b->f) {   // load the spilled bucket back
            if (fflush(b->f) || fseeko(b->f, 0, SEEK_END)) { rc = ft_err("%s: temporary file: %s", s->tmpdir, strerror(errno)); break; }
            off_t sz = ftello(b->f);
            rewind(b->f);
            data = ft_malloc(sz > 0 ? (size_t)sz : 1);
            if (!data) { rc = -1; break; }
            len = (size_t)sz;
            if (fread(data, 1, len, b->f) != len) { free(data); rc = ft_err("%s: reading back a --shuffle temporary file", s->tmpdir); break; }
        }
        size_t n = 0;
        for (size_t p = 0; p + 4 <= len;) {
            uint32_t l;
            memcpy(&l, data + p, 4);
            if (n == off_cap) {
                off_cap = off_cap ? off_cap * 2 : 1024;
                size_t *o = ft_realloc(off, off_cap * sizeof *o);
                if (!o) { rc = -1; break; }
                off = o;
            }
            off[n++] = p;
            p += 4 + (size_t)l;
        }
        ft_rng r;
        ft_rng_seed(&r, s->seed ^ ft_mix64(0xb0c3e7ULL + (uint64_t)i));
        for (size_t k = n; !rc && k > 1; k--) {
            size_t j = ft_rng_below(&r, k), t = off[k - 1];
            off[k - 1] = off[j];
            off[j] = t;
        }
        for (size_t k = 0; k < n && !rc; k++) {
            uint32_t l;
            memcpy(&l, data + off[k], 4);
            rc = emit(ctx, data + off[k] + 4, l);
        }
        if (data != b->buf) free(data);
    }
    free(off);
    return rc;
}

void ft_shuffle_free(ft_shuffle *s) {
    if (!s) return;
    for (int i = 0; i < FT_SHUF_BUCKETS; i++) {
        free(s->b[i].buf);
        if (s->b[i].f) fclose(s->b[i].f);
    }
    free(s->tmpdir);
    free(s);
}
