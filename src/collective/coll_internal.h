/* hops — private: the communicator shared by comm.c (rendezvous, dispatch),
 * ring.c (the TCP ring) and shm.c (shared memory). */
#ifndef HOPS_COLL_INTERNAL_H
#define HOPS_COLL_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "core/core.h"
#include "hops/collective.h"

#define HOPS_COMM_MAX_RANKS 1024

/* The shared segment: this header (one page), then two result areas and two
 * slots per rank (double-buffered: slice k uses set k % 2), each SLOT bytes. */
typedef struct {
    uint32_t magic;
    uint32_t size;
    uint64_t slot_bytes;
    _Atomic uint32_t arrived; /* ranks at the current barrier */
    _Atomic uint32_t gen;     /* barriers completed (the futex word) */
    _Atomic uint32_t sleepers; /* ranks in FUTEX_WAIT: only then is a wake needed */
    _Atomic int32_t pid[HOPS_COMM_MAX_RANKS];
    _Atomic uint32_t seen[HOPS_COMM_MAX_RANKS]; /* the barrier each rank last reached */
} hops_shm_header;

struct hops_comm {
    int rank, size;
    hops_comm_backend backend; /* resolved: SHM, TCP or MPI (AUTO only for size 1) */
    double timeout;
    int failed; /* after an error only close works */
    /* tcp */
    int next_fd, prev_fd;
    char *tmp;
    size_t tmp_cap;
    /* shm */
    void *shm;
    size_t shm_len;
    hops_shm_header *hdr;
    size_t slot_bytes;
    unsigned parity; /* which buffer set the next slice uses */
};

/* "host:port" (a name or an IPv4 address) into *OUT (and *PORT, may be
 * NULL); errors name WHAT. */
hops_status hops__parse_host_port(const char *spec, const char *what, struct sockaddr_in *out,
                                  int *port);
/* Send (WRITING) or receive exactly N bytes on FD (blocking or not) before
 * DEADLINE (monotonic); errors name WHAT. */
hops_status hops__io_full(int fd, void *buf, size_t n, int writing, double deadline,
                          const char *what);
/* Connect to ADDR, retrying while nobody listens yet, until DEADLINE
 * (monotonic); *OUT non-blocking with TCP_NODELAY. Errors name WHAT. */
hops_status hops__connect_retry(const struct sockaddr_in *addr, double deadline, int *out,
                                const char *what);

/* dst[i] = op(dst[i], src[i]) for N values of type T (SUM for MEAN). */
void hops__reduce(void *dst, const void *src, size_t n, hops_dtype t, hops_reduce_op op);
size_t hops__dtype_size(hops_dtype t);

hops_status hops__ring_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                 hops_reduce_op op);
hops_status hops__ring_broadcast(hops_comm *c, void *buf, size_t bytes, int root);
hops_status hops__ring_allgather(hops_comm *c, const void *send, size_t bytes, void *recv);

/* Map the segment NAME (created by rank 0 with hops__shm_create). */
hops_status hops__shm_create(hops_comm *c, char *name, size_t name_len);
hops_status hops__shm_attach(hops_comm *c, const char *name);
void hops__shm_detach(hops_comm *c);
hops_status hops__shm_barrier(hops_comm *c);
hops_status hops__shm_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                hops_reduce_op op);
hops_status hops__shm_broadcast(hops_comm *c, void *buf, size_t bytes, int root);
hops_status hops__shm_allgather(hops_comm *c, const void *send, size_t bytes, void *recv);

/* ps.c, for the fuzz target: a 2-worker synchronous server fed N bytes as
 * one connection's stream (its replies go to /dev/null). */
hops_status hops__ps_feed(const unsigned char *data, size_t n);

hops_status hops__mpi_open(hops_comm *c);
void hops__mpi_close(hops_comm *c);
hops_status hops__mpi_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                hops_reduce_op op);
hops_status hops__mpi_broadcast(hops_comm *c, void *buf, size_t bytes, int root);
hops_status hops__mpi_allgather(hops_comm *c, const void *send, size_t bytes, void *recv);
hops_status hops__mpi_barrier(hops_comm *c);

#endif
