// test_virtual.c — prompt tuning and prefix tuning (lib/model/virtual.h) on a tiny GQA model:
//   gradients of P, of the plain prefix and of the prefix MLP (embedding + two linears) by
//   central finite differences through ft_model_forward + ft_model_backward (grads = NULL);
//   exact step-0 equalities with the base model on [X ; tokens] (P = embeddings of X; prefix =
//   the base's own rope'd keys and values of X); KV-cache decoding agrees with the forward;
//   PEFT save / load round trip (same logits), PEFT's init rules, and bad adapter dirs refused.
#include "testutil.h"
#include "core/err.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "core/rng.h"
#include "format/safetensors.h"
#include "model/virtual.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 2, T = 5, NV = 3, V = 31, C = 24, KVD = 12, NL = 2 };

static ft_model *tiny(uint64_t seed) {
    tu_model_spec s = {.vocab = V, .hidden = C, .intermediate = 40, .layers = NL, .tie = 1, .amp = 0.5f};
    return tu_tiny_model(&s, seed);
}

static const int32_t IDS[B * T] = {1, 5, 9, 3, 30, 0, 12, 7, 7, 2};
static const int32_t TGT[B * T] = {5, 9, 3, 30, 4, 12, 7, 7, 2, 8};
static const uint8_t MSK[B * T] = {1, 1, 0, 1, 1, 0, 1, 1, 1, 1};

// ---- gradients by finite differences -----------------------------------------------------
static double loss_of(ft_model *m, ft_acts *a) {
    assert_int_equal(ft_model_forward(m, a, IDS, NULL, NULL, B, T), 0);
    return ft_model_loss(m, a, TGT, MSK, B * T) / 8.0;
}

// Analytic gradient of the mean loss vs central differences at k random parameters.
static void check_grads(ft_model *m, ft_virtual *v, const char *what, size_t lo, size_t hi, int k) {
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T + NV, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T + NV), 0);
    assert_int_equal(ft_virtual_alloc_grads(v), 0);
    size_t np;
    float *p = ft_virtual_params(v, &np), *g = ft_virtual_grads(v);
    memset(g, 0, np * sizeof(float));
    // the base weights' gradients too (grads != NULL): they must stay right with the virtual
    // rows in front (e.g. nothing flows into k_proj / v_proj from the replaced prefix rows)
    float *mg = calloc(m->n_params, sizeof(float));
    assert_int_equal(ft_model_forward(m, &a, IDS, NULL, NULL, B, T), 0);
    double l = ft_model_backward(m, &a, &ws, IDS, NULL, TGT, MSK, B, T, mg, 1.0f / 8.0f);
    assert_true(isfinite(l));
    assert_float_equal(l / 8.0, loss_of(m, &a), 1e-6);
    ft_rng r;
    ft_rng_seed(&r, 99);
    double worst = 0, gmax = 0;
    int bad = 0;
    const char *base_names[] = {"model.layers.0.self_attn.k_proj.weight", "model.layers.1.self_attn.v_proj.weight",
                                "model.layers.0.self_attn.q_proj.weight", "model.embed_tokens.weight"};
    for (int j = 0; j < k + 8; j++) {
        float *pp = p, *gg = g;   // the virtual parameters, or a base tensor's
        const char *name = what;
        size_t i;
        if (j < k) {
            i = lo + (size_t)ft_rng_below(&r, hi - lo);
        } else {   // two entries of each base tensor above
            const ft_tensor_info *ti = ft_model_tensor(m, base_names[(j - k) / 2]);
            pp = m->params + ti->offset;
            gg = mg + ti->offset;
            name = ti->name;
            i = (size_t)ft_rng_below(&r, ti->numel);
            if (ti->numel == (size_t)V * C) i = (size_t)IDS[j % (B * T)] * C + i % C;   // a used row
        }
        const float eps = 1e-2f;
        float keep = pp[i];
        pp[i] = keep + eps;
        double lp = loss_of(m, &a);
        pp[i] = keep - eps;
        double lm = loss_of(m, &a);
        pp[i] = keep;
        double num = (lp - lm) / (2.0 * eps);
        double err = fabs(num - gg[i]) / (fabs(num) + fabs(gg[i]) + 1e-3);
        if (err > worst) worst = err;
        if (j < k && fabs(gg[i]) > gmax) gmax = fabs(gg[i]);
        if (err > 2e-2) {
            fprintf(stderr, "  %s[%zu]: analytic %.6g numeric %.6g (rel %.3g)\n", name, i, gg[i], num, err);
            bad++;
        }
    }
    free(mg);
    fprintf(stderr, "  %s: %d parameters (+8 base weights) checked, worst relative error %.2g, max |grad| %.3g\n",
            what, k, worst, gmax);
    assert_int_equal(bad, 0);
    assert_true(gmax > 1e-3);   // the checks saw real gradients, not zeros
    ft_backward_free(&ws);
    ft_acts_free(&a);
}

