// metrics_judge.c — ft-eval judge's engine: pairwise preference by an external program
// (AlpacaEval / MT-Bench style). Each prompt is judged twice, the second time with the two
// outputs swapped to cancel position bias; B's win rate (ties count half) with a bootstrap CI.
// The program runs as `/bin/sh -c CMD`, gets {"prompt","output_a","output_b"} on stdin and
// prints A, B or tie. Calls run on `jobs` threads; the caller should ignore SIGPIPE. Each call
// runs in its own process group, killed (SIGTERM, then SIGKILL) when it outlives `timeout`.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>

#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "core/log.h"
#include "eval/metrics.h"
#include "eval/metrics_report.h"

extern char **environ;

typedef struct {
    const ft_judge_opts *o;
    char **input;     // (2n) JSON request per call
    int *verdict;     // (2n) 0 = A, 1 = B, 2 = tie (as printed, before unswapping); -1 = not run
    size_t ncalls;
    size_t next;      // atomic
    int failed;       // atomic flag
    pthread_mutex_t mu;
    char err[1024];
} judge_ctx;

// Kill the judge's whole process group (the shell and anything it started); the leader is
// still unreaped (a zombie at worst), so its pid cannot name another group yet.
static void kill_group(pid_t pid, int sig) { kill(-pid, sig); }

// 1 when the judge's shell has exited (left unreaped, so the group can still be killed).
static int leader_exited(pid_t pid) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) return errno != EINTR;
    return si.si_pid == pid;
}

// Run the judge once, in its own process group, for at most timeout seconds (<= 0: no
// limit): 0 and *v set, or -1 with a message. On expiry, or when *cancel is set (another call
// failed), the group gets SIGTERM, then SIGKILL a second later; so does whatever the judge
// left running in the background once it has exited.
static int call_judge(const char *cmd, const char *in, double timeout, const int *cancel, int *v) {
    int pin[2], pout[2];
    if (pipe2(pin, O_CLOEXEC) < 0) return ft_err("pipe: %s", strerror(errno));
    if (pipe2(pout, O_CLOEXEC) < 0) { close(pin[0]); close(pin[1]); return ft_err("pipe: %s", strerror(errno)); }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);   // a new group whose id is the judge's pid
    char *args[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, "/bin/sh", &fa, &at, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pin[0]);
    close(pout[1]);
    if (e) { close(pin[1]); close(pout[0]); return ft_err("cannot run the judge: %s", strerror(e)); }
    fcntl(pin[1], F_SETFL, O_NONBLOCK);
    fcntl(pout[0], F_SETFL, O_NONBLOCK);
    size_t len = strlen(in), off = 0;
    char buf[256];
    size_t got = 0;
    double t0 = ft_now(), term_at = 0;
    int timed_out = 0, cancelled = 0, exited = 0, eof = 0;
    while (!(eof && exited)) {
        struct pollfd pf[2] = {{eof ? -1 : pout[0], POLLIN, 0}, {pin[1], POLLOUT, 0}};
        int r = poll(pf, 2, 50);   // ticks: the deadline, the cancel flag, the leader's exit
        if (r < 0 && errno != EINTR) break;
        if (r > 0 && pin[1] >= 0 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(pin[1], in + off, len - off);
            if (w > 0) off += (size_t)w;
            // done, or the judge stopped reading (EPIPE): its answer still counts
            if (off == len || (w < 0 && errno != EAGAIN && errno != EINTR)) { close(pin[1]); pin[1] = -1; }
        }
        if (r > 0 && !eof && (pf[0].revents & (POLLIN | POLLERR | POLLHUP))) {
            char tmp[4096];
            ssize_t k = read(pout[0], tmp, sizeof tmp);
            if (k == 0) eof = 1;
            else if (k > 0) {
                size_t take = (size_t)k < sizeof buf - 1 - got ? (size_t)k : sizeof buf - 1 - got;
                memcpy(buf + got, tmp, take);
                got += take;
            } else if (errno != EAGAIN && errno != EINTR) eof = 1;
        }
        if (!exited && leader_exited(pid)) {
            exited = 1;
            if (pin[1] >= 0) { close(pin[1]); pin[1] = -1; }
            kill_group(pid, SIGKILL);   // background leftovers (they may hold stdout open)
        }
        double now = ft_now();
        if (!term_at) {
            int late = timeout > 0 && now - t0 >= timeout, cancel_now = __atomic_load_n(cancel, __ATOMIC_SEQ_CST);
            if (late || cancel_now) {
                if (!exited) timed_out = late, cancelled = !late;
                kill_group(pid, SIGTERM);
                term_at = now;
            }
        } else if (now - term_at >= 2.0) {
            break;   // a process that left the group still holds stdout: stop waiting for it
        } else if (now - term_at >= 1.0) {
            kill_group(pid, SIGKILL);
        }
    }
    if (pin[1] >= 0) close(pin[1]);
    close(pout[0]);
    if (!exited) kill_group(pid, SIGKILL);
    buf[got] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (timed_out)
        return ft_err("the judge did not answer within --timeout %g s; its process group was killed", timeout);
    if (cancelled) return ft_err("cancelled: another judge call failed");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return ft_err("the judge command failed (%s %d)", WIFEXITED(st) ? "exit status" : "signal",
                      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    char *s = buf, *t = buf + got;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\n' || t[-1] == '\r')) *--t = 0;
    if (!strcasecmp(s, "a")) *v = 0;
    else if (!strcasecmp(s, "b")) *v = 1;
    else if (!strcasecmp(s, "tie")) *v = 2;
    else return ft_err("the judge printed '%.60s', expected A, B or tie", s);
    return 0;
}

