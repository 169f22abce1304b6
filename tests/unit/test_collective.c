/* Collectives with real processes: N ranks are forked, meet through a real
 * rendezvous on a free port, and check every call against a serial
 * reference each rank computes itself (everyone's input is a function of
 * rank and index). Both backends, 2 to 4 ranks, counts from 1 to past two
 * shm slices and not divisible by the size, float32 and float64, sum, mean
 * and max. A rank that dies or hangs makes the others fail, naming it. */
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hops/collective.h"

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Rank R's input value I: integers (sums are exact in any order) or, for
 * the shm backend's bitwise check, arbitrary fractions. */
static double input(int r, size_t i, int fractional)
{
    uint64_t x = (uint64_t)(r + 1) * 0x9e3779b97f4a7c15ULL + i * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 32;
    double v = (double)(x % 2001) - 1000.0;
    return fractional ? v / 7.0 + (double)r / 3.0 : v;
}

static int child_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static const size_t counts[] = {1, 2, 3, 7, 1000, 4097, 262147, 1048583, 2621443};

/* One rank's work; returns its exit code. */
static int rank_main(int rank, int size, int port, hops_comm_backend backend)
{
    hops_comm_options o = HOPS_COMM_OPTIONS_INIT;
    char rv[64];
    hops_comm *c;
    snprintf(rv, sizeof rv, "127.0.0.1:%d", port);
    o.rank = rank;
    o.size = size;
    o.rendezvous = rv;
    o.backend = backend;
    o.timeout = 20;
    if (hops_comm_open(&c, &o) != HOPS_OK)
        return child_fail("rank %d: open: %s", rank, hops_last_error());
    if (backend == HOPS_COMM_MPI) { /* MPI tells */
        rank = hops_comm_rank(c);
        size = hops_comm_size(c);
    }
    const char *want = backend == HOPS_COMM_SHM ? "shm" : backend == HOPS_COMM_MPI ? "mpi" : "tcp";
    if (strcmp(hops_comm_backend_name(c), want) != 0 || hops_comm_rank(c) != rank ||
        hops_comm_size(c) != size)
        return child_fail("rank %d: backend %s, rank %d, size %d", rank,
                          hops_comm_backend_name(c), hops_comm_rank(c), hops_comm_size(c));
    int frac = backend == HOPS_COMM_SHM; /* shm sums in rank order: bitwise */
    if (backend == HOPS_COMM_MPI && size != 2)
        return child_fail("mpi: %d ranks, 2 expected", size);
    for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
        size_t n = counts[ci];
        for (int t = 0; t < 2; t++) {
            for (int op = 0; op < 3; op++) {
                size_t esz = t ? 8 : 4;
                char *buf = malloc(n * esz);
                if (!buf)
                    return child_fail("out of memory");
                for (size_t i = 0; i < n; i++) {
                    double v = input(rank, i, frac);
                    if (t)
                        ((double *)buf)[i] = v;
                    else
                        ((float *)buf)[i] = (float)v;
                }
                if (hops_comm_allreduce(c, buf, n, t ? HOPS_FLOAT64 : HOPS_FLOAT32,
                                        (hops_reduce_op)op) != HOPS_OK)
                    return child_fail("rank %d: allreduce n=%zu: %s", rank, n, hops_last_error());
                for (size_t i = 0; i < n; i++) {
                    double ref = 0, got;
                    float reff = 0;
                    for (int r = 0; r < size; r++) {
                        double v = input(r, i, frac);
                        if (op == HOPS_REDUCE_MAX) {
                            ref = r == 0 || v > ref ? v : ref;
                            reff = r == 0 || (float)v > reff ? (float)v : reff;
                        } else {
                            ref = r == 0 ? v : ref + v;
                            reff = r == 0 ? (float)v : reff + (float)v;
                        }
                    }
                    if (op == HOPS_REDUCE_MEAN) {
                        ref /= size;
                        reff /= (float)size;
                    }
                    got = t ? ((double *)buf)[i] : ((float *)buf)[i];
                    double expect = t ? ref : reff;
                    if (got != expect)
                        return child_fail("rank %d: %s %s n=%zu [%zu]: %.17g, serial %.17g",
                                          rank, t ? "f64" : "f32",
                                          op == 0 ? "sum" : op == 1 ? "mean" : "max", n, i, got,
                                          expect);
                }
                free(buf);
            }
        }
        /* Broadcast from the last rank, all-gather of N bytes. */
        unsigned char *b = malloc(n), *all = malloc(n * (size_t)size);
        if (!b || !all)
            return child_fail("out of memory");
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)(rank == size - 1 ? i * 7 + 1 : 0);
        if (hops_comm_broadcast(c, b, n, size - 1) != HOPS_OK)
            return child_fail("rank %d: broadcast: %s", rank, hops_last_error());
        for (size_t i = 0; i < n; i++)
            if (b[i] != (unsigned char)(i * 7 + 1))
                return child_fail("rank %d: broadcast n=%zu differs at %zu", rank, n, i);
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)(rank * 31 + i);
        if (hops_comm_allgather(c, b, n, all) != HOPS_OK)
            return child_fail("rank %d: allgather: %s", rank, hops_last_error());
        for (int r = 0; r < size; r++)
            for (size_t i = 0; i < n; i++)
                if (all[(size_t)r * n + i] != (unsigned char)(r * 31 + i))
                    return child_fail("rank %d: allgather n=%zu: rank %d's byte %zu", rank, n, r, i);
        free(b);
        free(all);
        if (hops_comm_barrier(c) != HOPS_OK)
            return child_fail("rank %d: barrier: %s", rank, hops_last_error());
    }
    hops_comm_close(c);
    return 0;
}

