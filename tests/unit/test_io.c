// test_io.c — readers/writers: zstd sniffing, atomic writes, JSONL diagnostics, FTOK format.
#include "testutil.h"
#include "core/err.h"
#include "core/io.h"
#include "core/jsonl.h"
#include "format/ftok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

static void test_writer_atomic_and_zstd(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *p = tu_path(d, "a.txt.zst");
    ft_writer *w = ft_writer_open(p);
    assert_non_null(w);
    for (int i = 0; i < 10000; i++) assert_int_equal(ft_writer_printf(w, "line %d\n", i), 0);
    assert_int_equal(access(p, F_OK), -1);       // not visible before commit
    assert_int_equal(ft_writer_commit(w), 0);
    // the file really is zstd, and decompresses to what we wrote
    FILE *f = fopen(p, "rb");
    unsigned char magic[4];
    assert_int_equal(fread(magic, 1, 4, f), 4);
    fclose(f);
    assert_int_equal(magic[0], 0x28);
    assert_int_equal(magic[3], 0xFD);
    ft_reader *r = ft_reader_open(p);
    assert_non_null(r);
    assert_true(ft_reader_is_zstd(r));
    char *line; size_t len; int i = 0;
    while (ft_reader_getline(r, &line, &len, 100) == 1) {
        char want[32];
        snprintf(want, sizeof want, "line %d", i++);
        assert_string_equal(line, want);
    }
    assert_int_equal(i, 10000);
    ft_reader_close(r);
    // abort leaves nothing behind
    char *q = tu_path(d, "b.txt");
    w = ft_writer_open(q);
    ft_writer_printf(w, "partial");
    ft_writer_abort(w);
    assert_int_equal(access(q, F_OK), -1);
    free(p); free(q);
    tu_rmdir(d); free(d);
}

static void test_reader_errors(void **st) {
    (void)st;
    assert_null(ft_reader_open("/nonexistent/file"));
    assert_non_null(strstr(ft_errmsg(), "/nonexistent/file"));
    char *d = tu_tmpdir();
    char *p = tu_path(d, "trunc.zst");
    // a zstd frame cut in half is reported as truncated
    const char *text = "hello hello hello hello hello hello hello";
    unsigned char buf[256];
    size_t n = ZSTD_compress(buf, sizeof buf, text, strlen(text), 3);
    tu_write_file(p, buf, n / 2);
    char *data; size_t len;
    assert_int_equal(ft_read_all(p, &data, &len), -1);
    assert_non_null(strstr(ft_errmsg(), "trunc"));
    free(p);
    tu_rmdir(d); free(d);
}

static void test_jsonl_diagnostics(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *p = tu_path(d, "x.jsonl");
    const char txt[] = "{\"a\":1}\n\n[1]\n{\"b\":\"\xff\"}\n{bad\n{\"c\":3}";
    tu_write_file(p, txt, sizeof txt - 1);
    ft_jsonl *j = ft_jsonl_open(p, 0);
    json_t *o;
    assert_int_equal(ft_jsonl_next(j, &o), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "a")), 1);
    json_decref(o);
    const char *want[] = {":2: blank line", ":3: expected a JSON object", ":4: invalid UTF-8", ":5: invalid JSON"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ft_jsonl_next(j, &o), -2);
        assert_non_null(strstr(ft_errmsg(), want[i]));
        assert_non_null(strstr(ft_errmsg(), "x.jsonl"));
    }
    assert_int_equal(ft_jsonl_next(j, &o), 1);   // last line without newline still counts
    json_decref(o);
    assert_int_equal(ft_jsonl_next(j, &o), 0);
    ft_jsonl_close(j);
    // BOM
    tu_write_file(p, "\xEF\xBB\xBF{}\n", 6);
    j = ft_jsonl_open(p, 0);
    assert_int_equal(ft_jsonl_next(j, &o), -2);
    assert_non_null(strstr(ft_errmsg(), "byte order mark"));
    ft_jsonl_close(j);
    // over-long line is fatal
    tu_write_file(p, "{\"a\":\"xxxxxxxxxxxxxxxxxxxx\"}\n", 29);
    j = ft_jsonl_open(p, 10);
    assert_int_equal(ft_jsonl_next(j, &o), -1);
    assert_non_null(strstr(ft_errmsg(), "x.jsonl:1: line longer than 10"));
    ft_jsonl_close(j);
    free(p);
    tu_rmdir(d); free(d);
}

static void test_utf8(void **st) {
    (void)st;
    assert_int_equal(ft_utf8_invalid_at("h\xC3\xA9llo \xF0\x9F\x98\x80", 11), -1);
    assert_int_equal(ft_utf8_invalid_at("a\xC0\x80", 3), 1);           // overlong
    assert_int_equal(ft_utf8_invalid_at("ab\xED\xA0\x80", 5), 2);      // surrogate
    assert_int_equal(ft_utf8_invalid_at("\xF4\x90\x80\x80", 4), 0);    // > U+10FFFF
    assert_int_equal(ft_utf8_invalid_at("\xE2\x82", 2), 0);            // truncated
}

