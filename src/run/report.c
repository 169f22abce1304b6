/* The trial side of the protocol: JSON lines to $HOPS_REPORT. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_internal.h"

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static int report_fd = -1;
static char report_path[4096];

/* Open $HOPS_REPORT once (again if it changed). Called with the lock held. */
static hops_status report_open(void)
{
    const char *path = getenv("HOPS_REPORT");
    if (!path || !*path)
        return hops__error(HOPS_ENOTFOUND,
                           "HOPS_REPORT is not set: this program is not running under hops "
                           "(start it with `hops run -- CMD`)");
    if (report_fd >= 0 && strcmp(path, report_path) == 0)
        return HOPS_OK;
    if (report_fd >= 0)
        close(report_fd);
    report_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (report_fd < 0)
        return hops__error(HOPS_EIO, "cannot open HOPS_REPORT '%s': %s", path, strerror(errno));
    hops__strlcpy(report_path, path, sizeof report_path);
    return HOPS_OK;
}

static void put_json_string(hops_buf *b, const char *s)
{
    hops__buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            hops__buf_put(b, esc, 2);
        } else if (c < 0x20)
            hops__buf_printf(b, "\\u%04x", c);
        else
            hops__buf_put(b, s, 1);
    }
    hops__buf_put(b, "\"", 1);
}

static void put_number(hops_buf *b, double v)
{
    if (isnan(v))
        hops__buf_puts(b, "\"NaN\"");
    else if (isinf(v))
        hops__buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else {
        /* The shortest of 15, 16, 17 digits that reads back the same double. */
        char num[32];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, v);
            if (prec == 17 || strtod(num, NULL) == v)
                break;
        }
        hops__buf_puts(b, num);
    }
}

static hops_status put_pairs(hops_buf *b, size_t n, const char *const *keys, const double *values)
{
    hops__buf_put(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (!keys[i] || !*keys[i])
            return hops__error(HOPS_EINVAL, "metric %zu has no name", i + 1);
        if (i)
            hops__buf_put(b, ",", 1);
        put_json_string(b, keys[i]);
        hops__buf_put(b, ":", 1);
        put_number(b, values[i]);
    }
    hops__buf_put(b, "}", 1);
    return HOPS_OK;
}

static hops_status send_line(hops_buf *b)
{
    hops_status rc;
    if (!b->data)
        return hops__error(HOPS_ENOMEM, "out of memory");
    hops__buf_put(b, "\n", 1);
    pthread_mutex_lock(&report_lock);
    rc = report_open();
    if (rc == HOPS_OK && hops__write_all(report_fd, b->data, b->len) != 0)
        rc = hops__error(HOPS_EIO, "cannot write to HOPS_REPORT: %s", strerror(errno));
    pthread_mutex_unlock(&report_lock);
    hops__buf_free(b);
    return rc;
}

hops_status hops_report_step(int64_t step, size_t n, const char *const *keys, const double *values)
{
    hops_buf b = HOPS_BUF_INIT;
    hops_status rc;
    hops__buf_printf(&b, "{\"step\":%lld,\"metrics\":", (long long)step);
    if ((rc = put_pairs(&b, n, keys, values)) != HOPS_OK) {
        hops__buf_free(&b);
        return rc;
    }
    hops__buf_put(&b, "}", 1);
    return send_line(&b);
}

hops_status hops_report_metric(const char *key, int64_t step, double value)
{
    return hops_report_step(step, 1, &key, &value);
}

hops_status hops_report_finals(size_t n, const char *const *keys, const double *values)
{
    hops_buf b = HOPS_BUF_INIT;
    hops_status rc;
    hops__buf_puts(&b, "{\"final\":");
    if ((rc = put_pairs(&b, n, keys, values)) != HOPS_OK) {
        hops__buf_free(&b);
        return rc;
    }
    hops__buf_put(&b, "}", 1);
    return send_line(&b);
}

hops_status hops_report_final(const char *key, double value)
{
    return hops_report_finals(1, &key, &value);
}
