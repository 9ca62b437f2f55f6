// lora_config.c — the LoraConfig fields PEFT writes that ft does not honour, refused by name
// (see lora.h ft_lora_check_fields; docs/formats.md has the table of every field), and
// ft-train's per-module options (--lora-rank-pattern, --lora-alpha-pattern, --lora-layers) as
// the JSON values PEFT writes for them.
#include "peft/lora.h"
#include "core/err.h"
#include "core/json_get.h"
#include "core/parse.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A key is "set" when present and neither null, false, an empty list/object nor an empty string.
static int is_set(const json_t *v) {
    if (!v || json_is_null(v) || json_is_false(v)) return 0;
    if (json_is_array(v)) return json_array_size(v) > 0;
    if (json_is_object(v)) return json_object_size(v) > 0;
    if (json_is_string(v)) return *json_string_value(v) != 0;
    return 1;
}

// Fields that change the arithmetic in ways ft does not implement: refused when set.
static const struct {
    const char *key;
    const char *why;
} REFUSED[] = {
    {"fan_in_fan_out", "the base weights are stored (in, out) as GPT-2's Conv1D; ft's linears are (out, in)"},
    {"use_qalora", "QALoRA pools the input by quantization group, which ft's LoRA does not"},
    {"layer_replication", "the adapter is for a model with replicated layers, which ft does not build"},
    {"trainable_token_indices", "trained rows of the embedding matrix (trainable tokens) are not implemented"},
    {"target_parameters", "LoRA on nn.Parameter weights (MoE experts) is not implemented"},
    {"alora_invocation_tokens", "activated LoRA (aLoRA) switches on at invocation tokens, which ft does not"},
    {"megatron_config", "Megatron-parallel layers are not implemented"},
    {"use_bdlora", "block-diagonal LoRA (BD-LoRA) is not implemented"},
    {"arrow_config", "Arrow routing over several adapters is not implemented"},
    {"kasa_config", "KaSA (a learned singular-value diagonal) is not implemented"},
    {"velora_config", "VeLoRA is not implemented"},
    {"monteclora_config", "MonteCLoRA is not implemented"},
};

int ft_lora_check_fields(const json_t *c, const char *file) {
    for (size_t i = 0; i < sizeof REFUSED / sizeof *REFUSED; i++) {
        const json_t *v = json_object_get(c, REFUSED[i].key);
        if (!is_set(v)) continue;
        char got[96];
        return ft_err("%s: key \"%s\" is %s: %s, so ft cannot apply this adapter as PEFT does (it refuses "
                      "rather than give other numbers)", file, REFUSED[i].key, ft_json_describe(v, got, sizeof got),
                      REFUSED[i].why);
    }
    const json_t *ms = json_object_get(c, "modules_to_save");
    if (ms && !json_is_null(ms)) {
        if (!json_is_array(ms)) return ft_json_type_err(file, "modules_to_save", "a list of module names", ms);
        for (size_t i = 0; i < json_array_size(ms); i++)
            if (!json_is_string(json_array_get(ms, i))) {
                char k[48];
                snprintf(k, sizeof k, "modules_to_save[%zu]", i);
                return ft_json_type_err(file, k, "a string (a module name)", json_array_get(ms, i));
            }
    }
    // bias: "none" only ("all" / "lora_only" train the base linears' own biases, saved beside the
    // adapter as ...q_proj.bias; ft has no such tensors)
    const json_t *b = json_object_get(c, "bias");
    if (b && !json_is_null(b) && !(json_is_string(b) && !strcmp(json_string_value(b), "none"))) {
        char got[96];
        return ft_err("%s: key \"bias\" is %s: only \"none\" is supported (\"all\" and \"lora_only\" train the base "
                      "layers' biases, which ft does not; lora_bias: true is the LoRA-B bias ft supports)", file,
                      ft_json_describe(b, got, sizeof got));
    }
    // init_lora_weights: the initializations that leave the base weights as they are only matter
    // for training and are fine to read; those that change the base (a residual W - B0 A0) are not.
    const json_t *init = json_object_get(c, "init_lora_weights");
    if (init && json_is_string(init)) {
        const char *s = json_string_value(init);
        static const char *const OK[] = {"gaussian", "orthogonal", "eva"};
        int ok = 0;
        for (size_t i = 0; i < sizeof OK / sizeof *OK; i++) ok |= !strcmp(s, OK[i]);
        if (!ok) {
            int residual = !strncmp(s, "pissa", 5) || !strcmp(s, "olora") || !strcmp(s, "corda") ||
                           !strcmp(s, "loftq") || !strcmp(s, "lora_ga");
            return ft_err("%s: key \"init_lora_weights\" is \"%s\": %s", file, s,
                          residual ? "that initialization subtracts the initial B A from the base weights, so the "
                                     "adapter only holds on that residual base, which ft does not rebuild; convert it "
                                     "with PEFT first (save_pretrained(..., path_initial_model_for_weight_conversion=...) "
                                     "writes a plain LoRA adapter for the original base)"
                                   : "not an initialization ft knows (true, false, \"gaussian\", \"orthogonal\", "
                                     "\"eva\" are read; \"pissa\", \"olora\", \"corda\", \"loftq\", \"lora_ga\" are "
                                     "refused as they change the base)");
        }
    } else if (init && !json_is_null(init) && !json_is_boolean(init)) {
        return ft_json_type_err(file, "init_lora_weights", "true, false or a string", init);
    }
    return 0;
}

