// test_ckpt.c — checkpoints: round trip, retention, corrupt/partial ones never chosen,
// SIGKILL in the middle of a save leaves the previous checkpoint loadable.
#include "testutil.h"
#include "train/ckpt.h"
#include "core/err.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void fill(float *x, size_t n, float base) {
    for (size_t i = 0; i < n; i++) x[i] = base + (float)i * 0.5f;
}

static void test_roundtrip_keep(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    size_t n = 1000;
    float p[1000], m[1000], v[1000], p2[1000], m2[1000], v2[1000];
    fill(p, n, 1); fill(m, n, 2); fill(v, n, 3);
    for (long s = 1; s <= 4; s++) {
        p[0] = (float)s;
        assert_int_equal(ft_ckpt_save(d, s * 10, p, m, v, n, "{\"step\": 1}", 2, 10), 0);
    }
    char *sk = NULL;
    char *latest = ft_ckpt_latest(d, n, &sk);
    assert_non_null(latest);
    assert_null(sk);
    assert_int_equal(ft_ckpt_step_of(latest), 40);
    char *js;
    assert_int_equal(ft_ckpt_load(latest, p2, m2, v2, n, &js), 0);
    assert_float_equal(p2[0], 4.0f, 0);
    assert_memory_equal(m, m2, sizeof m);
    assert_memory_equal(v, v2, sizeof v);
    assert_string_equal(js, "{\"step\": 1}");
    free(js);
    // keep = 2 plus the protected step 10: 20 was removed
    char *s10 = tu_path(d, "step-00000010"), *s20 = tu_path(d, "step-00000020"), *s30 = tu_path(d, "step-00000030");
    assert_int_equal(access(s10, F_OK), 0);
    assert_int_equal(access(s20, F_OK), -1);
    assert_int_equal(access(s30, F_OK), 0);
    // wrong parameter count is refused with the file named
    assert_int_equal(ft_ckpt_load(latest, p2, m2, v2, n - 1, &js), -1);
    assert_non_null(strstr(ft_errmsg(), "state.bin"));
    // a corrupted newest checkpoint is skipped: latest falls back to step 30
    char *bin = tu_path(latest, "state.bin");
    FILE *f = fopen(bin, "r+b");
    fseek(f, 100, SEEK_SET);
    fputc(0x55, f);
    fclose(f);
    assert_int_equal(ft_ckpt_load(latest, p2, m2, v2, n, &js), -1);
    assert_non_null(strstr(ft_errmsg(), "checksum"));
    free(latest);
    latest = ft_ckpt_latest(d, n, &sk);
    assert_int_equal(ft_ckpt_step_of(latest), 30);
    assert_non_null(sk);
    assert_non_null(strstr(sk, "step-00000040"));
    free(sk); free(latest); free(bin);
    free(s10); free(s20); free(s30);
    tu_rmdir(d); free(d);
}

static void test_empty_and_tmp_ignored(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    assert_null(ft_ckpt_latest(d, 4, NULL));
    char *t = tu_path(d, ".tmp-step-00000099-1");
    mkdir(t, 0755);
    assert_null(ft_ckpt_latest(d, 4, NULL));
    assert_null(ft_ckpt_latest("/nonexistent/dir", 4, NULL));
    free(t);
    tu_rmdir(d); free(d);
}

// A child saves big checkpoints in a loop; the parent SIGKILLs it at varying moments.
// Whatever instant the kill lands, the newest complete checkpoint must verify and load.
static void test_sigkill_during_save(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    size_t n = 1 << 20;   // 12 MiB per checkpoint
    float *p = malloc(n * 4), *m = malloc(n * 4), *v = malloc(n * 4);
    fill(p, n, 0); fill(m, n, 1); fill(v, n, 2);
    assert_int_equal(ft_ckpt_save(d, 0, p, m, v, n, "{}", 3, -1), 0);
    for (int trial = 0; trial < 6; trial++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (long s = 1;; s++) {
                p[0] = (float)s;
                ft_ckpt_save(d, 1000 * trial + s, p, m, v, n, "{}", 3, -1);
            }
        }
        usleep(20000 + 37000 * trial);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        char *latest = ft_ckpt_latest(d, n, NULL);
        assert_non_null(latest);
        char *js;
        assert_int_equal(ft_ckpt_load(latest, p, m, v, n, &js), 0);
        assert_float_equal(p[1], 0.5f, 0);
        free(js);
        free(latest);
    }
    free(p); free(m); free(v);
    tu_rmdir(d); free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_keep),
        cmocka_unit_test(test_empty_and_tmp_ignored),
        cmocka_unit_test(test_sigkill_during_save),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
