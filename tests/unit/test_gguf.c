// test_gguf.c — GGUF reader and writer: a file built byte by byte here (v2 and v3, every
// metadata type, nested arrays) is read back; each malformed case of llama.cpp's CVE history
// is a clean error; every truncation and seeded byte flips never crash; writer round trips
// are bit-exact and readable by the Python gguf package (when $FT_PY is set).
#include "testutil.h"
#include "core/err.h"
#include "format/gguf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---- a byte builder ------------------------------------------------------------------------
typedef struct { uint8_t b[8192]; size_t n; } bb;
static void raw(bb *x, const void *p, size_t n) { assert_true(x->n + n <= sizeof x->b); memcpy(x->b + x->n, p, n); x->n += n; }
static void u8(bb *x, uint8_t v) { raw(x, &v, 1); }
static void u32(bb *x, uint32_t v) { raw(x, &v, 4); }
static void u64(bb *x, uint64_t v) { raw(x, &v, 8); }
static void str(bb *x, const char *s) { u64(x, strlen(s)); raw(x, s, strlen(s)); }
static void pad(bb *x, size_t a) { while (x->n % a) u8(x, 0); }

// Knobs for the malformed cases; zero = the valid file.
typedef struct {
    uint32_t version;
    uint64_t n_tensors, n_kv;   // 0 = the real counts
    int dup_key, dup_tensor, overlap, misalign, past_end, bad_type, n_dims5, dim_overflow, dim_zero;
    int align_kind;              // 1: alignment 0, 2: 13, 3: as uint64
    int key_len_huge, str_len_huge, arr_n_huge, str_arr_n_huge, bad_vtype, bad_etype, deep, bad_row;
} knobs;

