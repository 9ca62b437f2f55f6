# The library never prints (lib/core/err.h, lib/core/log.h): no source of libft (lib/, kernels/cpu/)
# writes to stdout or stderr or includes the tools' cli.h (tools/common/); its messages and
# progress go through the hooks of lib/core/log.h (tests/unit/test_log.c checks a whole training
# run says nothing without them).
. "$FT_ROOT/tests/lib.sh"
hits=$PWD/hits.txt
cd "$FT_ROOT"
pat='(^|[^a-z_])(printf|vprintf|puts|perror|putchar)\(|v?fprintf\((stderr|stdout)|(fputs|fputc|fwrite)\([^;]*(stderr|stdout)\)|#include "cli\.h"'
if grep -nE "$pat" lib/*/*.c lib/*/*.h kernels/cpu/*.c kernels/*.h >"$hits"; then
  cat "$hits" >&2
  fail "libft prints or includes cli.h (above)"
fi
[ ! -e lib/cli.c ] && [ ! -e lib/cli.h ] || fail "lib/cli.[ch] are the tools' (tools/common/)"
