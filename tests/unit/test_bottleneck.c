// test_bottleneck.c — bottleneck adapters on a tiny in-memory model: option parsing and the
// parameter count (SmolLM2 shapes by hand), step 0 bit-identical to the base model, the init
// bounds of nn.Linear, central finite differences of the step loss for every adapter tensor
// (both sites, each site alone, each activation; up != 0 so the down gradients are not
// vacuous), the gradient reaching the base model's weights and embeddings through the
// adapter (full fine-tuning grads with the adapter frozen), the KV-cache decoder and chunked
// inference path equal to the training forward, save/load reproducing the logits (F32 and
// BF16 files), and bad adapter dirs refused with the file named.
#include "testutil.h"
#include "model/bottleneck.h"
#include "core/err.h"
#include "model/model.h"
#include "model/model_backward.h"
#include "format/quant.h"
#include "core/rng.h"
#include "format/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 2, T = 8, N = B * T, V = 23, C = 16, LT = 70 };

static ft_model *tiny(uint64_t seed) {
    tu_model_spec s = {.vocab = V, .hidden = C, .max_pos = 128, .tie = 1};
    return tu_tiny_model(&s, seed);
}

static void randomize(ft_bottleneck_set *s, uint64_t seed, float amp) {
    ft_rng r;
    ft_rng_seed(&r, seed);
    for (size_t i = 0; i < s->n_params; i++) s->params[i] = (ft_rng_float(&r) - 0.5f) * amp;
}

typedef struct { int32_t ids[N], tgt[N], pos[N], doc[N]; uint8_t mask[N]; } batch;

// Row 0 packs two documents; row 1 one document and padding.
static void make_batch(batch *b, uint64_t seed) {
    static const int docs[N] = {0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, -1, -1, -1};
    ft_rng r;
    ft_rng_seed(&r, seed);
    int p = 0;
    for (int n = 0; n < N; n++) {
        b->doc[n] = docs[n];
        if (n % T == 0 || docs[n] != docs[n - 1]) p = 0;
        b->pos[n] = docs[n] < 0 ? 0 : p++;
        b->ids[n] = docs[n] < 0 ? 0 : (int32_t)ft_rng_below(&r, V);
        b->mask[n] = docs[n] >= 0 && n % T != T - 1;
        b->tgt[n] = (int32_t)ft_rng_below(&r, V);
    }
}

static double n_targets(const batch *b) {
    double t = 0;
    for (int n = 0; n < N; n++) t += b->mask[n];
    return t;
}

static double mean_loss(ft_model *m, ft_acts *a, const batch *b) {
    assert_int_equal(ft_model_forward(m, a, b->ids, b->pos, b->doc, B, T), 0);
    return ft_model_loss(m, a, b->tgt, b->mask, N) / n_targets(b);
}

// Forward and backward of batch b on its mean loss; grads: the base model's gradients or NULL.
static double step(ft_model *m, ft_acts *a, ft_backward_ws *ws, const batch *b, float *grads) {
    assert_int_equal(ft_model_forward(m, a, b->ids, b->pos, b->doc, B, T), 0);
    return ft_model_backward(m, a, ws, b->ids, b->doc, b->tgt, b->mask, B, T, grads, (float)(1.0 / n_targets(b)));
}

// Which pre-activations z of the set's sites the last forward left positive (a hash of the
// sign pattern): ReLU is not differentiable where a z changes sign between the two probes.
static uint64_t sign_pattern(const ft_bottleneck_set *s) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; s && i < s->n_sites; i++)
        for (size_t k = 0; k < (size_t)N * s->sites[i].d; k++) h = (h ^ (s->sites[i].z[k] > 0)) * 1099511628211ull;
    return h;
}

