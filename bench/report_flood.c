/* report_flood: a trial that reports N metric points as fast as it can.
 *
 *   report_flood N K [api|raw]
 *
 * Reports N points as N/K lines of the trial protocol's shape
 *   {"step": i, "metrics": {"loss": x, ...}}          (K metrics per line)
 * to $HOPS_REPORT, then exits 0. N must be a multiple of K (1 <= K <= 4).
 *
 *   api  (default) through hops_report_step() from include/hops/run.h: the
 *        line is formatted by the library and written with one write() each,
 *        exactly as a C trial would report;
 *   raw  lines formatted here with snprintf and handed to write() in 64 KiB
 *        batches: the cheapest possible writer, so the time left is hops's.
 *
 * Used by bench/metrics_ingest; not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hops/run.h"

static const char *const names[4] = {"loss", "accuracy", "lr", "grad_norm"};

/* A plausible training curve: decaying loss, rising accuracy, cosine-ish lr. */
static void values_at(long i, double *v)
{
    double t = (double)i;
    v[0] = 2.5 / (1.0 + 1e-4 * t) + 1e-3 * (double)(i % 17);
    v[1] = 1.0 - 0.9 / (1.0 + 1e-4 * t);
    v[2] = 1e-3 * (1.0 - t / (t + 1e6));
    v[3] = 0.5 + 0.25 * (double)(i % 7) / 7.0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int run_raw(long lines, int k)
{
    const char *path = getenv("HOPS_REPORT");
    static char buf[1 << 16];
    size_t len = 0;
    int fd;
    if (!path || !*path) {
        fprintf(stderr, "report_flood: HOPS_REPORT is not set\n");
        return 1;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "report_flood: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (long i = 0; i < lines; i++) {
        double v[4];
        int n;
        values_at(i, v);
        if (sizeof buf - len < 512) {
            if (write_all(fd, buf, len) != 0)
                goto fail;
            len = 0;
        }
        n = snprintf(buf + len, sizeof buf - len, "{\"step\":%ld,\"metrics\":{", i);
        len += (size_t)n;
        for (int j = 0; j < k; j++) {
            n = snprintf(buf + len, sizeof buf - len, "%s\"%s\":%.17g", j ? "," : "", names[j],
                         v[j]);
            len += (size_t)n;
        }
        buf[len++] = '}';
        buf[len++] = '}';
        buf[len++] = '\n';
    }
    if (write_all(fd, buf, len) != 0)
        goto fail;
    close(fd);
    return 0;
fail:
    fprintf(stderr, "report_flood: write: %s\n", strerror(errno));
    close(fd);
    return 1;
}

static int run_api(long lines, int k)
{
    for (long i = 0; i < lines; i++) {
        double v[4];
        values_at(i, v);
        hops_status rc = hops_report_step(i, (size_t)k, names, v);
        if (rc != HOPS_OK) {
            fprintf(stderr, "report_flood: hops_report_step: %s\n", hops_last_error());
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    long n, k;
    const char *mode = argc > 3 ? argv[3] : "api";
    if (argc < 3 || (n = strtol(argv[1], NULL, 10)) <= 0 || (k = strtol(argv[2], NULL, 10)) < 1 ||
        k > 4 || n % k != 0 || (strcmp(mode, "api") != 0 && strcmp(mode, "raw") != 0)) {
        fprintf(stderr, "usage: report_flood N K [api|raw]   (N points, K per line, K in 1..4, "
                        "K divides N)\n");
        return 2;
    }
    return strcmp(mode, "raw") == 0 ? run_raw(n / k, (int)k) : run_api(n / k, (int)k);
}
