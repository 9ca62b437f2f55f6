// nf4_bytes.c — for tests/bench/qlora/run.sh: load MODEL as ft-train --method qlora does
// (ft_model_load_nf4) and print the frozen base's memory: NF4-DQ bytes and parameters of the
// linears, bytes/param, and the f32 bytes of the rest (embeddings, norms, lm_head).
#include <stdio.h>

#include "core/err.h"
#include "model/qweight.h"

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: nf4_bytes MODEL\n"); return 2; }
    ft_model *m = ft_model_load_nf4(argv[1]);
    if (!m) { fprintf(stderr, "nf4_bytes: %s\n", ft_errmsg()); return 1; }
    size_t np, nb = ft_model_qweight_bytes(m, &np);
    printf("linears: %zu params in %zu bytes NF4-DQ = %.4f bytes/param (f32: 4, bf16: 2); "
           "rest f32: %zu params, %.1f MB; frozen base total %.1f MB (f32 would be %.1f MB)\n",
           np, nb, (double)nb / (double)np, m->n_params, m->n_params * 4 / 1e6, (nb + m->n_params * 4) / 1e6,
           (np + m->n_params) * 4 / 1e6);
    ft_model_free(m);
    return 0;
}
