// test_arch.c — the architecture table (lib/model/arch.h): every row complete; the tensor names of a
// tiny model of each row map to llama.cpp's GGUF names (written out here from llama.cpp's
// LLM_TENSOR_NAMES / gguf-py TensorNameMap, not from ft) and back; config.json model_type and
// GGUF general.architecture pick the row HF / llama.cpp mean (Mistral, SmolLM and TinyLlama are
// Llama; Qwen2 has q/k/v biases and unpermuted GGUF rows); unknown names are refused with the list.
#include "testutil.h"
#include "model/arch.h"
#include "core/err.h"
#include "peft/lora.h"
#include "model/model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ft_config cfg_for(const char *arch, int bias) {
    ft_config c = {0};
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    c.vocab_size = 40; c.hidden = 16; c.intermediate = 24; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.head_dim = 4;
    c.rms_eps = 1e-5f; c.rope_theta = 10000.f; c.rope_factor = 1.f; c.max_pos = 64; c.bos_id = -1;
    c.attn_bias = bias;
    return c;
}

static void test_rows_complete(void **st) {
    (void)st;
    int n;
    const ft_arch *t = ft_arch_table(&n);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++) {
        const ft_arch *a = &t[i];
        assert_ptr_equal(ft_arch_by_name(a->name), a);
        assert_non_null(a->hf_model_types[0]);
        assert_non_null(a->gguf_archs[0]);
        assert_true(a->hf_model_type && a->hf_class && a->hf_layers && a->gguf_layers && a->hf_act && a->bias_key);
        // the names it writes are names it reads
        assert_ptr_equal(ft_arch_from_hf(a->hf_model_type, "x"), a);
        assert_ptr_equal(ft_arch_from_gguf(a->name, "x"), a);
        for (int g = 0; g < FT_GLOBAL_COUNT; g++) assert_true(a->global[g].hf && a->global[g].gguf);
        int seen_norm[FT_NORM_COUNT] = {0}, seen_lin[FT_LIN_COUNT] = {0};
        assert_true(a->n_slots >= FT_LIN_COUNT + 2 && a->n_slots <= FT_NORM_COUNT + FT_LIN_COUNT);
        for (int s = 0; s < a->n_slots; s++) {
            const ft_arch_slot *sl = &a->layer_order[s];
            if (sl->is_norm) seen_norm[sl->role]++;
            else seen_lin[sl->role]++;
        }
        // every norm the row names is in its order once (attention and MLP norms in every row)
        assert_true(ft_arch_has_norm(a, FT_NORM_ATTN) && ft_arch_has_norm(a, FT_NORM_MLP));
        assert_int_equal(ft_arch_has_norm(a, FT_NORM_Q), ft_arch_has_norm(a, FT_NORM_K));
        for (int r = 0; r < FT_NORM_COUNT; r++) {
            assert_int_equal(seen_norm[r], ft_arch_has_norm(a, r));
            assert_true(!a->norm[r].hf == !a->norm[r].gguf);
        }
        for (int r = 0; r < FT_LIN_COUNT; r++) {
            assert_int_equal(seen_lin[r], 1);
            const ft_arch_linear *l = &a->lin[r];
            assert_true(l->hf && l->module && l->gguf && l->short_name);
        }
    }
    // the LoRA target count is the role count
    assert_int_equal(FT_LORA_N_TARGETS, FT_LIN_COUNT);
    assert_int_equal(FT_LORA_ALL, 0x7F);
}

// llama.cpp's names for the Llama and Qwen2 layers (LLM_ARCH_LLAMA, LLM_ARCH_QWEN2), by HF name.
static const char *const LLAMA_CPP[][2] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
    {"model.layers.1.input_layernorm.weight", "blk.1.attn_norm.weight"},
    {"model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight"},
    {"model.layers.1.self_attn.k_proj.weight", "blk.1.attn_k.weight"},
    {"model.layers.1.self_attn.v_proj.weight", "blk.1.attn_v.weight"},
    {"model.layers.1.self_attn.q_proj.bias", "blk.1.attn_q.bias"},
    {"model.layers.1.self_attn.k_proj.bias", "blk.1.attn_k.bias"},
    {"model.layers.1.self_attn.v_proj.bias", "blk.1.attn_v.bias"},
    {"model.layers.1.self_attn.o_proj.weight", "blk.1.attn_output.weight"},
    {"model.layers.1.post_attention_layernorm.weight", "blk.1.ffn_norm.weight"},
    {"model.layers.1.mlp.gate_proj.weight", "blk.1.ffn_gate.weight"},
    {"model.layers.1.mlp.up_proj.weight", "blk.1.ffn_up.weight"},
    {"model.layers.1.mlp.down_proj.weight", "blk.1.ffn_down.weight"},
};

