// io.c — readers (file/stdin, transparent zstd), atomic writers, mmap (see io.h).
#include "core/io.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define RAW_CAP (1u << 17)

struct ft_reader {
    int fd;
    int own_fd;
    char *name;
    // raw bytes from the fd
    uint8_t *raw;
    size_t raw_pos, raw_len;
    int raw_eof;
    // zstd state (NULL when plain)
    ZSTD_DStream *zs;
    int zframe_open;           // 1 while inside an unfinished frame
    uint8_t *out;              // decompressed bytes (zstd) or unused
    size_t out_pos, out_len, out_cap;
    // line buffer
    char *line;
    size_t line_cap;
};

static int raw_fill(ft_reader *r) {
    // Move remaining bytes to front and read more. Returns bytes added, 0 at EOF, -1 error.
    if (r->raw_eof) return 0;
    if (r->raw_pos > 0) {
        memmove(r->raw, r->raw + r->raw_pos, r->raw_len - r->raw_pos);
        r->raw_len -= r->raw_pos;
        r->raw_pos = 0;
    }
    if (r->raw_len == RAW_CAP) return (int)0x7fffffff;   // full: caller consumes first
    for (;;) {
        ssize_t k = read(r->fd, r->raw + r->raw_len, RAW_CAP - r->raw_len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return ft_err("%s: read error: %s", r->name, strerror(errno));
        if (k == 0) { r->raw_eof = 1; return 0; }
        r->raw_len += (size_t)k;
        return (int)k;
    }
}

ft_reader *ft_reader_open(const char *path) {
    ft_reader *r = ft_calloc(1, sizeof *r);
    if (!r) return NULL;
    if (!path || strcmp(path, "-") == 0) {
        r->fd = 0;
        r->name = ft_strdup("<stdin>");
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            ft_err("%s: cannot open: %s", path, strerror(errno));
            free(r);
            return NULL;
        }
        struct stat st;
        if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            ft_err("%s: is a directory, expected a file", path);
            close(r->fd);
            free(r);
            return NULL;
        }
        r->own_fd = 1;
        r->name = ft_strdup(path);
    }
    r->raw = ft_malloc(RAW_CAP);
    if (!r->name || !r->raw) goto fail;
    // sniff the zstd magic
    while (r->raw_len < 4 && !r->raw_eof)
        if (raw_fill(r) < 0) goto fail;
    if (r->raw_len >= 4 && r->raw[0] == 0x28 && r->raw[1] == 0xB5 && r->raw[2] == 0x2F && r->raw[3] == 0xFD) {
        r->zs = ZSTD_createDStream();
        r->out_cap = ZSTD_DStreamOutSize();
        r->out = ft_malloc(r->out_cap);
        if (!r->zs || !r->out) { ft_err("%s: cannot start zstd decoder", r->name); goto fail; }
        ZSTD_initDStream(r->zs);
    }
    return r;
fail:
    ft_reader_close(r);
    return NULL;
}

// zstd: produce more decompressed bytes into r->out. Returns >0 produced, 0 end, -1 error.
static int z_fill(ft_reader *r) {
    r->out_pos = r->out_len = 0;
    for (;;) {
        if (r->raw_pos == r->raw_len) {
            int k = raw_fill(r);
            if (k < 0) return -1;
            if (k == 0 && r->raw_pos == r->raw_len) {
                if (r->zframe_open) return ft_err("%s: truncated zstd stream", r->name);
                return 0;
            }
        }
        ZSTD_inBuffer in = {r->raw, r->raw_len, r->raw_pos};
        ZSTD_outBuffer out = {r->out, r->out_cap, 0};
        size_t ret = ZSTD_decompressStream(r->zs, &out, &in);
        r->raw_pos = in.pos;
        if (ZSTD_isError(ret)) return ft_err("%s: zstd: %s", r->name, ZSTD_getErrorName(ret));
        r->zframe_open = ret != 0;
        if (out.pos > 0) { r->out_len = out.pos; return 1; }
    }
}

ssize_t ft_reader_read(ft_reader *r, void *buf, size_t n) {
    uint8_t *dst = buf;
    size_t got = 0;
    while (got < n) {
        if (r->zs) {
            if (r->out_pos == r->out_len) {
                int k = z_fill(r);
                if (k < 0) return -1;
                if (k == 0) break;
            }
            size_t c = r->out_len - r->out_pos;
            if (c > n - got) c = n - got;
            memcpy(dst + got, r->out + r->out_pos, c);
            r->out_pos += c;
            got += c;
        } else {
            if (r->raw_pos == r->raw_len) {
                int k = raw_fill(r);
                if (k < 0) return -1;
                if (k == 0) break;
            }
            size_t c = r->raw_len - r->raw_pos;
            if (c > n - got) c = n - got;
            memcpy(dst + got, r->raw + r->raw_pos, c);
            r->raw_pos += c;
            got += c;
        }
    }
    return (ssize_t)got;
}

