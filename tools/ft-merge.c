// ft-merge — fold LoRA adapters into a base model (W + sum_i w_i * scale_i * B_i A_i, in f32;
// DoRA: W' = mag/||W + s*B@A||_row * (W + s*B@A)) and write an HF dir or a GGUF file; or
// convert a PEFT LoRA adapter to llama.cpp's GGUF adapter layout. Adapter types that are not
// weights (bottleneck adapters, prompt/prefix tuning) are refused. Thin: flags here; each
// adapter is checked and merged by its row of the PEFT kind table (lib/peft/peft_kind.h; LoRA:
// lib/peft/peft_lora.c, lib/peft/lora.c, lib/model/dora.c), the output written by lib/model/model_save.c (HF dir,
// GGUF) or lib/peft/gguf_adapter.c (llama.cpp LoRA GGUF). Non-finite merged weights are refused
// (nothing is written), and the output is locked (lib/core/lock.h) for the run.
#include <float.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/err.h"
#include "format/gguf.h"
#include "peft/gguf_adapter.h"
#include "core/lock.h"
#include "peft/lora.h"
#include "model/model.h"
#include "model/model_save.h"
#include "peft/peft.h"
#include "peft/peft_kind.h"
#include "format/safetensors.h"

#define PROG "ft-merge"
#define MAX_ADAPTERS 64

static void usage(void) {
    printf("Usage: ft-merge --model BASE --adapter DIR [--weight W] [--adapter DIR2 --weight W2 ...] -o OUT\n"
           "       ft-merge --model BASE --adapter DIR --to-gguf-adapter -o ADAPTER.gguf\n\n"
           "Merge LoRA adapters into the base weights: W + sum_i w_i * scale_i * B_i A_i, computed in f32\n"
           "(scale = alpha/r, or alpha/sqrt(r) for rsLoRA); DoRA adapters (use_dora) as PEFT merges them:\n"
           "W' = mag / ||W + scale*B A||_row * (W + scale*B A), weight 1 only. Adapters merge in the order given.\n"
           "Each module's r and alpha are its own (rank_pattern, alpha_pattern); lora_bias is added to the base\n"
           "bias; modules_to_save copies replace the base's tensors; other PEFT fields ft does not implement\n"
           "are refused by name (docs/formats.md). An HF output from a GGUF base gets tokenizer.json,\n"
           "tokenizer_config.json (chat template) and generation_config.json made from the GGUF's metadata.\n"
           "Quantized bases are dequantized first. Bottleneck adapters and prompt/prefix tuning are not\n"
           "weights and are refused (evaluate them with ft-eval --adapter DIR).\n\n"
           "Options:\n"
           "  --model PATH        base model: HF dir, .safetensors next to config.json, or .gguf\n"
           "  --adapter DIR       PEFT LoRA adapter dir (adapter_config.json + adapter_model.safetensors); repeatable\n"
           "  --weight W          weight of the adapter given just before (default 1)\n"
           "  -o, --output OUT    output dir (--format hf) or file (--format gguf); must not exist yet for hf\n"
           "  --format hf|gguf    output format (default: gguf when OUT ends in .gguf, else hf)\n"
           "  --dtype T           stored type: bf16 (default for hf), f16, f32; q8_0 for gguf (default f16 for gguf)\n"
           "  --shard-size SIZE   hf: split safetensors beyond SIZE bytes (suffix K/M/G; default 5G)\n"
           "  --to-gguf-adapter   write the (single) adapter as a llama.cpp LoRA GGUF instead of merging\n"
           "  -q, --quiet         no messages;  -v, --verbose  more messages\n"
           "  -h, --help          this help;    --version      version\n\n"
           "Non-finite merged weights (NaN/Inf; beyond 65504 when stored as f16) are refused, naming the\n"
           "adapter and tensor. OUT is locked (.OUT.ft-lock beside it): a second merge on it exits 1 at once.\n"
           "Exit status: 0 ok, 1 bad input or failure (nothing is written), 2 usage.\n");
}

static int parse_size(const char *s, uint64_t *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0) return ft_err("--shard-size: '%s' is not a size", s);
    double mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1e3, end++;
    else if (*end == 'M' || *end == 'm') mul = 1e6, end++;
    else if (*end == 'G' || *end == 'g') mul = 1e9, end++;
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return ft_err("--shard-size: '%s' is not a size (e.g. 5G, 500M)", s);
    *out = (uint64_t)(v * mul);
    return 0;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

