/* hops-data-rank: one MPI rank of `hops data stats --ranks N`.
 *
 *   mpirun -n N hops-data-rank FILE [--label COL] [--delimiter C] [--no-header]
 *          [--format csv|jsonl] [--threads T]
 *
 * Rank r reads the bytes [r*size/N, (r+1)*size/N) of FILE (records belong to
 * the range their first byte is in), computes the partial statistics, and
 * rank 0 gathers every rank's serialised sketches (MPI_Gatherv), merges them
 * in rank order and prints the stats JSON document. Exit 0 on success; on
 * error every rank stops and rank 0 prints the first error. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hops/hops.h>

static int parse_args(int argc, char **argv, const char **path, hops_stats_options *so)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--label") == 0 && next) {
            so->label = next;
            i++;
        } else if (strcmp(a, "--delimiter") == 0 && next) {
            so->read.delimiter = strcmp(next, "tab") == 0 ? '\t' : next[0];
            i++;
        } else if (strcmp(a, "--format") == 0 && next) {
            so->read.format = strcmp(next, "jsonl") == 0 ? HOPS_FORMAT_JSONL : HOPS_FORMAT_CSV;
            i++;
        } else if (strcmp(a, "--threads") == 0 && next) {
            so->read.threads = atoi(next);
            i++;
        } else if (strcmp(a, "--top") == 0 && next) {
            so->top_k = atoi(next);
            i++;
        } else if (strcmp(a, "--bins") == 0 && next) {
            so->histogram_bins = atoi(next);
            i++;
        } else if (strcmp(a, "--no-correlation") == 0) {
            so->correlation = 0;
        } else if (strcmp(a, "--correlation") == 0) {
            so->correlation = 1;
        } else if (strcmp(a, "--no-header") == 0) {
            so->read.no_header = 1;
        } else if (a[0] != '-' && !*path) {
            *path = a;
        } else {
            fprintf(stderr, "hops-data-rank: unknown argument '%s'\n", a);
            return -1;
        }
    }
    if (!*path) {
        fprintf(stderr, "usage: mpirun -n N hops-data-rank FILE [--label COL] ...\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    hops_stats_options so = HOPS_STATS_OPTIONS_INIT;
    const char *path = NULL;
    char *state = NULL, *all = NULL, *doc = NULL, err[1024] = "";
    size_t len = 0;
    int rank, size, rc = 0, ok, all_ok;
    struct stat st;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (parse_args(argc, argv, &path, &so) != 0) {
        MPI_Finalize();
        return 2;
    }
    if (stat(path, &st) != 0) {
        if (rank == 0)
            fprintf(stderr, "hops data stats: %s: no such file\n", path);
        MPI_Finalize();
        return 4;
    }
    uint64_t total = (uint64_t)st.st_size;
    uint64_t begin = total * (uint64_t)rank / (uint64_t)size;
    uint64_t end = total * (uint64_t)(rank + 1) / (uint64_t)size;
    ok = hops_data_stats_partial(path, &so, begin, end, &state, &len) == HOPS_OK;
    if (!ok)
        snprintf(err, sizeof err, "%s", hops_last_error());
    /* Everyone learns whether anyone failed; the lowest failing rank's message wins. */
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (!all_ok) {
        int first = ok ? size : rank, lowest;
        MPI_Allreduce(&first, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (rank == lowest)
            fprintf(stderr, "hops data stats (rank %d): %s\n", rank, err);
        hops_free(state);
        MPI_Finalize();
        return 1;
    }
    int my_len = (int)len, *lens = NULL, *displs = NULL;
    if (len > (size_t)0x7fffffff) {
        fprintf(stderr, "hops data stats (rank %d): partial state too large\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0) {
        lens = calloc((size_t)size, sizeof *lens);
        displs = calloc((size_t)size, sizeof *displs);
    }
    MPI_Gather(&my_len, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
    long long sum = 0;
    if (rank == 0) {
        for (int r = 0; r < size; r++) {
            displs[r] = (int)sum;
            sum += lens[r];
        }
        all = malloc(sum ? (size_t)sum : 1);
    }
    MPI_Gatherv(state, my_len, MPI_BYTE, all, lens, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        const char **states = calloc((size_t)size, sizeof *states);
        size_t *slens = calloc((size_t)size, sizeof *slens);
        for (int r = 0; r < size; r++) {
            states[r] = all + displs[r];
            slens[r] = (size_t)lens[r];
        }
        if (hops_data_stats_merge_json(states, slens, (size_t)size, &so, &doc) == HOPS_OK) {
            fputs(doc, stdout);
            fputc('\n', stdout);
        } else {
            fprintf(stderr, "hops data stats: merging the ranks' results failed: %s\n",
                    hops_last_error());
            rc = 1;
        }
        hops_free(doc);
        free(states);
        free(slens);
    }
    free(all);
    free(lens);
    free(displs);
    hops_free(state);
    MPI_Finalize();
    return rc;
}