// Central difference at *p vs the analytic gradient g; returns 1 when they disagree, -1 when
// the probes straddle a ReLU kink of set s (no derivative to compare; NULL s: never).
static int fd_kink(ft_model *m, ft_acts *a, const batch *b, const ft_bottleneck_set *s, float *p, float g,
                   const char *what, double *worst) {
    const float eps = 1e-2f;
    float keep = *p;
    *p = keep + eps;
    double lp = mean_loss(m, a, b);
    uint64_t sp = sign_pattern(s);
    *p = keep - eps;
    double lm = mean_loss(m, a, b);
    *p = keep;
    if (sign_pattern(s) != sp) return -1;
    double num = (lp - lm) / (2.0 * eps);
    double err = fabs(num - g) / (fabs(num) + fabs(g) + 1e-3);
    if (err > *worst) *worst = err;
    if (err > 2e-2) {
        fprintf(stderr, "  %s: analytic %.6g numeric %.6g (rel %.3g)\n", what, g, num, err);
        return 1;
    }
    return 0;
}

static int fd(ft_model *m, ft_acts *a, const batch *b, float *p, float g, const char *what, double *worst) {
    return fd_kink(m, a, b, NULL, p, g, what, worst);
}

static void logits_of(ft_model *m, const int32_t *ids, int n, float *out) {
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, n, 0), 0);
    assert_int_equal(ft_model_forward(m, &a, ids, NULL, NULL, 1, n), 0);
    ft_model_logits(m, &a, NULL, n, out);
    ft_acts_free(&a);
}

static const int32_t IDS[7] = {1, 5, 9, 3, 22, 0, 12};

// ---------------------------------------------------------------------------------------
static void test_parse_and_count(void **st) {
    (void)st;
    unsigned w;
    int k;
    assert_int_equal(ft_bottleneck_parse_where("attn,mlp", &w), 0);
    assert_int_equal(w, FT_BN_ATTN | FT_BN_MLP);
    assert_int_equal(ft_bottleneck_parse_where("mlp", &w), 0);
    assert_int_equal(w, FT_BN_MLP);
    assert_int_equal(ft_bottleneck_parse_where("attn, ffn", &w), -1);
    assert_non_null(strstr(ft_errmsg(), "'ffn'"));
    assert_int_equal(ft_bottleneck_parse_where("", &w), -1);
    assert_int_equal(ft_bottleneck_parse_act("gelu", &k), 0);
    assert_int_equal(k, FT_ACT_GELU_TANH);
    assert_string_equal(ft_bottleneck_act_name(k), "gelu_pytorch_tanh");
    assert_int_equal(ft_bottleneck_parse_act("swish", &k), 0);
    assert_int_equal(k, FT_ACT_SILU);
    assert_int_equal(ft_bottleneck_parse_act("tanh", &k), -1);
    assert_non_null(strstr(ft_errmsg(), "'tanh'"));
    // SmolLM2-135M: 30 layers, hidden 576; d = 64 at both sites
    ft_config c = {0};
    c.n_layers = 30;
    c.hidden = 576;
    ft_bottleneck_cfg bc = {64, FT_BN_ATTN | FT_BN_MLP, FT_ACT_RELU};
    assert_int_equal(ft_bottleneck_count(&c, &bc), 4462080u);   // 60 * (2*576*64 + 64 + 576)
    bc.where = FT_BN_MLP;
    assert_int_equal(ft_bottleneck_count(&c, &bc), 2231040u);
    char name[128];
    ft_bottleneck_module_name(3, FT_BN_MLP, name, sizeof name);
    assert_string_equal(name, "base_model.model.model.layers.3.mlp.down_proj");
}