static void test_prompt_grads(void **st) {
    (void)st;
    ft_model *m = tiny(7);
    ft_virtual *v;
    ft_virtual_cfg cfg = {.kind = FT_VIRT_PROMPT, .n_virtual = NV};
    assert_int_equal(ft_virtual_new(&v, m, &cfg, 3), 0);
    assert_ptr_equal(m->virt, v);
    assert_int_equal(ft_model_n_virtual(m), NV);
    size_t np;
    float *p = ft_virtual_params(v, &np);
    assert_int_equal(np, NV * C);
    for (size_t i = 0; i < np; i++) p[i] *= 0.3f;   // N(0,1) is PEFT's init; smaller keeps FD in range
    check_grads(m, v, "P", 0, np, 40);
    ft_virtual_destroy(v);
    assert_null(m->virt);
    ft_model_free(m);
}

static void test_prefix_grads(void **st) {
    (void)st;
    ft_model *m = tiny(8);
    ft_virtual *v;
    ft_virtual_cfg cfg = {.kind = FT_VIRT_PREFIX, .n_virtual = NV};
    assert_int_equal(ft_virtual_new(&v, m, &cfg, 4), 0);
    size_t np;
    ft_virtual_params(v, &np);
    assert_int_equal(np, NV * NL * 2 * KVD);
    check_grads(m, v, "prefix", 0, np, 60);
    ft_virtual_destroy(v);
    ft_model_free(m);
}

static void test_prefix_projection_grads(void **st) {
    (void)st;
    ft_model *m = tiny(9);
    ft_virtual *v;
    ft_virtual_cfg cfg = {.kind = FT_VIRT_PREFIX, .n_virtual = NV, .projection = 1, .proj_hidden = 10};
    assert_int_equal(ft_virtual_new(&v, m, &cfg, 5), 0);
    size_t np, W = NL * 2 * KVD;
    ft_virtual_params(v, &np);
    // emb (n, kvd) | w1 (h, kvd) | b1 (h) | w2 (W, h) | b2 (W)
    size_t o1 = NV * KVD, o2 = o1 + 10 * KVD, o3 = o2 + 10, o4 = o3 + W * 10;
    assert_int_equal(np, o4 + W);
    check_grads(m, v, "emb", 0, o1, 15);
    check_grads(m, v, "w1", o1, o2, 15);
    check_grads(m, v, "b1", o2, o3, 8);
    check_grads(m, v, "w2", o3, o4, 15);
    check_grads(m, v, "b2", o4, np, 10);
    ft_virtual_destroy(v);
    ft_model_free(m);
}

// ---- step-0 equalities with the base model -------------------------------------------------
static const int32_t X[NV] = {4, 17, 29};

