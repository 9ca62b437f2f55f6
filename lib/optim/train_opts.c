// train_opts.c — ft-train's options as one table: defaults, setting by flag name (from the
// command line or a --config JSON file, keys = flag names; YAML in train_yaml.c), and the effective configuration
// as JSON (OUT/train_config.json, itself a valid --config file).
#include "optim/train_opts.h"
#include "core/err.h"
#include "core/json_get.h"
#include "core/parse.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_STR, O_DBL, O_LONG, O_BOOL };

typedef struct {
    const char *name;
    int type;
    size_t off;
    double lo, hi;
} opt_def;

#define S(n, f) {n, O_STR, offsetof(ft_train_opts, f), 0, 0}
#define D(n, f, lo, hi) {n, O_DBL, offsetof(ft_train_opts, f), lo, hi}
#define L(n, f, lo, hi) {n, O_LONG, offsetof(ft_train_opts, f), lo, hi}
#define B(n, f) {n, O_BOOL, offsetof(ft_train_opts, f), 0, 1}
static const opt_def OPTS[] = {
    S("model", model), S("data", data), S("val", val), S("output", out), S("log", log), S("tensorboard", tensorboard),
    S("method", method), S("objective", objective), S("schedule", schedule), S("lora-targets", lora_targets), S("device", device),
    D("lr", lr, 0, 10), D("warmup", warmup, 0, 1e12), D("clip", clip, 0, 1e12),
    D("weight-decay", weight_decay, 0, 10), D("adam-beta1", beta1, 0, 0.999999), D("adam-beta2", beta2, 0, 0.999999999),
    D("adam-eps", adam_eps, 0, 1), D("lora-alpha", lora_alpha, 0, 1e6), D("lora-dropout", lora_dropout, 0, 0.99),
    L("epochs", epochs, 0, 1000000), L("max-steps", max_steps, 0, 1000000000), L("batch", batch, 1, 65536),
    L("grad-accum", grad_accum, 1, 65536), L("batch-tokens", batch_tokens, 0, 1000000000000),
    L("seq-len", seq_len, 2, 1 << 20), L("seed", seed, 0, 4294967295.0), L("eval-every", eval_every, 0, 1000000000),
    L("early-stop", early_stop, 0, 1000000), L("save-every", save_every, 0, 1000000000),
    L("save-total-limit", save_total_limit, 0, 1000000), L("skip-nonfinite", skip_nonfinite, 0, 1000000000),
    L("lora-r", lora_r, 1, 65536),
    B("no-pack", no_pack), B("no-shuffle", no_shuffle), B("resume", resume), B("rslora", rslora),
    B("dora", dora), L("num-virtual-tokens", num_virtual_tokens, 1, 4096), S("prompt-init", prompt_init),
    B("prefix-projection", prefix_projection), L("prefix-hidden", prefix_hidden, 0, 1 << 20),
    L("adapter-dim", adapter_dim, 1, 1 << 20), S("adapter-where", adapter_where), S("adapter-act", adapter_act),
    S("lora-layers", lora_layers), S("lora-rank-pattern", lora_rank_pattern), S("lora-alpha-pattern", lora_alpha_pattern),
    B("lora-bias", lora_bias), S("lora-init", lora_init), S("base-name", base_name),
    S("loss-type", loss_type), D("beta", beta, 1e-6, 1e6), D("label-smoothing", label_smoothing, 0, 0.5),
    D("simpo-gamma", simpo_gamma, -1e6, 1e6), B("precompute-ref", precompute_ref),
    D("desirable-weight", desirable_weight, 0, 1e6), D("undesirable-weight", undesirable_weight, 0, 1e6),
    L("zero", zero, 0, 1),
    S("precision", precision),
};
#undef S
#undef D
#undef L
#undef B
#define N_OPTS (sizeof OPTS / sizeof *OPTS)

void ft_train_defaults(ft_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->method = "lora";
    o->objective = "sft";
    o->schedule = "cosine";
    o->lora_targets = "q,k,v,o";
    o->device = "cpu";
    o->lr = 1e-4;
    o->warmup = 0;
    o->clip = 1.0;
    o->weight_decay = 0.0;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->adam_eps = 1e-8;
    o->lora_alpha = 16;
    o->lora_r = 8;
    o->epochs = 1;
    o->batch = 4;
    o->grad_accum = 1;
    o->seq_len = 512;
    o->seed = 42;
    o->save_total_limit = 2;
    o->num_virtual_tokens = 20;
    o->adapter_dim = 64;
    o->adapter_where = "attn,mlp";
    o->adapter_act = "relu";
    o->loss_type = "sigmoid";
    o->beta = 0.1;
    o->simpo_gamma = 0.5;
    o->desirable_weight = 1.0;
    o->undesirable_weight = 1.0;
    o->prog = "ft-train";
}