static void test_step0_equals_base(void **st) {
    (void)st;
    ft_model *m = tiny(7);
    float base[7 * V], with[7 * V];
    logits_of(m, IDS, 7, base);
    ft_bottleneck_cfg bc = {6, FT_BN_ATTN | FT_BN_MLP, FT_ACT_GELU_TANH};
    ft_bottleneck_set *s;
    assert_int_equal(ft_bottleneck_new(&s, m, &bc, 1), 0);
    assert_int_equal(s->n_sites, 4);
    assert_int_equal(s->n_params, 4u * (2 * C * 6 + 6 + C));
    assert_ptr_equal(m->layers[1].o.post, ft_bottleneck_site(s, 1, FT_BN_ATTN));
    assert_ptr_equal(m->layers[0].down.post, ft_bottleneck_site(s, 0, FT_BN_MLP));
    logits_of(m, IDS, 7, with);
    assert_memory_equal(base, with, sizeof base);   // up = 0: exactly the base model
    // down ~ U(-1/sqrt(C), 1/sqrt(C)) (weight and bias), not degenerate; up weight and bias 0
    float bound = 1.0f / sqrtf((float)C), mx = 0;
    for (int i = 0; i < s->n_sites; i++) {
        ft_bottleneck *b = &s->sites[i];
        for (int k = 0; k < 6 * C; k++) {
            assert_true(fabsf(b->down_w[k]) <= bound);
            if (fabsf(b->down_w[k]) > mx) mx = fabsf(b->down_w[k]);
            assert_true(b->up_w[k] == 0.0f);
        }
        for (int k = 0; k < 6; k++) assert_true(fabsf(b->down_b[k]) <= bound && b->down_b[k] != 0.0f);
        for (int k = 0; k < C; k++) assert_true(b->up_b[k] == 0.0f);
    }
    assert_true(mx > 0.9f * bound);
    // a second adapter on the same model is refused; destroying detaches
    ft_bottleneck_set *s2;
    assert_int_equal(ft_bottleneck_new(&s2, m, &bc, 2), -1);
    assert_non_null(strstr(ft_errmsg(), "already"));
    ft_bottleneck_destroy(s);
    assert_null(m->layers[0].o.post);
    assert_null(m->layers[1].down.post);
    ft_model_free(m);
}

// FD check of every adapter tensor (down w/b, up w/b) at every site of `where`.
static void run_grads(unsigned where, int act, uint64_t seed) {
    ft_model *m = tiny(seed);
    ft_bottleneck_cfg bc = {5, where, act};
    ft_bottleneck_set *s;
    assert_int_equal(ft_bottleneck_new(&s, m, &bc, seed), 0);
    randomize(s, seed + 1, 0.8f);   // up != 0, or the down gradients vanish
    assert_int_equal(ft_bottleneck_alloc_grads(s), 0);
    batch b;
    make_batch(&b, seed + 2);
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    double l = step(m, &a, &ws, &b, NULL);
    assert_true(isfinite(l));
    ft_rng r;
    ft_rng_seed(&r, seed + 3);
    static const char *const NAMES[4] = {"down.weight", "down.bias", "up.weight", "up.bias"};
    int bad = 0, checked = 0, kinks = 0;
    double worst = 0;
    for (int i = 0; i < s->n_sites; i++) {
        ft_bottleneck *st = &s->sites[i];
        float *p[4] = {st->down_w, st->down_b, st->up_w, st->up_b};
        float *g[4] = {st->d_down_w, st->d_down_b, st->d_up_w, st->d_up_b};
        size_t n[4] = {(size_t)5 * C, 5, (size_t)C * 5, C};
        for (int k = 0; k < 4; k++) {
            double gnorm = 0;
            for (size_t j = 0; j < n[k]; j++) gnorm += fabs(g[k][j]);
            assert_true(gnorm > 1e-4);   // not vacuous
            for (int rep = 0, tries = 0; rep < 3 && tries < 30; tries++) {
                size_t j = (size_t)ft_rng_below(&r, n[k]);
                char what[64];
                snprintf(what, sizeof what, "site %d %s[%zu]", i, NAMES[k], j);
                int rc = fd_kink(m, &a, &b, act == FT_ACT_RELU ? s : NULL, &p[k][j], g[k][j], what, &worst);
                if (rc < 0) { kinks++; continue; }
                bad += rc;
                checked++;
                rep++;
            }
        }
    }
    fprintf(stderr, "  where=%u act=%d: %d parameters checked (%d probes straddled a ReLU kink), worst "
            "relative error %.2g\n", where, act, checked, kinks, worst);
    assert_int_equal(bad, 0);
    assert_int_equal(checked, s->n_sites * 4 * 3);
    ft_backward_free(&ws);
    ft_acts_free(&a);
    ft_bottleneck_destroy(s);
    ft_model_free(m);
}

