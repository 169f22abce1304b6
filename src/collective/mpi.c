/* The Open MPI backend: the same calls on MPI_COMM_WORLD, for jobs started
 * by mpirun (or srun with PMIx). libmpi is loaded when this backend is first
 * asked for (dlopen), so libhops and every hops command carry no MPI
 * dependency and pay nothing for it. Open MPI's handles (MPI_COMM_WORLD,
 * MPI_FLOAT, MPI_SUM ...) are addresses of its predefined objects, looked up
 * by name; the functions are the standard ones. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "coll_internal.h"

typedef void *handle; /* MPI_Comm, MPI_Datatype, MPI_Op: pointers in Open MPI */

static struct {
    int loaded, initialized_here;
    void *lib;
    int (*initialized)(int *);
    int (*finalized)(int *);
    int (*init_thread)(int *, char ***, int, int *);
    int (*finalize)(void);
    int (*comm_rank)(handle, int *);
    int (*comm_size)(handle, int *);
    int (*allreduce)(const void *, void *, int, handle, handle, handle);
    int (*bcast)(void *, int, handle, int, handle);
    int (*allgather)(const void *, int, handle, void *, int, handle, handle);
    int (*barrier)(handle);
    int (*error_string)(int, char *, int *);
    handle world, f32, f64, byte, sum, max;
} M;

#define MPI_IN_PLACE_ ((void *)1) /* Open MPI's MPI_IN_PLACE */

static hops_status load(void)
{
    static const char *const names[] = {"libmpi.so.40", "libmpi.so"};
    if (M.loaded)
        return HOPS_OK;
    for (size_t i = 0; i < HOPS_ARRAY_LEN(names) && !M.lib; i++)
        M.lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL); /* its plugins need its symbols */
    if (!M.lib)
        return hops__error(HOPS_ENOTFOUND, "the mpi backend needs Open MPI's libmpi (package "
                                           "libopenmpi3): %s", dlerror());
#define SYM(field, name)                                                                   \
    do {                                                                                   \
        void *p_ = dlsym(M.lib, name);                                                     \
        if (!p_)                                                                           \
            return hops__error(HOPS_ENOTFOUND, "libmpi has no %s: not Open MPI?", name);   \
        memcpy(&M.field, &p_, sizeof p_);                                                  \
    } while (0)
    SYM(initialized, "MPI_Initialized");
    SYM(finalized, "MPI_Finalized");
    SYM(init_thread, "MPI_Init_thread");
    SYM(finalize, "MPI_Finalize");
    SYM(comm_rank, "MPI_Comm_rank");
    SYM(comm_size, "MPI_Comm_size");
    SYM(allreduce, "MPI_Allreduce");
    SYM(bcast, "MPI_Bcast");
    SYM(allgather, "MPI_Allgather");
    SYM(barrier, "MPI_Barrier");
    SYM(error_string, "MPI_Error_string");
    SYM(world, "ompi_mpi_comm_world");
    SYM(f32, "ompi_mpi_float");
    SYM(f64, "ompi_mpi_double");
    SYM(byte, "ompi_mpi_byte");
    SYM(sum, "ompi_mpi_op_sum");
    SYM(max, "ompi_mpi_op_max");
#undef SYM
    M.loaded = 1;
    return HOPS_OK;
}

static hops_status check(int e, const char *what)
{
    char msg[512];
    int len = 0;
    if (e == 0)
        return HOPS_OK;
    if (M.error_string(e, msg, &len) != 0)
        snprintf(msg, sizeof msg, "error %d", e);
    return hops__error(HOPS_EIO, "%s: %s", what, msg);
}

hops_status hops__mpi_open(hops_comm *c)
{
    hops_status rc = load();
    int flag = 0, provided = 0, rank = 0, size = 0;
    if (rc != HOPS_OK)
        return rc;
    M.finalized(&flag);
    if (flag)
        return hops__error(HOPS_ESTATE, "MPI was finalized already: one mpi communicator per "
                                        "process");
    M.initialized(&flag);
    if (!flag) {
        if ((rc = check(M.init_thread(NULL, NULL, 0 /* MPI_THREAD_SINGLE */, &provided),
                        "MPI_Init_thread")) != HOPS_OK)
            return rc;
        M.initialized_here = 1;
    }
    M.comm_rank(M.world, &rank);
    M.comm_size(M.world, &size);
    if ((c->rank >= 0 && c->rank != rank) || (c->size > 0 && c->size != size))
        return hops__error(HOPS_ESTATE, "MPI says rank %d of %d, the options rank %d of %d", rank,
                           size, c->rank, c->size);
    c->rank = rank;
    c->size = size;
    c->backend = HOPS_COMM_MPI;
    return HOPS_OK;
}

void hops__mpi_close(hops_comm *c)
{
    int done = 0;
    if (c->backend != HOPS_COMM_MPI || !M.initialized_here)
        return;
    M.finalized(&done);
    if (!done)
        M.finalize(); /* mpirun treats a rank that exits without it as failed */
    M.initialized_here = 0;
}

hops_status hops__mpi_allreduce(hops_comm *c, void *buf, size_t count, hops_dtype t,
                                hops_reduce_op op)
{
    const size_t esz = hops__dtype_size(t), step = INT_MAX / 8;
    (void)c;
    for (size_t off = 0; off < count; off += step) {
        int n = (int)(count - off < step ? count - off : step);
        hops_status rc = check(M.allreduce(MPI_IN_PLACE_, (char *)buf + off * esz, n,
                                           t == HOPS_FLOAT64 ? M.f64 : M.f32,
                                           op == HOPS_REDUCE_MAX ? M.max : M.sum, M.world),
                               "MPI_Allreduce");
        if (rc != HOPS_OK)
            return rc;
    }
    return HOPS_OK;
}

hops_status hops__mpi_broadcast(hops_comm *c, void *buf, size_t bytes, int root)
{
    const size_t step = INT_MAX;
    (void)c;
    for (size_t off = 0; off < bytes; off += step) {
        int n = (int)(bytes - off < step ? bytes - off : step);
        hops_status rc = check(M.bcast((char *)buf + off, n, M.byte, root, M.world), "MPI_Bcast");
        if (rc != HOPS_OK)
            return rc;
    }
    return HOPS_OK;
}

hops_status hops__mpi_allgather(hops_comm *c, const void *send, size_t bytes, void *recv)
{
    if (bytes > INT_MAX)
        return hops__error(HOPS_EINVAL, "allgather over mpi: at most %d bytes per rank", INT_MAX);
    (void)c;
    return check(M.allgather(send, (int)bytes, M.byte, recv, (int)bytes, M.byte, M.world),
                 "MPI_Allgather");
}

hops_status hops__mpi_barrier(hops_comm *c)
{
    (void)c;
    return check(M.barrier(M.world), "MPI_Barrier");
}
