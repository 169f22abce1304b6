/* hops — collectives for data-parallel training: a communicator of SIZE
 * ranks with all-reduce, broadcast, all-gather and barrier.
 *
 * Ranks find each other through a rendezvous: rank 0 listens on a host:port
 * every rank is given (`hops launch` sets HOPS_RANK, HOPS_WORLD_SIZE and
 * HOPS_RENDEZVOUS), the others connect and learn everybody's address. Then:
 *   - shm: ranks on one host share a memory segment; an all-reduce sums every
 *     rank's values in rank order (bitwise the serial reference), in slices,
 *     with a spinning-then-futex barrier between the phases;
 *   - tcp: a ring of TCP connections; all-reduce is reduce-scatter then
 *     all-gather, each step's segment sent and received at once in chunks
 *     (Patarasuk and Yuan's bandwidth-optimal ring).
 *   - mpi: Open MPI's own collectives on MPI_COMM_WORLD, for jobs mpirun
 *     started (libmpi is loaded at run time; no rendezvous; MPI is finalized
 *     when the communicator closes, so one per process).
 * AUTO takes shm when every rank is on this host, else tcp.
 *
 * Every call is collective: all ranks make the same calls in the same order
 * with the same counts. A rank that dies or stops answering makes the others'
 * calls fail with HOPS_ETIMEDOUT or HOPS_EIO (naming the rank) within the
 * timeout, never hang. After an error the communicator can only be closed.
 * A communicator is not thread-safe.
 */
#ifndef HOPS_COLLECTIVE_H
#define HOPS_COLLECTIVE_H

#include <stddef.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hops_comm hops_comm;

typedef enum {
    HOPS_COMM_AUTO = 0,
    HOPS_COMM_SHM = 1,
    HOPS_COMM_TCP = 2,
    HOPS_COMM_MPI = 3 /* Open MPI's MPI_COMM_WORLD (under mpirun); rank, size from MPI */
} hops_comm_backend;

typedef enum { HOPS_FLOAT32 = 0, HOPS_FLOAT64 = 1 } hops_dtype;

typedef enum {
    HOPS_REDUCE_SUM = 0,
    HOPS_REDUCE_MEAN = 1, /* the sum divided by the size */
    HOPS_REDUCE_MAX = 2
} hops_reduce_op;

typedef struct {
    unsigned version;
    int rank;               /* -1: from HOPS_RANK (or RANK) */
    int size;               /* 0: from HOPS_WORLD_SIZE (or WORLD_SIZE) */
    const char *rendezvous; /* "host:port" of rank 0; NULL: HOPS_RENDEZVOUS */
    hops_comm_backend backend;
    double timeout;         /* seconds a peer may keep us waiting; 0: 60 */
} hops_comm_options;

#define HOPS_COMM_OPTIONS_VERSION 1
#define HOPS_COMM_OPTIONS_INIT {HOPS_COMM_OPTIONS_VERSION, -1, 0, NULL, HOPS_COMM_AUTO, 0}

/* Join the communicator: blocks until every rank has joined (or the timeout
 * passes: HOPS_ETIMEDOUT). HOPS_EINVAL for a missing or bad rank, size or
 * rendezvous, HOPS_ESTATE when the ranks disagree on the size or two claim
 * one rank. The caller owns *out: hops_comm_close(). */
HOPS_EXTERN hops_status hops_comm_open(hops_comm **out, const hops_comm_options *opts);

HOPS_EXTERN int hops_comm_rank(const hops_comm *c);
HOPS_EXTERN int hops_comm_size(const hops_comm *c);
/* "shm", "tcp", "mpi" (or "self" for a communicator of one). */
HOPS_EXTERN const char *hops_comm_backend_name(const hops_comm *c);

/* Reduce COUNT values of type T in BUF across all ranks, in place: every
 * rank ends with the same result. */
HOPS_EXTERN hops_status hops_comm_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                            hops_reduce_op op);

/* Copy BYTES at BUF on rank ROOT into BUF on every rank. */
HOPS_EXTERN hops_status hops_comm_broadcast(hops_comm *c, void *buf, size_t bytes, int root);

/* Every rank's BYTES at SEND, in rank order, into RECV (size * BYTES). */
HOPS_EXTERN hops_status hops_comm_allgather(hops_comm *c, const void *send, size_t bytes,
                                            void *recv);

/* Return once every rank has called it. */
HOPS_EXTERN hops_status hops_comm_barrier(hops_comm *c);

/* Leave and free. Not collective; the others see this rank gone. */
HOPS_EXTERN void hops_comm_close(hops_comm *c);

/* ---- parameter servers ------------------------------------------------
 *
 * A parameter vector of P floats sharded over S servers in contiguous ranges
 * (server s holds [P s / S, P (s+1) / S)), each server also holding its
 * shard's optimizer state. Workers push gradients and pull parameters.
 * Synchronous: a step's update waits for every worker's gradient, sums them
 * in worker order and applies them once, so every worker then pulls the same
 * parameters (data-parallel training with the server as the reducer).
 * Asynchronous: each push is applied when it arrives and answered with the
 * parameters as they are then (Hogwild-style staleness, no waiting).
 * The optimizer is the mlp's: Adam (beta 0.9, 0.999, eps 1e-8, bias-corrected
 * by the server's update count) or SGD with momentum. */
typedef struct hops_ps hops_ps;

typedef struct {
    int adam;        /* 1: Adam, 0: SGD with momentum */
    double lr;
    double momentum; /* SGD */
} hops_ps_optimizer;

/* Serve one shard on PORT (all addresses) for N_WORKERS workers until
 * SIGTERM or SIGINT (as a TensorFlow server joins: `hops launch` stops its
 * parameter servers once the trainers are done); HOPS_OK then. A worker that
 * goes away without saying goodbye, or silence for TIMEOUT seconds in a
 * synchronous step, ends it with an error. */
HOPS_EXTERN hops_status hops_ps_serve(int port, int n_workers, int sync, double timeout);

/* Connect worker WORKER (0: the chief, which initializes the servers) of
 * N_WORKERS to the servers at ADDRS ("host:port", S of them), retrying while
 * they start, for at most TIMEOUT seconds (also each later call's limit). */
HOPS_EXTERN hops_status hops_ps_connect(hops_ps **out, const char *const *addrs, size_t n_servers,
                                        int worker, int n_workers, double timeout);
/* Chief: give the servers the initial PARAMS (N of them) and the optimizer;
 * others send N only. Then every worker gets the servers' parameters into
 * PARAMS. */
HOPS_EXTERN hops_status hops_ps_start(hops_ps *ps, float *params, size_t n,
                                      const hops_ps_optimizer *opt);
/* Push GRAD (P floats) and this worker's LOSS; get the parameters after the
 * update into PARAMS and, synchronous, the step's summed loss (else LOSS). */
HOPS_EXTERN hops_status hops_ps_step(hops_ps *ps, const float *grad, double loss, float *params,
                                     double *total_loss);
/* This worker's index, and how many workers there are. */
HOPS_EXTERN int hops_ps_worker(const hops_ps *ps);
HOPS_EXTERN int hops_ps_workers(const hops_ps *ps);
/* 1 when the servers are synchronous (known once hops_ps_start returned). */
HOPS_EXTERN int hops_ps_sync(const hops_ps *ps);
/* Say goodbye and free. */
HOPS_EXTERN void hops_ps_close(hops_ps *ps);

#ifdef __cplusplus
}
#endif

#endif