// Report whether a GGUF base is quantized (it is then dequantized before merging).
static void note_quantized(const char *path) {
    if (!ends_with(path, ".gguf")) return;
    gguf_file *g = gguf_open(path);
    if (!g) return;
    char types[256] = "";
    int seen[GGML_TYPE_COUNT] = {0};
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        uint32_t t = g->tensors[i].type;
        if (t == GGML_F32 || t == GGML_F16 || t == GGML_BF16 || t >= GGML_TYPE_COUNT || seen[t]) continue;
        seen[t] = 1;
        size_t n = strlen(types);
        snprintf(types + n, sizeof types - n, "%s%s", n ? ", " : "", ggml_type_name(t) ? ggml_type_name(t) : "?");
    }
    if (types[0]) ft_cli_info(PROG, 1, "base %s is quantized (%s): dequantized to f32 before merging", path, types);
    gguf_close(g);
}

// Refuse, before the base is loaded, adapters that cannot be folded into W as asked (the kind's
// merge_check, lib/peft/peft_kind.h: types that are not weights, DoRA with a weight other than 1 or
// as a llama.cpp LoRA GGUF); *kind gets the adapter's row.
static int check_mergeable(const char *dir, const ft_peft_merge_opts *mo, int to_gguf_adapter, const ft_peft_kind **kind) {
    json_t *c = NULL;
    if (!(*kind = ft_peft_kind_of_dir(dir, &c, 1))) return -1;
    int rc = (*kind)->merge_check(dir, c, mo, to_gguf_adapter);
    json_decref(c);
    if (!rc && !(*kind)->merge) rc = ft_err("%s: %s adapters cannot be merged", dir, (*kind)->peft_type);
    return rc;
}

// The first non-finite value of x (n floats), or -1.
static long first_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return (long)i;
    return -1;
}

// The base's own weights must be finite: a merge would carry NaN/Inf into the output silently.
static int check_base(const ft_model *m, const char *path) {
    for (int i = 0; i < m->n_tensors; i++) {
        const ft_tensor_info *t = &m->tensors[i];
        long k = first_nonfinite(m->params + t->offset, t->numel);
        if (k >= 0)
            return ft_err("%s: tensor %s holds %g at index %ld: the base has non-finite weights; nothing was written",
                          path, t->name, (double)m->params[t->offset + (size_t)k], k);
    }
    return 0;
}

static ft_lock *out_lock;   // held from the argument checks to the exit
static void release_out_lock(void) { ft_lock_release(out_lock); }

