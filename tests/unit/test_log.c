// test_log.c — the library never prints (lib/core/log.h): with no hooks installed nothing reaches
// stdout or stderr, neither from ft_log_info nor from a whole training run (lib/train/train.c); with
// hooks, the run's informational lines and its progress (start, one update per step, end)
// reach them, with the text ft-train prints, and a message longer than the hooks' buffer
// arrives whole.
#include "testutil.h"
#include "core/err.h"
#include "core/log.h"
#include "model/model_save.h"
#include "format/safetensors.h"
#include "train/train.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---- capture of fd 1 and fd 2 into files ----------------------------------------------
typedef struct { int saved[2]; char *path[2]; } capture;
static void cap_begin(capture *c, const char *dir) {
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 2; i++) {
        c->path[i] = tu_path(dir, i ? "stderr" : "stdout");
        int fd = open(c->path[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        c->saved[i] = dup(1 + i);
        dup2(fd, 1 + i);
        close(fd);
    }
}
// Restores the descriptors; returns the bytes written to stdout + stderr meanwhile.
static long cap_end(capture *c) {
    fflush(stdout);
    fflush(stderr);
    long n = 0;
    for (int i = 0; i < 2; i++) {
        dup2(c->saved[i], 1 + i);
        close(c->saved[i]);
        FILE *f = fopen(c->path[i], "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        n += ftell(f);
        fclose(f);
        free(c->path[i]);
    }
    return n;
}

// ---- recording hooks ---------------------------------------------------------------------
typedef struct {
    char info[16][512];
    int level[16], n_info;
    size_t long_len;
    int ev[16], n_ev;
    uint64_t done[16], total[16];
} rec;
static void rec_info(void *ctx, int level, const char *msg) {
    rec *r = ctx;
    if (strlen(msg) > 1000) { r->long_len = strlen(msg); return; }
    if (r->n_info < 16) { r->level[r->n_info] = level; snprintf(r->info[r->n_info++], 512, "%s", msg); }
}
static void rec_progress(void *ctx, int event, const char *label, uint64_t done, uint64_t total, const char *extra) {
    rec *r = ctx;
    assert_string_equal(label, "train");
    if (event == FT_PROGRESS_UPDATE) assert_non_null(strstr(extra, "loss "));
    if (r->n_ev < 16) { r->ev[r->n_ev] = event; r->done[r->n_ev] = done; r->total[r->n_ev++] = total; }
}

static void test_info_hooks(void **st) {
    (void)st;
    char *dir = tu_tmpdir();
    capture c;
    ft_log_set(NULL);
    cap_begin(&c, dir);
    ft_log_info(0, "a warning %d", 1);
    ft_log_progress(FT_PROGRESS_START, "train", 0, 3, NULL);
    assert_int_equal(cap_end(&c), 0);
    static rec r;
    memset(&r, 0, sizeof r);
    ft_log_hooks h = {rec_info, rec_progress, &r};
    ft_log_set(&h);
    ft_log_info(2, "step %d: loss %.4f", 7, 1.5);
    char big[3001];
    memset(big, 'x', 3000);
    big[3000] = 0;
    ft_log_info(1, "%s", big);
    ft_log_set(NULL);
    assert_int_equal(r.n_info, 1);
    assert_string_equal(r.info[0], "step 7: loss 1.5000");
    assert_int_equal(r.level[0], 2);
    assert_int_equal(r.long_len, 3000);
    tu_rmdir(dir);
    free(dir);
}

// FTOK v1 with loss masks, written here independently of lib/format/ftok.c (formats.md): header, then
// per record (len, 0), the tokens, the mask bits padded to 4 bytes.
static void write_ftok(const char *path, int n_rec, int len, int vocab) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint16_t ver = 1, flags = 1;
    uint32_t v = (uint32_t)vocab, z32 = 0;
    uint64_t z64 = 0;
    fwrite("FTOK", 1, 4, f);
    fwrite(&ver, 2, 1, f); fwrite(&flags, 2, 1, f); fwrite(&v, 4, 1, f); fwrite(&z32, 4, 1, f);
    fwrite(&z64, 8, 1, f); fwrite(&z64, 8, 1, f);
    for (int r = 0; r < n_rec; r++) {
        uint32_t l = (uint32_t)len;
        fwrite(&l, 4, 1, f); fwrite(&z32, 4, 1, f);
        for (int i = 0; i < len; i++) { uint32_t t = (uint32_t)((r * 7 + i * 3) % vocab); fwrite(&t, 4, 1, f); }
        uint8_t bits[4] = {0};
        for (int i = len / 2; i < len; i++) bits[i / 8] |= (uint8_t)(1 << (i % 8));
        fwrite(bits, 1, ((size_t)(len + 7) / 8 + 3) / 4 * 4, f);
    }
    fclose(f);
}

static int run_train(const char *dir, const char *out) {
    char *model = tu_path(dir, "model"), *data = tu_path(dir, "train.tok"), *o = tu_path(dir, out);
    ft_train_opts opt;
    ft_train_defaults(&opt);
    opt.model = model;
    opt.data = data;
    opt.out = o;
    opt.seq_len = 16;
    opt.batch = 2;
    opt.max_steps = 2;
    opt.save_every = 1;
    int rc = ft_train_run(&opt);
    if (rc) fprintf(stderr, "ft_train_run: %s\n", ft_errmsg());
    free(model); free(data); free(o);
    return rc;
}

static void test_train_run_silent(void **st) {
    (void)st;
    char *dir = tu_tmpdir(), *model = tu_path(dir, "model"), *data = tu_path(dir, "train.tok");
    tu_model_spec spec = {0};
    ft_model *m = tu_tiny_model(&spec, 3);
    assert_int_equal(ft_model_save_hf(m, model, ST_F32, 0), 0);
    ft_model_free(m);
    write_ftok(data, 4, 12, 23);
    // no hooks: a whole run, checkpoints included, says nothing
    ft_log_set(NULL);
    capture c;
    cap_begin(&c, dir);
    int rc = run_train(dir, "a");
    long said = cap_end(&c);
    assert_int_equal(rc, 0);
    assert_int_equal(said, 0);
    // hooks: the lines ft-train prints, and the progress of the 2 steps
    static rec r;
    memset(&r, 0, sizeof r);
    ft_log_hooks h = {rec_info, rec_progress, &r};
    ft_log_set(&h);
    assert_int_equal(run_train(dir, "b"), 0);
    ft_log_set(NULL);
    int saw_plan = 0, saw_done = 0;
    char *outb = tu_path(dir, "b"), done_line[600];
    snprintf(done_line, sizeof done_line, "done after 2 steps: adapter written to %s", outb);
    for (int i = 0; i < r.n_info; i++) {
        printf("# info(%d) %s\n", r.level[i], r.info[i]);
        saw_plan |= !strcmp(r.info[i], "2 steps (1 x 2 rows of 16 tokens per step), cosine schedule, warmup 0");
        saw_done |= !strcmp(r.info[i], done_line);
    }
    assert_true(saw_plan && saw_done);
    assert_int_equal(r.n_ev, 4);
    int want_ev[4] = {FT_PROGRESS_START, FT_PROGRESS_UPDATE, FT_PROGRESS_UPDATE, FT_PROGRESS_END};
    uint64_t want_done[4] = {0, 1, 2, 2};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.ev[i], want_ev[i]);
        assert_int_equal(r.done[i], want_done[i]);
        assert_int_equal(r.total[i], 2);
    }
    tu_rmdir(dir);
    free(dir); free(model); free(data); free(outb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_hooks),
        cmocka_unit_test(test_train_run_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