#define N_KV 17
static void build(bb *x, const knobs *k) {
    x->n = 0;
    raw(x, "GGUF", 4);
    u32(x, k->version ? k->version : 3);
    u64(x, k->n_tensors ? k->n_tensors : 3);
    u64(x, k->n_kv ? k->n_kv : N_KV + (k->align_kind ? 1 : 0));
    // the huge lengths are followed by the rest of a normal file
    if (k->key_len_huge) { u64(x, 1ull << 63); raw(x, "general.architecture", 20); }
    else str(x, "general.architecture");
    u32(x, GGUF_T_STRING);
    if (k->str_len_huge) { u64(x, 1ull << 63); raw(x, "llama", 5); }
    else str(x, "llama");
    str(x, "t.u8"); u32(x, GGUF_T_UINT8); u8(x, 200);
    str(x, "t.i8"); u32(x, GGUF_T_INT8); u8(x, 0x80);
    str(x, "t.u16"); u32(x, GGUF_T_UINT16); { uint16_t v = 65535; raw(x, &v, 2); }
    str(x, "t.i16"); u32(x, GGUF_T_INT16); { int16_t v = -300; raw(x, &v, 2); }
    str(x, "t.u32"); u32(x, GGUF_T_UINT32); u32(x, 4000000000u);
    str(x, "t.i32"); u32(x, GGUF_T_INT32); u32(x, (uint32_t)-5);
    str(x, "t.f32"); u32(x, GGUF_T_FLOAT32); { float v = 0.125f; raw(x, &v, 4); }
    str(x, "t.bool"); u32(x, GGUF_T_BOOL); u8(x, 1);
    str(x, "t.u64"); u32(x, GGUF_T_UINT64); u64(x, 1ull << 40);
    str(x, "t.i64"); u32(x, GGUF_T_INT64); u64(x, (uint64_t)-7);
    str(x, "t.f64"); u32(x, k->bad_vtype ? 13 : GGUF_T_FLOAT64); { double v = -2.5; raw(x, &v, 8); }
    str(x, "t.arr_u32"); u32(x, GGUF_T_ARRAY); u32(x, k->bad_etype ? 99 : GGUF_T_UINT32);
    u64(x, k->arr_n_huge ? UINT64_MAX : 3); u32(x, 10); u32(x, 20); u32(x, 30);
    str(x, "t.arr_str"); u32(x, GGUF_T_ARRAY); u32(x, GGUF_T_STRING);
    u64(x, k->str_arr_n_huge ? 1ull << 62 : 4); str(x, "a"); str(x, "bc"); str(x, ""); str(x, "d\xC3\xA9");
    str(x, "t.nested"); u32(x, GGUF_T_ARRAY); u32(x, GGUF_T_ARRAY);
    if (k->deep) {   // 9 levels of arrays
        u64(x, 1);
        for (int i = 0; i < 9; i++) { u32(x, GGUF_T_ARRAY); u64(x, 1); }
        u32(x, GGUF_T_UINT8); u64(x, 0);
    } else {
        u64(x, 2);
        u32(x, GGUF_T_INT32); u64(x, 2); u32(x, 1); u32(x, 2);
        u32(x, GGUF_T_STRING); u64(x, 1); str(x, "x");
    }
    str(x, "t.arr_f32"); u32(x, GGUF_T_ARRAY); u32(x, GGUF_T_FLOAT32); u64(x, 2);
    { float v[2] = {1.5f, -0.25f}; raw(x, v, 8); }
    str(x, k->dup_key ? "t.u8" : "t.last"); u32(x, GGUF_T_STRING); str(x, "end");
    uint64_t align = 32;
    if (k->align_kind == 1) { str(x, "general.alignment"); u32(x, GGUF_T_UINT32); u32(x, 0); }
    if (k->align_kind == 2) { str(x, "general.alignment"); u32(x, GGUF_T_UINT32); u32(x, 13); }
    if (k->align_kind == 3) { str(x, "general.alignment"); u32(x, GGUF_T_UINT64); u64(x, 32); }
    // tensors: a F32 [4,2] @0 (32 B), b Q8_0 [32,2] @32 (68 B), c F16 [8] @128 (16 B)
    str(x, "a"); u32(x, k->n_dims5 ? 5 : 2); u64(x, 4); u64(x, 2);
    u32(x, k->bad_type ? 99 : GGML_F32); u64(x, 0);
    str(x, "b"); u32(x, 2); u64(x, k->bad_row ? 33 : 32);
    u64(x, k->dim_overflow == 1 ? 1ull << 62 : k->dim_overflow == 2 ? (1ull << 42) + 1 : k->dim_zero ? 0 : 2);
    u32(x, GGML_Q8_0); u64(x, k->misalign ? 36 : k->overlap ? 0 : 32);
    str(x, k->dup_tensor ? "a" : "c"); u32(x, 1); u64(x, 8); u32(x, GGML_F16); u64(x, k->past_end ? 4096 : 128);
    pad(x, align);
    for (int i = 0; i < 8; i++) { float v = (float)i - 3.5f; raw(x, &v, 4); }
    for (int b = 0; b < 2; b++) {   // Q8_0 blocks: d = 1 (0x3C00), q = b*32 + j - 64
        uint16_t d = 0x3C00; raw(x, &d, 2);
        for (int j = 0; j < 32; j++) u8(x, (uint8_t)(int8_t)(b * 32 + j - 64));
    }
    pad(x, 32);
    for (int i = 0; i < 8; i++) { uint16_t h = (uint16_t)(0x3C00 + i); raw(x, &h, 2); }
}

static char *dir;
static int setup(void **st) { (void)st; dir = tu_tmpdir(); return 0; }
static int teardown(void **st) { (void)st; tu_rmdir(dir); free(dir); return 0; }

static gguf_file *open_bytes(const bb *x, const char *name) {
    char *p = tu_path(dir, name);
    tu_write_file(p, x->b, x->n);
    gguf_file *g = gguf_open(p);
    free(p);
    return g;
}

