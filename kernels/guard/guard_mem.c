// guard_mem.c — the guard backend's address space (see guard.h): one PROT_NONE reservation of
// 2 * GUARD_SPAN bytes, the low half the handles, the high half their shadow data. alloc is a
// bump allocator in whole pages with an unmapped page between buffers (an overrun faults);
// free decommits the pages and makes them inaccessible again (a use after free faults);
// addresses are not reused. upload/download/copy/zero check which side each pointer is on.
#include "guard.h"
#include "core/err.h"
#include "ops.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUARD_SPAN ((size_t)1 << 36)   // 64 GiB of handles (virtual only; nothing is committed)

typedef struct { uintptr_t at; size_t len; } guard_block;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static char *g_base;          // handles [g_base, g_base + GUARD_SPAN), shadow + GUARD_SPAN
static size_t g_next;         // bump offset
static size_t g_page;
static guard_block *g_blocks; // live allocations, for free's checks
static size_t g_n, g_cap;

int ft_guard_reserve(void) {
    pthread_mutex_lock(&g_lock);
    if (!g_base) {
        g_page = (size_t)sysconf(_SC_PAGESIZE);
        void *p = mmap(NULL, 2 * GUARD_SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) { g_base = p; g_next = g_page; }   // offset 0 is never handed out
    }
    int ok = g_base != NULL;
    pthread_mutex_unlock(&g_lock);
    return ok ? 0 : ft_err("guard backend: cannot reserve %zu GiB of address space", 2 * (GUARD_SPAN >> 30));
}

int ft_guard_is_device(const void *p) {
    uintptr_t u = (uintptr_t)p, b = (uintptr_t)g_base;
    return g_base && u >= b && u < b + GUARD_SPAN;
}

static __attribute__((noreturn)) void die(const char *op, const char *arg, const void *p, const char *what) {
    fprintf(stderr, "ft guard backend: %s: argument '%s' (%p) %s\n", op, arg, p, what);
    abort();
}

void *ft_guard_shadow(const void *p, const char *op, const char *arg) {
    if (!p) return NULL;
    if (!ft_guard_is_device(p)) die(op, arg, p, "is a host pointer, not a device buffer of this backend");
    return (char *)p + GUARD_SPAN;
}

static void *g_alloc(size_t bytes) {
    if (ft_guard_reserve() < 0) return NULL;
    size_t len = ((bytes ? bytes : 1) + g_page - 1) / g_page * g_page;
    pthread_mutex_lock(&g_lock);
    void *r = NULL;
    if (g_n == g_cap) {
        size_t cap = g_cap ? 2 * g_cap : 64;
        guard_block *nb = realloc(g_blocks, cap * sizeof *nb);
        if (nb) { g_blocks = nb; g_cap = cap; }
    }
    if (g_n < g_cap && len <= GUARD_SPAN - g_page && g_next <= GUARD_SPAN - g_page - len) {
        char *h = g_base + g_next;
        if (mprotect(h + GUARD_SPAN, len, PROT_READ | PROT_WRITE) == 0) {
            g_blocks[g_n++] = (guard_block){(uintptr_t)h, len};
            g_next += len + g_page;   // one inaccessible page after each buffer
            r = h;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (!r) ft_err("guard backend: cannot allocate %zu bytes of device memory", bytes);
    return r;
}

static void g_free(void *p) {
    if (!p) return;
    pthread_mutex_lock(&g_lock);
    size_t i = 0;
    while (i < g_n && g_blocks[i].at != (uintptr_t)p) i++;
    if (i == g_n) {
        pthread_mutex_unlock(&g_lock);
        die("free", "p", p, ft_guard_is_device(p) ? "is not the start of a live device buffer"
                                                   : "is a host pointer, not a device buffer of this backend");
    }
    char *sh = (char *)p + GUARD_SPAN;
    madvise(sh, g_blocks[i].len, MADV_DONTNEED);
    mprotect(sh, g_blocks[i].len, PROT_NONE);
    g_blocks[i] = g_blocks[--g_n];
    pthread_mutex_unlock(&g_lock);
}

static int g_upload(void *dst, const void *src, size_t bytes) {
    if (ft_guard_is_device(src)) die("upload", "src", src, "is a device buffer (upload copies host -> device)");
    if (bytes) memcpy(ft_guard_shadow(dst, "upload", "dst"), src, bytes);
    return 0;
}

static int g_download(void *dst, const void *src, size_t bytes) {
    if (ft_guard_is_device(dst)) die("download", "dst", dst, "is a device buffer (download copies device -> host)");
    if (bytes) memcpy(dst, ft_guard_shadow(src, "download", "src"), bytes);
    return 0;
}

static int g_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) memmove(ft_guard_shadow(dst, "copy", "dst"), ft_guard_shadow(src, "copy", "src"), bytes);
    return 0;
}

static int g_zero(void *dst, size_t bytes) {
    if (bytes) memset(ft_guard_shadow(dst, "zero", "dst"), 0, bytes);
    return 0;
}

void ft_guard_fill_mem(ft_ops *o) {
    o->device = FT_DEVICE_GUARD;
    o->host_access = 0;
    o->alloc = g_alloc;
    o->free = g_free;
    o->upload = g_upload;
    o->download = g_download;
    o->copy = g_copy;
    o->zero = g_zero;
}