static void test_grads_both_relu(void **st) { (void)st; run_grads(FT_BN_ATTN | FT_BN_MLP, FT_ACT_RELU, 31); }
static void test_grads_both_gelu(void **st) { (void)st; run_grads(FT_BN_ATTN | FT_BN_MLP, FT_ACT_GELU_TANH, 41); }
static void test_grads_mlp_silu(void **st) { (void)st; run_grads(FT_BN_MLP, FT_ACT_SILU, 51); }
static void test_grads_attn_gelu(void **st) { (void)st; run_grads(FT_BN_ATTN, FT_ACT_GELU_TANH, 61); }

// d(input) through the adapter: full fine-tuning gradients of the base (adapter frozen,
// nonzero) for the weights below the adapters (o_proj, down_proj and what feeds them) and
// the embeddings, by finite differences.
static void test_grads_reach_base(void **st) {
    (void)st;
    ft_model *m = tiny(71);
    ft_bottleneck_cfg bc = {5, FT_BN_ATTN | FT_BN_MLP, FT_ACT_SILU};
    ft_bottleneck_set *s;
    assert_int_equal(ft_bottleneck_new(&s, m, &bc, 72), 0);
    randomize(s, 73, 1.6f);
    batch b;
    make_batch(&b, 74);
    ft_acts a;
    ft_backward_ws ws;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T, 1), 0);
    assert_int_equal(ft_backward_alloc(&ws, &m->cfg, B, T), 0);
    float *grads = calloc(m->n_params, sizeof(float));
    double l = step(m, &a, &ws, &b, grads);
    assert_true(isfinite(l));
    static const char *const WHICH[] = {"model.embed_tokens.weight", "model.layers.0.self_attn.o_proj.weight",
                                        "model.layers.0.self_attn.v_proj.weight", "model.layers.0.mlp.down_proj.weight",
                                        "model.layers.0.mlp.up_proj.weight", "model.layers.1.self_attn.o_proj.weight",
                                        "model.layers.1.mlp.down_proj.weight", "model.layers.1.input_layernorm.weight"};
    ft_rng r;
    ft_rng_seed(&r, 75);
    int bad = 0, checked = 0;
    double worst = 0;
    for (size_t t = 0; t < sizeof WHICH / sizeof *WHICH; t++) {
        const ft_tensor_info *ti = ft_model_tensor(m, WHICH[t]);
        assert_non_null(ti);
        for (int rep = 0; rep < 4; rep++) {
            size_t i = ti->offset + (size_t)ft_rng_below(&r, ti->numel);
            bad += fd(m, &a, &b, &m->params[i], grads[i], WHICH[t], &worst);
            checked++;
        }
    }
    fprintf(stderr, "  base through adapters: %d parameters checked, worst relative error %.2g\n", checked, worst);
    assert_int_equal(bad, 0);
    // without the adapter these gradients differ (the check above is not the base's own)
    float *g0 = calloc(m->n_params, sizeof(float));
    ft_bottleneck_destroy(s);
    step(m, &a, &ws, &b, g0);
    double diff = 0;
    for (size_t i = 0; i < m->n_params; i++) diff += fabs(g0[i] - grads[i]);
    assert_true(diff > 1e-2);
    free(g0);
    free(grads);
    ft_backward_free(&ws);
    ft_acts_free(&a);
    ft_model_free(m);
}

// A backward without a saved forward poisons the gradients instead of inventing them.
static void test_backward_without_forward(void **st) {
    (void)st;
    ft_model *m = tiny(81);
    ft_bottleneck_cfg bc = {3, FT_BN_MLP, FT_ACT_RELU};
    ft_bottleneck_set *s;
    assert_int_equal(ft_bottleneck_new(&s, m, &bc, 1), 0);
    assert_int_equal(ft_bottleneck_alloc_grads(s), 0);
    float dout[4 * C] = {0};
    const float *dh = ft_bottleneck_backward(m->ops, &s->sites[0], dout, 4);
    assert_non_null(strstr(ft_errmsg(), "without a training forward"));
    assert_true(isnan(s->sites[0].d_up_w[0]) && isnan(s->sites[0].d_down_b[2]));
    assert_true(isnan(dh[0]));
    ft_bottleneck_destroy(s);
    ft_model_free(m);
}