// FTOK bytes built by hand from DESIGN.md §3, compared with what the writer produces.
static void test_ftok_layout(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *p = tu_path(d, "a.tok");
    ftok_header h = {FTOK_VERSION, FTOK_FLAG_MASK, 1000, 0x1122334455667788ull};
    ftok_writer *w = ftok_writer_open(p, &h);
    uint32_t t[9] = {1, 2, 3, 4, 5, 6, 7, 8, 999};
    uint8_t m[9] = {0, 0, 1, 1, 0, 0, 0, 0, 1};
    assert_int_equal(ftok_write(w, t, m, 9), 0);
    assert_int_equal(ftok_write(w, t, NULL, 0), 0);
    assert_int_equal(ftok_writer_commit(w), 0);
    unsigned char want[32 + 8 + 36 + 4 + 8] = {'F', 'T', 'O', 'K', 1, 0, 1, 0, 0xE8, 0x03, 0, 0, 0, 0, 0, 0,
                                               0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    unsigned char *q = want + 32;
    q[0] = 9; q += 8;
    for (int i = 0; i < 9; i++) { q[0] = (unsigned char)(t[i] & 0xff); q[1] = (unsigned char)(t[i] >> 8); q += 4; }
    q[0] = 0x0C; q[1] = 0x01; q += 4;   // bits 2,3 then bit 8; padded to 4 bytes
    // empty record: n=0, no mask bytes
    FILE *f = fopen(p, "rb");
    unsigned char got[200];
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(got, want, sizeof want);
    // read back
    ftok_reader *r = ftok_open(p);
    assert_non_null(r);
    assert_int_equal(ftok_reader_header(r)->vocab_size, 1000);
    ftok_record rec = {0};
    assert_int_equal(ftok_next(r, &rec), 1);
    assert_int_equal(rec.n, 9);
    assert_memory_equal(rec.tokens, t, sizeof t);
    assert_memory_equal(rec.mask, m, sizeof m);
    assert_int_equal(ftok_record_trained(&rec), 3);
    assert_int_equal(ftok_next(r, &rec), 1);
    assert_int_equal(rec.n, 0);
    assert_int_equal(ftok_next(r, &rec), 0);
    ftok_close(r);
    // every truncation of the file is an error naming the file, or a clean shorter stream
    for (size_t cut = 0; cut < sizeof want; cut++) {
        tu_write_file(p, want, cut);
        r = ftok_open(p);
        if (!r) { assert_non_null(strstr(ft_errmsg(), "a.tok")); continue; }
        int k, nrec = 0;
        while ((k = ftok_next(r, &rec)) == 1) nrec++;
        if (cut == 32 || cut == 32 + 48) assert_int_equal(k, 0);
        else {
            assert_int_equal(k, -1);
            assert_non_null(strstr(ft_errmsg(), "record"));
        }
        ftok_close(r);
    }
    ftok_record_free(&rec);
    free(p);
    tu_rmdir(d); free(d);
}

static void test_ftok_concat_and_mismatch(void **st) {
    (void)st;
    char *d = tu_tmpdir();
    char *a = tu_path(d, "a.tok"), *b = tu_path(d, "b.tok.zst"), *c = tu_path(d, "c.tok"), *cat = tu_path(d, "cat.tok");
    ftok_header h = {FTOK_VERSION, 0, 50, 7};
    uint32_t t[3] = {10, 20, 30};
    ftok_writer *w = ftok_writer_open(a, &h);
    ftok_write(w, t, NULL, 3);
    ftok_writer_commit(w);
    w = ftok_writer_open(b, &h);
    ftok_write(w, t + 1, NULL, 2);
    ftok_writer_commit(w);
    h.tokenizer_id = 8;
    w = ftok_writer_open(c, &h);
    ftok_write(w, t, NULL, 1);
    ftok_writer_commit(w);
    char cmd[1024];
    // plain + (decompressed) zstd, concatenated
    snprintf(cmd, sizeof cmd, "cat '%s' > '%s' && zstd -qdc '%s' >> '%s'", a, cat, b, cat);
    assert_int_equal(system(cmd), 0);
    ftok_reader *r = ftok_open(cat);
    ftok_record rec = {0};
    assert_int_equal(ftok_next(r, &rec), 1);
    assert_int_equal(rec.n, 3);
    assert_int_equal(ftok_next(r, &rec), 1);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.tokens[1], 30);
    assert_int_equal(ftok_next(r, &rec), 0);
    ftok_close(r);
    // mismatching tokenizer ids are refused
    snprintf(cmd, sizeof cmd, "cat '%s' '%s' > '%s'", a, c, cat);
    assert_int_equal(system(cmd), 0);
    r = ftok_open(cat);
    assert_int_equal(ftok_next(r, &rec), 1);
    assert_int_equal(ftok_next(r, &rec), -1);
    assert_non_null(strstr(ft_errmsg(), "does not match"));
    ftok_close(r);
    // token outside the vocabulary is refused by the writer
    h.vocab_size = 5;
    w = ftok_writer_open(c, &h);
    assert_int_equal(ftok_write(w, t, NULL, 1), -1);
    ftok_writer_abort(w);
    ftok_record_free(&rec);
    free(a); free(b); free(c); free(cat);
    tu_rmdir(d); free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_atomic_and_zstd), cmocka_unit_test(test_reader_errors),
        cmocka_unit_test(test_jsonl_diagnostics),      cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_ftok_layout),            cmocka_unit_test(test_ftok_concat_and_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
