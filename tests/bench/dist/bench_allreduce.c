// bench_allreduce.c — the all-reduce of lib/train/dist.c (ft_dist_allreduce_f32, in buckets)
// timed over a gradient buffer of N floats for several bucket sizes, under mpirun:
//   mpirun -np R bench_allreduce N_FLOATS REPEATS BUCKET...
// Rank 0 prints one line per bucket size: floats, bucket, seconds per all-reduce, and the
// bus bandwidth 2 (R-1)/R * bytes / s (the bytes a ring all-reduce moves per rank).
#include "train/dist.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s N_FLOATS REPEATS BUCKET...\n", argv[0]);
        return 2;
    }
    if (ft_dist_init()) {
        fprintf(stderr, "bench_allreduce: %s\n", ft_errmsg());
        return 1;
    }
    size_t n = strtoull(argv[1], NULL, 10);
    int reps = atoi(argv[2]);
    float *g = malloc(n * sizeof *g);
    if (!g) return 1;
    for (size_t i = 0; i < n; i++) g[i] = (float)(i % 7) * 0.25f;
    int R = ft_dist_size();
    if (ft_dist_rank() == 0) printf("ranks %d (%s), %zu floats (%.1f MiB)\n", R, ft_dist_backend(), n, n * 4.0 / 1048576);
    for (int a = 3; a < argc; a++) {
        size_t b = strtoull(argv[a], NULL, 10);
        ft_dist_set_bucket(b);
        if (ft_dist_allreduce_f32(g, n) || ft_dist_barrier()) goto fail;   // warm-up
        double t0 = now();
        for (int r = 0; r < reps; r++)
            if (ft_dist_allreduce_f32(g, n)) goto fail;
        if (ft_dist_barrier()) goto fail;
        double s = (now() - t0) / reps;
        double bus = R > 1 ? 2.0 * (R - 1) / R * (double)n * 4 / s : 0;
        if (ft_dist_rank() == 0)
            printf("bucket %10zu floats (%8.3f MiB): %9.3f ms per all-reduce, bus bandwidth %7.2f GB/s\n", b,
                   b * 4.0 / 1048576, s * 1e3, bus / 1e9);
    }
    free(g);
    ft_dist_finalize();
    return 0;
fail:
    fprintf(stderr, "bench_allreduce: %s\n", ft_errmsg());
    ft_dist_abort(1);
    return 1;
}