int ft_reader_read_exact(ft_reader *r, void *buf, size_t n) {
    ssize_t k = ft_reader_read(r, buf, n);
    if (k < 0) return -1;
    if (k == 0 && n > 0) return 0;
    if ((size_t)k < n)
        return ft_err("%s: unexpected end of file (wanted %zu bytes, got %zd)", r->name, n, k);
    return 1;
}

ssize_t ft_reader_peek(ft_reader *r, void *buf, size_t n) {
    if (n > 64) n = 64;
    if (r->zs) {
        if (r->out_len - r->out_pos < n) {
            // compact and top up the decompressed buffer
            memmove(r->out, r->out + r->out_pos, r->out_len - r->out_pos);
            r->out_len -= r->out_pos;
            r->out_pos = 0;
            while (r->out_len < n) {
                if (r->raw_pos == r->raw_len) {
                    int k = raw_fill(r);
                    if (k < 0) return -1;
                    if (k == 0 && r->raw_pos == r->raw_len) break;
                }
                ZSTD_inBuffer in = {r->raw, r->raw_len, r->raw_pos};
                ZSTD_outBuffer out = {r->out + r->out_len, r->out_cap - r->out_len, 0};
                size_t ret = ZSTD_decompressStream(r->zs, &out, &in);
                r->raw_pos = in.pos;
                if (ZSTD_isError(ret)) return ft_err("%s: zstd: %s", r->name, ZSTD_getErrorName(ret));
                r->zframe_open = ret != 0;
                r->out_len += out.pos;
            }
        }
        size_t c = r->out_len - r->out_pos < n ? r->out_len - r->out_pos : n;
        memcpy(buf, r->out + r->out_pos, c);
        return (ssize_t)c;
    }
    while (r->raw_len - r->raw_pos < n && !r->raw_eof)
        if (raw_fill(r) < 0) return -1;
    size_t c = r->raw_len - r->raw_pos < n ? r->raw_len - r->raw_pos : n;
    memcpy(buf, r->raw + r->raw_pos, c);
    return (ssize_t)c;
}

int ft_reader_getline(ft_reader *r, char **line, size_t *len, size_t max_len) {
    size_t n = 0;
    int any = 0;
    for (;;) {
        uint8_t *src;
        size_t avail;
        if (r->zs) {
            if (r->out_pos == r->out_len) {
                int k = z_fill(r);
                if (k < 0) return -1;
                if (k == 0) break;
            }
            src = r->out + r->out_pos;
            avail = r->out_len - r->out_pos;
        } else {
            if (r->raw_pos == r->raw_len) {
                int k = raw_fill(r);
                if (k < 0) return -1;
                if (k == 0) break;
            }
            src = r->raw + r->raw_pos;
            avail = r->raw_len - r->raw_pos;
        }
        any = 1;
        uint8_t *nl = memchr(src, '\n', avail);
        size_t take = nl ? (size_t)(nl - src) : avail;
        if (n + take > max_len) return ft_err("line longer than %zu bytes", max_len);
        if (n + take + 1 > r->line_cap) {
            size_t cap = r->line_cap ? r->line_cap : 4096;
            while (cap < n + take + 1) cap *= 2;
            char *p = ft_realloc(r->line, cap);
            if (!p) return -1;
            r->line = p;
            r->line_cap = cap;
        }
        memcpy(r->line + n, src, take);
        n += take;
        size_t consumed = take + (nl ? 1 : 0);
        if (r->zs) r->out_pos += consumed; else r->raw_pos += consumed;
        if (nl) break;
    }
    if (!any && n == 0) return 0;
    if (!r->line) {
        r->line = ft_malloc(1);
        if (!r->line) return -1;
        r->line_cap = 1;
    }
    r->line[n] = 0;
    *line = r->line;
    *len = n;
    return 1;
}

const char *ft_reader_name(const ft_reader *r) { return r->name; }
int ft_reader_is_zstd(const ft_reader *r) { return r->zs != NULL; }

void ft_reader_close(ft_reader *r) {
    if (!r) return;
    if (r->own_fd && r->fd >= 0) close(r->fd);
    if (r->zs) ZSTD_freeDStream(r->zs);
    free(r->raw);
    free(r->out);
    free(r->line);
    free(r->name);
    free(r);
}