static void test_names_roundtrip(void **st) {
    (void)st;
    static const char *const archs[] = {"llama", "qwen2"};
    for (int ai = 0; ai < 2; ai++) {
        ft_config c = cfg_for(archs[ai], 1);
        ft_model *m = ft_model_new(&c);
        assert_non_null(m);
        const ft_arch *a = m->cfg.arch_row;
        assert_ptr_equal(a, ft_arch_by_name(archs[ai]));
        // HF order of a layer as HF's state_dict lists it, and every tensor once
        // (embed, 2 x (2 norms + 7 weights + 3 biases), norm, lm_head)
        assert_int_equal(m->n_tensors, 1 + 2 * 12 + 2);
        assert_string_equal(m->tensors[1].name, "model.layers.0.input_layernorm.weight");
        assert_string_equal(m->tensors[2].name, "model.layers.0.self_attn.q_proj.weight");
        assert_string_equal(m->tensors[3].name, "model.layers.0.self_attn.q_proj.bias");
        assert_string_equal(m->tensors[12].name, "model.layers.0.post_attention_layernorm.weight");
        for (int i = 0; i < m->n_tensors; i++) {
            char g[128], h[128];
            const char *hf = m->tensors[i].name;
            assert_int_equal(ft_arch_gguf_name(a, hf, g, sizeof g), 0);
            assert_int_equal(ft_arch_hf_name(a, g, h, sizeof h), 0);
            assert_string_equal(h, hf);
            for (int k = 0; k < i; k++) {   // distinct GGUF names
                char g2[128];
                assert_int_equal(ft_arch_gguf_name(a, m->tensors[k].name, g2, sizeof g2), 0);
                assert_string_not_equal(g, g2);
            }
        }
        for (size_t i = 0; i < sizeof LLAMA_CPP / sizeof *LLAMA_CPP; i++) {
            char g[128], h[128];
            assert_int_equal(ft_arch_gguf_name(a, LLAMA_CPP[i][0], g, sizeof g), 0);
            assert_string_equal(g, LLAMA_CPP[i][1]);
            assert_int_equal(ft_arch_hf_name(a, LLAMA_CPP[i][1], h, sizeof h), 0);
            assert_string_equal(h, LLAMA_CPP[i][0]);
        }
        // names that are none of the row's tensors
        char g[128];
        assert_int_equal(ft_arch_gguf_name(a, "model.layers.1.self_attn.rotary_emb.inv_freq", g, sizeof g), -1);
        assert_int_equal(ft_arch_gguf_name(a, "model.layers.01.mlp.up_proj.weight", g, sizeof g), -1);
        assert_int_equal(ft_arch_gguf_name(a, "model.norm", g, sizeof g), -1);
        assert_int_equal(ft_arch_hf_name(a, "blk.x.attn_q.weight", g, sizeof g), -1);
        // linears by role: the members, shapes and names
        int l, role;
        assert_int_equal(ft_arch_parse_linear(a, "model.layers.1.mlp.down_proj.weight", &l, &role),
                         (int)strlen("model.layers.1.mlp.down_proj"));
        assert_int_equal(l, 1);
        assert_int_equal(role, FT_LIN_DOWN);
        assert_int_equal(ft_arch_parse_linear(a, "model.layers.1.mlp.q_proj.weight", &l, &role), -1);
        assert_ptr_equal(ft_model_linear(m, "model.layers.1.mlp.down_proj"), &m->layers[1].down);
        assert_ptr_equal(ft_model_linear(m, "model.layers.0.self_attn.v_proj.weight"), &m->layers[0].v);
        assert_null(ft_model_linear(m, "model.layers.0.self_attn.v_proj.bias"));
        ft_linear *want[FT_LIN_COUNT] = {&m->layers[1].q, &m->layers[1].k, &m->layers[1].v, &m->layers[1].o,
                                         &m->layers[1].gate, &m->layers[1].up, &m->layers[1].down};
        static const char *const hf[FT_LIN_COUNT] = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                     "gate_proj", "up_proj", "down_proj"};
        int outs[FT_LIN_COUNT] = {16, 8, 8, 16, 24, 24, 16}, ins[FT_LIN_COUNT] = {16, 16, 16, 16, 16, 16, 24};
        for (int r = 0; r < FT_LIN_COUNT; r++) {
            const char *sn;
            assert_ptr_equal(ft_model_layer_linear(m, 1, r, &sn), want[r]);
            assert_string_equal(sn, hf[r]);
            assert_int_equal(want[r]->out, outs[r]);
            assert_int_equal(want[r]->in, ins[r]);
            assert_int_equal(want[r]->b != NULL, r <= FT_LIN_V);
        }
        assert_null(ft_model_layer_linear(m, 1, FT_LIN_COUNT, NULL));
        // FLOPs per token over the table's linears, by hand: 2 * (L * (q,o 2*C*qd + k,v 2*C*kd +
        // gate,up,down 3*C*F + attention qd*(T+1)) + V*C) = 2 * (2 * (512 + 256 + 1152 + 176) + 640)
        assert_true(ft_model_flops_per_token(&m->cfg, 10) == 9664.0);
        assert_ptr_equal(*ft_layer_norm(&m->layers[1], FT_NORM_MLP), m->layers[1].mlp_norm);
        assert_ptr_equal(m->layers[1].mlp_norm, ft_model_tensor_data(m, "model.layers.1.post_attention_layernorm.weight"));
        // GGUF Q/K rows: permuted by heads for Llama (convert_hf_to_gguf LlamaModel.permute), not for Qwen2
        int llama = ai == 0;
        assert_int_equal(ft_arch_gguf_permute_heads(&m->cfg, "model.layers.1.self_attn.q_proj.weight"), llama ? 4 : 0);
        assert_int_equal(ft_arch_gguf_permute_heads(&m->cfg, "model.layers.1.self_attn.k_proj.bias"), llama ? 2 : 0);
        assert_int_equal(ft_arch_gguf_permute_heads(&m->cfg, "model.layers.1.self_attn.v_proj.weight"), 0);
        assert_int_equal(ft_arch_gguf_permute_heads(&m->cfg, "model.layers.1.self_attn.o_proj.weight"), 0);
        ft_model_free(m);
    }
}

