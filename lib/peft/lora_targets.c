// lora_targets.c — which linears a PEFT LoraConfig adapts, as PEFT decides it (see lora.h):
// target_modules (list entries match a module name exactly or as its dotted suffix, a string is
// a full-match regex (PCRE2), "all-linear" takes every linear of the layers; the LM head is
// never a target), exclude_modules, layers_to_transform/layers_pattern, and the per-module
// keys of rank_pattern/alpha_pattern (get_pattern_key).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "peft/lora.h"
#include "core/err.h"
#include "core/json_get.h"

#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const NAMES[FT_LORA_N_TARGETS] = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                     "gate_proj", "up_proj", "down_proj"};

const char *ft_lora_target_names(void) { return "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"; }

// The base model's name of linear j of layer l, as PEFT sees it (no "base_model.model." prefix).
void ft_lora_hf_name(int l, int j, char *out, size_t cap) {
    snprintf(out, cap, "model.layers.%d.%s.%s", l, j < 4 ? "self_attn" : "mlp", NAMES[j]);
}
#define hf_name ft_lora_hf_name

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

// ---- regular expressions as Python's re ------------------------------------------------------
// Compile pattern (anchored at the start as re.match; at the end too when full); NULL with a
// message naming file and key.
static pcre2_code *re_compile(const char *pattern, int full, const char *file, const char *key) {
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_ANCHORED | (full ? PCRE2_ENDANCHORED : 0), &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof msg);
        ft_err("%s: key \"%s\": \"%s\" is a regular expression (as PEFT reads it) and it does not compile: %s at "
               "offset %zu", file, key, pattern, (const char *)msg, (size_t)eo);
    }
    return re;
}

// 1 when re matches subject (group 1 into *g1 as an integer when g1), 0 not, -1 out of memory.
static int re_run(const pcre2_code *re, const char *subject, long *g1) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md) return ft_err("out of memory");
    int rc = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, NULL);
    if (rc > 1 && g1) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        *g1 = strtol(subject + ov[2], NULL, 10);
    }
    pcre2_match_data_free(md);
    return rc >= 0 ? 1 : 0;
}

// A list of strings or (when str_ok) one string; -1 with a message otherwise.
static int check_names(const json_t *v, const char *file, const char *key, int str_ok) {
    if (str_ok && json_is_string(v)) return 0;
    if (!json_is_array(v))
        return ft_json_type_err(file, key, str_ok ? "a list of module names or a string" : "a list of strings", v);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
        if (!json_is_string(e)) {
            char k[64];
            snprintf(k, sizeof k, "%s[%zu]", key, i);
            return ft_json_type_err(file, k, "a string", e);
        }
    return 0;
}

// PEFT: an exclude_modules string is a full-match regex, a list names modules or suffixes.
static int exclude(const json_t *ex, const char *file, int L, unsigned char *sel) {
    if (!ex || json_is_null(ex) || (json_is_array(ex) && !json_array_size(ex))) return 0;
    if (check_names(ex, file, "exclude_modules", 1)) return -1;
    pcre2_code *re = json_is_string(ex) ? re_compile(json_string_value(ex), 1, file, "exclude_modules") : NULL;
    if (json_is_string(ex) && !re) return -1;
    for (int l = 0; l < L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            char name[96];
            hf_name(l, j, name, sizeof name);
            int hit = 0;
            if (re) {
                if ((hit = re_run(re, name, NULL)) < 0) { pcre2_code_free(re); return -1; }
            } else {
                size_t i;
                json_t *e;
                json_array_foreach(ex, i, e) hit |= suffix_match(name, json_string_value(e));
            }
            if (hit) sel[l * FT_LORA_N_TARGETS + j] = 0;
        }
    pcre2_code_free(re);
    return 0;
}