int main(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *format = NULL, *dtype = NULL;
    const char *adapters[MAX_ADAPTERS];
    double weights[MAX_ADAPTERS];
    int n_ad = 0, to_gguf_adapter = 0;
    uint64_t shard = 5000000000ull;
    enum { O_MODEL = 256, O_ADAPTER, O_WEIGHT, O_FORMAT, O_DTYPE, O_SHARD, O_TOGGUF, O_VERSION };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL},   {"adapter", required_argument, 0, O_ADAPTER},
        {"weight", required_argument, 0, O_WEIGHT}, {"output", required_argument, 0, 'o'},
        {"format", required_argument, 0, O_FORMAT}, {"dtype", required_argument, 0, O_DTYPE},
        {"shard-size", required_argument, 0, O_SHARD}, {"to-gguf-adapter", no_argument, 0, O_TOGGUF},
        {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, O_VERSION}, {0, 0, 0, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:qvh", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_ADAPTER:
            if (n_ad == MAX_ADAPTERS) return ft_cli_usage(PROG, "at most %d adapters", MAX_ADAPTERS);
            adapters[n_ad] = optarg;
            weights[n_ad++] = 1.0;
            break;
        case O_WEIGHT:
            if (!n_ad) return ft_cli_usage(PROG, "--weight must follow the --adapter it applies to");
            if (ft_parse_double("--weight", optarg, -1e6, 1e6, &weights[n_ad - 1])) return ft_cli_usage(PROG, "%s", ft_errmsg());
            break;
        case 'o': out = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_DTYPE: dtype = optarg; break;
        case O_SHARD:
            if (parse_size(optarg, &shard)) return ft_cli_usage(PROG, "%s", ft_errmsg());
            break;
        case O_TOGGUF: to_gguf_adapter = 1; break;
        case 'q': ft_verbosity = 0; break;
        case 'v': ft_verbosity = 2; break;
        case 'h': usage(); return 0;
        case O_VERSION: ft_cli_version(PROG); return 0;
        default: return ft_cli_usage(PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return ft_cli_usage(PROG, "unexpected argument '%s'", argv[optind]);
    if (!model) return ft_cli_usage(PROG, "--model is required");
    if (!n_ad) return ft_cli_usage(PROG, "at least one --adapter is required");
    if (!out || !strcmp(out, "-")) return ft_cli_usage(PROG, "-o OUT is required (a directory or a .gguf file)");
    if (to_gguf_adapter && n_ad != 1) return ft_cli_usage(PROG, "--to-gguf-adapter converts exactly one adapter");
    int gguf = format ? !strcmp(format, "gguf") : ends_with(out, ".gguf");
    if (format && strcmp(format, "gguf") && strcmp(format, "hf")) return ft_cli_usage(PROG, "--format must be hf or gguf");
    int st_type = ST_BF16;
    uint32_t g_type = GGML_F16;
    if (dtype) {
        if (!strcmp(dtype, "bf16")) st_type = ST_BF16, g_type = GGML_BF16;
        else if (!strcmp(dtype, "f16")) st_type = ST_F16, g_type = GGML_F16;
        else if (!strcmp(dtype, "f32")) st_type = ST_F32, g_type = GGML_F32;
        else if (!strcmp(dtype, "q8_0") && gguf) g_type = GGML_Q8_0;
        else return ft_cli_usage(PROG, "--dtype must be bf16, f16, f32%s", gguf ? " or q8_0" : " (q8_0 only with --format gguf)");
    }

    // one merge per output, decided before anything is loaded: a second one fails at once
    if (!(out_lock = ft_lock_beside(out))) return ft_cli_fail(PROG, FT_EXIT_DATA);
    atexit(release_out_lock);

    float limit = FLT_MAX;
    const char *dtype_name = "f32";
    if (gguf ? g_type == GGML_F16 : st_type == ST_F16) limit = 65504.0f, dtype_name = "f16";
    const ft_peft_kind *kinds[MAX_ADAPTERS];
    for (int i = 0; i < n_ad; i++) {
        ft_peft_merge_opts mo = {weights[i], limit, dtype_name};
        if (check_mergeable(adapters[i], &mo, to_gguf_adapter, &kinds[i])) return ft_cli_fail(PROG, FT_EXIT_DATA);
    }

    ft_progress pr;   // on a TTY only: stages (load, one per adapter, write), the rate in stages/s
    ft_progress_start(&pr, "merge", (uint64_t)n_ad + 2);
    ft_progress_update(&pr, 0, "loading the base");
    ft_model *m = ft_model_load(model);
    if (!m) {
        ft_progress_end(&pr);
        return ft_cli_fail(PROG, FT_EXIT_DATA);
    }
    ft_progress_update(&pr, 1, "base loaded");
    int rc = FT_EXIT_DATA;
    if (to_gguf_adapter) {
        ft_adapter a = {0};
        if (ft_adapter_load(&a, m, adapters[0]) || ft_adapter_save_gguf(m, &a, out)) {
            ft_adapter_free(&a);
            goto fail;
        }
        ft_adapter_free(&a);
        ft_progress_end(&pr);
        ft_cli_info(PROG, 1, "wrote llama.cpp LoRA adapter %s", out);
        ft_model_free(m);
        return 0;
    }
    note_quantized(model);
    if (check_base(m, model)) goto fail;
    for (int i = 0; i < n_ad; i++) {
        ft_peft_merge_opts mo = {weights[i], limit, dtype_name};
        char info[160] = "";
        if (kinds[i]->merge(m, adapters[i], &mo, info, sizeof info)) goto fail;
        ft_progress_update(&pr, (uint64_t)i + 2, i + 1 < n_ad ? "merging" : "writing");
        ft_cli_info(PROG, 2, "merged %s (%s, weight %g)", adapters[i], info, weights[i]);
    }
    if (gguf) {
        if (ft_model_save_gguf(m, out, g_type, ends_with(model, ".gguf") ? model : NULL, 0)) goto fail;
    } else if (ft_model_save_hf(m, out, st_type, shard)) goto fail;
    ft_progress_update(&pr, (uint64_t)n_ad + 2, "written");
    ft_progress_end(&pr);
    ft_cli_info(PROG, 1, "merged %d adapter%s into %s", n_ad, n_ad == 1 ? "" : "s", out);
    rc = 0;
fail:
    if (rc) {
        ft_progress_end(&pr);
        ft_cli_fail(PROG, rc);
    }
    ft_model_free(m);
    return rc;
}
