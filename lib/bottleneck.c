// bottleneck.c — bottleneck adapters (see bottleneck.h). STUB: replaced by the implementation.
#include "bottleneck.h"
#include "err.h"

int ft_bottleneck_parse_where(const char *s, unsigned *mask) { (void)s; *mask = 0; return ft_err("bottleneck adapters are not implemented yet"); }
int ft_bottleneck_parse_act(const char *s, int *kind) { (void)s; *kind = 0; return ft_err("bottleneck adapters are not implemented yet"); }
void ft_bottleneck_forward(const ft_ops *ops, struct ft_bottleneck *b, float *out, int N) { (void)ops; (void)b; (void)out; (void)N; }
const float *ft_bottleneck_backward(const ft_ops *ops, struct ft_bottleneck *b, const float *dout, int N) {
    (void)ops; (void)b; (void)N;
    return dout;
}
int ft_bottleneck_new(ft_bottleneck_set **out, ft_model *m, const ft_bottleneck_cfg *cfg, uint64_t seed) {
    (void)m; (void)cfg; (void)seed; *out = NULL;
    return ft_err("bottleneck adapters are not implemented yet");
}
int ft_bottleneck_alloc_grads(ft_bottleneck_set *s) { (void)s; return ft_err("bottleneck adapters are not implemented yet"); }
int ft_bottleneck_save(const ft_bottleneck_set *s, const char *dir, const char *base_model) { (void)s; (void)dir; (void)base_model; return ft_err("bottleneck adapters are not implemented yet"); }
int ft_bottleneck_apply(ft_model *m, const char *dir, ft_bottleneck_set **out) { (void)m; *out = NULL; return ft_err("%s: bottleneck adapters are not implemented yet", dir); }
void ft_bottleneck_destroy(ft_bottleneck_set *s) { (void)s; }
