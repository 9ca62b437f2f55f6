// test_model.c — model config, HF loading errors, forward invariants (KV-cache decoding equals
// the full forward, packed documents equal separate ones, the LoRA hook equals merged weights)
// and the sampler. Numeric truths come from independent computations in this file.
#include "testutil.h"
#include "core/err.h"
#include "model/model.h"
#include "format/safetensors.h"
#include "data/sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;
static float frand(void) {   // uniform in [-1, 1)
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.f - 1.f;
}

static ft_config tiny_cfg(void) {
    ft_config c = {0};
    snprintf(c.arch, sizeof c.arch, "llama");
    c.vocab_size = 50; c.hidden = 32; c.intermediate = 48; c.n_layers = 2;
    c.n_heads = 4; c.n_kv_heads = 2; c.head_dim = 8;
    c.rms_eps = 1e-5f; c.rope_theta = 10000.f; c.rope_factor = 1.f; c.max_pos = 128; c.bos_id = -1;
    return c;
}

static ft_model *tiny_model(int bias) {
    ft_config c = tiny_cfg();
    c.attn_bias = bias;
    ft_model *m = ft_model_new(&c);
    assert_non_null(m);
    for (int i = 0; i < m->n_tensors; i++) {
        float *p = m->params + m->tensors[i].offset;
        int norm = m->tensors[i].n_dims == 1 && !strstr(m->tensors[i].name, "bias");
        for (size_t k = 0; k < m->tensors[i].numel; k++) p[k] = norm ? 1.f + 0.1f * frand() : 0.3f * frand();
    }
    return m;
}

static void test_config_json_llama3(void **st) {
    (void)st;
    char *d = tu_tmpdir(), *p = tu_path(d, "config.json");
    const char *js = "{\"model_type\":\"llama\",\"vocab_size\":128256,\"hidden_size\":4096,\"intermediate_size\":14336,"
                     "\"num_hidden_layers\":32,\"num_attention_heads\":32,\"num_key_value_heads\":8,"
                     "\"rms_norm_eps\":1e-5,\"rope_theta\":500000.0,\"max_position_embeddings\":131072,"
                     "\"eos_token_id\":[128001,128008,128009],\"bos_token_id\":128000,"
                     "\"rope_scaling\":{\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                     "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"}}";
    tu_write_file(p, js, strlen(js));
    ft_config c;
    assert_int_equal(ft_config_from_json(&c, p), 0);
    assert_int_equal(c.head_dim, 128);
    assert_int_equal(c.n_kv_heads, 8);
    assert_int_equal(c.n_eos, 3);
    assert_int_equal(c.eos_ids[2], 128009);
    assert_int_equal(c.rope_scaling, FT_ROPE_LLAMA3);
    assert_false(c.tie_embeddings);
    float inv[64];
    ft_config_inv_freq(&c, inv);
    // i = 0: wavelength 2*pi < 8192/4: unchanged; i = 63: wavelength > 8192: divided by 8
    assert_float_equal(inv[0], 1.0f, 1e-7);
    assert_float_equal(inv[63], (float)(pow(500000.0, -126.0 / 128) / 8), 1e-12);
    // wavelength 2*pi*500000^(2i/128): i = 24: 861 < 8192/4 -> unchanged; i = 40: 24700 > 8192 -> /8;
    // i = 30: 3290, in the medium band: s = (8192/3290 - 1)/3, f = (1 - s) f/8 + s f
    assert_float_equal(inv[24], (float)pow(500000.0, -48.0 / 128), 1e-9);
    assert_float_equal(inv[40], (float)(pow(500000.0, -80.0 / 128) / 8), 1e-12);
    double f30 = pow(500000.0, -60.0 / 128), s = (8192 / (2 * M_PI / f30) - 1) / 3;
    assert_true(s > 0.1 && s < 0.9);
    assert_float_equal(inv[30], (float)((1 - s) * f30 / 8 + s * f30), 1e-9);
    // unknown architectures are refused by name
    const char *bad = "{\"model_type\":\"gpt2\",\"vocab_size\":10}";
    tu_write_file(p, bad, strlen(bad));
    assert_int_equal(ft_config_from_json(&c, p), -1);
    assert_non_null(strstr(ft_errmsg(), "gpt2"));
    tu_rmdir(d);
    free(p);
    free(d);
}