// ---- files ------------------------------------------------------------------------------
static void wr(const char *p, const char *s) { tu_write_file(p, s, strlen(s)); }

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 8192);
    assert_true(fread(buf, 1, 8191, f) > 0);
    fclose(f);
    return buf;
}

enum { W_BF16 = 1, W_DROP = 2, W_EXTRA = 4, W_NAN = 8, W_I32 = 16 };

// Rewrite dir/adapter_model.safetensors from set s with a defect (or in BF16).
static void write_tensors(const ft_bottleneck_set *s, const char *path, int mode) {
    st_writer *w = st_writer_new();
    size_t n = s->n_params;
    uint16_t *h = malloc(n * sizeof *h);
    float *f = malloc(n * sizeof *f);
    memcpy(f, s->params, n * sizeof *f);
    if (mode & W_NAN) f[n - 1] = NAN;
    for (size_t i = 0; i < n; i++) h[i] = ft_f32_to_bf16(s->params[i]);
    char key[200], mod[160];
    int i = 0;
    for (int l = 0; l < s->model->cfg.n_layers; l++)
        for (unsigned wh = FT_BN_ATTN; wh <= FT_BN_MLP; wh <<= 1) {
            if (!(s->cfg.where & wh)) continue;
            ft_bottleneck *b = &s->sites[i++];
            ft_bottleneck_module_name(l, wh, mod, sizeof mod);
            static const char *const P[4] = {"adapter_down.weight", "adapter_down.bias", "adapter_up.weight",
                                             "adapter_up.bias"};
            float *data[4] = {b->down_w, b->down_b, b->up_w, b->up_b};
            uint64_t shapes[4][2] = {{(uint64_t)b->d, C}, {(uint64_t)b->d, 0}, {C, (uint64_t)b->d}, {C, 0}};
            for (int k = 0; k < 4; k++) {
                if ((mode & W_DROP) && i == 2 && k == 3) continue;
                snprintf(key, sizeof key, "%s.%s", mod, P[k]);
                size_t off = (size_t)(data[k] - s->params);
                int nd = k % 2 ? 1 : 2;
                if (mode & W_BF16) assert_int_equal(st_writer_add(w, key, ST_BF16, nd, shapes[k], h + off), 0);
                else if ((mode & W_I32) && k == 1) assert_int_equal(st_writer_add(w, key, ST_I32, nd, shapes[k], f + off), 0);
                else assert_int_equal(st_writer_add(w, key, ST_F32, nd, shapes[k], f + off), 0);
            }
        }
    if (mode & W_EXTRA) {
        uint64_t sh[1] = {C};
        assert_int_equal(st_writer_add(w, "base_model.model.model.layers.0.self_attn.q_proj.adapter_up.bias", ST_F32,
                                       1, sh, f), 0);
    }
    assert_int_equal(st_writer_write(w, path), 0);
    st_writer_free(w);
    free(h);
    free(f);
}

static void expect_fail(ft_model *m, const char *dir, const char *file, const char *what) {
    ft_bottleneck_set *s = (ft_bottleneck_set *)1;
    assert_int_equal(ft_bottleneck_apply(m, dir, &s), -1);
    assert_null(s);
    if (!strstr(ft_errmsg(), file) || !strstr(ft_errmsg(), what))
        fail_msg("expected an error naming %s and '%s', got: %s", file, what, ft_errmsg());
    assert_null(m->layers[0].o.post);
    assert_null(m->layers[0].down.post);
}

// Write a BOTTLENECK adapter_config.json from its fields (where NULL: the key left out; extra:
// more ", key: value" text) and expect the load to fail naming file and what.
static void expect_cfg_fail(ft_model *m, const char *dir, const char *cp, const char *dim, const char *where,
                            const char *act, const char *extra, const char *file, const char *what) {
    char cfg[512], w[128] = "";
    if (where) snprintf(w, sizeof w, ", \"adapter_where\": %s", where);
    snprintf(cfg, sizeof cfg, "{\"peft_type\": \"BOTTLENECK\", \"adapter_dim\": %s%s, \"adapter_act\": \"%s\"%s}",
             dim, w, act, extra);
    wr(cp, cfg);
    expect_fail(m, dir, file, what);
}

