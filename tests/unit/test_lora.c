// test_lora.c — LoRA adapters: step-0 logits equal the base model's bit for bit, A's init
// bound (PyTorch kaiming_uniform_(a=sqrt(5)) = 1/sqrt(in)), PEFT save/load round trip gives
// the same logits, merging equals the hooked forward, and bad adapter dirs are refused with
// the file named.
#include "testutil.h"
#include "core/err.h"
#include "peft/lora.h"
#include "model/model.h"
#include "core/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T = 7 };

static ft_model *tiny(void) {
    tu_model_spec s = {.vocab = 31, .hidden = 24, .intermediate = 40, .tie = 1, .amp = 0.5f, .raw_norms = 1};
    return tu_tiny_model(&s, 77);
}

static void logits(ft_model *m, float *out) {
    static const int32_t ids[T] = {1, 5, 9, 3, 30, 0, 12};
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, 1, T, 0), 0);
    assert_int_equal(ft_model_forward(m, &a, ids, NULL, NULL, 1, T), 0);
    ft_model_logits(m, &a, NULL, T, out);
    ft_acts_free(&a);
}

static void test_step0_equals_base(void **st) {
    (void)st;
    ft_model *m = tiny();
    float base[T * 31], with[T * 31];
    logits(m, base);
    ft_lora_cfg lc = {.r = 4, .alpha = 8.0f, .dropout = 0.0f, .rslora = 0, .targets = 0, .dora = 0};
    assert_int_equal(ft_lora_parse_targets("all-linear", &lc.targets), 0);
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 1), 0);
    logits(m, with);
    assert_memory_equal(base, with, sizeof base);   // B = 0: exactly the base model
    // A ~ U(-1/sqrt(in), 1/sqrt(in)), and not degenerate
    ft_lora *q = &ad.hooks[0];
    float bound = 1.0f / sqrtf(24.0f), mx = 0;
    for (int i = 0; i < 4 * 24; i++) {
        assert_true(fabsf(q->A[i]) <= bound);
        if (fabsf(q->A[i]) > mx) mx = fabsf(q->A[i]);
    }
    assert_true(mx > 0.8f * bound);
    for (int i = 0; i < q->r * 24; i++) assert_float_equal(q->B[i], 0.0f, 0);
    assert_float_equal(q->scale, 2.0f, 0);
    ft_adapter_free(&ad);
    ft_model_free(m);
}

static void test_targets_and_scale(void **st) {
    (void)st;
    unsigned t;
    assert_int_equal(ft_lora_parse_targets("q,v_proj,down", &t), 0);
    assert_int_equal(t, 1u | 4u | 64u);
    assert_int_equal(ft_lora_parse_targets("q,lm_head", &t), -1);
    assert_non_null(strstr(ft_errmsg(), "lm_head"));
    ft_lora_cfg c = {.r = 16, .alpha = 8.0f, .dropout = 0, .rslora = 1, .targets = 1, .dora = 0};
    assert_float_equal(ft_lora_scale(&c), 2.0f, 1e-7);   // rsLoRA: 8/sqrt(16)
    c.rslora = 0;
    assert_float_equal(ft_lora_scale(&c), 0.5f, 1e-7);
    char name[128];
    ft_lora_module_name(3, 5, name, sizeof name);
    assert_string_equal(name, "base_model.model.model.layers.3.mlp.up_proj");
}

static void wr(const char *p, const char *s) { tu_write_file(p, s, strlen(s)); }

static void test_save_load_merge(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    ft_model *m = tiny();
    ft_lora_cfg lc = {.r = 3, .alpha = 6.0f, .dropout = 0.05f, .rslora = 0, .targets = 1u | 2u | 8u | 64u, .dora = 0};
    ft_adapter ad;
    assert_int_equal(ft_adapter_new(&ad, m, &lc, 2), 0);
    ft_rng r;
    ft_rng_seed(&r, 3);
    for (size_t i = 0; i < ad.n_params; i++) ad.params[i] = (ft_rng_float(&r) - 0.5f) * 0.4f;
    float trained[T * 31], loaded[T * 31], merged[T * 31];
    logits(m, trained);
    char *out = tu_path(d, "adapter");
    assert_int_equal(ft_adapter_save(&ad, out, "tiny-base"), 0);
    ft_adapter_free(&ad);
    // the config carries PEFT's fields
    char *cp = tu_path(out, "adapter_config.json");
    FILE *f = fopen(cp, "r");
    char buf[4096] = {0};
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_non_null(strstr(buf, "\"peft_type\": \"LORA\""));
    assert_non_null(strstr(buf, "\"task_type\": \"CAUSAL_LM\""));
    assert_non_null(strstr(buf, "\"down_proj\""));
    assert_non_null(strstr(buf, "\"base_model_name_or_path\": \"tiny-base\""));
    // load: identical logits (same hook arithmetic)
    ft_adapter *held = NULL;
    assert_int_equal(ft_adapter_apply(m, out, &held), 0);
    assert_non_null(held);
    assert_int_equal(held->cfg.r, 3);
    assert_int_equal(held->cfg.targets, lc.targets);
    logits(m, loaded);
    assert_memory_equal(trained, loaded, sizeof trained);
    // merged into the weights instead: equal to float rounding
    ft_adapter_detach(held);
    ft_adapter_merge(held, m);
    logits(m, merged);
    for (int i = 0; i < T * 31; i++) assert_float_equal(merged[i], trained[i], 1e-4);
    ft_adapter_destroy(held);
    ft_model_free(m);
    // errors name the file
    m = tiny();
    ft_adapter a2;
    wr(cp, "{\"peft_type\": \"PREFIX_TUNING\", \"r\": 3}");
    assert_int_equal(ft_adapter_load(&a2, m, out), -1);
    assert_non_null(strstr(ft_errmsg(), "adapter_config.json"));
    assert_non_null(strstr(ft_errmsg(), "peft_type"));
    wr(cp, "{\"peft_type\": \"LORA\", \"r\": 5, \"lora_alpha\": 6}");
    assert_int_equal(ft_adapter_load(&a2, m, out), -1);   // rank 5 but tensors are rank 3
    assert_non_null(strstr(ft_errmsg(), "adapter_model.safetensors"));
    assert_non_null(strstr(ft_errmsg(), "shape"));
    wr(cp, "{bad");
    assert_int_equal(ft_adapter_load(&a2, m, out), -1);
    assert_non_null(strstr(ft_errmsg(), "adapter_config.json"));
    assert_int_equal(ft_adapter_load(&a2, m, "/nonexistent/adapter"), -1);
    assert_non_null(strstr(ft_errmsg(), "/nonexistent/adapter"));
    ft_model_free(m);
    free(cp); free(out);
    tu_rmdir(d); free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step0_equals_base),
        cmocka_unit_test(test_targets_and_scale),
        cmocka_unit_test(test_save_load_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
