/* Report lines of the trial protocol as they arrive on a pipe: split at
 * newlines, each whole line ingested into the run, a line over MAX_LINE
 * bytes dropped with a warning. Shared by hops run (exec.c) and hops launch
 * (launch.c, launch_cluster.c). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "run_internal.h"

#define MAX_LINE (1u << 20)

static void report_line(hops_reporter *rp, const char *s, size_t n)
{
    hops_status rc;
    rp->line_no++;
    if (n == 0 || (n == 1 && s[0] == '\r'))
        return;
    rc = hops_run_ingest_line(rp->run, s, n);
    if (rc == HOPS_EPARSE) {
        rp->bad++;
        hops_log(HOPS_LOG_WARN, "run %s: report line %ld ignored: %s (kept in report.jsonl)",
                 hops_run_id(rp->run), rp->line_no, hops_last_error());
    } else if (rc != HOPS_OK) {
        hops_log(HOPS_LOG_WARN, "run %s: report line %ld: %s", hops_run_id(rp->run), rp->line_no,
                 hops_last_error());
    }
}

void hops__reporter_bytes(hops_reporter *rp, const char *data, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (rp->skipping) {
            if (nl)
                rp->skipping = 0;
        } else if (rp->line.len + take > MAX_LINE) {
            rp->line_no++;
            rp->bad++;
            hops_log(HOPS_LOG_WARN, "run %s: report line %ld is over %u bytes; ignored",
                     hops_run_id(rp->run), rp->line_no, MAX_LINE);
            rp->line.len = 0;
            rp->skipping = !nl;
        } else if (nl && rp->line.len == 0) {
            report_line(rp, data, take); /* fast path: whole line in the chunk */
        } else {
            hops__buf_put(&rp->line, data, take);
            if (nl) {
                report_line(rp, rp->line.data, rp->line.len);
                rp->line.len = 0;
            }
        }
        if (!nl)
            break;
        data = nl + 1;
        n -= take + 1;
    }
}

void hops__reporter_sink(void *ud, const char *data, size_t n) { hops__reporter_bytes(ud, data, n); }

void hops__reporter_end(hops_reporter *rp)
{
    if (rp->line.len && !rp->skipping)
        report_line(rp, rp->line.data, rp->line.len);
    rp->line.len = 0;
    rp->skipping = 0;
}

int hops__drain(int fd, void (*sink)(void *, const char *, size_t), void *ud, int max_rounds)
{
    char buf[65536];
    for (int rounds = 0; max_rounds == 0 || rounds < max_rounds; rounds++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            sink(ud, buf, (size_t)n);
            continue;
        }
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN ? 0 : 1;
    }
    return 0;
}
