// ft-filter — dataset curation on FTOK token streams and JSONL records: length bounds and
// truncation, exact and near-duplicate removal, decontamination, Gopher quality rules,
// sampling, weighted mixing, seeded shuffle, hash split and sharding (lib/data/filter.h).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "data/filter.h"
#include "core/io.h"
#include "core/jsonl.h"

static const char *prog = "ft-filter";

static void usage(void) {
    printf(
        "Usage: ft-filter [OPTIONS] [FILE...]\n"
        "       ft-filter [OPTIONS] --mix FILE:WEIGHT FILE:WEIGHT...\n\n"
        "Curate a dataset. Reads FTOK token streams or JSONL (detected by the first bytes; zstd\n"
        "is decompressed; no FILE or '-' = stdin; several FILEs are concatenated) and writes the\n"
        "same kind to -o (default stdout; a name ending in .zst is compressed).\n\n"
        "Order of operations:\n"
        "   1. read (--mix: interleave inputs by weight)    7. --decontaminate\n"
        "   2. --shard I/N (by record hash)                 8. --dedup exact, then near\n"
        "   3. bad records (fail, or --skip-bad)            9. --sample\n"
        "   4. --quality (JSONL)                           10. --shuffle\n"
        "   5. --min-len, --max-len (before truncation)    11. --head\n"
        "   6. --truncate (FTOK), then --min-trained       12. --split (val to --val-out)\n\n"
        "Lengths: FTOK in tokens; JSONL in whitespace-separated words of the text (--len-unit bytes\n"
        "for bytes). JSONL text = the string in --field (default \"text\"), else the concatenated\n"
        "texts of \"segments\". Dedup/decontamination units: token ids (FTOK) or normalised words\n"
        "(JSONL: ASCII lower-cased, ASCII punctuation removed).\n\n"
        "Options:\n"
        "  -o FILE               output (default stdout)\n"
        "  --min-len N           drop records shorter than N\n"
        "  --max-len N           drop records longer than N\n"
        "  --truncate N          keep the first N tokens (FTOK); a record whose every trained\n"
        "                        token was cut away is dropped (counted as truncated_no_target)\n"
        "  --min-trained N       drop records with fewer than N trained tokens (FTOK)\n"
        "  --dedup exact|near    exact: 128-bit hash of the tokens / text; near: also MinHash\n"
        "                        over shingles with LSH banding (a record is dropped when it\n"
        "                        shares a band with an earlier kept record)\n"
        "  --threshold T         near-dup Jaccard threshold (default 0.8)\n"
        "  --num-perm K          MinHash permutations (default 128)\n"
        "  --shingle K           shingle size in units (default 5)\n"
        "  --decontaminate FILE  eval data (FTOK or JSONL, every string value of each object);\n"
        "                        repeatable; drops records sharing any n-gram with it\n"
        "  --ngram N             decontamination n-gram size in units (default 13)\n"
        "  --quality             Gopher quality rules on JSONL text (defaults below)\n"
        "  --q-RULE VALUE|off    set or disable one rule (implies --quality)\n"
        "  --sample N|FRACTION   keep N records (reservoir, input order) or each with probability\n"
        "                        FRACTION (a number with a '.', e.g. 0.1)\n"
        "  --shuffle             seeded shuffle; larger than --mem spills to temporary files\n"
        "  --seed N              seed for shuffle, sample, mix and MinHash (default 0)\n"
        "  --mem MB              memory for --shuffle before spilling (default 1024)\n"
        "  --tmp-dir DIR         where --shuffle spills (default $TMPDIR or /tmp)\n"
        "  --head N              keep the first N records\n"
        "  --split val=F         send records whose hash falls below F to --val-out (stable\n"
        "                        when data is appended: decided by content, not position)\n"
        "  --val-out FILE        the validation output of --split\n"
        "  --mix FILE:WEIGHT...  interleave inputs, picking each next record from a stream with\n"
        "                        probability proportional to its weight; stops when the picked\n"
        "                        stream is exhausted (so the proportions hold); FTOK headers must\n"
        "                        match\n"
        "  --shard I/N           keep only records whose hash is I mod N (0 <= I < N), for\n"
        "                        GNU parallel; exact dedup stays exact across shards\n"
        "  --field NAME          JSONL text field (default text)\n"
        "  --len-unit words|bytes  JSONL length unit (default words)\n"
        "  --skip-bad            skip malformed JSONL records (counted) instead of failing\n"
        "  --stats               JSON report on stderr; --stats-out FILE writes it to FILE\n"
        "  -q, -v                quieter, more verbose\n"
        "  -h, --help            this help;  --version  the version\n\n"
        "Quality rules (--q-RULE, default threshold, measure):\n");
    for (int i = 0; i < FT_Q_N; i++)
        printf("  --q-%-20s %-7g %s %s\n", ft_quality_rules[i].name, ft_quality_rules[i].def,
               ft_quality_rules[i].is_min ? "min" : "max", ft_quality_rules[i].what);
    printf("\nExit status: 0 ok, 1 bad data or runtime failure (no output file is left), 2 usage.\n");
}

