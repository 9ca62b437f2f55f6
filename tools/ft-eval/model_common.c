// model_common.c — global options and model opening shared by ft-eval ppl and generate.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "core/err.h"
#include "peft/peft.h"
#include "model/qweight.h"
#include "model_common.h"

struct ft_adapter_list {
    int n;
    ft_peft *a[FT_EVAL_MAX_ADAPTERS];
};

const char ft_eval_common_help[] =
    "  --model M          HF model dir, .safetensors (config.json next to it) or .gguf (required)\n"
    "  --adapter DIR      adapter dir from ft-train or PEFT: LoRA/DoRA (repeatable: further ones are\n"
    "                     merged), prompt or prefix tuning, or bottleneck adapters\n"
    "  --quantize nf4     hold the base's linear weights in NF4 (double-quantized), as --method qlora\n"
    "                     trained on them\n"
    "  --weights W        native: a GGUF's linears and LM head stay in the file's blocks (Q4_0, Q4_1,\n"
    "                     Q8_0, Q4_K, Q6_K, BF16, F16), read by fused dequantize-dot kernels; f32:\n"
    "                     dequantized once at load, as ft-train does; auto (default): native on the\n"
    "                     cpu device unless --quantize or the adapters need f32 weights (merging, DoRA)\n"
    "  --threads N        CPU threads (default: OpenMP's)\n"
    "  --device D         compute device: cpu (default); guard runs the CPU kernels behind device\n"
    "                     buffers the host cannot touch (a check of the device path, docs/cuda.md);\n"
    "                     cuda in a CUDA build (not yet run on a GPU)\n"
    "  -o FILE            output file (default stdout; written atomically)\n"
    "  -q, -v             quieter / more verbose on stderr\n"
    "  -h, --help         this help;  --version  print the version\n";

int ft_eval_common_opt(ft_eval_common *c, const char *prog, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    int needs = !strcmp(a, "--model") || !strcmp(a, "--adapter") || !strcmp(a, "-o") || !strcmp(a, "--threads") ||
                !strcmp(a, "--device") || !strcmp(a, "--quantize") || !strcmp(a, "--weights");
    if (!strcmp(a, "-q")) { ft_verbosity = 0; return 1; }
    if (!strcmp(a, "-v")) { ft_verbosity = 2; return 1; }
    if (!needs) return 0;
    if (*i + 1 >= argc) { ft_cli_usage(prog, "option %s needs a value", a); return -1; }
    const char *v = argv[++*i];
    if (!strcmp(a, "--model")) c->model = v;
    else if (!strcmp(a, "-o")) c->out = v;
    else if (!strcmp(a, "--device")) c->device = v;
    else if (!strcmp(a, "--weights")) {
        if (strcmp(v, "auto") && strcmp(v, "native") && strcmp(v, "f32")) {
            ft_cli_usage(prog, "--weights %s: expected auto, native or f32", v);
            return -1;
        }
        c->weights = v;
    } else if (!strcmp(a, "--quantize")) {
        if (strcmp(v, "nf4")) { ft_cli_usage(prog, "--quantize %s: only nf4 is known", v); return -1; }
        c->quantize = v;
    }
    else if (!strcmp(a, "--adapter")) {
        if (c->n_adapters == FT_EVAL_MAX_ADAPTERS) {
            ft_cli_usage(prog, "at most %d adapters", FT_EVAL_MAX_ADAPTERS);
            return -1;
        }
        c->adapters[c->n_adapters++] = v;
    } else {
        long t;
        if (ft_parse_long("--threads", v, 1, 4096, &t) < 0) { ft_cli_usage(prog, "%s", ft_errmsg()); return -1; }
        c->threads = (int)t;
    }
    return 1;
}

// Apply the --adapter dirs to m (held ones kept in c->held). 0, or -1 with the adapters undone.
static int apply_adapters(ft_eval_common *c, ft_model *m) {
    if (!c->n_adapters) return 0;
    if (!(c->held = ft_calloc(1, sizeof *c->held))) return -1;
    for (int i = 0; i < c->n_adapters; i++) {
        ft_peft *a = NULL;
        if (ft_peft_apply(m, c->adapters[i], &a) < 0) {
            for (int k = 0; k < c->held->n; k++) ft_peft_destroy(c->held->a[k]);
            free(c->held);
            c->held = NULL;
            return -1;
        }
        if (a) c->held->a[c->held->n++] = a;
    }
    return 0;
}

ft_model *ft_eval_open_model(ft_eval_common *c) {
    const ft_ops *ops = ft_ops_cpu();
    if (c->device && !(ops = ft_ops_by_name(c->device))) {
        ft_err_ctx("--device %s", c->device);
        return NULL;
    }
#ifdef _OPENMP
    if (c->threads > 0) omp_set_num_threads(c->threads);
#endif
    // compact weights: asked for, or by default on the cpu with at most one adapter (a second is
    // merged into f32 weights); when the adapter cannot sit on them (DoRA) the f32 load is retried
    int native = !c->quantize && (c->weights ? !strcmp(c->weights, "native")
                                              : ops == ft_ops_cpu() && c->n_adapters <= 1);
    ft_model *m = c->quantize ? ft_model_load_nf4(c->model) : native ? ft_model_load_native(c->model)
                                                                       : ft_model_load(c->model);
    if (!m) return NULL;
    if (c->n_adapters && native && !c->weights && m->qtstore) {
        if (apply_adapters(c, m) == 0) goto move;
        ft_model_free(m);
        if (!(m = ft_model_load(c->model))) return NULL;
    }
    if (apply_adapters(c, m) < 0) { ft_model_free(m); return NULL; }
move:
    if (ft_model_to_device(m, ops) < 0) {   // after the adapters: merged ones are in the weights
        ft_err_ctx("--device %s", c->device);
        ft_eval_close_model(c, m);
        return NULL;
    }
    return m;
}

void ft_eval_close_model(ft_eval_common *c, ft_model *m) {
    if (c->held) {
        for (int i = 0; i < c->held->n; i++) ft_peft_destroy(c->held->a[i]);
        free(c->held);
        c->held = NULL;
    }
    ft_model_free(m);
}
