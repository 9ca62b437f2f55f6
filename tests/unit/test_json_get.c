// test_json_get.c — the checked JSON config getters (lib/core/json_get.h): the integer rule (16 and
// 16.0 taken, 8.5 and "16" refused), null and absent as the default, ranges, and the messages
// naming file, key and expected type.
#include "testutil.h"
#include "core/err.h"
#include "core/json_get.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *obj(const char *text) {
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    assert_non_null(o);
    return o;
}

static void test_int(void **st) {
    (void)st;
    json_t *o = obj("{\"a\": 16, \"b\": 16.0, \"c\": 8.5, \"d\": \"16\", \"e\": null, \"f\": 0, \"g\": true, \"h\": 1e300}");
    int v = -7;
    assert_int_equal(ft_json_get_int(o, "a", "f.json", 1, 100, 3, &v), 1);
    assert_int_equal(v, 16);
    assert_int_equal(ft_json_get_int(o, "b", "f.json", 1, 100, 3, &v), 1);
    assert_int_equal(v, 16);
    assert_int_equal(ft_json_get_int(o, "c", "f.json", 1, 100, 3, &v), -1);
    assert_string_equal(ft_errmsg(), "f.json: key \"c\": expected an integer, got a number (8.5)");
    assert_int_equal(ft_json_get_int(o, "d", "f.json", 1, 100, 3, &v), -1);
    assert_string_equal(ft_errmsg(), "f.json: key \"d\": expected an integer, got a string (\"16\")");
    assert_int_equal(ft_json_get_int(o, "e", "f.json", 1, 100, 3, &v), 0);   // null: the default
    assert_int_equal(v, 3);
    v = -7;
    assert_int_equal(ft_json_get_int(o, "missing", "f.json", 1, 100, 3, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(ft_json_get_int(o, "f", "f.json", 1, 100, 3, &v), -1);
    assert_string_equal(ft_errmsg(), "f.json: key \"f\": 0 is out of range (1..100)");
    assert_int_equal(ft_json_get_int(o, "g", "f.json", 1, 100, 3, &v), -1);
    assert_string_equal(ft_errmsg(), "f.json: key \"g\": expected an integer, got true");
    assert_int_equal(ft_json_get_int(o, "h", "f.json", 1, 100, 3, &v), -1);   // too large to be an integer here
    json_decref(o);
}

static void test_num_bool_str_obj(void **st) {
    (void)st;
    json_t *o = obj("{\"n\": 5, \"r\": 0.25, \"s\": \"x\", \"b\": false, \"o\": {}, \"a\": [], \"z\": null}");
    double d;
    assert_int_equal(ft_json_get_num(o, "n", "f", 1.5, &d), 1);
    assert_true(d == 5.0);
    assert_int_equal(ft_json_get_num(o, "r", "f", 1.5, &d), 1);
    assert_true(d == 0.25);
    assert_int_equal(ft_json_get_num(o, "z", "f", 1.5, &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(ft_json_get_num(o, "s", "f", 1.5, &d), -1);
    assert_string_equal(ft_errmsg(), "f: key \"s\": expected a number, got a string (\"x\")");
    int b = 7;
    assert_int_equal(ft_json_get_bool(o, "b", "f", 1, &b), 1);
    assert_int_equal(b, 0);
    assert_int_equal(ft_json_get_bool(o, "n", "f", 1, &b), -1);
    assert_string_equal(ft_errmsg(), "f: key \"n\": expected true or false, got an integer (5)");
    const char *s = NULL;
    assert_int_equal(ft_json_get_str(o, "s", "f", "d", &s), 1);
    assert_string_equal(s, "x");
    assert_int_equal(ft_json_get_str(o, "z", "f", "d", &s), 0);
    assert_string_equal(s, "d");
    assert_int_equal(ft_json_get_str(o, "a", "f", "d", &s), -1);
    assert_string_equal(ft_errmsg(), "f: key \"a\": expected a string, got an empty array");
    json_t *sub = (json_t *)1;
    assert_int_equal(ft_json_get_obj(o, "o", "f", &sub), 1);
    assert_true(json_is_object(sub));
    assert_int_equal(ft_json_get_obj(o, "z", "f", &sub), 0);
    assert_null(sub);
    assert_int_equal(ft_json_get_obj(o, "s", "f", &sub), -1);
    assert_null(sub);
    json_decref(o);
}

static void test_describe_long_string(void **st) {
    (void)st;
    char buf[96], want[96];
    json_t *v = json_string("0123456789012345678901234567890123456789_tail_not_shown");
    snprintf(want, sizeof want, "a string (\"%s...\")", "0123456789012345678901234567890123456789");
    assert_string_equal(ft_json_describe(v, buf, sizeof buf), want);
    assert_string_equal(ft_json_describe(NULL, buf, sizeof buf), "nothing");
    json_decref(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int), cmocka_unit_test(test_num_bool_str_obj), cmocka_unit_test(test_describe_long_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