int ft_read_all(const char *path, char **data, size_t *len) {
    ft_reader *r = ft_reader_open(path);
    if (!r) return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = ft_malloc(cap);
    if (!buf) { ft_reader_close(r); return -1; }
    for (;;) {
        if (cap - n < 1 + (1 << 15)) {
            char *p = ft_realloc(buf, cap * 2);
            if (!p) { free(buf); ft_reader_close(r); return -1; }
            buf = p;
            cap *= 2;
        }
        ssize_t k = ft_reader_read(r, buf + n, cap - n - 1);
        if (k < 0) { free(buf); ft_reader_close(r); return -1; }
        if (k == 0) break;
        n += (size_t)k;
    }
    ft_reader_close(r);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

int ft_map_open(const char *path, ft_map *m) {
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ft_err("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return ft_err("%s: cannot stat: %s", path, strerror(errno)); }
    if (S_ISDIR(st.st_mode)) { close(fd); return ft_err("%s: is a directory, expected a file", path); }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) { close(fd); return ft_err("%s: cannot map: %s", path, strerror(errno)); }
        m->data = p;
        m->size = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

void ft_map_close(ft_map *m) {
    if (m->data) munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}

// ---- writer ------------------------------------------------------------------------------

struct ft_writer {
    int fd;
    char *path;     // final name (NULL for stdout)
    char *tmp;      // temporary name (NULL for stdout and for a device, FIFO or socket)
    int own_fd;     // fd opened here without a temporary (a device, FIFO or socket): close it
    char *name;
    uint8_t *buf;
    size_t len, cap;
    ZSTD_CStream *zs;
    uint8_t *zout;
    size_t zout_cap;
    int failed;
};

static int fd_write(ft_writer *w, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) { w->failed = 1; return ft_err("%s: write error: %s", w->name, strerror(errno)); }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

ft_writer *ft_writer_open_zstd(const char *path, int zstd) {
    ft_writer *w = ft_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->cap = 1 << 16;
    w->buf = ft_malloc(w->cap);
    if (!w->buf) { free(w); return NULL; }
    struct stat st;
    if (!path || strcmp(path, "-") == 0) {
        w->fd = 1;
        w->name = ft_strdup("<stdout>");
    } else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        // /dev/null, a FIFO, /dev/stdout ...: written in place, never renamed over
        w->name = ft_strdup(path);
        if (!w->name) goto fail;
        w->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (w->fd < 0) {
            ft_err("%s: cannot open for writing: %s", path, strerror(errno));
            goto fail;
        }
        w->own_fd = 1;
    } else {
        w->path = ft_output_target(path);   // through a symlink: onto its target
        w->name = ft_strdup(path);
        size_t n = (w->path ? strlen(w->path) : 0) + 16;
        w->tmp = ft_malloc(n);
        if (!w->path || !w->name || !w->tmp) goto fail;
        snprintf(w->tmp, n, "%s.tmp.XXXXXX", w->path);
        w->fd = mkostemp(w->tmp, O_CLOEXEC);
        if (w->fd < 0) {
            ft_err("%s: cannot create: %s", path, strerror(errno));
            free(w->tmp);
            w->tmp = NULL;
            goto fail;
        }
        fchmod(w->fd, 0644 & ~0);   // mkstemp makes 0600; outputs are ordinary files
    }
    if (zstd) {
        w->zs = ZSTD_createCStream();
        w->zout_cap = ZSTD_CStreamOutSize();
        w->zout = ft_malloc(w->zout_cap);
        if (!w->zs || !w->zout) goto fail;
        ZSTD_initCStream(w->zs, 3);
    }
    return w;
fail:
    ft_writer_abort(w);
    return NULL;
}

ft_writer *ft_writer_open(const char *path) {
    return ft_writer_open_zstd(path, path && strcmp(path, "-") != 0 && ends_with(path, ".zst"));
}

static int push(ft_writer *w, const void *p, size_t n) {
    if (!w->zs) return fd_write(w, p, n);
    ZSTD_inBuffer in = {p, n, 0};
    while (in.pos < in.size) {
        ZSTD_outBuffer out = {w->zout, w->zout_cap, 0};
        size_t r = ZSTD_compressStream(w->zs, &out, &in);
        if (ZSTD_isError(r)) { w->failed = 1; return ft_err("%s: zstd: %s", w->name, ZSTD_getErrorName(r)); }
        if (out.pos && fd_write(w, w->zout, out.pos)) return -1;
    }
    return 0;
}

int ft_writer_flush(ft_writer *w) {
    if (w->failed) return -1;
    if (w->len && push(w, w->buf, w->len)) return -1;
    w->len = 0;
    if (w->zs) {
        for (;;) {
            ZSTD_outBuffer out = {w->zout, w->zout_cap, 0};
            size_t r = ZSTD_flushStream(w->zs, &out);
            if (ZSTD_isError(r)) { w->failed = 1; return ft_err("%s: zstd: %s", w->name, ZSTD_getErrorName(r)); }
            if (out.pos && fd_write(w, w->zout, out.pos)) return -1;
            if (r == 0) break;
        }
    }
    return 0;
}

int ft_writer_write(ft_writer *w, const void *p, size_t n) {
    if (w->failed) return -1;
    if (w->len + n > w->cap) {
        if (w->len && push(w, w->buf, w->len)) return -1;
        w->len = 0;
        if (n > w->cap) return push(w, p, n);
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

int ft_writer_printf(ft_writer *w, const char *fmt, ...) {
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) return ft_err("%s: formatting error", w->name);
    if ((size_t)k < sizeof small) return ft_writer_write(w, small, (size_t)k);
    char *big = ft_malloc((size_t)k + 1);
    if (!big) return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    int rc = ft_writer_write(w, big, (size_t)k);
    free(big);
    return rc;
}

const char *ft_writer_name(const ft_writer *w) { return w->name; }

static void writer_free(ft_writer *w) {
    if (w->zs) ZSTD_freeCStream(w->zs);
    free(w->zout);
    free(w->buf);
    free(w->path);
    free(w->tmp);
    free(w->name);
    free(w);
}

int ft_writer_commit(ft_writer *w) {
    int rc = 0;
    if (w->failed) rc = -1;
    if (!rc && w->len && push(w, w->buf, w->len)) rc = -1;
    w->len = 0;
    if (!rc && w->zs) {
        for (;;) {
            ZSTD_outBuffer out = {w->zout, w->zout_cap, 0};
            size_t r = ZSTD_endStream(w->zs, &out);
            if (ZSTD_isError(r)) { rc = ft_err("%s: zstd: %s", w->name, ZSTD_getErrorName(r)); break; }
            if (out.pos && fd_write(w, w->zout, out.pos)) { rc = -1; break; }
            if (r == 0) break;
        }
    }
    if (w->tmp) {
        if (!rc && fsync(w->fd) != 0 && errno != EINVAL)
            rc = ft_err("%s: fsync: %s", w->name, strerror(errno));
        if (close(w->fd) != 0 && !rc) rc = ft_err("%s: close: %s", w->name, strerror(errno));
        if (!rc && rename(w->tmp, w->path) != 0)
            rc = ft_err("%s: cannot rename into place: %s", w->name, strerror(errno));
        if (rc) unlink(w->tmp);
    } else if (w->own_fd && close(w->fd) != 0 && !rc) {
        rc = ft_err("%s: close: %s", w->name, strerror(errno));
    }
    writer_free(w);
    return rc;
}

void ft_writer_abort(ft_writer *w) {
    if (!w) return;
    if (w->tmp) {
        if (w->fd >= 0) close(w->fd);
        unlink(w->tmp);
    } else if (w->own_fd) {
        close(w->fd);
    } else if (w->len && !w->failed) {
        // stdout: what was produced so far is already partly out; drop the rest
    }
    writer_free(w);
}

int ft_write_all(const char *path, const void *data, size_t len) {
    ft_writer *w = ft_writer_open_zstd(path, 0);
    if (!w) return -1;
    if (ft_writer_write(w, data, len)) { ft_writer_abort(w); return -1; }
    return ft_writer_commit(w);
}

int ft_mkdirs(const char *path) {
    char *p = ft_strdup(path);
    if (!p) return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            ft_err("%s: cannot create directory: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) rc = ft_err("%s: cannot create directory: %s", p, strerror(errno));
    free(p);
    return rc;
}

char *ft_path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = ft_malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *ft_output_target(const char *path) {
    char *p = ft_strdup(path);
    for (int depth = 0; p && depth < 40; depth++) {   // 40: the kernel's own limit (ELOOP)
        struct stat sb;
        if (lstat(p, &sb) != 0 || !S_ISLNK(sb.st_mode)) return p;
        char target[4096];
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n <= 0) return p;
        target[n] = 0;
        char *next;
        const char *slash = strrchr(p, '/');
        if (target[0] == '/' || !slash) {
            next = ft_strdup(target);
        } else {
            size_t dl = (size_t)(slash - p) + 1;   // keep the '/'
            next = ft_malloc(dl + (size_t)n + 1);
            if (next) {
                memcpy(next, p, dl);
                memcpy(next + dl, target, (size_t)n + 1);
            }
        }
        free(p);
        p = next;
    }
    return p;
}