static void test_save_load(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *dir = tu_path(d, "adapter");
    char *cp = tu_path(dir, "adapter_config.json"), *wp = tu_path(dir, "adapter_model.safetensors");
    ft_model *m = tiny(91);
    ft_bottleneck_cfg bc = {6, FT_BN_ATTN | FT_BN_MLP, FT_ACT_GELU_TANH};
    ft_bottleneck_set *s;
    assert_int_equal(ft_bottleneck_new(&s, m, &bc, 92), 0);
    randomize(s, 93, 0.6f);
    int32_t ids[LT];
    for (int i = 0; i < LT; i++) ids[i] = (i * 7 + 3) % V;
    float *trained = malloc(sizeof(float) * LT * V), *loaded = malloc(sizeof(float) * LT * V);
    logits_of(m, ids, LT, trained);
    float base[7 * V];
    assert_int_equal(ft_bottleneck_save(s, dir, "tiny-base"), 0);
    ft_bottleneck_set *keep;   // a copy of the trained set's values for the BF16 file
    assert_int_equal(ft_bottleneck_alloc_set(&keep, m, &bc), 0);
    keep->model = m;           // not attached: for write_tensors only
    memcpy(keep->params, s->params, s->n_params * sizeof(float));
    ft_bottleneck_destroy(s);
    logits_of(m, IDS, 7, base);
    char *cfg = read_text(cp);
    assert_non_null(strstr(cfg, "\"peft_type\": \"BOTTLENECK\""));
    assert_non_null(strstr(cfg, "\"task_type\": \"CAUSAL_LM\""));
    assert_non_null(strstr(cfg, "\"adapter_dim\": 6"));
    assert_non_null(strstr(cfg, "\"adapter_act\": \"gelu_pytorch_tanh\""));
    assert_non_null(strstr(cfg, "\"num_layers\": 2"));
    assert_non_null(strstr(cfg, "\"hidden_size\": 16"));
    assert_non_null(strstr(cfg, "\"base_model_name_or_path\": \"tiny-base\""));
    assert_non_null(strstr(cfg, "\"attn\""));
    st_set *sf = st_open(wp);
    assert_non_null(sf);
    assert_int_equal(sf->n_tensors, 16);
    const st_tensor *t = st_find(sf, "base_model.model.model.layers.1.mlp.down_proj.adapter_down.weight");
    assert_non_null(t);
    assert_int_equal(t->shape[0], 6);
    assert_int_equal(t->shape[1], C);
    t = st_find(sf, "base_model.model.model.layers.0.self_attn.o_proj.adapter_up.bias");
    assert_non_null(t);
    assert_int_equal(t->n_dims, 1);
    assert_int_equal(t->shape[0], C);
    st_close(sf);
    // load: the same logits (the inference set computes in 64-row chunks: LT = 70 rows)
    ft_bottleneck_set *held = NULL;
    assert_int_equal(ft_bottleneck_apply(m, dir, &held), 0);
    assert_non_null(held);
    assert_int_equal(held->cfg.dim, 6);
    assert_int_equal(held->cfg.where, FT_BN_ATTN | FT_BN_MLP);
    assert_int_equal(held->cfg.act, FT_ACT_GELU_TANH);
    assert_memory_equal(held->params, keep->params, keep->n_params * sizeof(float));
    logits_of(m, ids, LT, loaded);
    for (int i = 0; i < LT * V; i++) assert_float_equal(loaded[i], trained[i], 2e-5);
    // the KV-cache decoder (chunks of 3 tokens) agrees with the full forward
    ft_kvcache kv;
    assert_int_equal(ft_kvcache_init(&kv, m, LT, 3), 0);
    float last[V];
    assert_int_equal(ft_model_decode(m, &kv, ids, LT, last), 0);
    for (int v = 0; v < V; v++) assert_float_equal(last[v], trained[(LT - 1) * V + v], 2e-4);
    ft_kvcache_free(&kv);
    // applying twice is refused
    ft_bottleneck_set *twice;
    assert_int_equal(ft_bottleneck_apply(m, dir, &twice), -1);
    assert_non_null(strstr(ft_errmsg(), "already"));
    ft_bottleneck_destroy(held);
    float after[7 * V];
    logits_of(m, IDS, 7, after);
    assert_memory_equal(base, after, sizeof base);   // detached: the base again
    // BF16 tensors are accepted and converted exactly
    write_tensors(keep, wp, W_BF16);
    assert_int_equal(ft_bottleneck_apply(m, dir, &held), 0);
    for (size_t i = 0; i < keep->n_params; i++)
        assert_true(held->params[i] == ft_bf16_to_f32(ft_f32_to_bf16(keep->params[i])));
    ft_bottleneck_destroy(held);
    // bad files: every error names the file and the cause; nothing stays attached
    write_tensors(keep, wp, W_DROP);
    expect_fail(m, dir, "adapter_model.safetensors", "missing tensor base_model.model.model.layers.0.mlp.down_proj.adapter_up.bias");
    write_tensors(keep, wp, W_EXTRA);
    expect_fail(m, dir, "adapter_model.safetensors", "unexpected tensor base_model.model.model.layers.0.self_attn.q_proj");
    write_tensors(keep, wp, W_NAN);
    expect_fail(m, dir, "adapter_model.safetensors", "non-finite");
    write_tensors(keep, wp, W_I32);
    expect_fail(m, dir, "adapter_model.safetensors", "dtype I32");
    write_tensors(keep, wp, 0);
    // adapter_config.json variants: dim, where, act, extra keys
    expect_cfg_fail(m, dir, cp, "4", "[\"attn\", \"mlp\"]", "relu", "", "adapter_model.safetensors",
                    "shape [6, 16], expected [4, 16]");
    expect_cfg_fail(m, dir, cp, "6", "[\"mlp\"]", "relu", "", "adapter_model.safetensors", "unexpected tensor");
    wr(cp, "{\"peft_type\": \"LORA\", \"r\": 8}");
    expect_fail(m, dir, "adapter_config.json", "peft_type is LORA");
    expect_cfg_fail(m, dir, cp, "6", "[\"attn\", \"ffn\"]", "relu", "", "adapter_config.json", "'ffn'");
    expect_cfg_fail(m, dir, cp, "6", "[\"attn\", \"mlp\"]", "softplus", "", "adapter_config.json", "'softplus'");
    expect_cfg_fail(m, dir, cp, "0", "[\"attn\"]", "relu", "", "adapter_config.json", "adapter_dim");
    expect_cfg_fail(m, dir, cp, "6", "[\"attn\", \"mlp\"]", "relu", ", \"num_layers\": 30", "adapter_config.json",
                    "num_layers");
    expect_cfg_fail(m, dir, cp, "6", "[\"attn\", \"mlp\"]", "relu", ", \"hidden_size\": 576",
                    "adapter_config.json", "hidden_size");
    expect_cfg_fail(m, dir, cp, "6", NULL, "relu", "", "adapter_config.json", "adapter_where");
    wr(cp, "{bad");
    expect_fail(m, dir, "adapter_config.json", "adapter_config.json:1");
    wr(wp, "not a safetensors file");
    wr(cp, "{\"peft_type\": \"BOTTLENECK\", \"adapter_dim\": 6, \"adapter_where\": \"attn,mlp\", \"adapter_act\": \"relu\"}");
    expect_fail(m, dir, "adapter_model.safetensors", "");
    expect_fail(m, "/nonexistent/bn", "/nonexistent/bn", "");
    ft_bottleneck_destroy(keep);
    ft_model_free(m);
    free(trained); free(loaded); free(cfg);
    free(cp); free(wp); free(dir);
    tu_rmdir(d);
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_count),
        cmocka_unit_test(test_step0_equals_base),
        cmocka_unit_test(test_grads_both_relu),
        cmocka_unit_test(test_grads_both_gelu),
        cmocka_unit_test(test_grads_mlp_silu),
        cmocka_unit_test(test_grads_attn_gelu),
        cmocka_unit_test(test_grads_reach_base),
        cmocka_unit_test(test_backward_without_forward),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