// Base logits of rows [X ; IDS row b] at the real positions: out (B*T, V).
static void base_on_concat(ft_model *m, float *out, ft_acts *keep) {
    int32_t cat[B * (NV + T)];
    for (int b = 0; b < B; b++) {
        memcpy(cat + b * (NV + T), X, sizeof X);
        memcpy(cat + b * (NV + T) + NV, IDS + b * T, T * sizeof(int32_t));
    }
    assert_int_equal(ft_acts_alloc(keep, &m->cfg, B, NV + T, 1), 0);
    assert_int_equal(ft_model_forward(m, keep, cat, NULL, NULL, B, NV + T), 0);
    int rows[B * T];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) rows[b * T + t] = b * (NV + T) + NV + t;
    ft_model_logits(m, keep, rows, B * T, out);
}

static void virt_logits(ft_model *m, float *out) {
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, NV + T, 1), 0);
    assert_int_equal(ft_model_forward(m, &a, IDS, NULL, NULL, B, T), 0);
    int rows[B * T];
    for (int i = 0; i < B * T; i++) rows[i] = i;
    ft_model_logits(m, &a, rows, B * T, out);
    ft_acts_free(&a);
}

static void test_prompt_equals_base(void **st) {
    (void)st;
    ft_model *m = tiny(10);
    static float base[B * T * V], with[B * T * V];
    ft_acts keep;
    base_on_concat(m, base, &keep);
    ft_acts_free(&keep);
    ft_virtual *v;
    ft_virtual_cfg cfg = {.kind = FT_VIRT_PROMPT, .n_virtual = NV, .init_ids = X, .n_init_ids = NV, .init_text = "x"};
    assert_int_equal(ft_virtual_new(&v, m, &cfg, 1), 0);   // TEXT init: P = embeddings of X
    virt_logits(m, with);
    assert_memory_equal(base, with, sizeof base);
    ft_virtual_destroy(v);
    ft_model_free(m);
}

static void test_prefix_equals_base(void **st) {
    (void)st;
    ft_model *m = tiny(11);
    static float base[B * T * V], with[B * T * V];
    ft_acts keep;
    base_on_concat(m, base, &keep);
    ft_virtual *v;
    ft_virtual_cfg cfg = {.kind = FT_VIRT_PREFIX, .n_virtual = NV};
    assert_int_equal(ft_virtual_new(&v, m, &cfg, 1), 0);
    size_t np;
    float *p = ft_virtual_params(v, &np);
    for (int t = 0; t < NV; t++)   // PEFT order: per token, layer, key/value, head, dim
        for (int l = 0; l < NL; l++) {
            memcpy(p + (size_t)t * NL * 2 * KVD + (2 * l) * KVD, keep.layer[l].k + t * KVD, KVD * sizeof(float));
            memcpy(p + (size_t)t * NL * 2 * KVD + (2 * l + 1) * KVD, keep.layer[l].v + t * KVD, KVD * sizeof(float));
        }
    ft_acts_free(&keep);
    virt_logits(m, with);
    // The prefix is row 0's keys/values of X: row 0 is equal bit for bit. Row 1 of the base
    // computed X's keys again in other BLAS rows (last-bit rounding differs), hence a tolerance.
    assert_memory_equal(base, with, T * V * sizeof(float));
    for (int i = T * V; i < B * T * V; i++) assert_float_equal(base[i], with[i], 1e-5);
    ft_virtual_destroy(v);
    // text init (ft's extension) builds that prefix itself, from a forward over X alone
    // (other BLAS row counts: last-bit differences, hence the tolerance)
    cfg.init_ids = X;
    cfg.n_init_ids = NV;
    assert_int_equal(ft_virtual_new(&v, m, &cfg, 1), 0);
    static float txt[B * T * V];
    virt_logits(m, txt);
    double worst = 0;
    for (int i = 0; i < B * T * V; i++) worst = fmax(worst, fabs(base[i] - txt[i]));
    assert_true(worst < 1e-5);
    ft_virtual_destroy(v);
    cfg.projection = 1;   // not through the MLP
    assert_int_equal(ft_virtual_new(&v, m, &cfg, 1), -1);
    assert_non_null(strstr(ft_errmsg(), "projection"));
    ft_model_free(m);
}

