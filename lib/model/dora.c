// dora.c — DoRA on one linear (see dora.h for the formula and the PEFT sources it follows).
//
// The row norms n_j = ||W_j + s B_j A|| are computed without forming W + s*B@A:
//   n_j^2 = ||W_j||^2 + 2 s B_j . P_j + s^2 B_j G B_j^T,   P = A W^T (r, out), G = A A^T (r, r)
// (P by the op table's matmul: the cost of r extra token rows; the rest in double, the op
// dora_norm). With B = 0
// this is exactly sqrt(||W_j||^2), the same double sum ft_dora_init_magnitude uses, so
// mag / n == 1 bit for bit and the step-0 output equals the base's.
//
// Backward (exact, through n). With z = x W^T + s u B^T (u = x A^T), g = mag / n, y = b + g z:
//   dz = g dy,  dg_j = sum_n dy_nj z_nj,  dmag_j = dg_j / n_j,  c_j = -dg_j g_j / n_j^2
//   and dV = diag(c) V (V = W + s B A), which reaches
//   dB += s diag(c) V A^T = s diag(c) (P^T + s B G),
//   dA += s B^T diag(c) V = s (diag(c) B)^T W + s^2 ((diag(c) B)^T B) A,  dW += diag(c) V.
// Every loop over tensor data is an op of the table (kernels/ops.h: dora_*, div, scale_cols;
// CPU references in kernels/cpu/cpu_peft.c), so a DoRA linear runs on a device; init and merge
// (host, before a model moves) stay here.
#include "model/dora.h"

#include <math.h>

static double row_sq(const float *w, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)w[i] * w[i];
    return s;
}

void ft_dora_init_magnitude(const ft_linear *lin, float *mag) {
    for (int j = 0; j < lin->out; j++) mag[j] = (float)sqrt(row_sq(lin->w + (size_t)j * lin->in, lin->in));
}

// tmp: P (r, out) then G (r, r).
void ft_dora_norm(const ft_ops *ops, const ft_linear *lin, const ft_lora *h, float *n, float *tmp) {
    int r = h->r, I = lin->in, O = lin->out;
    float *P = tmp;                          // (r, O) = A @ W^T
    float *G = tmp + (size_t)r * O;          // (r, r) = A @ A^T
    ops->matmul(P, h->A, lin->w, NULL, r, I, O);
    ops->dora_norm(n, G, P, lin->w, h->A, h->B, h->scale, r, I, O);
}

size_t ft_dora_scratch(const ft_linear *lin, int N, int backward) {
    size_t r = (size_t)lin->lora->r, O = (size_t)lin->out, n = (size_t)N;
    size_t common = r * O + r * r;           // P, G
    if (!backward) return n * (r + O) + common + O;                    // u, d, g
    return n * (2 * r + 2 * O) + common + 3 * O + O * r;               // u, du, z, dz, n, g, c, Bc
}

void ft_dora_forward(const ft_ops *ops, const ft_linear *lin, float *out, const float *x, int N, float *tmp) {
    const ft_lora *h = lin->lora;
    if (!lin->w) return;                     // refused when the adapter is made (lora.c)
    int r = h->r, I = lin->in, O = lin->out;
    float *u = tmp;                          // (N, r) = x @ A^T
    float *d = u + (size_t)N * r;            // (N, O) = u @ B^T
    float *pg = d + (size_t)N * O;           // P, G
    float *g = pg + (size_t)r * O + (size_t)r * r;   // (O) mag / n
    if (h->norm) ops->div(g, h->mag, h->norm, (size_t)O);   // frozen adapter (inference)
    else {
        ft_dora_norm(ops, lin, h, g, pg);
        ops->div(g, h->mag, g, (size_t)O);
    }
    ops->matmul(u, x, h->A, NULL, N, I, r);
    ops->matmul(d, u, h->B, NULL, N, r, O);
    ops->dora_combine(out, d, g, lin->b, h->scale, N, O);
}