// Write m as an HF dir, optionally dropping or mis-shaping one tensor.
static void write_hf(ft_model *m, const char *dir, const char *drop, const char *reshape) {
    char *cp = tu_path(dir, "config.json"), js[1024];
    const ft_config *c = &m->cfg;
    snprintf(js, sizeof js,
             "{\"model_type\":\"llama\",\"vocab_size\":%d,\"hidden_size\":%d,\"intermediate_size\":%d,"
             "\"num_hidden_layers\":%d,\"num_attention_heads\":%d,\"num_key_value_heads\":%d,\"rms_norm_eps\":1e-5,"
             "\"tie_word_embeddings\":false}", c->vocab_size, c->hidden, c->intermediate, c->n_layers, c->n_heads,
             c->n_kv_heads);
    tu_write_file(cp, js, strlen(js));
    st_writer *w = st_writer_new();
    for (int i = 0; i < m->n_tensors; i++) {
        const ft_tensor_info *t = &m->tensors[i];
        if (drop && !strcmp(t->name, drop)) continue;
        uint64_t shape[2] = {(uint64_t)t->shape[0], (uint64_t)t->shape[1]};
        if (reshape && !strcmp(t->name, reshape)) { shape[0] = (uint64_t)t->shape[1]; shape[1] = (uint64_t)t->shape[0]; }
        assert_int_equal(st_writer_add(w, t->name, ST_F32, t->n_dims, shape, m->params + t->offset), 0);
    }
    char *sp = tu_path(dir, "model.safetensors");
    assert_int_equal(st_writer_write(w, sp), 0);
    st_writer_free(w);
    free(cp);
    free(sp);
}

static void test_hf_roundtrip_and_errors(void **st) {
    (void)st;
    ft_model *m = tiny_model(0);
    char *d = tu_tmpdir();
    write_hf(m, d, NULL, NULL);
    ft_model *b = ft_model_load(d);
    assert_non_null(b);
    assert_int_equal(b->n_params, m->n_params);
    assert_memory_equal(b->params, m->params, m->n_params * sizeof(float));
    assert_ptr_not_equal(b->lm_head, b->embed);
    assert_non_null(ft_model_linear(b, "model.layers.1.mlp.down_proj.weight"));
    assert_ptr_equal(ft_model_linear(b, "model.layers.1.self_attn.k_proj"), &b->layers[1].k);
    assert_null(ft_model_linear(b, "model.layers.9.self_attn.k_proj"));
    ft_model_free(b);
    write_hf(m, d, "model.layers.1.mlp.up_proj.weight", NULL);
    assert_null(ft_model_load(d));
    assert_non_null(strstr(ft_errmsg(), "missing tensor model.layers.1.mlp.up_proj.weight"));
    write_hf(m, d, NULL, "model.layers.0.mlp.gate_proj.weight");
    assert_null(ft_model_load(d));
    assert_non_null(strstr(ft_errmsg(), "model.layers.0.mlp.gate_proj.weight: shape [32, 48]"));
    tu_rmdir(d);
    free(d);
    ft_model_free(m);
}

// logits (T, V) of one sequence through the training forward
static void full_logits(ft_model *m, const int32_t *tok, int T, float *out) {
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, T, 1), 0);
    assert_int_equal(ft_model_forward(m, &a, tok, NULL, NULL, 1, T), 0);
    ft_model_logits(m, &a, NULL, T, out);
    ft_acts_free(&a);
}

