// lora_targets.c — PEFT's target_modules against a model's linears (see lora.h): list entries
// match a module name exactly or as its dotted suffix, a string is a full-match regex (PCRE2),
// "all-linear" takes every linear of the layers (the LM head is never a target).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "peft/lora.h"
#include "core/err.h"
#include "core/json_get.h"

#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

static const char *const NAMES[FT_LORA_N_TARGETS] = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                     "gate_proj", "up_proj", "down_proj"};

const char *ft_lora_target_names(void) { return "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"; }

// The base model's name of linear j of layer l, as PEFT sees it (no "base_model.model." prefix).
static void hf_name(int l, int j, char *out, size_t cap) {
    snprintf(out, cap, "model.layers.%d.%s.%s", l, j < 4 ? "self_attn" : "mlp", NAMES[j]);
}

static int suffix_match(const char *name, const char *entry) {
    size_t n = strlen(name), e = strlen(entry);
    if (n == e) return !strcmp(name, entry);
    return e < n && name[n - e - 1] == '.' && !strcmp(name + n - e, entry);
}

static int select_regex(const char *pattern, const char *file, int L, unsigned char *sel) {
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                                   &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return ft_err("%s: key \"target_modules\": the string \"%s\" is a regular expression (PEFT matches it "
                      "against whole module names), and it does not compile: %s at offset %zu",
                      file, pattern, (const char *)msg, (size_t)eo);
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int n = 0;
    for (int l = 0; md && l < L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            char name[96];
            hf_name(l, j, name, sizeof name);
            if (pcre2_match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL) >= 0) {
                sel[l * FT_LORA_N_TARGETS + j] = 1;
                n++;
            }
        }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return md ? n : ft_err("%s: out of memory", file);
}

int ft_lora_select_targets(const json_t *tm, const char *file, int L, unsigned char *sel) {
    memset(sel, 0, (size_t)L * FT_LORA_N_TARGETS);
    if (json_is_string(tm)) {
        const char *s = json_string_value(tm);
        if (strcmp(s, "all-linear")) return select_regex(s, file, L, sel);
        memset(sel, 1, (size_t)L * FT_LORA_N_TARGETS);
        return L * FT_LORA_N_TARGETS;
    }
    if (!json_is_array(tm)) return ft_json_type_err(file, "target_modules", "a list of module names or a string", tm);
    size_t i;
    json_t *e;
    json_array_foreach(tm, i, e)
        if (!json_is_string(e)) {
            char key[40];
            snprintf(key, sizeof key, "target_modules[%zu]", i);
            return ft_json_type_err(file, key, "a string (a module name)", e);
        }
    int n = 0;
    for (int l = 0; l < L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            char name[96];
            hf_name(l, j, name, sizeof name);
            json_array_foreach(tm, i, e)
                if (suffix_match(name, json_string_value(e))) {
                    sel[l * FT_LORA_N_TARGETS + j] = 1;
                    n++;
                    break;
                }
        }
    return n;
}