// PEFT's layers_to_transform (an int or a list of ints), each module's layer index found by
// layers_pattern (".*?\.PATTERN\.(\d+)\." for each pattern in turn; absent or empty:
// ".*?\.[^.]*\.(\d+)\.", the first numbered segment). A module whose index is not listed (or
// that no pattern finds) is not adapted — except one target_modules names in full (PEFT checks
// the layer only for a suffix match).
static int layer_filter(const json_t *c, const char *file, int L, unsigned char *sel) {
    const json_t *tm = json_object_get(c, "target_modules");
    const json_t *lt = json_object_get(c, "layers_to_transform"), *lp = json_object_get(c, "layers_pattern");
    if (!lt || json_is_null(lt) || (json_is_array(lt) && !json_array_size(lt))) return 0;
    long long one;
    if (!ft_json_integral(lt, &one)) {
        if (!json_is_array(lt))
            return ft_json_type_err(file, "layers_to_transform", "an integer or a list of integers (layer indices)", lt);
        size_t i;
        json_t *e;
        json_array_foreach(lt, i, e) {
            long long v;
            if (!ft_json_integral(e, &v)) {
                char k[48];
                snprintf(k, sizeof k, "layers_to_transform[%zu]", i);
                return ft_json_type_err(file, k, "an integer (a layer index)", e);
            }
        }
    }
    int np = 0;
    const char *pats[16];
    if (lp && !json_is_null(lp)) {
        if (check_names(lp, file, "layers_pattern", 1)) return -1;
        if (json_is_string(lp)) {
            if (*json_string_value(lp)) pats[np++] = json_string_value(lp);
        } else {
            if (json_array_size(lp) > 16) return ft_err("%s: key \"layers_pattern\": more than 16 patterns", file);
            for (size_t i = 0; i < json_array_size(lp); i++) pats[np++] = json_string_value(json_array_get(lp, i));
        }
    }
    pcre2_code *re[16] = {0};
    int nre = np ? np : 1, rc = -1;
    for (int p = 0; p < nre; p++) {
        char rx[600];
        if (np && strlen(pats[p]) > 500) { ft_err("%s: key \"layers_pattern\": pattern too long", file); goto out; }
        if (np) snprintf(rx, sizeof rx, ".*?\\.%s\\.(\\d+)\\.", pats[p]);
        else snprintf(rx, sizeof rx, ".*?\\.[^.]*\\.(\\d+)\\.");
        if (!(re[p] = re_compile(rx, 0, file, "layers_pattern"))) goto out;
    }
    for (int l = 0; l < L; l++)
        for (int j = 0; j < FT_LORA_N_TARGETS; j++) {
            if (!sel[l * FT_LORA_N_TARGETS + j]) continue;
            char name[96];
            hf_name(l, j, name, sizeof name);
            int named = 0;
            for (size_t i = 0; json_is_array(tm) && i < json_array_size(tm); i++)
                named |= !strcmp(name, json_string_value(json_array_get(tm, i)));
            if (named) continue;
            long idx = -1;
            int found = 0;
            for (int p = 0; p < nre && !found; p++) {
                int m = re_run(re[p], name, &idx);
                if (m < 0) goto out;
                found = m;
            }
            int keep = 0;
            if (found) {
                if (ft_json_integral(lt, &one)) keep = idx == one;
                else
                    for (size_t i = 0; i < json_array_size(lt) && !keep; i++) {
                        long long v;
                        ft_json_integral(json_array_get(lt, i), &v);
                        keep = idx == v;
                    }
            }
            if (!keep) sel[l * FT_LORA_N_TARGETS + j] = 0;
        }
    rc = 0;
out:
    for (int p = 0; p < nre; p++) pcre2_code_free(re[p]);
    return rc;
}

int ft_lora_select(const json_t *c, const char *file, int L, unsigned char *sel) {
    const json_t *tm = json_object_get(c, "target_modules");
    const json_t *lt = json_object_get(c, "layers_to_transform");
    int has_layers = lt && !json_is_null(lt) && !(json_is_array(lt) && !json_array_size(lt));
    if (tm && json_is_string(tm) && has_layers)   // PEFT's LoraConfig refuses it the same way
        return ft_err("%s: key \"layers_to_transform\" cannot be used when \"target_modules\" is a string (PEFT "
                      "refuses it too): list the module names instead", file);
    if (!tm || json_is_null(tm)) memset(sel, 1, (size_t)L * FT_LORA_N_TARGETS);
    else if (ft_lora_select_targets(tm, file, L, sel) < 0) return -1;
    if (exclude(json_object_get(c, "exclude_modules"), file, L, sel) || layer_filter(c, file, L, sel)) return -1;
    // a module modules_to_save names is copied whole, never a LoRA target (PEFT:
    // re.match(rf"(^|.*\.){m}($|\..*)", key))
    const json_t *ms = json_object_get(c, "modules_to_save");
    for (size_t e = 0; json_is_array(ms) && e < json_array_size(ms); e++) {
        const char *mn = json_string_value(json_array_get(ms, e));
        if (!mn || strlen(mn) > 400) continue;
        char rx[440];
        snprintf(rx, sizeof rx, "(^|.*\\.)%s($|\\..*)", mn);
        pcre2_code *re = re_compile(rx, 0, file, "modules_to_save");
        if (!re) return -1;
        for (int i = 0; i < L * FT_LORA_N_TARGETS; i++) {
            char name[96];
            hf_name(i / FT_LORA_N_TARGETS, i % FT_LORA_N_TARGETS, name, sizeof name);
            if (sel[i] && re_run(re, name, NULL) == 1) sel[i] = 0;
        }
        pcre2_code_free(re);
    }
    int n = 0;
    for (int i = 0; i < L * FT_LORA_N_TARGETS; i++) n += sel[i];
    return n;
}

int ft_lora_pattern(const json_t *pat, const char *key, const char *name, const char *file, int integer, double *v) {
    if (!pat || json_is_null(pat)) return 0;
    if (!json_is_object(pat)) return ft_json_type_err(file, key, "an object {\"module pattern\": value}", pat);
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)pat, k, val) {
        size_t kl = strlen(k);
        char *rx = ft_malloc(kl + 16);
        if (!rx) return -1;
        snprintf(rx, kl + 16, "(.*\\.)?(%s)$", k);
        char what[600];
        snprintf(what, sizeof what, "%s\" entry \"%.500s", key, k);
        pcre2_code *re = re_compile(rx, 0, file, what);
        free(rx);
        if (!re) return -1;
        int m = re_run(re, name, NULL);
        pcre2_code_free(re);
        if (m < 0) return -1;
        if (!m) continue;
        long long iv;
        if (integer ? !ft_json_integral(val, &iv) || iv < 1 || iv > 65536 : !json_is_number(val))
            return ft_json_type_err(file, what, integer ? "a positive integer (a rank)" : "a number (an alpha)", val);
        *v = integer ? (double)iv : json_number_value(val);
        return 1;
    }
    return 0;
}
