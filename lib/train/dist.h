// dist.h — data parallelism across processes (docs/distributed.md): the few collectives the
// training loop needs behind one small interface, so the loop never names MPI.
//
// One world per process. Built with MPI (-DFT_HAVE_MPI: the Makefile adds it when mpicc is
// found), ft_dist_init joins the MPI job when the process was started by a launcher (mpirun /
// mpiexec / srun: OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK in the environment); otherwise,
// and in a build without MPI, the world is one process (rank 0 of 1) and every collective is a
// no-op. A build without MPI started by a launcher with more than one process is refused.
//
// Every collective must be called by every rank in the same order (the training loop is the
// same deterministic program on every rank). Sums of floats are reduced in buckets of
// ft_dist_bucket() elements (MPI_Allreduce, in place); MPI's reduction is commutative, so every
// rank receives the same bits (the parameters stay identical without being re-broadcast;
// ft_dist_same_u64 checks it at the end of a run).
#ifndef FT_DIST_H
#define FT_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "optim/optim.h"

// Join the job (see above). 0, or -1 with a message. Safe to call once per process.
int ft_dist_init(void);
// Leave the job (after the last collective). Safe without ft_dist_init.
void ft_dist_finalize(void);
// Stop every rank at once (MPI_Abort) with exit status code; in a one-process world it
// returns and the caller exits. For the tools: a rank that fails must not leave the others
// waiting in a collective.
void ft_dist_abort(int code);
int ft_dist_rank(void);
int ft_dist_size(void);
// "mpi" or "none" (the collectives' implementation), for messages.
const char *ft_dist_backend(void);

// Elements per all-reduce bucket (default 1 << 22 floats = 16 MiB); n > 0 sets it.
size_t ft_dist_bucket(void);
void ft_dist_set_bucket(size_t n);

// Copy bytes of buf from rank root to every rank. 0 / -1 with a message.
int ft_dist_bcast(void *buf, size_t bytes, int root);
// Element-wise sum over the ranks, in place, on every rank (floats in buckets).
int ft_dist_allreduce_f32(float *buf, size_t n);
int ft_dist_allreduce_f64(double *buf, size_t n);
// Element-wise maximum (stop flags: any rank asking to stop makes every rank stop).
int ft_dist_allreduce_max_i32(int32_t *buf, size_t n);
int ft_dist_barrier(void);
// 1 when x is the same on every rank, 0 when not, -1 on error.
int ft_dist_same_u64(uint64_t x);

// Buffers of an op table: on a table whose buffers are host memory, in place; on a device,
// through a host staging copy (kept until ft_dist_finalize). A one-process world: no-ops.
int ft_dist_bcast_buf(const ft_ops *ops, float *buf, size_t n, int root);
int ft_dist_allreduce_buf(const ft_ops *ops, float *buf, size_t n);

// ---- ZeRO-1 (ft-train --zero 1): each rank keeps the AdamW state of its shard only ----------
// Shard r of n parameters: [n*r/size, n*(r+1)/size), cuts rounded down to 16 floats.
void ft_dist_shard(size_t n, int rank, int size, size_t *lo, size_t *hi);
// Make o (an optimizer over all n parameters) the optimizer of the shard [lo, hi): its moments
// cut to the shard (their values kept) and its decay table cut and shifted. Host tables only.
int ft_dist_zero_optim(ft_optim *o, size_t lo, size_t hi);
// The sum over the ranks of this rank's shard [lo, hi) of buf(n), into buf[lo, hi)
// (MPI_Reduce_scatter in place); the rest of buf is left undefined.
int ft_dist_reduce_scatter_shards(float *buf, size_t n);
// buf(n) holds this rank's shard; afterwards every rank's (MPI_Allgatherv in place).
int ft_dist_allgather_shards(float *buf, size_t n);
// The ranks' shards (shard(hi - lo) of each) into full(n) on rank 0 (full: unused elsewhere).
int ft_dist_gather_shards(const float *shard, float *full, size_t n);

// Every rank's bytes (len of buf) concatenated in rank order on rank 0: *all (malloc'd, with a
// NUL after them) and lens[size] there; elsewhere *all = NULL. 0 / -1 with a message.
int ft_dist_gather_bytes(const char *buf, size_t len, char **all, size_t *lens);

// This rank's share of a step's rows. The step's micro-batches hold `total` rows in order;
// the rows are cut into `size` contiguous shares of whole examples of `unit` rows
// (share r = examples [E*r/size, E*(r+1)/size) of E = total/unit). For the micro-batch whose
// rows are the step's rows [first, first + rows), *r0 and *nr receive this rank's rows of it
// (relative to the micro-batch; *nr may be 0).
void ft_dist_rows(uint64_t first, int rows, uint64_t total, int unit, int rank, int size, int *r0, int *nr);

#endif