static void *worker(void *arg) {
    judge_ctx *c = arg;
    for (;;) {
        if (__atomic_load_n(&c->failed, __ATOMIC_SEQ_CST)) break;
        size_t k = __atomic_fetch_add(&c->next, 1, __ATOMIC_SEQ_CST);
        if (k >= c->ncalls) break;
        if (call_judge(c->o->cmd, c->input[k], c->o->timeout, &c->failed, &c->verdict[k]) < 0) {
            pthread_mutex_lock(&c->mu);
            if (!c->failed) snprintf(c->err, sizeof c->err, "prompt %zu%s: %s", k / 2 + 1, k % 2 ? " (swapped)" : "", ft_errmsg());
            __atomic_store_n(&c->failed, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&c->mu);
            break;
        }
    }
    return NULL;
}

static const char *field_str(json_t *rec, const char *f) { return json_string_value(json_object_get(rec, f)); }

int ft_judge_run(const ft_judge_opts *o, const char *a_path, const char *b_path, json_t **report) {
    json_t *A = NULL, *B = NULL, *rep = NULL;
    judge_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    pthread_mutex_init(&c.mu, NULL);
    double *score = NULL;
    ft_writer *w = NULL;
    int rc = -1;
    if (!(A = ft_jsonl_load_all(a_path)) || !(B = ft_jsonl_load_all(b_path))) goto done;
    size_t n = json_array_size(A);
    if (json_array_size(B) != n) {
        ft_err("%s has %zu records and %s has %zu: the outputs must answer the same prompts", a_path, n, b_path,
               json_array_size(B));
        goto done;
    }
    c.ncalls = 2 * n;
    c.input = ft_calloc(c.ncalls + 1, sizeof *c.input);
    c.verdict = ft_calloc(c.ncalls + 1, sizeof *c.verdict);
    score = ft_calloc(n + 1, sizeof *score);
    if (!c.input || !c.verdict || !score) goto done;
    for (size_t i = 0; i < n; i++) {
        json_t *ra = json_array_get(A, i), *rb = json_array_get(B, i);
        const char *p = field_str(ra, o->prompt_field), *oa = field_str(ra, o->pred_field), *ob = field_str(rb, o->pred_field);
        if (!p) p = field_str(rb, o->prompt_field);
        if (!p) { ft_err("%s:%zu: no string field '%s' (see --prompt-field)", a_path, i + 1, o->prompt_field); goto done; }
        if (!oa) { ft_err("%s:%zu: no string field '%s' (see --pred-field)", a_path, i + 1, o->pred_field); goto done; }
        if (!ob) { ft_err("%s:%zu: no string field '%s' (see --pred-field)", b_path, i + 1, o->pred_field); goto done; }
        json_t *ia = json_object_get(ra, "id"), *ib = json_object_get(rb, "id");
        if (ia && ib && !json_equal(ia, ib)) { ft_err("%s:%zu and %s:%zu: ids differ", a_path, i + 1, b_path, i + 1); goto done; }
        for (int s = 0; s < 2; s++) {
            json_t *q = json_object();
            json_object_set_new(q, "prompt", json_string(p));
            json_object_set_new(q, "output_a", json_string(s ? ob : oa));
            json_object_set_new(q, "output_b", json_string(s ? oa : ob));
            char *line = ft_json_dumps(q);
            json_decref(q);
            if (!line) goto done;
            size_t l = strlen(line);
            c.input[2 * i + s] = ft_realloc(line, l + 2);
            if (!c.input[2 * i + s]) { free(line); goto done; }
            strcpy(c.input[2 * i + s] + l, "\n");
        }
    }
    int jobs = o->jobs > 0 ? o->jobs : 1;
    if ((size_t)jobs > c.ncalls) jobs = c.ncalls ? (int)c.ncalls : 1;
    pthread_t th[256];
    if (jobs > 256) jobs = 256;
    int started = 0;
    for (; started < jobs; started++)
        if (pthread_create(&th[started], NULL, worker, &c) != 0) break;
    if (started == 0) worker(&c);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    if (c.failed) { ft_err("%s", c.err); goto done; }
    // unswap: B's score per call; the second call had B in position A
    size_t bw = 0, aw = 0, ties = 0, consistent = 0, pos_a = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        int v1 = c.verdict[2 * i], v2 = c.verdict[2 * i + 1];
        double s1 = v1 == 1 ? 1 : v1 == 0 ? 0 : 0.5;
        double s2 = v2 == 0 ? 1 : v2 == 1 ? 0 : 0.5;
        score[i] = (s1 + s2) / 2;
        sum += score[i];
        bw += (s1 == 1) + (s2 == 1);
        aw += (s1 == 0) + (s2 == 0);
        ties += (v1 == 2) + (v2 == 2);
        consistent += s1 == s2;
        pos_a += (v1 == 0) + (v2 == 0);
    }
    rep = json_object();
    json_object_set_new(rep, "prompts", json_integer((json_int_t)n));
    json_object_set_new(rep, "calls", json_integer((json_int_t)c.ncalls));
    json_object_set_new(rep, "win_rate", json_real(n ? sum / (double)n : 0));
    if (o->bootstrap > 0 && n > 0) {
        double lo, hi;
        if (ft_bootstrap_ci(score, n, 1, ft_stat_mean, NULL, o->bootstrap, o->seed, &lo, &hi) < 0) goto done;
        json_t *ci = json_object(), *pair = json_array();
        json_array_append_new(pair, json_real(lo));
        json_array_append_new(pair, json_real(hi));
        json_object_set_new(ci, "win_rate", pair);
        json_object_set_new(rep, "ci95", ci);
    }
    json_object_set_new(rep, "b_wins", json_integer((json_int_t)bw));
    json_object_set_new(rep, "a_wins", json_integer((json_int_t)aw));
    json_object_set_new(rep, "ties", json_integer((json_int_t)ties));
    json_object_set_new(rep, "consistency", json_real(n ? (double)consistent / (double)n : 0));
    json_object_set_new(rep, "first_position_rate", json_real(c.ncalls ? (double)pos_a / (double)c.ncalls : 0));
    json_object_set_new(rep, "a", json_string(a_path));
    json_object_set_new(rep, "b", json_string(b_path));
    if (o->per_record) {
        static const char *vn[] = {"A", "B", "tie"};
        if (!(w = ft_writer_open(o->per_record))) goto done;
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_object(), *id = json_object_get(json_array_get(A, i), "id");
            json_object_set_new(x, "index", json_integer((json_int_t)i));
            if (id) json_object_set(x, "id", id);
            json_object_set_new(x, "verdict", json_string(vn[c.verdict[2 * i]]));
            json_object_set_new(x, "verdict_swapped", json_string(vn[c.verdict[2 * i + 1]]));
            json_object_set_new(x, "win_rate", json_real(score[i]));
            char *line = ft_json_dumps(x);
            json_decref(x);
            if (!line || ft_writer_printf(w, "%s\n", line) < 0) { free(line); goto done; }
            free(line);
        }
        int cr = ft_writer_commit(w);
        w = NULL;
        if (cr < 0) goto done;
        json_object_set_new(rep, "per_record", json_string(o->per_record));
    }
    *report = rep;
    rep = NULL;
    rc = 0;
done:
    if (w) ft_writer_abort(w);
    if (c.input)
        for (size_t k = 0; k < c.ncalls; k++) free(c.input[k]);
    free(c.input); free(c.verdict); free(score);
    json_decref(A); json_decref(B); json_decref(rep);
    pthread_mutex_destroy(&c.mu);
    return rc;
}