static void run_ranks(int size, hops_comm_backend backend)
{
    int port = free_port();
    pid_t pids[8];
    for (int r = 0; r < size; r++) {
        pids[r] = fork();
        assert_true(pids[r] >= 0);
        if (pids[r] == 0)
            _exit(rank_main(r, size, port, backend));
    }
    for (int r = 0; r < size; r++) {
        int st;
        assert_int_equal(waitpid(pids[r], &st, 0), pids[r]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
}

/* The mpi backend: the same checks in 2 ranks that mpirun starts (this
 * program again, with the argument "mpi-rank"). */
static char self_path[4096];

static void test_mpi_2(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("ASAN_OPTIONS", "detect_leaks=0", 1); /* libmpi's own allocations */
        char *argv[] = {"mpirun", "-np", "2", "--oversubscribe", "--allow-run-as-root", self_path,
                        "mpi-rank", NULL};
        if (geteuid() != 0) {
            argv[4] = self_path;
            argv[5] = "mpi-rank";
            argv[6] = NULL;
        }
        execvp("mpirun", argv);
        fprintf(stderr, "cannot run mpirun (openmpi-bin, from scripts/install-deps.sh)\n");
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_tcp_2(void **state) { (void)state; run_ranks(2, HOPS_COMM_TCP); }
static void test_tcp_3(void **state) { (void)state; run_ranks(3, HOPS_COMM_TCP); }
static void test_shm_2(void **state) { (void)state; run_ranks(2, HOPS_COMM_SHM); }
static void test_shm_4(void **state) { (void)state; run_ranks(4, HOPS_COMM_SHM); }

/* A rank that dies in the middle: the others' next call fails, naming it,
 * well within the timeout (a closed socket or a vanished pid is seen at
 * once). A rank that hangs: the others fail at the timeout. */
static int victim_main(int rank, int port, hops_comm_backend backend, int hang, const char *log)
{
    hops_comm_options o = HOPS_COMM_OPTIONS_INIT;
    char rv[64];
    hops_comm *c;
    snprintf(rv, sizeof rv, "127.0.0.1:%d", port);
    o.rank = rank;
    o.size = 2;
    o.rendezvous = rv;
    o.backend = backend;
    o.timeout = 2;
    if (hops_comm_open(&c, &o) != HOPS_OK)
        return child_fail("rank %d: open: %s", rank, hops_last_error());
    float x[1000] = {0};
    if (hops_comm_allreduce(c, x, 1000, HOPS_FLOAT32, HOPS_REDUCE_SUM) != HOPS_OK)
        return child_fail("rank %d: first allreduce: %s", rank, hops_last_error());
    if (rank == 1) {
        if (hang)
            pause();
        _exit(0); /* gone without a word */
    }
    hops_status rc = hops_comm_allreduce(c, x, 1000, HOPS_FLOAT32, HOPS_REDUCE_SUM);
    FILE *f = fopen(log, "w");
    if (f) {
        fprintf(f, "%d %s", (int)rc, hops_last_error());
        fclose(f);
    }
    /* After an error only close works. */
    if (rc != HOPS_OK && hops_comm_barrier(c) != HOPS_ESTATE)
        return 3;
    hops_comm_close(c);
    return rc == HOPS_OK ? 2 : 0;
}

static void check_victim(hops_comm_backend backend, int hang, int want_status, const char *want_msg)
{
    char log[] = "/tmp/hops-coll-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    int port = free_port();
    pid_t p0 = fork();
    if (p0 == 0)
        _exit(victim_main(0, port, backend, hang, log));
    pid_t p1 = fork();
    if (p1 == 0)
        _exit(victim_main(1, port, backend, hang, log));
    int st;
    assert_int_equal(waitpid(p0, &st, 0), p0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    kill(p1, SIGKILL);
    waitpid(p1, &st, 0);
    char msg[512] = "";
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    int status = 0;
    assert_int_equal(fscanf(f, "%d %511[^\n]", &status, msg), 2);
    fclose(f);
    unlink(log);
    assert_int_equal(status, want_status);
    if (!strstr(msg, want_msg))
        fail_msg("message '%s' lacks '%s'", msg, want_msg);
}

static void test_dead_rank_tcp(void **state)
{
    (void)state;
    check_victim(HOPS_COMM_TCP, 0, HOPS_EIO, "rank 1");
}

static void test_dead_rank_shm(void **state)
{
    (void)state;
    check_victim(HOPS_COMM_SHM, 0, HOPS_EIO, "rank 1");
}

static void test_hung_rank_tcp(void **state)
{
    (void)state;
    check_victim(HOPS_COMM_TCP, 1, HOPS_ETIMEDOUT, "rank 1");
}

static void test_hung_rank_shm(void **state)
{
    (void)state;
    check_victim(HOPS_COMM_SHM, 1, HOPS_ETIMEDOUT, "rank(s) 1");
}

static void test_bad_options(void **state)
{
    (void)state;
    hops_comm_options o = HOPS_COMM_OPTIONS_INIT;
    hops_comm *c = NULL;
    unsetenv("HOPS_RANK");
    unsetenv("RANK");
    assert_int_equal(hops_comm_open(&c, &o), HOPS_EINVAL); /* no rank anywhere */
    assert_non_null(strstr(hops_last_error(), "HOPS_RANK"));
    o.rank = 2;
    o.size = 2;
    assert_int_equal(hops_comm_open(&c, &o), HOPS_EINVAL);
    o.rank = 0;
    o.rendezvous = "no-port-here";
    assert_int_equal(hops_comm_open(&c, &o), HOPS_EINVAL);
    o.rendezvous = "127.0.0.1:99999";
    assert_int_equal(hops_comm_open(&c, &o), HOPS_EINVAL);
    /* Nobody else comes: rank 0 gives up at the timeout. */
    char rv[64];
    snprintf(rv, sizeof rv, "127.0.0.1:%d", free_port());
    o.rendezvous = rv;
    o.timeout = 0.5;
    assert_int_equal(hops_comm_open(&c, &o), HOPS_ETIMEDOUT);
    assert_non_null(strstr(hops_last_error(), "1 more rank"));
    /* A communicator of one needs nobody. */
    o.size = 1;
    assert_int_equal(hops_comm_open(&c, &o), HOPS_OK);
    double v[3] = {1, 2, 3};
    assert_int_equal(hops_comm_allreduce(c, v, 3, HOPS_FLOAT64, HOPS_REDUCE_MEAN), HOPS_OK);
    assert_true(v[0] == 1 && v[2] == 3);
    assert_string_equal(hops_comm_backend_name(c), "self");
    assert_int_equal(hops_comm_broadcast(c, v, sizeof v, 1), HOPS_EINVAL);
    assert_int_equal(hops_comm_allreduce(c, v, 3, (hops_dtype)7, HOPS_REDUCE_SUM), HOPS_EINVAL);
    hops_comm_close(c);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "mpi-rank") == 0)
        return rank_main(-1, 0, 0, HOPS_COMM_MPI);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0)
        self_path[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),   cmocka_unit_test(test_tcp_2),
        cmocka_unit_test(test_tcp_3),         cmocka_unit_test(test_shm_2),
        cmocka_unit_test(test_shm_4),         cmocka_unit_test(test_dead_rank_tcp),
        cmocka_unit_test(test_dead_rank_shm), cmocka_unit_test(test_hung_rank_tcp),
        cmocka_unit_test(test_hung_rank_shm), cmocka_unit_test(test_mpi_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