// ---- decode ------------------------------------------------------------------------------
static void check_decode(ft_model *m) {
    static float full[B * T * V];
    virt_logits(m, full);   // row 0 of the batch: IDS[0..T)
    ft_kvcache kv;
    assert_int_equal(ft_kvcache_init(&kv, m, NV + T, 2), 0);   // chunks of 2: the prompt spans chunks
    float lg[V];
    assert_int_equal(ft_model_decode(m, &kv, IDS, 2, lg), 0);
    assert_int_equal(kv.n, NV + 2);
    for (int i = 0; i < V; i++) assert_float_equal(lg[i], full[1 * V + i], 1e-4);
    for (int t = 2; t < T; t++) {
        assert_int_equal(ft_model_decode(m, &kv, IDS + t, 1, lg), 0);
        for (int i = 0; i < V; i++) assert_float_equal(lg[i], full[t * V + i], 1e-4);
    }
    assert_int_equal(ft_model_decode(m, &kv, IDS, 1, lg), -1);   // NV + T positions are full
    ft_kvcache_reset(&kv);   // a new sequence starts with the virtual tokens again
    assert_int_equal(ft_model_decode(m, &kv, IDS, T, lg), 0);
    for (int i = 0; i < V; i++) assert_float_equal(lg[i], full[(T - 1) * V + i], 1e-4);
    ft_kvcache_free(&kv);
}

static void test_decode(void **st) {
    (void)st;
    ft_model *m = tiny(12);
    ft_virtual *v;
    ft_virtual_cfg pc = {.kind = FT_VIRT_PROMPT, .n_virtual = NV};
    assert_int_equal(ft_virtual_new(&v, m, &pc, 2), 0);
    size_t np;
    float *p = ft_virtual_params(v, &np);
    for (size_t i = 0; i < np; i++) p[i] *= 0.3f;
    check_decode(m);
    ft_virtual_destroy(v);
    ft_virtual_cfg xc = {.kind = FT_VIRT_PREFIX, .n_virtual = NV, .projection = 1};
    assert_int_equal(ft_virtual_new(&v, m, &xc, 2), 0);
    check_decode(m);
    ft_virtual_destroy(v);
    ft_model_free(m);
}

// ---- init, contract errors ---------------------------------------------------------------
static void test_init_and_contract(void **st) {
    (void)st;
    ft_model *m = tiny(13);
    ft_virtual *v;
    static const int32_t two[2] = {3, 7};
    ft_virtual_cfg pc = {.kind = FT_VIRT_PROMPT, .n_virtual = 5, .init_ids = two, .n_init_ids = 2, .init_text = "ab"};
    assert_int_equal(ft_virtual_new(&v, m, &pc, 1), 0);
    size_t np;
    float *p = ft_virtual_params(v, &np);
    static const int rep[5] = {3, 7, 3, 7, 3};   // PEFT: ids * ceil(5/2), cut to 5
    for (int i = 0; i < 5; i++) assert_memory_equal(p + i * C, m->embed + rep[i] * C, C * sizeof(float));
    // one document per row: packed rows are refused, and capacity counts the virtual tokens
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, T, 0), 0);
    assert_int_equal(ft_model_forward(m, &a, IDS, NULL, NULL, 1, T), -1);
    assert_non_null(strstr(ft_errmsg(), "virtual"));
    ft_acts_free(&a);
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, T + 5, 0), 0);
    static const int32_t doc[T] = {0, 0, 1, 1, 1};
    assert_int_equal(ft_model_forward(m, &a, IDS, NULL, doc, 1, T), -1);
    assert_non_null(strstr(ft_errmsg(), "one document per row"));
    ft_acts_free(&a);
    assert_int_equal(ft_virtual_new(&v, m, &pc, 1), -1);   // already attached
    ft_virtual_destroy(m->virt);
    // RANDOM init: N(0, 1) like torch.nn.Embedding
    ft_virtual_cfg xc = {.kind = FT_VIRT_PREFIX, .n_virtual = 40};
    assert_int_equal(ft_virtual_new(&v, m, &xc, 1), 0);
    p = ft_virtual_params(v, &np);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < np; i++) { s += p[i]; s2 += (double)p[i] * p[i]; }
    double mean = s / np, sd = sqrt(s2 / np - mean * mean);
    assert_true(fabs(mean) < 0.1 && fabs(sd - 1.0) < 0.1);   // 1920 draws: 5+ standard errors
    ft_virtual_destroy(v);
    ft_model_free(m);
}

