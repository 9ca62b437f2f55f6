// lock.h — one process per output: an advisory lock file (flock) that names its holder's pid.
// The kernel drops the lock when the holder exits, however it exits (SIGKILL included), so a
// lock file left behind never blocks the next run; the pid inside is information only.
#ifndef FT_LOCK_H
#define FT_LOCK_H

typedef struct ft_lock ft_lock;

// Take the lock file PATH (created if absent; the caller's pid written into it). Fails at
// once, never waits, when another process holds it: "WHAT is in use by another run (pid N,
// lock PATH); wait for it to finish or choose another -o". NULL + ft_err on failure.
ft_lock *ft_lock_take(const char *path, const char *what);
// mkdir -p DIR, then take DIR/.ft-lock (an output directory that a run fills in place).
ft_lock *ft_lock_dir(const char *dir);
// Take .NAME.ft-lock in the directory of PATH (an output that appears by rename: a file, or a
// directory written under a temporary name). A symlinked PATH is followed as the output is
// (io.h ft_output_target) and the directory part resolved (realpath), so two spellings of
// the same output share one lock.
ft_lock *ft_lock_beside(const char *path);
// Remove the lock file and release the lock. NULL is a no-op.
void ft_lock_release(ft_lock *l);

#endif