static const opt_def *find(const char *name) {
    char norm[64];
    size_t n = strlen(name);
    if (n >= sizeof norm) return NULL;
    for (size_t i = 0; i <= n; i++) norm[i] = name[i] == '_' ? '-' : name[i];   // lora_r == lora-r
    if (!strcmp(norm, "o")) strcpy(norm, "output");
    for (size_t i = 0; i < N_OPTS; i++)
        if (!strcmp(OPTS[i].name, norm)) return &OPTS[i];
    return NULL;
}

int ft_train_opt_is_bool(const char *name) {
    const opt_def *d = find(name);
    return d && d->type == O_BOOL;
}

int ft_train_opt_known(const char *name) { return find(name) != NULL; }

int ft_train_opt_is_string(const char *name) {
    const opt_def *d = find(name);
    return d && d->type == O_STR;
}

int ft_train_set(ft_train_opts *o, const char *name, const char *value) {
    const opt_def *d = find(name);
    if (!d) return ft_err("unknown option '%s'", name);
    char flag[80];
    snprintf(flag, sizeof flag, "--%s", d->name);
    char *p = (char *)o + d->off;
    switch (d->type) {
    case O_STR: *(const char **)p = value; return 0;
    case O_DBL: return ft_parse_double(flag, value, d->lo, d->hi, (double *)p);
    case O_LONG: return ft_parse_long(flag, value, (long)d->lo, (long)d->hi, (long *)p);
    default:
        if (!value || !strcmp(value, "true") || !strcmp(value, "1")) *(int *)p = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0")) *(int *)p = 0;
        else return ft_err("%s: expected true or false, got '%s'", flag, value);
        return 0;
    }
}

// Apply a JSON object of options; string values are kept alive by *keep (json_t, caller decrefs).
// Each value must have its option's JSON type (lib/core/json_get.h: "an integer" also takes 16.0);
// null leaves the option as it is (train_config.json writes null for unset strings).
int ft_train_load_config(ft_train_opts *o, const char *path, void **keep) {
    size_t pl = strlen(path);
    if ((pl > 5 && !strcmp(path + pl - 5, ".yaml")) || (pl > 4 && !strcmp(path + pl - 4, ".yml")))
        return ft_train_load_yaml(o, path, keep);   // train_yaml.c
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    *keep = j;
    if (!j) return ft_err("%s:%d: %s", path, e.line, e.text);
    if (!json_is_object(j)) return ft_err("%s: expected a JSON object of options", path);
    return ft_train_apply_json(o, path, j);
}

int ft_train_apply_json(ft_train_opts *o, const char *path, void *obj) {
    json_t *j = obj;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (!strcmp(k, "config")) continue;
        if (json_is_null(v)) continue;
        const opt_def *d = find(k);
        if (!d) return ft_err("%s: unknown option \"%s\"", path, k);
        char buf[64];
        const char *s = buf;
        long long n;
        switch (d->type) {
        case O_STR:
            if (!json_is_string(v)) return ft_json_type_err(path, k, "a string", v);
            s = json_string_value(v);
            break;
        case O_DBL:
            if (!json_is_number(v)) return ft_json_type_err(path, k, "a number", v);
            snprintf(buf, sizeof buf, "%.17g", json_number_value(v));
            break;
        case O_LONG:
            if (!ft_json_integral(v, &n)) return ft_json_type_err(path, k, "an integer", v);
            snprintf(buf, sizeof buf, "%lld", n);
            break;
        default:
            if (!json_is_boolean(v)) return ft_json_type_err(path, k, "true or false", v);
            s = json_is_true(v) ? "true" : "false";
            break;
        }
        if (ft_train_set(o, k, s)) return ft_err_ctx("%s", path);
    }
    return 0;
}

char *ft_train_opts_json(const ft_train_opts *o) {
    json_t *j = json_object();
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt_def *d = &OPTS[i];
        const char *p = (const char *)o + d->off;
        json_t *v;
        switch (d->type) {
        case O_STR: { const char *s = *(const char *const *)p; v = s ? json_string(s) : json_null(); break; }
        case O_DBL: v = json_real(*(const double *)p); break;
        case O_LONG: v = json_integer(*(const long *)p); break;
        default: v = json_boolean(*(const int *)p); break;
        }
        json_object_set_new(j, d->name, v);
    }
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!s) ft_err("train_config.json: out of memory");
    return s;
}

void ft_train_config_free(void *keep) { json_decref((json_t *)keep); }
