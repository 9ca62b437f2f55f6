// json_get.h — typed getters for the keys of the JSON config files ft reads (adapter_config.json,
// an HF config.json, ft-train's --config and train_config.json). A key that is absent or null
// gets the default (PEFT and transformers write null for "not set"); a value of another type is
// an error naming the file, the key and the expected type, never silently replaced:
//   adapter/adapter_config.json: key "lora_alpha": expected a number, got a string ("16")
// Integers: a JSON integer, or a real with an integral value (16.0, as Python writes a float
// that holds a whole number); 8.5 is refused. Numbers: any JSON integer or real.
// Every getter returns 1 = present (*out set), 0 = absent or null (*out = dflt), -1 = error.
#ifndef FT_JSON_GET_H
#define FT_JSON_GET_H

#include <jansson.h>

// What v is, for messages: "a string (\"16\")", "an integer (5)", "a number (8.5)", "true",
// "false", "null", "an array of 3", "an empty array", "an object", "nothing" (v == NULL),
// written into buf.
const char *ft_json_describe(const json_t *v, char *buf, size_t cap);
// Records "FILE: key \"KEY\": expected WANT, got <ft_json_describe(got)>"; returns -1.
int ft_json_type_err(const char *file, const char *key, const char *want, const json_t *got);

// An integer in [lo, hi] ("FILE: key \"r\": 0 is out of range (1..65536)" otherwise).
int ft_json_get_int(const json_t *obj, const char *key, const char *file, int lo, int hi, int dflt, int *out);
// Is v an integer by the rule above? Stores it in *out (any long long) when it is.
int ft_json_integral(const json_t *v, long long *out);
int ft_json_get_num(const json_t *obj, const char *key, const char *file, double dflt, double *out);
int ft_json_get_bool(const json_t *obj, const char *key, const char *file, int dflt, int *out);
// *out points into obj (valid while obj lives).
int ft_json_get_str(const json_t *obj, const char *key, const char *file, const char *dflt, const char **out);
// An object (e.g. rope_scaling); *out is borrowed, NULL when absent or null.
int ft_json_get_obj(const json_t *obj, const char *key, const char *file, json_t **out);

#endif
