/* hops — statistics of a table in one streaming pass: per-column counts,
 * nulls, min, max, mean, std, quantiles, histogram, distinct count and top
 * values, class balance of a label, and Pearson correlations.
 *
 * Counts, nulls, min, max and mean are exact (the mean from an exact sum),
 * std matches a two-pass computation to ~1e-15 relative. Quantiles and the
 * histogram come from a KLL sketch (exact below ~1000 values). Distinct
 * counts and top values are exact while a column has at most 10,000
 * distinct values and no parse chunk (4 MiB) more than 2,048; past that
 * the distinct count comes from HyperLogLog and the top values from a
 * Misra-Gries summary. Each sketched figure states its error in the
 * document. Every result is the same whatever the thread count.
 *
 * The partial/merge pair runs the same statistics over byte ranges of a file
 * in separate processes (MPI ranks, Slurm tasks): the exact results of the
 * merge equal the single-process ones bit for bit, the sketched ones agree
 * within their stated errors.
 */
#ifndef HOPS_STATS_H
#define HOPS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned version;
    hops_read_options read;
    const char *label;  /* a column to report class counts of; NULL: none */
    int correlation;    /* 1: Pearson matrix of the numeric columns (the first 64 of them) */
    int top_k;          /* values listed under "top"; 0: 10 */
    int histogram_bins; /* 0: 10 */
} hops_stats_options;

#define HOPS_STATS_OPTIONS_VERSION 1
#define HOPS_STATS_OPTIONS_INIT                                                                    \
    {                                                                                              \
        HOPS_STATS_OPTIONS_VERSION, HOPS_READ_OPTIONS_INIT, NULL, 1, 10, 10                        \
    }

/* Statistics of the CSV or JSON Lines file at PATH as one JSON document:
 *
 *   {"file", "format", "rows",
 *    "columns": [{"name", "type" (int|float|bool|string|category|timestamp),
 *                 "count", "nulls",
 *                 "numeric": {"min", "max", "mean", "std" (ddof 1),
 *                             "quantiles": {"p1", "p25", "p50", "p75", "p99"},
 *                             "quantile_rank_error",
 *                             "histogram": {"edges", "counts", "count_error"}},
 *                 "distinct", "distinct_error",
 *                 "top": [{"value", "count"}], "top_exact", "top_count_error"}],
 *    "label": {"column", "classes": [{"value", "count"}], "imbalance_ratio"},
 *    "correlation": {"columns", "matrix"}}
 *
 * O may be NULL (defaults). *out_json is owned by the caller: hops_free().
 * Errors: HOPS_ENOTFOUND / HOPS_EIO for the file, HOPS_EPARSE for malformed
 * input (naming file:line:column), HOPS_EINVAL for a label that is not a
 * column (the message lists the columns). */
HOPS_EXTERN hops_status hops_data_stats_json(const char *path, const hops_stats_options *o,
                                             char **out_json);

/* The statistics of the records that start in bytes [BEGIN, END) of PATH (a
 * plain, uncompressed file), as an opaque state of *len_out bytes for
 * hops_data_stats_merge_json (owned: hops_free()). The header is read from
 * the start of the file whatever BEGIN is. */
HOPS_EXTERN hops_status hops_data_stats_partial(const char *path, const hops_stats_options *o,
                                                uint64_t begin, uint64_t end, char **state_out,
                                                size_t *len_out);

/* Merge N partial states, in file order, into the document
 * hops_data_stats_json gives. HOPS_ECORRUPT for a state that is not one
 * (or of other columns); HOPS_EINVAL for a bad label. */
HOPS_EXTERN hops_status hops_data_stats_merge_json(const char *const *states, const size_t *lens,
                                                   size_t n, const hops_stats_options *o,
                                                   char **out_json);

#ifdef __cplusplus
}
#endif
#endif
