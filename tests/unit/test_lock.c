// test_lock.c — output locks (lib/core/lock.c) and output paths through symlinks (io.c
// ft_output_target, ft_writer): one holder at a time, the holder's pid in the message, a dead
// holder's lock file never blocks, writes go through links and keep them.
#include "testutil.h"
#include "core/err.h"
#include "core/io.h"
#include "core/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_one_holder(void **st) {
    (void)st;
    char *d = tu_tmpdir(), *out = tu_path(d, "out"), *lp = tu_path(out, ".ft-lock");
    ft_lock *a = ft_lock_dir(out);   // creates out/
    assert_non_null(a);
    struct stat sb;
    assert_int_equal(stat(out, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    // another open file description conflicts, even in this process
    assert_null(ft_lock_dir(out));
    char want[128];
    snprintf(want, sizeof want, "is in use by another run (pid %ld, lock %s)", (long)getpid(), lp);
    assert_non_null(strstr(ft_errmsg(), want));
    ft_lock_release(a);
    assert_int_equal(access(lp, F_OK), -1);   // removed on release
    ft_lock *b = ft_lock_dir(out);
    assert_non_null(b);
    ft_lock_release(b);
    ft_lock_release(NULL);
    free(out); free(lp);
    tu_rmdir(d); free(d);
}

static void test_dead_holder(void **st) {
    (void)st;
    char *d = tu_tmpdir(), *lp = tu_path(d, "x.lock");
    assert_int_equal(tu_write_file(lp, "garbage\n", 8), 0);   // a stale file with no pid in it
    ft_lock *a = ft_lock_take(lp, "x");
    assert_non_null(a);
    ft_lock_release(a);
    pid_t pid = fork();
    if (pid == 0) _exit(ft_lock_take(lp, "x") ? 0 : 1);   // exits holding it, never releasing
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    char buf[32] = {0}, want[32];
    FILE *f = fopen(lp, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    snprintf(want, sizeof want, "%ld\n", (long)pid);
    assert_string_equal(buf, want);   // the dead holder's pid is still in the file ...
    ft_lock *b = ft_lock_take(lp, "x"); // ... and does not block
    assert_non_null(b);
    ft_lock_release(b);
    free(lp);
    tu_rmdir(d); free(d);
}

static void test_lock_beside_spellings(void **st) {
    (void)st;
    char *d = tu_tmpdir(), *out = tu_path(d, "merged"), *slash = tu_path(d, "merged/"), *link = tu_path(d, "ln");
    assert_int_equal(symlink("merged", link), 0);
    ft_lock *a = ft_lock_beside(out);
    assert_non_null(a);
    assert_null(ft_lock_beside(slash));
    assert_null(ft_lock_beside(link));   // through the link: the same output, the same lock
    ft_lock_release(a);
    free(out); free(slash); free(link);
    tu_rmdir(d); free(d);
}

static void test_output_target(void **st) {
    (void)st;
    char *d = tu_tmpdir(), *sub = tu_path(d, "sub"), *l1 = tu_path(d, "l1"), *l2 = tu_path(sub, "l2");
    char *plain = tu_path(d, "plain"), *real = tu_path(d, "real.txt");
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(symlink("../real.txt", l2), 0);   // relative to sub/
    assert_int_equal(symlink("sub/l2", l1), 0);        // a chain: l1 -> sub/l2 -> ../real.txt
    char *t = ft_output_target(plain);
    assert_string_equal(t, plain);                     // not a link (and absent): itself
    free(t);
    t = ft_output_target(l1);
    char want[4096];
    snprintf(want, sizeof want, "%s/sub/../real.txt", d);
    assert_string_equal(t, want);
    free(t);
    // a write through the dangling chain creates the target and keeps both links
    assert_int_equal(ft_write_all(l1, "hello", 5), 0);
    struct stat sb;
    assert_int_equal(lstat(l1, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(lstat(l2, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    char *data;
    size_t len;
    assert_int_equal(ft_read_all(real, &data, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "hello", 5);
    free(data);
    free(sub); free(l1); free(l2); free(plain); free(real);
    tu_rmdir(d); free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_holder),
        cmocka_unit_test(test_dead_holder),
        cmocka_unit_test(test_lock_beside_spellings),
        cmocka_unit_test(test_output_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
