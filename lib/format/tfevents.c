// tfevents.c — TensorBoard scalar event files (see tfevents.h): CRC-32C, TFRecord framing,
// the protobuf encoding of Event/Summary/Value.
#include "format/tfevents.h"
#include "core/err.h"
#include "core/io.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

struct ft_tfevents {
    FILE *f;
    char *path;
};

// ---- CRC-32C --------------------------------------------------------------------------------
static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (c & 1 ? 0x82F63B78u : 0);
        crc_table[i] = c;
    }
    crc_ready = 1;
}

uint32_t ft_crc32c(const void *data, size_t n) {
    if (!crc_ready) crc_init();
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t ft_crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

// ---- protobuf encoding ------------------------------------------------------------------------
typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void varint(buf *b, uint64_t v) {
    uint8_t t[10];
    int k = 0;
    do {
        t[k] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v) t[k] |= 0x80;
        k++;
    } while (v);
    put(b, t, (size_t)k);
}

static void le(buf *b, uint64_t v, int bytes) {
    uint8_t t[8];
    for (int i = 0; i < bytes; i++) t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, (size_t)bytes);
}

// field number f, wire type: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
static void key(buf *b, int f, int wt) { varint(b, (uint64_t)(f << 3 | wt)); }

static void bytes_field(buf *b, int f, const void *d, size_t n) {
    key(b, f, 2);
    varint(b, n);
    put(b, d, n);
}

// Event { wall_time = 1 (double), step = 2 (int64), file_version = 3 | summary = 5 }
static void event(buf *e, int64_t step, const char *version, const buf *summary) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    double wall = (double)tv.tv_sec + tv.tv_usec * 1e-6;
    uint64_t bits;
    memcpy(&bits, &wall, 8);
    key(e, 1, 1);
    le(e, bits, 8);
    if (step) {   // proto3: 0 is the default and is not written
        key(e, 2, 0);
        varint(e, (uint64_t)step);
    }
    if (version) bytes_field(e, 3, version, strlen(version));
    if (summary) bytes_field(e, 5, summary->p, summary->n);
}

// TFRecord: u64 length, masked crc of it, data, masked crc of the data; flushed.
static int record(ft_tfevents *w, const buf *e) {
    if (e->oom) return ft_err("%s: out of memory", w->path);
    uint8_t hdr[12], tail[4];
    for (int i = 0; i < 8; i++) hdr[i] = (uint8_t)((uint64_t)e->n >> (8 * i));
    uint32_t c = ft_crc32c_mask(ft_crc32c(hdr, 8)), d = ft_crc32c_mask(ft_crc32c(e->p, e->n));
    for (int i = 0; i < 4; i++) {
        hdr[8 + i] = (uint8_t)(c >> (8 * i));
        tail[i] = (uint8_t)(d >> (8 * i));
    }
    if (fwrite(hdr, 1, 12, w->f) != 12 || fwrite(e->p, 1, e->n, w->f) != e->n || fwrite(tail, 1, 4, w->f) != 4 ||
        fflush(w->f) != 0)
        return ft_err("%s: %s", w->path, strerror(errno));
    return 0;
}

// ---- the writer --------------------------------------------------------------------------------
ft_tfevents *ft_tfevents_open(const char *dir) {
    char host[256] = "localhost", name[400];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    for (char *h = host; *h; h++)
        if (*h == '/') *h = '_';
    struct timeval tv;
    gettimeofday(&tv, NULL);
    snprintf(name, sizeof name, "events.out.tfevents.%lld.%s.%ld", (long long)tv.tv_sec, host, (long)getpid());
    if (ft_mkdirs(dir)) return NULL;
    int rc;
    ft_tfevents *w = ft_calloc(1, sizeof *w);
    if (!w || !(w->path = ft_path_join(dir, name))) {
        free(w);
        return NULL;
    }
    if (!(w->f = fopen(w->path, "wbx"))) {
        ft_err("--tensorboard: cannot create %s: %s", w->path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    buf e = {0};
    event(&e, 0, "brain.Event:2", NULL);
    rc = record(w, &e);
    free(e.p);
    if (rc) {
        ft_tfevents_close(w);
        return NULL;
    }
    return w;
}

const char *ft_tfevents_path(const ft_tfevents *w) { return w->path; }

int ft_tfevents_scalars(ft_tfevents *w, int64_t step, const char *const *tags, const double *values, int n) {
    buf s = {0}, v = {0}, e = {0};
    for (int i = 0; i < n; i++) {
        v.n = 0;
        bytes_field(&v, 1, tags[i], strlen(tags[i]));
        float f = (float)values[i];
        uint32_t bits;
        memcpy(&bits, &f, 4);
        key(&v, 2, 5);
        le(&v, bits, 4);
        if (v.oom) s.oom = 1;
        else bytes_field(&s, 1, v.p, v.n);
    }
    event(&e, step, NULL, &s);
    if (s.oom) e.oom = 1;
    int rc = record(w, &e);
    free(s.p);
    free(v.p);
    free(e.p);
    return rc;
}

int ft_tfevents_json_line(ft_tfevents *w, const char *line) {
    json_error_t err;
    json_t *j = json_loads(line, 0, &err);
    if (!j || !json_is_number(json_object_get(j, "step"))) {
        json_decref(j);
        return ft_err("%s: not a metrics line with a step: %.80s", w->path, line);
    }
    const char *tags[64];
    double vals[64];
    int n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (n < 64 && strcmp(k, "step") && json_is_number(v)) {
            tags[n] = k;
            vals[n++] = json_number_value(v);
        }
    }
    int rc = ft_tfevents_scalars(w, (int64_t)json_number_value(json_object_get(j, "step")), tags, vals, n);
    json_decref(j);
    return rc;
}

int ft_tfevents_close(ft_tfevents *w) {
    if (!w) return 0;
    int rc = 0;
    if (w->f && fclose(w->f) != 0) rc = ft_err("%s: %s", w->path, strerror(errno));
    free(w->path);
    free(w);
    return rc;
}