static void test_kvcache_equals_forward(void **st) {
    (void)st;
    ft_model *m = tiny_model(1);
    int32_t tok[12] = {3, 9, 41, 0, 7, 7, 22, 49, 1, 30, 12, 5};
    int V = m->cfg.vocab_size;
    float *full = malloc(sizeof(float) * 12 * V), lg[50];
    full_logits(m, tok, 12, full);
    ft_kvcache kv;
    assert_int_equal(ft_kvcache_init(&kv, m, 16, 4), 0);   // prefill of 7 goes in chunks of 4
    assert_int_equal(ft_model_decode(m, &kv, tok, 7, lg), 0);
    for (int v = 0; v < V; v++) assert_float_equal(lg[v], full[6 * V + v], 1e-4);
    for (int t = 7; t < 12; t++) {
        assert_int_equal(ft_model_decode(m, &kv, tok + t, 1, lg), 0);
        for (int v = 0; v < V; v++) assert_float_equal(lg[v], full[t * V + v], 1e-4);
    }
    assert_int_equal(ft_model_decode(m, &kv, tok, 5, lg), -1);   // 12 + 5 > 16
    assert_non_null(strstr(ft_errmsg(), "context full"));
    int32_t bad = 50;
    ft_kvcache_reset(&kv);
    assert_int_equal(ft_model_decode(m, &kv, &bad, 1, lg), -1);
    ft_kvcache_free(&kv);
    free(full);
    ft_model_free(m);
}

static void test_packed_documents(void **st) {
    (void)st;
    ft_model *m = tiny_model(0);
    int V = m->cfg.vocab_size;
    int32_t a[5] = {4, 8, 15, 16, 23}, b[4] = {42, 1, 2, 3};
    int32_t row[9], pos[9], doc[9];
    for (int i = 0; i < 9; i++) {
        row[i] = i < 5 ? a[i] : b[i - 5];
        pos[i] = i < 5 ? i : i - 5;
        doc[i] = i < 5 ? 0 : 1;
    }
    float *la = malloc(sizeof(float) * 5 * V), *lb = malloc(sizeof(float) * 4 * V), *lp = malloc(sizeof(float) * 10 * V);
    full_logits(m, a, 5, la);
    full_logits(m, b, 4, lb);
    ft_acts ac;
    assert_int_equal(ft_acts_alloc(&ac, &m->cfg, 1, 9, 0), 0);   // inference mode
    assert_int_equal(ft_model_forward(m, &ac, row, pos, doc, 1, 9), 0);
    ft_model_logits(m, &ac, NULL, 9, lp);
    for (int i = 0; i < 5 * V; i++) assert_float_equal(lp[i], la[i], 1e-5);
    for (int i = 0; i < 4 * V; i++) assert_float_equal(lp[5 * V + i], lb[i], 1e-5);
    // loss over b's targets equals -log softmax computed here from the logits
    int32_t tg[9] = {0};
    uint8_t mk[9] = {0};
    double want = 0;
    for (int i = 5; i < 8; i++) {
        tg[i] = row[i + 1];
        mk[i] = 1;
        const float *l = lb + (i - 5) * V;
        double mx = l[0], s = 0;
        for (int v = 1; v < V; v++) mx = fmax(mx, l[v]);
        for (int v = 0; v < V; v++) s += exp(l[v] - mx);
        want += -(l[tg[i]] - mx - log(s));
    }
    assert_float_equal(ft_model_loss(m, &ac, tg, mk, 9), want, 1e-4);
    ft_acts_free(&ac);
    // B = 2 rows of T = 5 (b padded at the end): each row is its own sequence
    int32_t rows2[10] = {4, 8, 15, 16, 23, 42, 1, 2, 3, 0};
    assert_int_equal(ft_acts_alloc(&ac, &m->cfg, 2, 5, 1), 0);
    assert_int_equal(ft_model_forward(m, &ac, rows2, NULL, NULL, 2, 5), 0);
    ft_model_logits(m, &ac, NULL, 10, lp);
    for (int i = 0; i < 5 * V; i++) assert_float_equal(lp[i], la[i], 1e-5);
    for (int i = 0; i < 4 * V; i++) assert_float_equal(lp[5 * V + i], lb[i], 1e-5);
    ft_acts_free(&ac);
    free(la); free(lb); free(lp);
    ft_model_free(m);
}

