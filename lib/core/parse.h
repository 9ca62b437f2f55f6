// parse.h — strict parsing of option values (command-line flags, --config files): the whole
// string, range-checked. 0 ok, -1 error (message set naming the flag).
#ifndef FT_PARSE_H
#define FT_PARSE_H

#include <stdint.h>

int ft_parse_long(const char *flag, const char *s, long lo, long hi, long *out);
int ft_parse_u64(const char *flag, const char *s, uint64_t *out);
int ft_parse_double(const char *flag, const char *s, double lo, double hi, double *out);

#endif