void ft_dora_backward(const ft_ops *ops, const ft_linear *lin, float *dx, float *dw, float *db, const float *dout,
                      const float *x, int N, float *tmp) {
    const ft_lora *h = lin->lora;
    if (!lin->w) return;
    int r = h->r, I = lin->in, O = lin->out;
    float s = h->scale;
    float *u = tmp;                          // (N, r) x @ A^T
    float *du = u + (size_t)N * r;           // (N, r)
    float *z = du + (size_t)N * r;           // (N, O) x @ W^T + s u @ B^T   (before the bias)
    float *dz = z + (size_t)N * O;           // (N, O) first u @ B^T, then g * dout, then s * g * dout
    float *pg = dz + (size_t)N * O;          // P (r, O), G (r, r)
    float *nrm = pg + (size_t)r * O + (size_t)r * r;   // (O)
    float *g = nrm + O;                      // (O)
    float *c = g + O;                        // (O) d loss / d n_j, divided by n_j
    float *Bc = c + O;                       // (O, r) s * c_j * B_j
    const float *P = pg, *G = pg + (size_t)r * O;
    ft_dora_norm(ops, lin, h, nrm, pg);
    ops->div(g, h->mag, nrm, (size_t)O);
    ops->matmul(u, x, h->A, NULL, N, I, r);
    ops->matmul(z, x, lin->w, NULL, N, I, O);
    ops->matmul(dz, u, h->B, NULL, N, r, O);
    ops->scale_add(z, dz, s, (size_t)N * O);
    ops->dora_gain_backward(h->dmag, c, dout, z, nrm, g, N, O);
    ops->scale_cols(dz, g, dout, N, O);
    if (db)
        for (int n = 0; n < N; n++) ops->add_inplace(db, dout + (size_t)n * O, (size_t)O);
    // base path: dx += dz W, dW += dz^T x
    ops->matmul_backward(dx, dw, NULL, dz, x, lin->w, N, I, O);
    // LoRA path with ds = s dz: du = ds B, dB += ds^T u, dx += du A, dA += du^T x
    ops->scale(dz, s, (size_t)N * O);
    ops->zero(du, (size_t)N * r * sizeof(float));
    ops->matmul_backward(du, h->dB, NULL, dz, u, h->B, N, r, O);
    ops->matmul_backward(dx, h->dA, NULL, du, x, h->A, N, I, r);
    // through the norm: dV = diag(c) V
    if (h->dB || h->dA) ops->dora_norm_backward_B(h->dB, h->dA ? Bc : NULL, h->B, P, G, c, s, r, O);
    if (h->dA) {
        ops->matmul_backward(NULL, h->dA, NULL, Bc, lin->w, h->A, O, I, r);   // dA += (s c B)^T W
        ops->dora_norm_backward_A(h->dA, Bc, h->B, h->A, s, r, I, O);       // dA += s^2 ((c B)^T B) A
    }
    if (dw) ops->dora_norm_backward_W(dw, c, lin->w, h->A, h->B, s, r, I, O);
}

void ft_dora_merge(ft_linear *lin, const ft_lora *h) {
    int r = h->r, I = lin->in, O = lin->out;
    double s = h->scale;
    for (int j = 0; j < O; j++) {
        float *wj = lin->w + (size_t)j * I;
        const float *bj = h->B + (size_t)j * r;
        double n2 = 0;
        for (int pass = 0; pass < 2; pass++) {
            double f = pass ? h->mag[j] / sqrt(n2 > 1e-60 ? n2 : 1e-60) : 0;
            for (int i = 0; i < I; i++) {
                double v = wj[i];
                for (int k = 0; k < r; k++) v += s * bj[k] * h->A[(size_t)k * I + i];
                if (pass) wj[i] = (float)(f * v);
                else n2 += v * v;
            }
        }
    }
}