static void test_lora_hook_equals_merged(void **st) {
    (void)st;
    ft_model *m = tiny_model(0), *ref = tiny_model(0);
    memcpy(ref->params, m->params, m->n_params * sizeof(float));
    int r = 3;
    ft_linear *targets[2] = {&m->layers[0].q, &m->layers[1].down};
    ft_linear *rt[2] = {&ref->layers[0].q, &ref->layers[1].down};
    ft_lora lo[2];
    for (int k = 0; k < 2; k++) {
        ft_linear *L = targets[k];
        lo[k] = (ft_lora){.A = malloc(sizeof(float) * r * L->in), .B = malloc(sizeof(float) * L->out * r), .r = r,
                          .scale = 0.75f};
        for (int i = 0; i < r * L->in; i++) lo[k].A[i] = frand();
        for (int i = 0; i < L->out * r; i++) lo[k].B[i] = frand();
        L->lora = &lo[k];
        for (int o = 0; o < L->out; o++)   // W' = W + scale * B @ A
            for (int i = 0; i < L->in; i++) {
                double s = 0;
                for (int j = 0; j < r; j++) s += (double)lo[k].B[o * r + j] * lo[k].A[j * L->in + i];
                rt[k]->w[o * L->in + i] += (float)(0.75 * s);
            }
    }
    int32_t tok[6] = {1, 2, 3, 44, 5, 6};
    int V = m->cfg.vocab_size;
    float *x = malloc(sizeof(float) * 6 * V), *y = malloc(sizeof(float) * 6 * V);
    full_logits(m, tok, 6, x);
    full_logits(ref, tok, 6, y);
    for (int i = 0; i < 6 * V; i++) assert_float_equal(x[i], y[i], 1e-4);
    for (int k = 0; k < 2; k++) { free(lo[k].A); free(lo[k].B); targets[k]->lora = NULL; }
    free(x); free(y);
    ft_model_free(m);
    ft_model_free(ref);
}

static void test_sampler(void **st) {
    (void)st;
    float lg[4] = {0.f, logf(3.f), logf(6.f), -1e9f};   // softmax: 0.1, 0.3, 0.6, 0
    ft_sampler s;
    assert_int_equal(ft_sampler_init(&s, 4, 0.f, 0, 1.f, 1), 0);
    assert_int_equal(ft_sample(&s, lg), 2);   // greedy
    ft_sampler_free(&s);
    assert_int_equal(ft_sampler_init(&s, 4, 1.f, 0, 1.f, 7), 0);
    int cnt[4] = {0}, n = 20000;
    for (int i = 0; i < n; i++) cnt[ft_sample(&s, lg)]++;
    assert_in_range(cnt[0], n / 10 - 300, n / 10 + 300);       // ~4.5 sigma
    assert_in_range(cnt[1], 3 * n / 10 - 450, 3 * n / 10 + 450);
    assert_int_equal(cnt[3], 0);
    ft_sampler_free(&s);
    // top-p 0.85: the best (0.6) and second (0.3) reach the mass; token 0 never drawn
    assert_int_equal(ft_sampler_init(&s, 4, 1.f, 0, 0.85f, 7), 0);
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 3000; i++) cnt[ft_sample(&s, lg)]++;
    assert_int_equal(cnt[0], 0);
    assert_in_range(cnt[2], 2000 - 150, 2000 + 150);   // 0.6 / 0.9 of the draws
    ft_sampler_free(&s);
    // top-k 1 is greedy at any temperature; the same seed gives the same draws
    assert_int_equal(ft_sampler_init(&s, 4, 5.f, 1, 1.f, 3), 0);
    for (int i = 0; i < 100; i++) assert_int_equal(ft_sample(&s, lg), 2);
    ft_sampler_free(&s);
    ft_sampler s1, s2;
    ft_sampler_init(&s1, 4, 1.f, 0, 1.f, 42);
    ft_sampler_init(&s2, 4, 1.f, 0, 1.f, 42);
    for (int i = 0; i < 100; i++) assert_int_equal(ft_sample(&s1, lg), ft_sample(&s2, lg));
    ft_sampler_free(&s1);
    ft_sampler_free(&s2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_json_llama3),
        cmocka_unit_test(test_hf_roundtrip_and_errors),
        cmocka_unit_test(test_kvcache_equals_forward),
        cmocka_unit_test(test_packed_documents),
        cmocka_unit_test(test_lora_hook_equals_merged),
        cmocka_unit_test(test_sampler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
