// test_tfevents.c — the TensorBoard event writer (lib/format/tfevents.c): CRC-32C against the
// published check value and RFC 3720's test vectors, TFRecord's mask against the formula worked
// by hand, and a written file byte for byte against a hand encoding of the protobuf messages
// (only the wall time, the clock's, is taken from the file).
#include "testutil.h"
#include "core/err.h"
#include "core/io.h"
#include "format/tfevents.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_crc32c(void **state) {
    (void)state;
    assert_int_equal(ft_crc32c("123456789", 9), 0xE3069283u);   // the CRC catalogue's check value
    uint8_t b[32];
    memset(b, 0, 32);
    assert_int_equal(ft_crc32c(b, 32), 0x8A9136AAu);              // RFC 3720 B.4
    memset(b, 0xFF, 32);
    assert_int_equal(ft_crc32c(b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)i;
    assert_int_equal(ft_crc32c(b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)(31 - i);
    assert_int_equal(ft_crc32c(b, 32), 0x113FDB5Cu);
    assert_int_equal(ft_crc32c("", 0), 0);
    // TFRecord mask ((c >> 15) | (c << 17)) + 0xa282ead8 mod 2^32, worked out by hand
    assert_int_equal(ft_crc32c_mask(0xE3069283u), 0xC78AB0E5u);
    assert_int_equal(ft_crc32c_mask(0), 0xa282ead8u);
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

// One TFRecord at *pos: checks both CRCs, returns the payload and its length, advances *pos.
static const uint8_t *next_record(const uint8_t *d, size_t len, size_t *pos, size_t *n) {
    assert_true(*pos + 12 <= len);
    *n = (size_t)le64(d + *pos);
    assert_int_equal(le32(d + *pos + 8), ft_crc32c_mask(ft_crc32c(d + *pos, 8)));
    const uint8_t *p = d + *pos + 12;
    assert_true(*pos + 16 + *n <= len);
    assert_int_equal(le32(p + *n), ft_crc32c_mask(ft_crc32c(p, *n)));
    *pos += 16 + *n;
    return p;
}

static void test_file(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *sub = tu_path(dir, "tb/run");
    ft_tfevents *w = ft_tfevents_open(sub);
    assert_non_null(w);
    const char *tags[2] = {"loss", "lr"};
    double vals[2] = {0.5, 1e-3};
    assert_int_equal(ft_tfevents_scalars(w, 3, tags, vals, 2), 0);
    assert_int_equal(ft_tfevents_json_line(w, "{\"step\": 300, \"eval_loss\": 2.0}"), 0);
    assert_int_not_equal(ft_tfevents_json_line(w, "{\"loss\": 1}"), 0);   // no step
    char *path = ft_strdup(ft_tfevents_path(w));
    assert_int_equal(ft_tfevents_close(w), 0);
    assert_non_null(strstr(path, "/tb/run/events.out.tfevents."));
    char *data;
    size_t len, pos = 0, n;
    assert_int_equal(ft_read_all(path, &data, &len), 0);
    const uint8_t *d = (const uint8_t *)data;
    // 1: Event{wall_time, file_version "brain.Event:2"}
    const uint8_t *p = next_record(d, len, &pos, &n);
    assert_int_equal(n, 9 + 2 + 13);
    assert_int_equal(p[0], 0x09);                               // field 1, fixed64
    assert_memory_equal(p + 9, "\x1a\x0d" "brain.Event:2", 15);   // field 3, length 13
    // 2: Event{wall_time, step 3, summary{value{tag "loss", simple_value 0.5f}, value{"lr", 1e-3f}}}
    p = next_record(d, len, &pos, &n);
    float lr = 1e-3f;
    uint8_t lrb[4];
    memcpy(lrb, &lr, 4);   // little-endian host (x86-64, aarch64): the wire order
    uint8_t want[] = {0x10, 0x03, 0x2a, 0x18,                      // step 3; summary, 24 bytes
                      0x0a, 0x0b, 0x0a, 0x04, 'l', 'o', 's', 's', 0x15, 0x00, 0x00, 0x00, 0x3f,
                      0x0a, 0x09, 0x0a, 0x02, 'l', 'r', 0x15, lrb[0], lrb[1], lrb[2], lrb[3]};
    assert_int_equal(n, 9 + sizeof want);
    assert_int_equal(p[0], 0x09);
    assert_memory_equal(p + 9, want, sizeof want);
    // 3: step 300 as a two-byte varint (0xAC 0x02), eval_loss 2.0f = 0x40000000
    p = next_record(d, len, &pos, &n);
    uint8_t want3[] = {0x10, 0xAC, 0x02, 0x2a, 0x12, 0x0a, 0x10, 0x0a, 0x09, 'e', 'v', 'a', 'l', '_', 'l', 'o', 's', 's',
                       0x15, 0x00, 0x00, 0x00, 0x40};
    assert_int_equal(n, 9 + sizeof want3);
    assert_memory_equal(p + 9, want3, sizeof want3);
    assert_int_equal(pos, len);   // nothing else: the refused line wrote nothing
    free(data);
    free(path);
    free(sub);
    tu_rmdir(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