// Qwen3 and Gemma 3 names against HF (Qwen3DecoderLayer, Gemma3DecoderLayer) and llama.cpp
// (LLM_ARCH_QWEN3, LLM_ARCH_GEMMA3: gguf-py's tensor names attn_q_norm, post_attention_norm, ...).
static const char *const QWEN3_CPP[][2] = {
    {"model.layers.1.self_attn.q_norm.weight", "blk.1.attn_q_norm.weight"},
    {"model.layers.1.self_attn.k_norm.weight", "blk.1.attn_k_norm.weight"},
    {"model.layers.1.input_layernorm.weight", "blk.1.attn_norm.weight"},
    {"model.layers.1.post_attention_layernorm.weight", "blk.1.ffn_norm.weight"},
    {"model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight"},
};
static const char *const GEMMA3_CPP[][2] = {
    {"model.layers.1.self_attn.q_norm.weight", "blk.1.attn_q_norm.weight"},
    {"model.layers.1.self_attn.k_norm.weight", "blk.1.attn_k_norm.weight"},
    {"model.layers.1.input_layernorm.weight", "blk.1.attn_norm.weight"},
    {"model.layers.1.post_attention_layernorm.weight", "blk.1.post_attention_norm.weight"},
    {"model.layers.1.pre_feedforward_layernorm.weight", "blk.1.ffn_norm.weight"},
    {"model.layers.1.post_feedforward_layernorm.weight", "blk.1.post_ffw_norm.weight"},
    {"model.layers.1.mlp.down_proj.weight", "blk.1.ffn_down.weight"},
    {"model.norm.weight", "output_norm.weight"},
};

static void test_new_rows(void **st) {
    (void)st;
    for (int ai = 0; ai < 2; ai++) {
        ft_config c = cfg_for(ai ? "gemma3" : "qwen3", 0);
        c.head_dim = 6;   // independent of hidden / heads (16 / 4)
        c.tie_embeddings = true;
        ft_model *m = ft_model_new(&c);
        assert_non_null(m);
        const ft_arch *a = m->cfg.arch_row;
        // embed, 2 x (norms + 7 weights), norm (tied: no lm_head)
        int norms = ai ? 6 : 4;
        assert_int_equal(m->n_tensors, 1 + 2 * (norms + 7) + 1);
        for (int i = 0; i < m->n_tensors; i++) {
            char g[128], h[128];
            assert_int_equal(ft_arch_gguf_name(a, m->tensors[i].name, g, sizeof g), 0);
            assert_int_equal(ft_arch_hf_name(a, g, h, sizeof h), 0);
            assert_string_equal(h, m->tensors[i].name);
            // Gemma's norms are (1 + w) in HF, every other tensor as stored
            assert_int_equal(m->tensors[i].hf_plus_one, ai && strstr(m->tensors[i].name, "norm") != NULL);
        }
        const char *const(*tab)[2] = ai ? GEMMA3_CPP : QWEN3_CPP;
        size_t nt = ai ? sizeof GEMMA3_CPP / sizeof *GEMMA3_CPP : sizeof QWEN3_CPP / sizeof *QWEN3_CPP;
        for (size_t i = 0; i < nt; i++) {
            char g[128];
            assert_int_equal(ft_arch_gguf_name(a, tab[i][0], g, sizeof g), 0);
            assert_string_equal(g, tab[i][1]);
        }
        assert_int_equal(ft_model_tensor(m, "model.layers.1.self_attn.q_norm.weight")->shape[0], 6);
        assert_ptr_equal(m->layers[1].k_norm, ft_model_tensor_data(m, "model.layers.1.self_attn.k_norm.weight"));
        assert_int_equal(m->layers[0].q.out, 4 * 6);
        assert_int_equal(m->layers[0].o.in, 4 * 6);
        assert_int_equal(ft_arch_gguf_permute_heads(&m->cfg, "model.layers.1.self_attn.q_proj.weight"), 0);
        assert_true((m->layers[1].attn_post_norm != NULL) == ai);
        ft_model_free(m);
    }
}