// ---- save / load ---------------------------------------------------------------------------
static void roundtrip(ft_model *m, const ft_virtual_cfg *cfg, const char *dir, const char *want_type) {
    ft_virtual *v, *w;
    assert_int_equal(ft_virtual_new(&v, m, cfg, 6), 0);
    static float mem[B * T * V], loaded[B * T * V];
    virt_logits(m, mem);
    assert_int_equal(ft_virtual_save(v, dir, "tiny-base"), 0);
    ft_virtual_destroy(v);
    assert_int_equal(ft_virtual_apply(m, dir, &w), 0);
    assert_ptr_equal(m->virt, w);
    virt_logits(m, loaded);
    assert_memory_equal(mem, loaded, sizeof mem);
    char *cp = tu_path(dir, "adapter_config.json"), *text = NULL;
    FILE *f = fopen(cp, "r");
    assert_non_null(f);
    text = calloc(1, 4096);
    assert_true(fread(text, 1, 4095, f) > 0);
    fclose(f);
    assert_non_null(strstr(text, want_type));
    assert_non_null(strstr(text, "\"task_type\": \"CAUSAL_LM\""));
    assert_non_null(strstr(text, "\"num_virtual_tokens\": 3"));
    free(text);
    free(cp);
    ft_virtual_destroy(w);
}

static void test_save_load(void **st) {
    (void)st;
    ft_model *m = tiny(14);
    char *dir = tu_tmpdir(), *d1 = tu_path(dir, "p"), *d2 = tu_path(dir, "x"), *d3 = tu_path(dir, "xp");
    ft_virtual_cfg pc = {.kind = FT_VIRT_PROMPT, .n_virtual = NV, .init_ids = X, .n_init_ids = NV, .init_text = "hi"};
    roundtrip(m, &pc, d1, "\"PROMPT_TUNING\"");
    ft_virtual_cfg xc = {.kind = FT_VIRT_PREFIX, .n_virtual = NV};
    roundtrip(m, &xc, d2, "\"PREFIX_TUNING\"");
    ft_virtual_cfg pp = {.kind = FT_VIRT_PREFIX, .n_virtual = NV, .projection = 1, .proj_hidden = 16};
    roundtrip(m, &pp, d3, "\"prefix_projection\": true");   // saved as the MLP's output (a plain prefix)
    st_set *s = st_open(d3);
    assert_non_null(s);
    const st_tensor *t = st_find(s, "prompt_embeddings");
    assert_non_null(t);
    assert_int_equal(t->shape[0], NV);
    assert_int_equal(t->shape[1], NL * 2 * KVD);
    st_close(s);
    free(d1); free(d2); free(d3);
    tu_rmdir(dir);
    free(dir);
    ft_model_free(m);
}

static void wr(const char *p, const char *s) { tu_write_file(p, s, strlen(s)); }

// One bad adapter dir: config text + a prompt_embeddings tensor (rows, cols) (name/NaN tweaks).
static void write_dir(const char *dir, const char *config, const char *key, int rows, int cols, int nan) {
    char *cp = tu_path(dir, "adapter_config.json"), *wp = tu_path(dir, "adapter_model.safetensors");
    wr(cp, config);
    float *d = calloc((size_t)rows * cols, sizeof(float));
    if (nan) d[rows * cols - 1] = NAN;
    st_writer *w = st_writer_new();
    uint64_t sh[2] = {(uint64_t)rows, (uint64_t)cols};
    assert_int_equal(st_writer_add(w, key, ST_F32, 2, sh, d), 0);
    assert_int_equal(st_writer_write(w, wp), 0);
    st_writer_free(w);
    free(d);
    free(cp);
    free(wp);
}