static void on_progress(void *ctx, uint64_t in, uint64_t out) {
    char extra[64];
    snprintf(extra, sizeof extra, "records, %llu out", (unsigned long long)out);
    ft_progress_update(ctx, in, extra);
}

// Value of option argv[*i] ("--x VALUE" or "--x=VALUE"); NULL when missing.
static const char *optval(int argc, char **argv, int *i, const char *eq) {
    if (eq) return eq + 1;
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

static int getnum(const char *name, const char *v, long lo, long hi, long *dst) {
    if (ft_parse_long(name, v, lo, hi, dst)) return ft_cli_usage(prog, "%s", ft_errmsg());
    return 0;
}

// Argument arrays live for the whole run (reachable from here, so early returns leak nothing).
static const char **inputs, **decon;
static ft_mix_input *mix;

int main(int argc, char **argv) {
    ft_filter_opts o;
    ft_filter_defaults(&o);
    inputs = calloc(argc, sizeof *inputs);
    decon = calloc(argc, sizeof *decon);
    mix = calloc(argc, sizeof *mix);
    if (!inputs || !decon || !mix) return ft_cli_fail(prog, FT_EXIT_DATA);
    o.inputs = inputs;
    o.decon = decon;
    o.mix = mix;
    int want_stats = 0, split_set = 0;
    const char *stats_out = NULL;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) { inputs[o.n_inputs++] = a; continue; }
        if (!strcmp(a, "--")) {
            while (++i < argc) inputs[o.n_inputs++] = argv[i];
            break;
        }
        char name[64];
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name) return ft_cli_usage(prog, "unknown option '%s'", a);
        memcpy(name, a, nl);
        name[nl] = 0;
