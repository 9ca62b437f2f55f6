// test_safetensors.c — safetensors reader/writer: bit-exact round trips, sharded index dirs,
// every validation rule of the reference implementation as a malformed case, every
// truncation and seeded byte flips, and interchange with the Python safetensors package.
#include "testutil.h"
#include "core/err.h"
#include "format/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir;
static int setup(void **st) { (void)st; dir = tu_tmpdir(); return 0; }
static int teardown(void **st) { (void)st; tu_rmdir(dir); free(dir); return 0; }

// A file from a header string and n data bytes (0x11, 0x22, ...).
static char *make(const char *name, const char *header, uint64_t hlen_override, size_t ndata) {
    char *p = tu_path(dir, name);
    size_t hl = strlen(header);
    uint8_t *b = malloc(8 + hl + ndata + 1);
    uint64_t h64 = hlen_override ? hlen_override : hl;
    memcpy(b, &h64, 8);
    memcpy(b + 8, header, hl);
    for (size_t i = 0; i < ndata; i++) b[8 + hl + i] = (uint8_t)(0x11 * (i + 1));
    tu_write_file(p, b, 8 + hl + ndata);
    free(b);
    return p;
}

static void test_roundtrip(void **st) {
    (void)st;
    float a[6] = {1, -2, 3.5f, 0, -0.0f, 1e-30f};
    uint16_t bf[3] = {0x3F80, 0xC040, 0x7FC0};
    int64_t i64[2] = {-1, 1ll << 40};
    uint8_t flags[5] = {1, 0, 1, 1, 0};
    double scalar = 2.75;
    st_writer *w = st_writer_new();
    assert_int_equal(st_writer_meta(w, "format", "pt"), 0);
    assert_int_equal(st_writer_add(w, "model.a", ST_F32, 2, (uint64_t[]){2, 3}, a), 0);
    assert_int_equal(st_writer_add(w, "b.bf16", ST_BF16, 1, (uint64_t[]){3}, bf), 0);
    assert_int_equal(st_writer_add(w, "c", ST_I64, 1, (uint64_t[]){2}, i64), 0);
    assert_int_equal(st_writer_add(w, "d.bool", ST_BOOL, 1, (uint64_t[]){5}, flags), 0);
    assert_int_equal(st_writer_add(w, "e.empty", ST_F16, 2, (uint64_t[]){0, 4}, NULL), 0);
    assert_int_equal(st_writer_add(w, "f.scalar", ST_F64, 0, NULL, &scalar), 0);
    assert_int_equal(st_writer_add(w, "c", ST_I64, 1, (uint64_t[]){2}, i64), -1);   // duplicate
    char *p = tu_path(dir, "rt.safetensors");
    assert_int_equal(st_writer_write(w, p), 0);
    st_writer_free(w);
    // header length is a multiple of 8, padded with spaces
    FILE *f = fopen(p, "rb");
    uint64_t hl;
    assert_int_equal(fread(&hl, 8, 1, f), 1);
    char *h = malloc(hl + 1);
    assert_int_equal(fread(h, 1, hl, f), hl);
    fclose(f);
    assert_int_equal(hl % 8, 0);
    assert_true(h[0] == '{');
    size_t end = hl;
    while (end && h[end - 1] == ' ') end--;
    assert_true(end > 0 && h[end - 1] == '}');
    free(h);
    st_set *s = st_open(p);
    if (!s) fail_msg("%s", ft_errmsg());
    assert_int_equal(s->n_tensors, 6);
    assert_string_equal(s->metadata_json, "{\"format\":\"pt\"}");
    const st_tensor *t = st_find(s, "model.a");
    assert_int_equal(t->dtype, ST_F32);
    assert_int_equal(t->n_dims, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_memory_equal(t->data, a, sizeof a);
    assert_memory_equal(st_find(s, "b.bf16")->data, bf, sizeof bf);
    assert_memory_equal(st_find(s, "c")->data, i64, sizeof i64);
    assert_memory_equal(st_find(s, "d.bool")->data, flags, sizeof flags);
    assert_int_equal(st_find(s, "e.empty")->nbytes, 0);
    assert_int_equal(st_find(s, "f.scalar")->n_dims, 0);
    assert_memory_equal(st_find(s, "f.scalar")->data, &scalar, 8);
    assert_null(st_find(s, "zzz"));
    for (size_t i = 1; i < s->n_tensors; i++) assert_true(strcmp(s->tensors[i - 1].name, s->tensors[i].name) < 0);
    st_close(s);
    // the Python reference reads ours, and writes one we read
    const char *py = getenv("FT_PY");
    if (py && *py && access(py, X_OK) == 0) {   // the venv may be absent: then only ft itself is checked
        char *q = tu_path(dir, "py.safetensors"), cmd[4096];
        snprintf(cmd, sizeof cmd,
                 "'%s' - '%s' '%s' <<'EOF'\n"
                 "import sys, numpy as np\n"
                 "from safetensors import safe_open\n"
                 "from safetensors.numpy import save_file\n"
                 "with safe_open(sys.argv[1], 'np') as f:\n"
                 "    assert f.metadata() == {'format': 'pt'}\n"
                 "    assert f.get_tensor('model.a').tolist() == [[1, -2, 3.5], [0, 0, np.float32(1e-30)]]\n"
                 "    assert f.get_tensor('c').tolist() == [-1, 1 << 40]\n"
                 "    assert f.get_tensor('d.bool').tolist() == [True, False, True, True, False]\n"
                 "    assert f.get_tensor('e.empty').shape == (0, 4)\n"
                 "    assert f.get_tensor('f.scalar').shape == () and f.get_tensor('f.scalar') == 2.75\n"
                 "save_file({'x': np.arange(12, dtype=np.int32).reshape(3, 4), 'y': np.array([0.5, -1], np.float16),\n"
                 "           'z': np.zeros((2, 0), np.float32)}, sys.argv[2], metadata={'k': 'v'})\n"
                 "EOF",
                 py, p, q);
        if (system(cmd) != 0) fail_msg("Python safetensors disagrees with the writer");
        s = st_open(q);
        if (!s) fail_msg("%s", ft_errmsg());
        t = st_find(s, "x");
        assert_int_equal(t->dtype, ST_I32);
        assert_int_equal(t->shape[0], 3);
        for (int i = 0; i < 12; i++) { int32_t v; memcpy(&v, t->data + 4 * i, 4); assert_int_equal(v, i); }
        uint16_t y[2];
        memcpy(y, st_find(s, "y")->data, 4);
        assert_int_equal(y[0], 0x3800);
        assert_int_equal(y[1], 0xBC00);
        assert_int_equal(st_find(s, "z")->nbytes, 0);
        assert_string_equal(s->metadata_json, "{\"k\":\"v\"}");
        st_close(s);
        free(q);
    }
    free(p);
}

static void test_sharded(void **st) {
    (void)st;
    char *d = tu_path(dir, "sharded");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", d);
    assert_int_equal(system(cmd), 0);
    float a[2] = {1, 2}, b[3] = {3, 4, 5};
    char *p1 = tu_path(d, "model-00001-of-00002.safetensors"), *p2 = tu_path(d, "model-00002-of-00002.safetensors");
    st_writer *w = st_writer_new();
    st_writer_add(w, "a", ST_F32, 1, (uint64_t[]){2}, a);
    assert_int_equal(st_writer_write(w, p1), 0);
    st_writer_free(w);
    w = st_writer_new();
    st_writer_add(w, "b", ST_F32, 1, (uint64_t[]){3}, b);
    assert_int_equal(st_writer_write(w, p2), 0);
    st_writer_free(w);
    char *ix = tu_path(d, "model.safetensors.index.json");
    const char *good = "{\"metadata\":{\"total_size\":20},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                       "\"b\":\"model-00002-of-00002.safetensors\"}}";
    tu_write_file(ix, good, strlen(good));
    st_set *s = st_open(d);
    if (!s) fail_msg("%s", ft_errmsg());
    assert_int_equal(s->n_files, 2);
    assert_int_equal(s->n_tensors, 2);
    assert_memory_equal(st_find(s, "b")->data, b, sizeof b);
    st_close(s);
    const char *missing = "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\"}}";
    tu_write_file(ix, missing, strlen(missing));
    assert_null(st_open(ix));
    assert_non_null(strstr(ft_errmsg(), "'c' is listed in the index but not found"));
    const char *escape = "{\"weight_map\":{\"a\":\"../x.safetensors\"}}";
    tu_write_file(ix, escape, strlen(escape));
    assert_null(st_open(d));
    assert_non_null(strstr(ft_errmsg(), "not a plain file name"));
    // the same tensor in two shards
    w = st_writer_new();
    st_writer_add(w, "a", ST_F32, 1, (uint64_t[]){2}, a);
    st_writer_add(w, "b", ST_F32, 1, (uint64_t[]){3}, b);
    assert_int_equal(st_writer_write(w, p2), 0);
    st_writer_free(w);
    tu_write_file(ix, good, strlen(good));
    assert_null(st_open(d));
    assert_non_null(strstr(ft_errmsg(), "more than one shard"));
    free(p1); free(p2); free(ix); free(d);
}

static void test_malformed(void **st) {
    (void)st;
    static const struct { const char *header; uint64_t hl; size_t nd; const char *want; } cases[] = {
        {"{}", 100000001, 0, "exceeds 100 MB"},
        {"{}", 4096, 0, "past the end of the file"},
        {" {}", 0, 0, "does not start with '{'"},
        {"{\"a\":", 0, 0, "not valid JSON"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 0, 8, "duplicate"},
        {"{\"a\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4, "unknown dtype 'F17'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 0, 4, "needs 8"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 0, 4, "overflow"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 0, 4, "non-negative"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 0, 4, "begin <= end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 2, "past the end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 8, "ends at 4 but the file holds 8"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 0, 8, "(gap)"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 0, 8, "(overlap)"},
        {"{\"__metadata__\":{\"k\":1}}", 0, 0, "not a string"},
        {"[1,2]", 0, 0, "does not start with '{'"},
        {"{\"a\":[1]}", 0, 0, "not an object"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 0, 4, "missing shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 0, 4, "at most 8"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 0, 4, "not valid JSON"},
        {"{\"\xff\":1}", 0, 0, "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = make("bad.safetensors", cases[i].header, cases[i].hl, cases[i].nd);
        st_set *s = st_open(p);
        if (s) { st_close(s); fail_msg("case %zu accepted", i); }
        if (!strstr(ft_errmsg(), cases[i].want) || !strstr(ft_errmsg(), "bad.safetensors"))
            fail_msg("case %zu: message '%s' lacks '%s'", i, ft_errmsg(), cases[i].want);
        free(p);
    }
    char *p = tu_path(dir, "short.safetensors");
    tu_write_file(p, "\x02\0\0", 3);
    assert_null(st_open(p));
    assert_non_null(strstr(ft_errmsg(), "too short"));
    free(p);
    assert_null(st_open("/nonexistent/x.safetensors"));
    assert_non_null(strstr(ft_errmsg(), "/nonexistent/x.safetensors"));
}

static void test_truncations_and_flips(void **st) {
    (void)st;
    const char *hdr = "{\"__metadata__\":{\"a\":\"b\"},\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
                      "\"v\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[12,16]}}";
    char *p = make("ok.safetensors", hdr, 0, 16);
    st_set *s = st_open(p);
    if (!s) fail_msg("%s", ft_errmsg());
    st_close(s);
    size_t n;
    char *bytes;
    assert_int_equal(ft_read_all(p, &bytes, &n), 0);
    char *q = tu_path(dir, "cut.safetensors");
    for (size_t k = 0; k < n; k++) {
        tu_write_file(q, bytes, k);
        s = st_open(q);
        if (s) { st_close(s); fail_msg("truncation to %zu of %zu accepted", k, n); }
        assert_true(strlen(ft_errmsg()) > 0);
    }
    srand(777);
    char *buf = malloc(n);
    for (int it = 0; it < 2000; it++) {
        memcpy(buf, bytes, n);
        int nf = 1 + rand() % 3;
        for (int f = 0; f < nf; f++) buf[rand() % n] ^= (char)(1 + rand() % 255);
        tu_write_file(q, buf, n);
        ft_err_clear();
        s = st_open(q);
        if (s) {
            for (size_t i = 0; i < s->n_tensors; i++)
                assert_true(s->tensors[i].data + s->tensors[i].nbytes <= s->maps[0].data + s->maps[0].size);
            st_close(s);
        } else {
            assert_true(strlen(ft_errmsg()) > 0);
        }
    }
    free(buf); free(bytes); free(q); free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_sharded), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncations_and_flips),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
