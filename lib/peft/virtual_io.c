// virtual_io.c — prompt / prefix tuning adapters in PEFT's layout (see virtual.h):
//   DIR/adapter_config.json        peft_type PROMPT_TUNING | PREFIX_TUNING, task_type CAUSAL_LM,
//                                  num_virtual_tokens, token_dim, num_attention_heads, num_layers, ...
//   DIR/adapter_model.safetensors  one tensor "prompt_embeddings":
//       prompt tuning  (n, C)          PromptEmbedding.embedding.weight
//       prefix tuning  (n, L*2*Hkv*D)  PeftModel.get_prompt_embedding_to_save: the prefix itself,
//                                      i.e. the MLP's output when prefix_projection (PEFT then
//                                      loads it with inference_mode as a plain prefix; so do we).
// For prefix tuning on GQA models token_dim = Hkv*D and num_attention_heads = Hkv, as PEFT's
// _prepare_prompt_learning_config sets them from num_key_value_heads.
#include "model/virtual.h"
#include "peft/peft.h"
#include "peft/peft_kind.h"
#include "core/err.h"
#include "core/io.h"
#include "core/json_get.h"
#include "format/safetensors.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

int ft_virtual_save(const ft_virtual *v, const char *dir, const char *base_model) {
    if (!v || !v->model) return ft_err("%s: no virtual tokens to save", dir);
    if (v->dev) return ft_err("%s: the virtual tokens are a device copy (save the host's)", dir);
    const ft_config *c = &v->model->cfg;
    int prompt = v->kind == FT_VIRT_PROMPT;
    // the saved prefix is the MLP's current output
    // (v's buffers are host memory, even when the model has moved to a device with a copy of v)
    if (v->projection) ft_virtual_prepare((ft_virtual *)v, ft_ops_cpu());
    json_t *j = json_object();
    json_object_set_new(j, "peft_type", json_string(prompt ? ft_peft_prompt.peft_type : ft_peft_prefix.peft_type));
    json_object_set_new(j, "task_type", json_string("CAUSAL_LM"));
    json_object_set_new(j, "num_virtual_tokens", json_integer(v->n));
    json_object_set_new(j, "token_dim", json_integer(prompt ? v->C : v->kvd));
    json_object_set_new(j, "num_transformer_submodules", json_integer(1));
    json_object_set_new(j, "num_attention_heads", json_integer(prompt ? c->n_heads : c->n_kv_heads));
    json_object_set_new(j, "num_layers", json_integer(v->L));
    json_object_set_new(j, "inference_mode", json_true());
    json_object_set_new(j, "base_model_name_or_path", str_or_null(base_model));
    json_object_set_new(j, "revision", json_null());
    json_object_set_new(j, "auto_mapping", json_null());
    if (prompt) {
        json_object_set_new(j, "prompt_tuning_init", json_string(v->init_text ? "TEXT" : "RANDOM"));
        json_object_set_new(j, "prompt_tuning_init_text", str_or_null(v->init_text ? v->init_str : NULL));
        json_object_set_new(j, "tokenizer_name_or_path", str_or_null(v->init_text ? base_model : NULL));
        json_object_set_new(j, "tokenizer_kwargs", json_null());
    } else {
        json_object_set_new(j, "prefix_projection", json_boolean(v->projection));
        json_object_set_new(j, "encoder_hidden_size", json_integer(v->projection ? v->hidden : v->kvd));
    }
    ft_peft_set_base(j, base_model);
    st_writer *w = st_writer_new();
    uint64_t shape[2] = {(uint64_t)v->n, (uint64_t)v->width};
    if (w && st_writer_add(w, "prompt_embeddings", ST_F32, 2, shape, prompt ? v->params : v->prefix)) {
        st_writer_free(w);
        json_decref(j);
        return -1;
    }
    return ft_peft_save_dir(dir, j, w);
}

// An optional integer field of the config: must equal want when present.
static int check_int(json_t *cfg, const char *key, long want, const char *file, const char *what) {
    int x;
    int k = ft_json_get_int(cfg, key, file, 0, 1 << 30, 0, &x);
    if (k <= 0) return k;
    if (x != want) return ft_err("%s: \"%s\" is %d but the model has %ld (%s)", file, key, x, want, what);
    return 0;
}