#define FLAG(s) (!strcmp(name, s))
#define VAL() ((v = optval(argc, argv, &i, eq)) ? 0 : ft_cli_usage(prog, "%s needs a value", name))
#define NUM(lo, hi, dst) { if (VAL() || getnum(name, v, lo, hi, &dst)) return FT_EXIT_USAGE; }
        const char *v = NULL;
        if (FLAG("-h") || FLAG("--help")) { usage(); return 0; }
        else if (FLAG("--version")) { ft_cli_version(prog); return 0; }
        else if (FLAG("-q")) ft_verbosity = 0;
        else if (FLAG("-v")) ft_verbosity = 2;
        else if (FLAG("-o")) { if (VAL()) return FT_EXIT_USAGE; o.out = v; }
        else if (FLAG("--val-out")) { if (VAL()) return FT_EXIT_USAGE; o.val_out = v; }
        else if (FLAG("--stats")) want_stats = 1;
        else if (FLAG("--stats-out")) { if (VAL()) return FT_EXIT_USAGE; stats_out = v; }
        else if (FLAG("--skip-bad")) o.skip_bad = 1;
        else if (FLAG("--field")) { if (VAL()) return FT_EXIT_USAGE; o.field = v; }
        else if (FLAG("--len-unit")) {
            if (VAL()) return FT_EXIT_USAGE;
            if (!strcmp(v, "bytes")) o.len_bytes = 1;
            else if (!strcmp(v, "words")) o.len_bytes = 0;
            else return ft_cli_usage(prog, "--len-unit: expected words or bytes, got '%s'", v);
        }
        else if (FLAG("--min-len")) NUM(0, 0xFFFFFFFFL, o.min_len)
        else if (FLAG("--max-len")) NUM(0, 0xFFFFFFFFL, o.max_len)
        else if (FLAG("--truncate")) NUM(1, 0xFFFFFFFFL, o.truncate)
        else if (FLAG("--min-trained")) NUM(0, 0xFFFFFFFFL, o.min_trained)
        else if (FLAG("--head")) NUM(0, 0x7FFFFFFFFFFFFFFFL, o.head)
        else if (FLAG("--num-perm")) { long x; NUM(2, 1024, x) o.num_perm = (int)x; }
        else if (FLAG("--shingle")) { long x; NUM(1, 1000, x) o.shingle = (int)x; }
        else if (FLAG("--ngram")) { long x; NUM(1, 100000, x) o.ngram = (int)x; }
        else if (FLAG("--mem")) { long mb; NUM(1, 1L << 30, mb) o.mem_bytes = (size_t)mb << 20; }
        else if (FLAG("--tmp-dir")) { if (VAL()) return FT_EXIT_USAGE; o.tmpdir = v; }
        else if (FLAG("--shuffle")) o.shuffle = 1;
        else if (FLAG("--seed")) {
            if (VAL()) return FT_EXIT_USAGE;
            if (ft_parse_u64(name, v, &o.seed)) return ft_cli_usage(prog, "%s", ft_errmsg());
        }
        else if (FLAG("--threshold")) {
            if (VAL()) return FT_EXIT_USAGE;
            if (ft_parse_double(name, v, 1e-9, 1 - 1e-9, &o.threshold)) return ft_cli_usage(prog, "%s", ft_errmsg());
        }
        else if (FLAG("--dedup")) {
            if (VAL()) return FT_EXIT_USAGE;
            if (!strcmp(v, "exact")) o.dedup = 1;
            else if (!strcmp(v, "near")) o.dedup = 2;
            else return ft_cli_usage(prog, "--dedup: expected exact or near, got '%s'", v);
        }
        else if (FLAG("--decontaminate")) { if (VAL()) return FT_EXIT_USAGE; decon[o.n_decon++] = v; }
        else if (FLAG("--quality")) o.use_quality = 1;
        else if (!strncmp(name, "--q-", 4)) {
            int r = ft_quality_find(name + 4);
            if (r < 0) return ft_cli_usage(prog, "unknown quality rule '%s' (see --help)", name);
            if (VAL()) return FT_EXIT_USAGE;
            o.use_quality = 1;
            if (!strcmp(v, "off")) o.quality.thr[r] = NAN;
            else if (ft_parse_double(name, v, 0, 1e12, &o.quality.thr[r])) return ft_cli_usage(prog, "%s", ft_errmsg());
        }
        else if (FLAG("--sample")) {
            if (VAL()) return FT_EXIT_USAGE;
            if (strchr(v, '.') || strchr(v, 'e')) {
                if (ft_parse_double(name, v, 0, 1, &o.sample_frac)) return ft_cli_usage(prog, "%s", ft_errmsg());
            } else {
                long n;
                if (ft_parse_long(name, v, 0, 1L << 40, &n)) return ft_cli_usage(prog, "%s", ft_errmsg());
                o.sample_n = n;
            }
        }
        else if (FLAG("--split")) {
            if (VAL()) return FT_EXIT_USAGE;
            const char *f = !strncmp(v, "val=", 4) ? v + 4 : v;
            if (ft_parse_double(name, f, 0, 1, &o.split_val)) return ft_cli_usage(prog, "%s (expected val=FRACTION)", ft_errmsg());
            split_set = 1;
        }
        else if (FLAG("--shard")) {
            if (VAL()) return FT_EXIT_USAGE;
            int si, sn, used = 0;
            if (sscanf(v, "%d/%d%n", &si, &sn, &used) != 2 || v[used] || sn < 1 || si < 0 || si >= sn)
                return ft_cli_usage(prog, "--shard: expected I/N with 0 <= I < N, got '%s'", v);
            o.shard_i = si;
            o.shard_n = sn;
        }
        else if (FLAG("--mix")) {
            // --mix FILE:WEIGHT [FILE:WEIGHT...]: takes every following argument up to the next option
            if (VAL()) return FT_EXIT_USAGE;
            for (;;) {
                char *c = strrchr(v, ':');
                double w;
                if (!c || c == v) return ft_cli_usage(prog, "--mix: expected FILE:WEIGHT, got '%s'", v);
                if (ft_parse_double("--mix weight", c + 1, 0, 1e300, &w) || !(w > 0))
                    return ft_cli_usage(prog, "--mix: bad weight in '%s' (a positive number)", v);
                char *path = strndup(v, (size_t)(c - v));
                if (!path) return ft_cli_fail(prog, FT_EXIT_DATA);
                mix[o.n_mix++] = (ft_mix_input){path, w};
                if (eq || i + 1 >= argc || argv[i + 1][0] == '-') break;
                v = argv[++i];
            }
        }
        else return ft_cli_usage(prog, "unknown option '%s'", a);
