// lock.c — advisory output locks (see lock.h): flock(LOCK_EX|LOCK_NB) on a lock file holding
// the holder's pid. Releasing unlinks the file while still holding the lock; a process that
// opened the old file meanwhile sees, after locking it, that the path no longer names the
// file it locked and starts over, so at most one process ever holds the lock of a path.
#include "core/lock.h"
#include "core/err.h"
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct ft_lock {
    int fd;
    char *path;
};

// The pid recorded in a held lock file, or 0 when it cannot be read (not written yet).
static long holder_pid(int fd) {
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *end;
    long pid = strtol(buf, &end, 10);
    return end != buf && pid > 0 ? pid : 0;
}

ft_lock *ft_lock_take(const char *path, const char *what) {
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            ft_err("%s: cannot create the lock file %s: %s", what, path, strerror(errno));
            return NULL;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            long pid = 0;
            // the holder writes its pid just after locking: give it a moment
            for (int i = 0; e == EWOULDBLOCK && i < 50 && !(pid = holder_pid(fd)); i++) usleep(2000);
            close(fd);
            if (e != EWOULDBLOCK) {
                ft_err("%s: cannot lock %s: %s", what, path, strerror(e));
                return NULL;
            }
            char who[48] = "pid unknown";
            if (pid) snprintf(who, sizeof who, "pid %ld", pid);
            ft_err("%s is in use by another run (%s, lock %s); wait for it to finish or choose another -o", what, who,
                   path);
            return NULL;
        }
        struct stat a, b;
        if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
            close(fd);   // released and removed by its holder after we opened it: try again
            continue;
        }
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
            ft_err("%s: cannot write the lock file %s: %s", what, path, strerror(errno));
            unlink(path);
            close(fd);
            return NULL;
        }
        ft_lock *l = ft_calloc(1, sizeof *l);
        if (l) l->path = ft_strdup(path);
        if (!l || !l->path) {
            unlink(path);
            close(fd);
            free(l);
            return NULL;
        }
        l->fd = fd;
        return l;
    }
    ft_err("%s: the lock %s keeps being replaced; is another program removing it?", what, path);
    return NULL;
}

ft_lock *ft_lock_dir(const char *dir) {
    if (ft_mkdirs(dir)) return NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        ft_err("%s: exists and is not a directory; choose another -o", dir);
        return NULL;
    }
    char *p = ft_path_join(dir, ".ft-lock");
    if (!p) return NULL;
    ft_lock *l = ft_lock_take(p, dir);
    free(p);
    return l;
}

ft_lock *ft_lock_beside(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;   // "out/" is "out"
    char *given = strndup(path, n);
    // the output goes through a symlink onto its target (io.h): lock the target
    char *clean = given ? ft_output_target(given) : NULL;
    free(given);
    if (!clean) { ft_err("out of memory"); return NULL; }
    char *slash = strrchr(clean, '/');
    const char *base = slash ? slash + 1 : clean;
    char *dir = slash ? (slash == clean ? strdup("/") : strndup(clean, (size_t)(slash - clean))) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    ft_lock *l = NULL;
    if (!real) {
        ft_err("%s: cannot use the directory %s: %s", path, dir ? dir : "?", strerror(errno));
    } else {
        size_t k = strlen(real) + strlen(base) + 16;
        char *p = ft_malloc(k);
        if (p) {
            snprintf(p, k, "%s/.%s.ft-lock", strcmp(real, "/") ? real : "", base);
            l = ft_lock_take(p, path);
            free(p);
        }
    }
    free(real);
    free(dir);
    free(clean);
    return l;
}

void ft_lock_release(ft_lock *l) {
    if (!l) return;
    unlink(l->path);   // before closing: see the header comment
    close(l->fd);
    free(l->path);
    free(l);
}