json_t *ft_lora_parse_pattern(const char *s, const char *flag, int integer) {
    json_t *o = json_object();
    char *copy = ft_strdup(s);
    if (!o || !copy) goto fail;
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        char *eq = strrchr(t, '=');
        if (!eq || eq == t) {
            ft_err("%s: '%s' is not KEY=%s (e.g. down_proj=%s)", flag, t, integer ? "RANK" : "ALPHA", integer ? "16" : "32");
            goto fail;
        }
        *eq = 0;
        json_t *v;
        if (integer) {
            long r;
            if (ft_parse_long(flag, eq + 1, 1, 65536, &r)) goto fail;
            v = json_integer(r);
        } else {
            double a;
            if (ft_parse_double(flag, eq + 1, 0, 1e6, &a)) goto fail;
            v = json_real(a);
        }
        json_object_set_new(o, t, v);
        n++;
    }
    if (!n) {
        ft_err("%s: empty pattern (expected KEY=VALUE,...)", flag);
        goto fail;
    }
    free(copy);
    return o;
fail:
    free(copy);
    json_decref(o);
    return NULL;
}

json_t *ft_lora_parse_layers(const char *s, const char *flag, int L) {
    json_t *a = json_array();
    char *copy = ft_strdup(s);
    if (!a || !copy) goto fail;
    unsigned char *seen = ft_calloc((size_t)L + 1, 1);
    if (!seen) goto fail;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        char *dash = strchr(t, '-');
        long lo, hi;
        if (dash) *dash = 0;
        if (ft_parse_long(flag, t, 0, L - 1, &lo) || ft_parse_long(flag, dash ? dash + 1 : t, 0, L - 1, &hi)) {
            ft_err_ctx("%s: layers are 0..%d, as \"0,2-5\"", flag, L - 1);
            free(seen);
            goto fail;
        }
        if (hi < lo) {
            ft_err("%s: range %ld-%ld is empty", flag, lo, hi);
            free(seen);
            goto fail;
        }
        for (long l = lo; l <= hi; l++) seen[l] = 1;
    }
    for (int l = 0; l < L; l++)
        if (seen[l]) json_array_append_new(a, json_integer(l));
    free(seen);
    free(copy);
    if (!json_array_size(a)) {
        json_decref(a);
        ft_err("%s: no layers", flag);
        return NULL;
    }
    return a;
fail:
    free(copy);
    json_decref(a);
    return NULL;
}
