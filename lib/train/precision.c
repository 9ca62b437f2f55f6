// precision.c — ft-train --precision: f32, or bf16 (the linear layers and the LM head multiply
// bf16-rounded operands with f32 accumulation: kernels/cpu/cpu_bf16_ops.c; master weights,
// gradients and the optimizer state stay f32). Unset, it is the fastest this CPU runs (bf16
// where it has AVX512_BF16, f32 elsewhere), except that --resume keeps the precision its
// checkpoint was trained at (the "precision" of its state.json).
#include "train/precision.h"
#include "core/err.h"
#include "core/io.h"
#include "train/ckpt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

// The precision recorded in the newest checkpoint under OUT/checkpoints (NULL: none or older).
static char *ckpt_precision(const ft_train_opts *o, size_t n) {
    char *root = ft_path_join(o->out, "checkpoints"), *skipped = NULL;
    char *dir = root ? ft_ckpt_latest(root, n, &skipped) : NULL, *st = dir ? ft_path_join(dir, "state.json") : NULL;
    char *p = NULL;
    json_t *j = st ? json_load_file(st, 0, NULL) : NULL;
    const char *v = json_string_value(json_object_get(j, "precision"));
    if (v) p = strdup(v);
    json_decref(j);
    free(st); free(dir); free(skipped); free(root);
    ft_err_clear();
    return p;
}

const ft_ops *ft_train_precision(const ft_train_opts *o, const ft_ops *ops, size_t n_params, const char **name,
                                 const char **why) {
    const char *p = o->precision;
    if (p && strcmp(p, "f32") && strcmp(p, "bf16") && strcmp(p, "auto")) {
        ft_err("--precision %s: expected f32, bf16 or auto", p);
        return NULL;
    }
    if (p && !strcmp(p, "auto")) p = NULL;
    int cpu = ops == ft_ops_cpu();
    char *prev = o->resume ? ckpt_precision(o, n_params) : NULL;
    if (prev && p && strcmp(prev, p)) {
        ft_err("--resume: the checkpoint in %s/checkpoints was trained at --precision %s, not %s (leave "
               "--precision out, or set it to %s)", o->out, prev, p, prev);
        free(prev);
        return NULL;
    }
    *why = p ? "--precision" : "this CPU's fastest";
    if (!p && prev) *why = "the checkpoint's";
    if (!p) p = prev && !strcmp(prev, "bf16") ? "bf16" : prev ? "f32" : cpu && ft_ops_cpu_bf16_native() ? "bf16" : "f32";
    free(prev);
    if (!strcmp(p, "f32")) { *name = "f32"; return ops; }
    if (!cpu) {
        ft_err("--precision bf16 runs on the cpu device only (this run: --device %s)", ops->name);
        return NULL;
    }
    *name = "bf16";
    return ft_ops_cpu_bf16();
}
