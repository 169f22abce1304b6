/* hops — private pieces shared by the files of src/run/. */
#ifndef HOPS_RUN_INTERNAL_H
#define HOPS_RUN_INTERNAL_H

#include <jansson.h>

#include "hops/run.h"
#include "meta/meta.h"

/* A JSON value for a metric: a number, or "NaN" / "Infinity" / "-Infinity"
 * (the protobuf JSON mapping's spelling) since JSON has no such numbers. */
json_t *hops__json_metric(double v);

/* Parse a JSON metric value (number or one of those strings). 0 ok, -1 not a metric. */
int hops__json_metric_value(const json_t *j, double *out);

/* Parse a report line into a JSON object, accepting bare NaN / Infinity /
 * -Infinity tokens as Python's json module writes them. NULL on error with
 * the reason (and column) in ERR. */
json_t *hops__report_parse(const char *line, size_t len, char *err, size_t errlen);

/* Typed JSON for a parameter given as text: integers, floats, true/false
 * become numbers and booleans; anything else stays a string. */
json_t *hops__param_value(const char *text);

/* Filters over run summaries (filter.c). */
typedef struct hops_filter hops_filter;
hops_status hops__filter_parse(hops_filter **out, const char *expr);
int hops__filter_match(const hops_filter *f, const json_t *run);
void hops__filter_free(hops_filter *f);

/* Look up a field such as "metrics.acc", "params.lr", "state" in a run summary. */
const json_t *hops__run_field(const json_t *run, const char *field);

/* Compare two JSON scalars: numbers numerically (numeric strings count as
 * numbers), else as strings. Sets *cmp; returns 0, or -1 when either is
 * missing/NaN (incomparable). */
int hops__json_compare(const json_t *a, const json_t *b, int *cmp);

/* Report lines as they arrive on a pipe (reporter.c). Zero-initialise, set RUN. */
typedef struct {
    hops_run *run;
    hops_buf line;   /* partial report line */
    long line_no;
    long bad;        /* lines that were not valid reports (warned about) */
    int skipping;    /* the current line is over the limit: drop until newline */
} hops_reporter;

void hops__reporter_bytes(hops_reporter *rp, const char *data, size_t n);
void hops__reporter_sink(void *ud, const char *data, size_t n); /* UD: the reporter */
/* The pipe closed: a last line without a newline still counts. */
void hops__reporter_end(hops_reporter *rp);

/* Read what non-blocking FD has, handing each chunk to SINK, for at most
 * MAX_ROUNDS reads (0: until empty). 1 at EOF or an error, 0 while open. */
int hops__drain(int fd, void (*sink)(void *, const char *, size_t), void *ud, int max_rounds);

/* A run that could not be carried out: end R as failed (exit code 1) with
 * the current error message as its reason, keep that message as the error,
 * and return RC. */
hops_status hops__run_fail(hops_run *r, hops_status rc);

#endif