#undef FLAG
#undef VAL
#undef NUM
    }
    if (o.n_mix && o.n_inputs) return ft_cli_usage(prog, "--mix names its inputs; do not give FILEs as well");
    if (o.n_mix == 1) return ft_cli_usage(prog, "--mix needs at least two FILE:WEIGHT inputs");
    if (split_set && o.split_val > 0 && !o.val_out) return ft_cli_usage(prog, "--split needs --val-out FILE");
    if (o.val_out && !split_set) return ft_cli_usage(prog, "--val-out is the output of --split");
    if (o.min_len >= 0 && o.max_len >= 0 && o.min_len > o.max_len) return ft_cli_usage(prog, "--min-len is above --max-len");
    if (o.sample_n >= 0 && o.sample_frac >= 0) return ft_cli_usage(prog, "--sample given twice");

    ft_progress pg;   // on a TTY only
    ft_progress_start(&pg, prog, 0);
    o.progress = on_progress;
    o.progress_ctx = &pg;
    json_t *stats = NULL;
    int rc = ft_filter_run(&o, &stats);
    ft_progress_end(&pg);
    if (rc) {
        json_decref(stats);
        return ft_cli_fail(prog, FT_EXIT_DATA);
    }
    if (stats && (want_stats || stats_out)) {
        char *s = json_dumps(stats, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        if (!s) return ft_cli_fail(prog, FT_EXIT_DATA);
        if (stats_out) {
            size_t n = strlen(s);
            s[n] = '\n';
            int w = ft_write_all(stats_out, s, n + 1);
            s[n] = 0;
            if (w) { free(s); json_decref(stats); return ft_cli_fail(prog, FT_EXIT_DATA); }
        }
        if (want_stats) fprintf(stderr, "%s\n", s);
        free(s);
    }
    if (stats && ft_verbosity >= 2) {
        ft_cli_info(prog, 2, "%lld records in, %lld out, %lld val",
                    (long long)json_integer_value(json_object_get(stats, "records_in")),
                    (long long)json_integer_value(json_object_get(stats, "records_out")),
                    (long long)json_integer_value(json_object_get(stats, "records_val")));
    }
    json_decref(stats);
    return 0;
}