static void test_read_all_types(void **st) {
    (void)st;
    for (uint32_t ver = 2; ver <= 3; ver++) {
        bb x; knobs k = {.version = ver};
        build(&x, &k);
        gguf_file *g = open_bytes(&x, "ok.gguf");
        if (!g) fail_msg("%s", ft_errmsg());
        assert_int_equal(g->version, ver);
        assert_int_equal(g->n_kv, N_KV);
        assert_int_equal(g->n_tensors, 3);
        char *s; uint64_t u; int64_t i; double f; bool b;
        assert_int_equal(gguf_get_str(g, "general.architecture", &s), 0);
        assert_string_equal(s, "llama");
        free(s);
        assert_int_equal(gguf_get_u64(g, "t.u8", &u), 0); assert_int_equal(u, 200);
        assert_int_equal(gguf_get_i64(g, "t.i8", &i), 0); assert_int_equal(i, -128);
        assert_int_equal(gguf_get_u64(g, "t.u16", &u), 0); assert_int_equal(u, 65535);
        assert_int_equal(gguf_get_i64(g, "t.i16", &i), 0); assert_int_equal(i, -300);
        assert_int_equal(gguf_get_u64(g, "t.u32", &u), 0); assert_int_equal(u, 4000000000u);
        assert_int_equal(gguf_get_i64(g, "t.i32", &i), 0); assert_int_equal(i, -5);
        assert_int_equal(gguf_get_f64(g, "t.f32", &f), 0); assert_true(f == 0.125);
        assert_int_equal(gguf_get_bool(g, "t.bool", &b), 0); assert_true(b);
        assert_int_equal(gguf_get_u64(g, "t.u64", &u), 0); assert_true(u == 1ull << 40);
        assert_int_equal(gguf_get_i64(g, "t.i64", &i), 0); assert_int_equal(i, -7);
        assert_int_equal(gguf_get_f64(g, "t.f64", &f), 0); assert_true(f == -2.5);
        // type errors and absent keys are errors with the key and file named
        assert_int_equal(gguf_get_u64(g, "t.i32", &u), -1);
        assert_non_null(strstr(ft_errmsg(), "negative"));
        assert_int_equal(gguf_get_str(g, "t.u8", &s), -1);
        assert_non_null(strstr(ft_errmsg(), "t.u8"));
        assert_int_equal(gguf_get_u64(g, "nope", &u), -1);
        assert_non_null(strstr(ft_errmsg(), "ok.gguf"));
        assert_null(gguf_find(g, "nope"));
        const gguf_value *a;
        assert_int_equal(gguf_get_arr(g, "t.arr_u32", GGUF_T_UINT32, &u, &a), 0);
        assert_int_equal(u, 3);
        assert_int_equal(gguf_arr_i64(a, 2), 30);
        assert_int_equal(gguf_get_arr(g, "t.arr_u32", GGUF_T_INT32, &u, &a), -1);
        assert_int_equal(gguf_get_arr(g, "t.arr_str", GGUF_T_STRING, &u, &a), 0);
        assert_int_equal(u, 4);
        const char *want[] = {"a", "bc", "", "d\xC3\xA9"};
        for (int e = 3; e >= 0; e--) {   // any order: O(1) from the index
            uint64_t len;
            const char *p = gguf_arr_str(a, (uint64_t)e, &len);
            assert_int_equal(len, strlen(want[e]));
            assert_memory_equal(p, want[e], len);
        }
        assert_int_equal(gguf_get_arr(g, "t.arr_f32", GGUF_T_FLOAT32, &u, &a), 0);
        assert_true(gguf_arr_f64(a, 1) == -0.25);
        const gguf_value *nv = gguf_find(g, "t.nested");
        assert_non_null(nv);
        assert_int_equal(nv->v.arr.type, GGUF_T_ARRAY);
        assert_int_equal(nv->v.arr.n, 2);
        assert_int_equal(nv->v.arr.nbytes, 12 + 8 + 12 + 9);
        // tensors
        assert_int_equal(g->alignment, 32);
        assert_int_equal(g->data_offset % 32, 0);
        const gguf_tensor *t = gguf_find_tensor(g, "b");
        assert_non_null(t);
        assert_int_equal(t->type, GGML_Q8_0);
        assert_int_equal(t->n_dims, 2);
        assert_int_equal(t->ne[0], 32);
        assert_int_equal(t->ne[1], 2);
        assert_int_equal(t->nbytes, 68);
        assert_ptr_equal(t->data, g->map.data + g->data_offset + 32);
        assert_int_equal(t->data[2], (uint8_t)(int8_t)-64);
        t = gguf_find_tensor(g, "a");
        float v0;
        memcpy(&v0, t->data, 4);
        assert_true(v0 == -3.5f);
        assert_non_null(gguf_find_tensor(g, "c"));
        assert_null(gguf_find_tensor(g, "d"));
        gguf_close(g);
    }
}

