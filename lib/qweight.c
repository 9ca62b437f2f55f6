// qweight.c — NF4-DQ frozen weights (see qweight.h). STUB: replaced by the implementation.
#include "qweight.h"
#include "err.h"

ft_model *ft_model_load_nf4(const char *path) {
    ft_err("%s: --method qlora is not implemented yet", path);
    return NULL;
}
size_t ft_model_qweight_bytes(const ft_model *m, size_t *n_params) {
    (void)m;
    if (n_params) *n_params = 0;
    return 0;
}
