/* bench/allreduce's MPI program: hops_comm_allreduce vs MPI_Allreduce in
 * the same ranks, same host, same run (built by CMake when Open MPI is found
 * as build/hops-bench-allreduce; run through bench/allreduce).
 *
 * For each size (float32 sums), both are warmed up, then timed alternately
 * in rounds, so drift on a shared host hits both alike; per size the median
 * of the rounds' mean latency is reported, with the bus bandwidth
 * size * 2 (n - 1) / n / time (NCCL's definition: comparable across rank
 * counts). Every result is checked against MPI's and the serial reference.
 * Rank 0 prints one JSON object per size on stdout. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hops/collective.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill(float *x, size_t n, int rank)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((i * 7 + (size_t)rank * 13) % 1000) - 500.0f;
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *backend = argc > 1 ? argv[1] : "shm";
    size_t max_bytes = argc > 2 ? strtoull(argv[2], NULL, 10) : (256u << 20);
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    int port = 0;
    if (rank == 0)
        port = 20000 + (int)(now() * 1000) % 20000; /* rank 0 listens; a clash fails loudly */
    MPI_Bcast(&port, 1, MPI_INT, 0, MPI_COMM_WORLD);
    char rv[64];
    snprintf(rv, sizeof rv, "127.0.0.1:%d", port);
    hops_comm_options o = HOPS_COMM_OPTIONS_INIT;
    o.rank = rank;
    o.size = size;
    o.rendezvous = rv;
    o.backend = strcmp(backend, "tcp") == 0 ? HOPS_COMM_TCP : HOPS_COMM_SHM;
    hops_comm *c;
    if (hops_comm_open(&c, &o) != HOPS_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, hops_last_error());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    size_t max_n = max_bytes / 4;
    float *a = malloc(max_n * 4), *b = malloc(max_n * 4);
    double *ht = malloc((size_t)rounds * sizeof *ht), *mt = malloc((size_t)rounds * sizeof *mt);
    if (!a || !b || !ht || !mt)
        MPI_Abort(MPI_COMM_WORLD, 3);
    int bad = 0;
    for (size_t bytes = 4096; bytes <= max_bytes; bytes *= 4) {
        size_t n = bytes / 4;
        /* Correctness first: both give the serial sum (exact: small integers). */
        fill(a, n, rank);
        fill(b, n, rank);
        if (hops_comm_allreduce(c, a, n, HOPS_FLOAT32, HOPS_REDUCE_SUM) != HOPS_OK) {
            fprintf(stderr, "rank %d: %s\n", rank, hops_last_error());
            MPI_Abort(MPI_COMM_WORLD, 4);
        }
        MPI_Allreduce(MPI_IN_PLACE, b, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (size_t i = 0; i < n; i++) {
            float want = 0;
            for (int r = 0; r < size; r++)
                want += (float)((i * 7 + (size_t)r * 13) % 1000) - 500.0f;
            if (a[i] != want || b[i] != want) {
                bad = 1;
                break;
            }
        }
        int iters = bytes <= (64u << 10) ? 2000 : bytes <= (4u << 20) ? 100 : bytes <= (64u << 20) ? 10 : 3;
        for (int w = 0; w < 3; w++) { /* warm-up: pages, caches, connections */
            hops_comm_allreduce(c, a, n, HOPS_FLOAT32, HOPS_REDUCE_SUM);
            MPI_Allreduce(MPI_IN_PLACE, b, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        }
        for (int round = 0; round < rounds; round++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = now();
            for (int it = 0; it < iters; it++)
                if (hops_comm_allreduce(c, a, n, HOPS_FLOAT32, HOPS_REDUCE_SUM) != HOPS_OK)
                    MPI_Abort(MPI_COMM_WORLD, 5);
            double t1 = now();
            MPI_Barrier(MPI_COMM_WORLD);
            double t2 = now();
            for (int it = 0; it < iters; it++)
                MPI_Allreduce(MPI_IN_PLACE, b, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double t3 = now();
            /* The slowest rank's time counts. */
            double mine[2] = {(t1 - t0) / iters, (t3 - t2) / iters}, worst[2];
            MPI_Allreduce(mine, worst, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            ht[round] = worst[0];
            mt[round] = worst[1];
        }
        qsort(ht, (size_t)rounds, sizeof *ht, cmp_double);
        qsort(mt, (size_t)rounds, sizeof *mt, cmp_double);
        double h = ht[rounds / 2], m = mt[rounds / 2];
        double factor = 2.0 * (size - 1) / size;
        if (rank == 0) {
            printf("{\"bytes\": %zu, \"ranks\": %d, \"backend\": \"%s\", \"hops_s\": %.9g, "
                   "\"mpi_s\": %.9g, \"hops_busbw\": %.6g, \"mpi_busbw\": %.6g, \"correct\": %s}\n",
                   bytes, size, hops_comm_backend_name(c), h, m, bytes * factor / h,
                   bytes * factor / m, bad ? "false" : "true");
            fflush(stdout);
        }
    }
    hops_comm_close(c);
    free(a);
    free(b);
    free(ht);
    free(mt);
    MPI_Finalize();
    return bad ? 1 : 0;
}
