// test_peft_kinds.c — the PEFT kind table (lib/peft/peft_kind.h): every row complete, names
// unique, lookups by --method and by PEFT's peft_type names, unknown names refused with the
// list, options of other kinds refused, kinds that are not weights refused by ft-merge's
// check, and enable/disable: a disabled adapter computes exactly the base model (loss bit for
// bit equal to the base's), re-enabled exactly the adapted one again.
#include "testutil.h"
#include "core/err.h"
#include "model/model_save.h"
#include "peft/peft_kind.h"
#include "model/qweight.h"
#include "core/rng.h"
#include "format/safetensors.h"
#include "train/train_method.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// What ft-train --help and docs/ft-train.md list, and PEFT's PeftType names.
static const char *const METHODS[] = {"full", "lora", "qlora", "prompt", "prefix", "adapter"};

static void test_rows_complete(void **st) {
    (void)st;
    assert_int_equal(ft_peft_kind_count(), 6);
    assert_null(ft_peft_kind_at(-1));
    assert_null(ft_peft_kind_at(ft_peft_kind_count()));
    for (int i = 0; i < ft_peft_kind_count(); i++) {
        const ft_peft_kind *k = ft_peft_kind_at(i);
        assert_non_null(k);
        assert_non_null(k->method);
        assert_non_null(k->output);
        assert_non_null(k->load_base);
        assert_non_null(k->open);
        assert_non_null(k->describe);
        assert_non_null(k->enable);
        assert_non_null(k->save);
        assert_non_null(k->close);
        if (k->apply) {   // reads adapter dirs: can release them and answer ft-merge
            assert_non_null(k->peft_type);
            assert_non_null(k->release);
            assert_non_null(k->merge_check);
        } else if (k->peft_type) {   // its dirs are read by the row of the same type
            const ft_peft_kind *r = ft_peft_kind_find_type(k->peft_type);
            assert_non_null(r);
            assert_ptr_not_equal(r, k);
            assert_string_equal(r->peft_type, k->peft_type);
        } else {
            assert_null(k->merge_check);
        }
        if (k->merge) assert_non_null(k->apply);
    }
}

static void test_names_unique(void **st) {
    (void)st;
    int n = ft_peft_kind_count();
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const ft_peft_kind *a = ft_peft_kind_at(i), *b = ft_peft_kind_at(j);
            assert_true(strcmp(a->method, b->method) != 0);
            if (a->apply && b->apply) assert_true(strcmp(a->peft_type, b->peft_type) != 0);
        }
}

static void test_lookups(void **st) {
    (void)st;
    for (size_t i = 0; i < sizeof METHODS / sizeof *METHODS; i++) {
        const ft_peft_kind *k = ft_peft_kind_by_method(METHODS[i]);
        assert_non_null(k);
        assert_string_equal(k->method, METHODS[i]);
    }
    assert_ptr_equal(ft_peft_kind_by_method("lora"), &ft_peft_lora);
    assert_ptr_equal(ft_peft_kind_by_method("adapter"), &ft_peft_bottleneck);
    assert_null(ft_peft_kind_by_method("full")->peft_type);
    assert_string_equal(ft_peft_kind_by_method("full")->output, "model");
    // PEFT's PeftType values and ft's own BOTTLENECK; qlora's files are LoRA's
    assert_ptr_equal(ft_peft_kind_by_type("LORA", "x"), &ft_peft_lora);
    assert_ptr_equal(ft_peft_kind_by_type("PROMPT_TUNING", "x"), &ft_peft_prompt);
    assert_ptr_equal(ft_peft_kind_by_type("PREFIX_TUNING", "x"), &ft_peft_prefix);
    assert_ptr_equal(ft_peft_kind_by_type("BOTTLENECK", "x"), &ft_peft_bottleneck);
    assert_string_equal(ft_peft_kind_by_method("qlora")->peft_type, "LORA");
    assert_ptr_equal(ft_peft_kind_for_merge("LORA", "x"), &ft_peft_lora);
}

