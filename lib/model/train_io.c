// train_io.c — HF model dir output of full fine-tuning, and the metrics log (see train_io.h).
#include "model/train_io.h"
#include "core/err.h"
#include "core/io.h"
#include "model/model_save.h"
#include "format/safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// A float config value as the shortest decimal that round-trips (1e-05, not 9.99999974e-06).
static json_t *jfloat(float f) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)f);
    for (int p = 1; p <= 9; p++) {
        char t[32];
        snprintf(t, sizeof t, "%.*g", p, (double)f);
        if ((float)strtod(t, NULL) == f) { strcpy(buf, t); break; }
    }
    return json_real(strtod(buf, NULL));
}

char *ft_train_config_json(const ft_config *c) {
    const ft_arch *a = ft_config_arch(c);
    if (!a) return NULL;
    json_t *j = json_object();
    json_t *arch = json_array();
    json_array_append_new(arch, json_string(a->hf_class));
    json_object_set_new(j, "architectures", arch);
    json_object_set_new(j, "model_type", json_string(a->hf_model_type));
    json_object_set_new(j, "vocab_size", json_integer(c->vocab_size));
    json_object_set_new(j, "hidden_size", json_integer(c->hidden));
    json_object_set_new(j, "intermediate_size", json_integer(c->intermediate));
    json_object_set_new(j, "num_hidden_layers", json_integer(c->n_layers));
    json_object_set_new(j, "num_attention_heads", json_integer(c->n_heads));
    json_object_set_new(j, "num_key_value_heads", json_integer(c->n_kv_heads));
    json_object_set_new(j, "head_dim", json_integer(c->head_dim));
    json_object_set_new(j, a->hf_act_key ? a->hf_act_key : "hidden_act", json_string(a->hf_act));
    if (a->swa_pattern) {   // Gemma 3's attention
        json_object_set_new(j, "sliding_window", c->sliding_window > 0 ? json_integer(c->sliding_window) : json_null());
        json_object_set_new(j, "sliding_window_pattern", json_integer(c->swa_pattern));
        json_t *lt = json_array();
        for (int l = 0; l < c->n_layers; l++)
            json_array_append_new(lt, json_string(ft_config_layer_swa(c, l) ? "sliding_attention" : "full_attention"));
        if (c->sliding_window > 0) json_object_set_new(j, "layer_types", lt);
        else json_decref(lt);
        json_object_set_new(j, "rope_local_base_freq", jfloat(c->rope_local_theta > 0 ? c->rope_local_theta : c->rope_theta));
        json_object_set_new(j, "query_pre_attn_scalar", jfloat(c->query_scalar > 0 ? c->query_scalar : (float)c->head_dim));
        json_object_set_new(j, "final_logit_softcapping", json_null());
        json_object_set_new(j, "attn_logit_softcapping", json_null());
    }
    json_object_set_new(j, "rms_norm_eps", jfloat(c->rms_eps));
    json_object_set_new(j, "rope_theta", jfloat(c->rope_theta));
    json_object_set_new(j, "max_position_embeddings", json_integer(c->max_pos));
    json_object_set_new(j, "tie_word_embeddings", json_boolean(c->tie_embeddings));
    if (a->bias_key_written) json_object_set_new(j, a->bias_key, json_boolean(c->attn_bias));
    if (c->rope_scaling != FT_ROPE_NONE) {
        json_t *rs = json_object();
        json_object_set_new(rs, "rope_type", json_string(c->rope_scaling == FT_ROPE_LLAMA3 ? "llama3" : "linear"));
        json_object_set_new(rs, "factor", jfloat(c->rope_factor));
        if (c->rope_scaling == FT_ROPE_LLAMA3) {
            json_object_set_new(rs, "low_freq_factor", jfloat(c->rope_low_freq_factor));
            json_object_set_new(rs, "high_freq_factor", jfloat(c->rope_high_freq_factor));
            json_object_set_new(rs, "original_max_position_embeddings", json_integer(c->rope_orig_max_pos));
        }
        json_object_set_new(j, "rope_scaling", rs);
    }
    if (c->bos_id >= 0) json_object_set_new(j, "bos_token_id", json_integer(c->bos_id));
    if (c->n_eos == 1) json_object_set_new(j, "eos_token_id", json_integer(c->eos_ids[0]));
    else if (c->n_eos > 1) {
        json_t *e = json_array();
        for (int i = 0; i < c->n_eos; i++) json_array_append_new(e, json_integer(c->eos_ids[i]));
        json_object_set_new(j, "eos_token_id", e);
    }
    json_object_set_new(j, "torch_dtype", json_string("float32"));
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(j);
    if (!s) ft_err("config.json: out of memory");
    return s;
}

int ft_train_save_hf(const ft_model *m, const char *dir) {
    if (ft_mkdirs(dir)) return -1;
    char *cfg = ft_train_config_json(&m->cfg);
    char *p = ft_path_join(dir, "config.json");
    int rc = -1, n_plus = 0;
    st_writer *w = NULL;
    float **plus = ft_calloc((size_t)m->n_tensors + 1, sizeof *plus);   // HF copies of (1 + w) norms
    if (!plus) goto out;
    if (!cfg || !p || ft_write_all(p, cfg, strlen(cfg))) goto out;
    free(p);
    p = ft_path_join(dir, "model.safetensors");
    if (!p || !(w = st_writer_new())) goto out;
    char head[96];
    ft_arch_global_name(m->cfg.arch_row, FT_GLOBAL_HEAD, head, sizeof head);
    for (int i = 0; i < m->n_tensors; i++) {
        const ft_tensor_info *t = &m->tensors[i];
        if (m->cfg.tie_embeddings && !strcmp(t->name, head)) continue;
        uint64_t shape[2] = {(uint64_t)t->shape[0], (uint64_t)t->shape[1]};
        const float *src = m->params + t->offset;
        if (t->hf_plus_one) {   // a (1 + w) norm: HF stores w (kept until the writer has written)
            float *hw = ft_malloc(t->numel * sizeof(float));
            if (!hw) goto out;
            for (size_t k = 0; k < t->numel; k++) hw[k] = src[k] - 1.0f;
            plus[n_plus++] = hw;
            src = hw;
        }
        if (st_writer_add(w, t->name, ST_F32, t->n_dims, shape, src)) goto out;
    }
    if (st_writer_meta(w, "format", "pt") || st_writer_write(w, p)) goto out;
    if (ft_model_copy_tokenizer_files(m, dir)) goto out;
    rc = 0;
out:
    st_writer_free(w);
    for (int i = 0; i < n_plus; i++) free(plus[i]);
    free(plus);
    free(cfg);
    free(p);
    return rc;
}

FILE *ft_train_log_open(const char *path, int resume, long keep_step) {
    char *old = NULL;
    size_t len = 0;
    if (resume) {
        struct stat sb;
        if (!stat(path, &sb) && ft_read_all(path, &old, &len)) return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        free(old);
        ft_err("%s: cannot open the log for writing", path);
        return NULL;
    }
    if (old) {
        // keep the lines of steps the resumed run will not repeat
        char *save = NULL;
        for (char *line = strtok_r(old, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            json_t *j = json_loads(line, 0, NULL);
            json_t *s = j ? json_object_get(j, "step") : NULL;
            if (s && json_is_integer(s) && json_integer_value(s) <= keep_step) fprintf(f, "%s\n", line);
            json_decref(j);
        }
        free(old);
        fflush(f);
    }
    return f;
}