static void expect_bad(ft_model *m, const char *dir, const char *config, const char *key, int rows, int cols,
                       int nan, const char *want) {
    write_dir(dir, config, key, rows, cols, nan);
    ft_virtual *v = (ft_virtual *)1;
    assert_int_equal(ft_virtual_apply(m, dir, &v), -1);
    assert_null(v);
    assert_null(m->virt);
    const char *msg = ft_errmsg();
    if (!strstr(msg, want) || !strstr(msg, dir)) fprintf(stderr, "  unexpected message: %s\n", msg);
    assert_non_null(strstr(msg, want));
    assert_non_null(strstr(msg, dir));   // names the file
}

static void test_bad_files(void **st) {
    (void)st;
    ft_model *m = tiny(15);
    char *dir = tu_tmpdir();
    const char *prompt = "{\"peft_type\":\"PROMPT_TUNING\",\"task_type\":\"CAUSAL_LM\",\"num_virtual_tokens\":3,"
                         "\"token_dim\":24,\"num_layers\":2}";
    const char *prefix = "{\"peft_type\":\"PREFIX_TUNING\",\"task_type\":\"CAUSAL_LM\",\"num_virtual_tokens\":3,"
                         "\"token_dim\":12,\"num_attention_heads\":2,\"num_layers\":2}";
    expect_bad(m, dir, prompt, "prompt_embeddings", 3, 25, 0, "shape [3, 25], expected [3, 24]");
    expect_bad(m, dir, prefix, "prompt_embeddings", 3, 24, 0, "shape [3, 24], expected [3, 48]");
    expect_bad(m, dir, prompt, "prompt_embeddings", 4, 24, 0, "num_virtual_tokens = 3");
    expect_bad(m, dir, prompt, "prompt_embedding", 3, 24, 0, "no tensor \"prompt_embeddings\"");
    expect_bad(m, dir, prefix, "prompt_embeddings", 3, 48, 1, "non-finite");
    expect_bad(m, dir, "{\"peft_type\":\"LORA\",\"r\":8}", "prompt_embeddings", 3, 24, 0, "expected \"PROMPT_TUNING\"");
    expect_bad(m, dir, "{\"peft_type\":\"PROMPT_TUNING\",\"num_virtual_tokens\":0}", "prompt_embeddings", 3, 24, 0,
               "num_virtual_tokens");
    expect_bad(m, dir,
               "{\"peft_type\":\"PROMPT_TUNING\",\"num_virtual_tokens\":3,\"token_dim\":24,\"num_layers\":30}",
               "prompt_embeddings", 3, 24, 0, "\"num_layers\" is 30 but the model has 2");
    expect_bad(m, dir, "{\"peft_type\":\"PREFIX_TUNING\",\"num_virtual_tokens\":3,\"token_dim\":24}",
               "prompt_embeddings", 3, 48, 0, "\"token_dim\" is 24 but the model has 12");
    expect_bad(m, dir, "{\"peft_type\": ", "prompt_embeddings", 3, 24, 0, "adapter_config.json");
    // a good one still loads after all that
    write_dir(dir, prompt, "prompt_embeddings", 3, 24, 0);
    ft_virtual *v;
    assert_int_equal(ft_virtual_apply(m, dir, &v), 0);
    assert_int_equal(ft_model_n_virtual(m), 3);
    ft_virtual_destroy(v);
    tu_rmdir(dir);
    free(dir);
    ft_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prompt_grads),
        cmocka_unit_test(test_prefix_grads),
        cmocka_unit_test(test_prefix_projection_grads),
        cmocka_unit_test(test_prompt_equals_base),
        cmocka_unit_test(test_prefix_equals_base),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_init_and_contract),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