static void test_unknown_refused(void **st) {
    (void)st;
    assert_null(ft_peft_kind_by_method("bogus"));
    assert_string_equal(ft_errmsg(), "--method bogus: expected full, lora, qlora, prompt, prefix or adapter");
    assert_null(ft_peft_kind_by_method("LORA"));   // methods are not peft_types
    assert_null(ft_peft_kind_by_method(NULL));
    assert_string_equal(ft_errmsg(), "--method (none): expected full, lora, qlora, prompt, prefix or adapter");
    assert_null(ft_peft_kind_find_type("IA3"));
    assert_null(ft_peft_kind_find_type("lora"));   // case matters, as in PEFT
    assert_null(ft_peft_kind_by_type("IA3", "d/adapter_config.json"));
    assert_string_equal(ft_errmsg(),
                        "d/adapter_config.json: peft_type IA3 is not supported (LORA, PROMPT_TUNING, PREFIX_TUNING, BOTTLENECK)");
    assert_null(ft_peft_kind_for_merge("IA3", "d/adapter_config.json"));
    assert_string_equal(ft_errmsg(), "d/adapter_config.json: peft_type is IA3, expected \"LORA\"");
}

static void test_foreign_options(void **st) {
    (void)st;
    ft_train_opts o;
    ft_train_defaults(&o);
    for (int i = 0; i < ft_peft_kind_count(); i++) assert_int_equal(ft_peft_kind_check_opts(ft_peft_kind_at(i), &o), 0);
    o.dora = 1;
    assert_int_equal(ft_peft_kind_check_opts(&ft_peft_lora, &o), 0);
    assert_int_equal(ft_peft_kind_check_opts(&ft_peft_qlora, &o), -1);
    assert_string_equal(ft_errmsg(), "--dora goes with --method lora (DoRA on a quantized base is not supported)");
    ft_train_defaults(&o);
    o.prompt_init = "abc";
    assert_int_equal(ft_peft_kind_check_opts(&ft_peft_prefix, &o), 0);
    assert_int_equal(ft_peft_kind_check_opts(&ft_peft_full, &o), -1);
    assert_string_equal(ft_errmsg(), "--prompt-init goes with --method prompt or prefix");
    ft_train_defaults(&o);
    o.prefix_projection = 1;
    assert_int_equal(ft_peft_kind_check_opts(&ft_peft_prompt, &o), -1);
    assert_string_equal(ft_errmsg(), "--prefix-projection goes with --method prefix");
}

static void test_merge_check(void **st) {
    (void)st;
    ft_peft_merge_opts mo = {1.0, 65504.0f, "f16"};
    json_t *c = json_object();
    for (int i = 0; i < ft_peft_kind_count(); i++) {
        const ft_peft_kind *k = ft_peft_kind_at(i);
        if (!k->apply || k->merge) continue;   // not weights: always refused, naming the dir
        assert_int_equal(k->merge_check("some/dir", c, &mo, 0), -1);
        assert_non_null(strstr(ft_errmsg(), "some/dir: "));
        assert_non_null(strstr(ft_errmsg(), "cannot be folded into W"));
        assert_int_equal(k->merge_check("some/dir", c, &mo, 1), -1);
    }
    assert_int_equal(ft_peft_lora.merge_check("d", c, &mo, 0), 0);
    assert_int_equal(ft_peft_lora.merge_check("d", c, &mo, 1), 0);
    json_object_set_new(c, "use_dora", json_true());
    assert_int_equal(ft_peft_lora.merge_check("d", c, &mo, 0), 0);
    assert_int_equal(ft_peft_lora.merge_check("d", c, &mo, 1), -1);   // no magnitude vector in a GGUF adapter
    mo.weight = 0.5;
    assert_int_equal(ft_peft_lora.merge_check("d", c, &mo, 0), -1);   // DoRA merges with weight 1 only
    assert_non_null(strstr(ft_errmsg(), "--weight 0.5"));
    json_decref(c);
}

// ---- enable / disable --------------------------------------------------------------------
enum { B = 2, T = 8 };

