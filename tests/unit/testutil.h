// testutil.h — small helpers for the cmocka unit tests: temp dirs and files.
#ifndef FT_TESTUTIL_H
#define FT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

// A fresh temporary directory (removed by tu_rmdir); returns a static-lifetime malloc'd path.
char *tu_tmpdir(void);
void tu_rmdir(const char *dir);
// Path join into a malloc'd string.
char *tu_path(const char *dir, const char *name);
// Write bytes to a file; returns 0.
int tu_write_file(const char *path, const void *data, size_t n);
// Directory of ../shared/testdata (FT_TESTDATA or relative to the repo root).
const char *tu_testdata(void);

#endif
