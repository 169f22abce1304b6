/* hops — the data report: one self-contained HTML file with plots.
 *
 * The report renders the statistics document of stats.h (hops_data_stats_json)
 * as HTML with inline CSS and inline SVG only: no scripts, no fonts, no URLs,
 * so it opens offline and can be mailed around. A Content-Security-Policy in
 * the page forbids every load and every script as a second line of defence.
 * Every string that comes from the data (column names, values, the file name)
 * is escaped for HTML.
 */
#ifndef HOPS_REPORT_H
#define HOPS_REPORT_H

#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned version;
    hops_read_options read; /* how to read the file */
    const char *label;      /* a column for the class balance chart; NULL: none */
    const char *title;      /* the page's title; NULL: the file's name */
} hops_report_options;

#define HOPS_REPORT_OPTIONS_VERSION 1
#define HOPS_REPORT_OPTIONS_INIT {HOPS_REPORT_OPTIONS_VERSION, HOPS_READ_OPTIONS_INIT, NULL, NULL}

/* Render STATS_JSON, a statistics document as hops_data_stats_json writes it,
 * as a self-contained HTML page titled TITLE (NULL: the document's "file").
 * Sections: overview, nulls per column, a histogram per numeric column, top
 * values per other column, class balance (when the document has "label") and
 * a correlation heatmap (when it has "correlation" with two or more columns).
 * Pure: reads nothing, writes nothing. *html_out is owned by the caller
 * (hops_free). HOPS_EPARSE when STATS_JSON is not JSON ("stats document:LINE:
 * COLUMN: ...") or lacks the shape of a statistics document. */
HOPS_EXTERN hops_status hops_data_report_html(const char *stats_json, const char *title,
                                              char **html_out);

/* Render STATS_JSON as hops_data_report_html does and write the page to
 * OUT_PATH atomically (a crash leaves the old file or the new one). */
HOPS_EXTERN hops_status hops_data_report_write(const char *stats_json, const char *title,
                                               const char *out_path);

/* Compute the statistics of PATH (a CSV or JSON Lines file, plain or .gz)
 * with correlations, and with class counts when O->label is set, then write
 * the report to OUT_PATH atomically. O may be NULL (defaults). Errors are the
 * reader's (naming file, line and column) or the writer's. */
HOPS_EXTERN hops_status hops_data_report(const char *path, const hops_report_options *o,
                                         const char *out_path);

#ifdef __cplusplus
}
#endif
#endif