// config.json -> the row, as HF maps model_type to a modeling file.
static void test_hf_model_types(void **st) {
    (void)st;
    char *d = tu_tmpdir(), *p = tu_path(d, "config.json");
    static const struct { const char *mt, *arch; int bias_key, bias; } cases[] = {
        {"llama", "llama", 0, 0},   // also SmolLM/SmolLM2, TinyLlama
        {"mistral", "llama", 0, 0},
        {"llama", "llama", 1, 1},   // attention_bias: true
        {"qwen2", "qwen2", 0, 1},   // Qwen2Attention: q/k/v always with bias
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char js[512];
        snprintf(js, sizeof js,
                 "{\"model_type\":\"%s\",\"vocab_size\":40,\"hidden_size\":16,\"intermediate_size\":24,"
                 "\"num_hidden_layers\":2,\"num_attention_heads\":4%s}",
                 cases[i].mt, cases[i].bias_key ? ",\"attention_bias\":true" : "");
        tu_write_file(p, js, strlen(js));
        ft_config c;
        assert_int_equal(ft_config_from_json(&c, p), 0);
        assert_string_equal(c.arch, cases[i].arch);
        assert_ptr_equal(c.arch_row, ft_arch_by_name(cases[i].arch));
        assert_int_equal(c.attn_bias, cases[i].bias);
        // the config.json ft writes names the HF class, and attention_bias only where HF has it
        char *out = ft_config_to_json(&c, "float32", -1);
        assert_non_null(out);
        json_t *j = json_loads(out, 0, NULL);
        assert_non_null(j);
        int qwen = !strcmp(cases[i].arch, "qwen2");
        assert_string_equal(json_string_value(json_object_get(j, "model_type")), qwen ? "qwen2" : "llama");
        assert_string_equal(json_string_value(json_array_get(json_object_get(j, "architectures"), 0)),
                            qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        assert_string_equal(json_string_value(json_object_get(j, "hidden_act")), "silu");
        json_t *b = json_object_get(j, "attention_bias");
        if (qwen) assert_null(b);
        else assert_int_equal(json_is_true(b), cases[i].bias);
        json_decref(j);
        free(out);
    }
    tu_rmdir(d);
    free(p);
    free(d);
}

static void test_unknown_refused(void **st) {
    (void)st;
    assert_null(ft_arch_from_hf("gpt2", "m/config.json"));
    assert_string_equal(ft_errmsg(), "m/config.json: unsupported model_type \"gpt2\" (supported: llama, mistral, qwen2, qwen3, "
                                     "gemma3_text)");
    assert_null(ft_arch_from_gguf("phi3", "m.gguf"));
    assert_string_equal(ft_errmsg(), "m.gguf: unsupported architecture \"phi3\" (supported: llama, mistral, qwen2, qwen3, gemma3)");
    // a config built in memory names its row; an unknown name is refused with the list
    ft_config c = cfg_for("falcon", 0);
    assert_null(ft_model_new(&c));
    assert_non_null(strstr(ft_errmsg(), "\"falcon\""));
    assert_non_null(strstr(ft_errmsg(), "llama, qwen2"));
    assert_null(ft_arch_by_name("LLAMA"));
    assert_null(ft_arch_by_name(NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_complete),
        cmocka_unit_test(test_names_roundtrip),
        cmocka_unit_test(test_hf_model_types),
        cmocka_unit_test(test_new_rows),
        cmocka_unit_test(test_unknown_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