int ft_virtual_apply(ft_model *m, const char *dir, ft_virtual **out) {
    *out = NULL;
    const ft_config *c = &m->cfg;
    char *cpath = ft_path_join(dir, "adapter_config.json"), *wpath = ft_path_join(dir, "adapter_model.safetensors");
    json_t *j = NULL;
    st_set *st = NULL;
    ft_virtual *v = NULL;
    int rc = -1;
    if (!cpath || !wpath || !(j = ft_peft_config_read(cpath))) goto out;
    const char *pt = NULL, *tt = NULL;
    if (ft_json_get_str(j, "peft_type", cpath, NULL, &pt) < 0 || ft_json_get_str(j, "task_type", cpath, NULL, &tt) < 0)
        goto out;
    const ft_peft_kind *pk = ft_peft_kind_find_type(pt);
    int kind = pk == &ft_peft_prompt ? FT_VIRT_PROMPT : pk == &ft_peft_prefix ? FT_VIRT_PREFIX : 0;
    if (!kind) {
        ft_err("%s: peft_type is %s, expected \"%s\" or \"%s\"", cpath, pt ? pt : "missing", ft_peft_prompt.peft_type,
               ft_peft_prefix.peft_type);
        goto out;
    }
    if (tt && strcmp(tt, "CAUSAL_LM")) {
        ft_err("%s: task_type is %s; only CAUSAL_LM adapters apply to a decoder model", cpath, tt);
        goto out;
    }
    int n, prompt = kind == FT_VIRT_PROMPT;
    const char *init = NULL, *itext = NULL;
    int k = ft_json_get_int(j, "num_virtual_tokens", cpath, 1, 65536, 0, &n);
    if (k == 0) ft_err("%s: key \"num_virtual_tokens\" is missing (an integer in 1..65536)", cpath);
    if (k <= 0 || (prompt && (ft_json_get_str(j, "prompt_tuning_init", cpath, NULL, &init) < 0 ||
                              ft_json_get_str(j, "prompt_tuning_init_text", cpath, NULL, &itext) < 0)))
        goto out;
    int kvd = c->n_kv_heads * c->head_dim;
    if (check_int(j, "num_transformer_submodules", 1, cpath, "a decoder-only model has one") ||
        check_int(j, "num_layers", c->n_layers, cpath, "layers") ||
        check_int(j, "token_dim", prompt ? c->hidden : kvd, cpath, prompt ? "hidden size" : "key/value heads x head dim") ||
        check_int(j, "num_attention_heads", prompt ? c->n_heads : c->n_kv_heads, cpath,
                  prompt ? "attention heads" : "key/value heads"))
        goto out;
    if (!(st = st_open(wpath))) goto out;
    const st_tensor *t = st_find(st, "prompt_embeddings");
    if (!t) {
        ft_err("%s: no tensor \"prompt_embeddings\" (a PEFT %s adapter holds exactly that one)", wpath, pt);
        goto out;
    }
    uint64_t width = prompt ? (uint64_t)c->hidden : (uint64_t)c->n_layers * 2 * kvd;
    if (t->n_dims != 2 || t->shape[1] != width) {
        ft_err("%s: prompt_embeddings has shape [%llu, %llu], expected [%d, %llu] (%s)", wpath,
               (unsigned long long)(t->n_dims > 0 ? t->shape[0] : 0),
               (unsigned long long)(t->n_dims > 1 ? t->shape[1] : 0), n, (unsigned long long)width,
               prompt ? "num_virtual_tokens x hidden" : "num_virtual_tokens x layers*2*kv_heads*head_dim");
        goto out;
    }
    if (t->shape[0] != (uint64_t)n) {
        ft_err("%s: prompt_embeddings has %llu rows but %s says num_virtual_tokens = %d", wpath,
               (unsigned long long)t->shape[0], cpath, n);
        goto out;
    }
    if (m->virt) {
        ft_err("%s: the model already has prompt/prefix virtual tokens (only one such adapter at a time)", dir);
        goto out;
    }
    if (ft_virtual_alloc(&v, m, kind, n, 0, 0)) goto out;
    uint64_t shape[2] = {(uint64_t)n, width};
    if (st_tensor_to_f32(t, v->params, 2, shape, wpath)) goto out;
    if (prompt && init && !strcmp(init, "TEXT")) {
        v->init_text = 1;
        if (itext && !(v->init_str = ft_strdup(itext))) goto out;
    }
    *out = v;
    v = NULL;
    rc = 0;
out:
    ft_virtual_destroy(v);
    if (st) st_close(st);
    json_decref(j);
    free(cpath);
    free(wpath);
    return rc;
}