static void test_malformed_cases(void **st) {
    (void)st;
    struct { knobs k; const char *want; } cases[] = {
        {{.n_tensors = UINT64_MAX}, "tensor count"},
        {{.n_kv = UINT64_MAX}, "metadata count"},
        {{.key_len_huge = 1}, "length 9223372036854775808"},
        {{.str_len_huge = 1}, "length 9223372036854775808"},
        {{.arr_n_huge = 1}, "cannot fit"},
        {{.str_arr_n_huge = 1}, "cannot fit"},
        {{.n_dims5 = 1}, "n_dims = 5"},
        {{.dim_overflow = 1}, "overflow"},
        {{.dim_overflow = 2}, "outside"},
        {{.dim_zero = 1}, "zero"},
        {{.bad_type = 1}, "unknown tensor type 99"},
        {{.align_kind = 1}, "not a power of two"},
        {{.align_kind = 2}, "general.alignment = 13"},
        {{.align_kind = 3}, "expected uint32"},
        {{.misalign = 1}, "not a multiple of the alignment"},
        {{.past_end = 1}, "outside"},
        {{.overlap = 1}, "overlap"},
        {{.dup_tensor = 1}, "duplicate tensor name 'a'"},
        {{.dup_key = 1}, "duplicate metadata key 't.u8'"},
        {{.version = 1}, "version 1"},
        {{.version = 7}, "unsupported GGUF version 7"},
        {{.version = 0x03000000}, "big-endian"},
        {{.bad_vtype = 1}, "unknown value type 13"},
        {{.bad_etype = 1}, "unknown array element type 99"},
        {{.deep = 1}, "nested deeper"},
        {{.bad_row = 1}, "not a multiple of the Q8_0 block size"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bb x;
        build(&x, &cases[i].k);
        gguf_file *g = open_bytes(&x, "bad.gguf");
        if (g) { gguf_close(g); fail_msg("case %zu (%s) was accepted", i, cases[i].want); }
        if (!strstr(ft_errmsg(), cases[i].want) || !strstr(ft_errmsg(), "bad.gguf"))
            fail_msg("case %zu: message '%s' lacks '%s'", i, ft_errmsg(), cases[i].want);
    }
    bb x = {.n = 4};
    memcpy(x.b, "GGUG", 4);
    assert_null(open_bytes(&x, "magic.gguf"));
    assert_non_null(strstr(ft_errmsg(), "bad magic"));
    x.n = 0;
    assert_null(open_bytes(&x, "empty.gguf"));
    assert_non_null(strstr(ft_errmsg(), "truncated"));
}

static void test_truncations_and_flips(void **st) {
    (void)st;
    bb x, y;
    knobs k = {0};
    build(&x, &k);
    for (size_t n = 0; n < x.n; n++) {   // every proper prefix is rejected with a message
        y = x;
        y.n = n;
        gguf_file *g = open_bytes(&y, "cut.gguf");
        if (g) { gguf_close(g); fail_msg("truncation to %zu of %zu bytes accepted", n, x.n); }
        assert_true(strlen(ft_errmsg()) > 0);
    }
    srand(12345);
    int rejected = 0;
    for (int it = 0; it < 3000; it++) {   // seeded random flips: accepted or a clean error
        y = x;
        int nf = 1 + rand() % 4;
        for (int f = 0; f < nf; f++) y.b[rand() % y.n] ^= (uint8_t)(1 + rand() % 255);
        ft_err_clear();
        gguf_file *g = open_bytes(&y, "flip.gguf");
        if (g) {   // whatever was accepted must be self-consistent
            for (uint64_t t = 0; t < g->n_tensors; t++)
                assert_true(g->tensors[t].data + g->tensors[t].nbytes <= g->map.data + g->map.size);
            gguf_close(g);
        } else {
            assert_true(strlen(ft_errmsg()) > 0);
            rejected++;
        }
    }
    assert_true(rejected > 1000);
}

// Write a file with the writer, read it, copy it through gguf_w_value and compare bytes.
static void test_writer_roundtrip(void **st) {
    (void)st;
    gguf_writer *w = gguf_writer_new();
    float a[6] = {1, -2, 3.5f, 0, -0.0f, 1e-30f};
    uint8_t q[2 * 34];
    for (size_t i = 0; i < sizeof q; i++) q[i] = (uint8_t)(i * 7 + 1);
    q[0] = 0x00; q[1] = 0x3C; q[34] = 0x00; q[35] = 0xBC;   // finite f16 scales
    uint16_t h[5] = {0x3C00, 0x0001, 0x7BFF, 0x8000, 0x1234};
    const char *toks[] = {"<s>", "hello", "", "w\xC3\xB6rld"};
    int32_t ids[3] = {-1, 0, 7};
    float sc[2] = {0.5f, -1.0f};
    assert_int_equal(gguf_w_str(w, "general.architecture", "llama"), 0);
    assert_int_equal(gguf_w_u32(w, "llama.block_count", 2), 0);
    assert_int_equal(gguf_w_i32(w, "t.i32", -9), 0);
    assert_int_equal(gguf_w_u64(w, "t.u64", 1ull << 50), 0);
    assert_int_equal(gguf_w_f32(w, "t.f32", 1e-5f), 0);
    assert_int_equal(gguf_w_bool(w, "t.bool", true), 0);
    assert_int_equal(gguf_w_arr_str(w, "tokenizer.ggml.tokens", toks, 4), 0);
    assert_int_equal(gguf_w_arr_i32(w, "t.ids", ids, 3), 0);
    assert_int_equal(gguf_w_arr_f32(w, "t.scores", sc, 2), 0);
    assert_int_equal(gguf_w_u32(w, "general.alignment", 64), 0);
    assert_int_equal(gguf_w_u32(w, "llama.block_count", 3), 0);   // replaces
    assert_int_equal(gguf_w_tensor(w, "w.f32", GGML_F32, 2, (uint64_t[]){3, 2}, a), 0);
    assert_int_equal(gguf_w_tensor(w, "w.q8", GGML_Q8_0, 2, (uint64_t[]){32, 2}, q), 0);
    assert_int_equal(gguf_w_tensor(w, "w.f16", GGML_F16, 1, (uint64_t[]){5}, h), 0);
    assert_int_equal(gguf_w_tensor(w, "w.f16", GGML_F16, 1, (uint64_t[]){5}, h), -1);   // duplicate
    assert_int_equal(gguf_w_tensor(w, "w.bad", GGML_Q8_0, 1, (uint64_t[]){31}, q), -1); // not a block multiple
    char *p1 = tu_path(dir, "w1.gguf"), *p2 = tu_path(dir, "w2.gguf");
    assert_int_equal(gguf_writer_write(w, p1), 0);
    gguf_writer_free(w);
    gguf_file *g = gguf_open(p1);
    if (!g) fail_msg("%s", ft_errmsg());
    assert_int_equal(g->alignment, 64);
    assert_int_equal(g->n_kv, 10);
    uint64_t u, n;
    assert_int_equal(gguf_get_u64(g, "llama.block_count", &u), 0);
    assert_int_equal(u, 3);
    double f;
    assert_int_equal(gguf_get_f64(g, "t.f32", &f), 0);
    assert_true((float)f == 1e-5f);
    const gguf_value *arr;
    assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &n, &arr), 0);
    assert_int_equal(n, 4);
    uint64_t len;
    const char *s = gguf_arr_str(arr, 3, &len);
    assert_int_equal(len, strlen(toks[3]));
    assert_memory_equal(s, toks[3], len);
    const gguf_tensor *t = gguf_find_tensor(g, "w.f32");
    assert_memory_equal(t->data, a, sizeof a);
    assert_int_equal((uintptr_t)(t->data - g->map.data) % 64, 0);
    assert_memory_equal(gguf_find_tensor(g, "w.q8")->data, q, sizeof q);
    assert_memory_equal(gguf_find_tensor(g, "w.f16")->data, h, sizeof h);
    // copy everything through the reader's values: the bytes must come out identical
    w = gguf_writer_new();
    for (uint64_t i = 0; i < g->n_kv; i++) {
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)g->kv[i].key_len, g->kv[i].key);
        assert_int_equal(gguf_w_value(w, key, &g->kv[i].val), 0);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *x = &g->tensors[i];
        assert_int_equal(gguf_w_tensor(w, x->name, x->type, x->n_dims, x->ne, x->data), 0);
    }
    assert_int_equal(gguf_writer_write(w, p2), 0);
    gguf_writer_free(w);
    gguf_file *g2 = gguf_open(p2);
    assert_non_null(g2);
    assert_int_equal(g2->map.size, g->map.size);
    assert_memory_equal(g2->map.data, g->map.data, g->map.size);
    gguf_close(g2);
    gguf_close(g);
    // the Python reference reads what we wrote
    const char *py = getenv("FT_PY");
    if (py && *py && access(py, X_OK) == 0) {   // the venv may be absent: then only ft itself is checked
        char cmd[8192];
        snprintf(cmd, sizeof cmd,
                 "'%s' - '%s' <<'EOF'\n"
                 "import sys, numpy as np\n"
                 "from gguf import GGUFReader\n"
                 "r = GGUFReader(sys.argv[1])\n"
                 "f = r.fields\n"
                 "assert f['general.alignment'].parts[-1][0] == 64\n"
                 "assert int(f['llama.block_count'].parts[-1][0]) == 3\n"
                 "assert int(f['t.i32'].parts[-1][0]) == -9\n"
                 "assert int(f['t.u64'].parts[-1][0]) == 1 << 50\n"
                 "tok = f['tokenizer.ggml.tokens']\n"
                 "assert [bytes(tok.parts[i]).decode() for i in tok.data] == ['<s>', 'hello', '', 'w\\u00f6rld']\n"
                 "t = {x.name: x for x in r.tensors}\n"
                 "assert t['w.f32'].data.tolist() == [[1, -2, 3.5], [0, 0, np.float32(1e-30)]], t['w.f32'].data\n"
                 "assert list(t['w.f32'].shape) == [3, 2]\n"
                 "assert t['w.q8'].tensor_type.name == 'Q8_0' and t['w.q8'].data.tobytes() == bytes((i * 7 + 1) & 255 if i not in (0, 1, 34, 35) else {0: 0, 1: 0x3C, 34: 0, 35: 0xBC}[i] for i in range(68))\n"
                 "assert t['w.f16'].data.view(np.uint16).tolist() == [0x3C00, 1, 0x7BFF, 0x8000, 0x1234]\n"
                 "EOF",
                 py, p1);
        if (system(cmd) != 0) fail_msg("Python gguf could not read the writer's output");
    }
    free(p1);
    free(p2);
}

static void test_real_files(void **st) {
    (void)st;
    // the cached real model, when present (tests/parity compares it against the Python reader)
    const char *home = getenv("HOME"), *cache = getenv("FT_CACHE");
    char m[1024];
    if (cache) snprintf(m, sizeof m, "%s/models/SmolLM2-135M-Instruct.Q4_1.gguf", cache);
    else snprintf(m, sizeof m, "%s/.cache/ft/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : "");
    FILE *f = fopen(m, "rb");
    if (!f) skip();
    fclose(f);
    gguf_file *g = gguf_open(m);
    if (!g) fail_msg("%s", ft_errmsg());
    uint64_t n;
    const gguf_value *toks;
    assert_int_equal(gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &n, &toks), 0);
    uint64_t vocab;
    assert_int_equal(gguf_get_u64(g, "llama.vocab_size", &vocab), 0);
    assert_int_equal(n, vocab);
    const gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
    assert_non_null(emb);
    assert_int_equal(emb->ne[1], vocab);
    gguf_close(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_all_types), cmocka_unit_test(test_malformed_cases),
        cmocka_unit_test(test_truncations_and_flips), cmocka_unit_test(test_writer_roundtrip),
        cmocka_unit_test(test_real_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
