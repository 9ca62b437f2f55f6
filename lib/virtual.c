// virtual.c — prompt and prefix tuning (see virtual.h). STUB: replaced by the implementation.
#include "virtual.h"
#include "err.h"

int ft_virtual_new(ft_virtual **out, ft_model *m, const ft_virtual_cfg *cfg, uint64_t seed) {
    (void)m; (void)cfg; (void)seed; *out = NULL;
    return ft_err("prompt/prefix tuning is not implemented yet");
}
int ft_virtual_alloc_grads(ft_virtual *v) { (void)v; return ft_err("prompt/prefix tuning is not implemented yet"); }
float *ft_virtual_params(ft_virtual *v, size_t *n) { (void)v; *n = 0; return NULL; }
float *ft_virtual_grads(ft_virtual *v) { (void)v; return NULL; }
int ft_virtual_save(const ft_virtual *v, const char *dir, const char *base_model) { (void)v; (void)dir; (void)base_model; return ft_err("prompt/prefix tuning is not implemented yet"); }
int ft_virtual_apply(ft_model *m, const char *dir, ft_virtual **out) { (void)m; *out = NULL; return ft_err("%s: prompt/prefix tuning is not implemented yet", dir); }
void ft_virtual_destroy(ft_virtual *v) { (void)v; }
int ft_model_n_virtual(const ft_model *m) { (void)m; return 0; }