static double loss_of(ft_model *m, int nv) {
    int32_t ids[B * T], tg[B * T];
    for (int i = 0; i < B * T; i++) ids[i] = (i * 7 + 3) % 50, tg[i] = (i * 11 + 1) % 50;
    ft_acts a;
    assert_int_equal(ft_acts_alloc(&a, &m->cfg, B, T + nv, 0), 0);
    assert_int_equal(ft_model_forward(m, &a, ids, NULL, NULL, B, T), 0);
    double l = ft_model_loss(m, &a, tg, NULL, B * T);
    ft_acts_free(&a);
    return l;
}

static void check_enable(const char *dir, const char *method, int dora) {
    ft_train_opts o;
    ft_train_defaults(&o);
    o.model = dir;
    o.method = method;
    o.seq_len = 16;
    o.num_virtual_tokens = 3;
    o.adapter_dim = 4;
    o.lora_targets = "all-linear";
    o.dora = dora;
    o.prog = "test_peft_kinds";
    ft_trainable tr;
    assert_int_equal(ft_trainable_open(&tr, &o), 0);
    assert_ptr_equal(tr.kind, ft_peft_kind_by_method(method));
    ft_model *base = tr.kind->load_base(dir);   // the same base, without the adapter
    assert_non_null(base);
    double l_base = loss_of(base, 0);
    // move every trainable parameter off its initial value, so the adapter changes the output
    ft_rng rng;
    ft_rng_seed(&rng, 5);
    for (size_t i = 0; i < tr.n; i++) tr.params[i] += 0.2f * (ft_rng_float(&rng) - 0.5f);
    double l_on = loss_of(tr.m, tr.n_virtual);
    assert_true(l_on != l_base);
    assert_int_equal(ft_trainable_enable(&tr, 0), 0);
    assert_true(loss_of(tr.m, tr.n_virtual) == l_base);   // bit for bit the base model
    assert_int_equal(ft_trainable_enable(&tr, 1), 0);
    assert_true(loss_of(tr.m, tr.n_virtual) == l_on);     // and exactly the adapted one again
    ft_model_free(base);
    ft_trainable_close(&tr);
}

static void test_enable_disable(void **st) {
    (void)st;
    tu_model_spec s = {.vocab = 50, .hidden = 64, .intermediate = 128, .layers = 2, .heads = 4, .kv_heads = 2};
    ft_model *m = tu_tiny_model(&s, 9);
    char *d = tu_tmpdir(), *mdir = tu_path(d, "tiny");
    assert_int_equal(ft_model_save_hf(m, mdir, ST_F32, 1ull << 40), 0);
    ft_model_free(m);
    check_enable(mdir, "lora", 0);
    check_enable(mdir, "lora", 1);   // DoRA
    check_enable(mdir, "qlora", 0);
    check_enable(mdir, "prompt", 0);
    check_enable(mdir, "prefix", 0);
    check_enable(mdir, "adapter", 0);
    // full fine-tuning trains the base itself: nothing to switch off
    ft_train_opts o;
    ft_train_defaults(&o);
    o.model = mdir;
    o.method = "full";
    o.seq_len = 16;
    ft_trainable tr;
    assert_int_equal(ft_trainable_open(&tr, &o), 0);
    assert_ptr_equal(tr.base_grads, tr.grads);
    assert_int_equal(ft_trainable_enable(&tr, 0), -1);
    assert_non_null(strstr(ft_errmsg(), "no adapter to disable"));
    assert_int_equal(ft_trainable_enable(&tr, 1), 0);
    ft_trainable_close(&tr);
    // an unknown method is refused before anything is loaded
    o.method = "bogus";
    assert_int_equal(ft_trainable_open(&tr, &o), -1);
    assert_non_null(strstr(ft_errmsg(), "expected full, lora"));
    ft_trainable_close(&tr);
    tu_rmdir(d);
    free(mdir);
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_complete),  cmocka_unit_test(test_names_unique),
        cmocka_unit_test(test_lookups),        cmocka_unit_test(test_unknown_refused),
        cmocka_unit_test(test_foreign_options), cmocka_unit_test(test_merge_check),
        cmocka_unit_test(test_enable_disable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
