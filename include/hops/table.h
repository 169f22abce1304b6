/* hops — a whole table in memory: the rows of a CSV or JSON Lines file as text.
 *
 * For consumers that need random access to every row (model training and
 * batch prediction). Read with the same streaming, multithreaded reader as
 * the data commands (see data.h), so the same files read the same way and
 * errors carry the same FILE:LINE:COLUMN. Cells are text as in the file
 * (CSV quotes removed, JSON values as their text); a null cell is NULL.
 */
#ifndef HOPS_TABLE_H
#define HOPS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hops_table hops_table;

/* Read every record of PATH into *OUT (owned; hops_table_free). O may be
 * NULL (defaults). A ragged CSV row, a malformed record or an unreadable
 * file fails with the reader's message naming the file and line
 * (HOPS_EPARSE, HOPS_ENOTFOUND, HOPS_EIO). */
HOPS_EXTERN hops_status hops_table_read(hops_table **out, const char *path,
                                        const hops_read_options *o);

HOPS_EXTERN void hops_table_free(hops_table *t);

/* The path it was read from. Borrowed. */
HOPS_EXTERN const char *hops_table_path(const hops_table *t);

/* 1 when the table was read as JSON Lines (cells are then named by key). */
HOPS_EXTERN int hops_table_is_jsonl(const hops_table *t);

HOPS_EXTERN size_t hops_table_rows(const hops_table *t);
HOPS_EXTERN size_t hops_table_columns(const hops_table *t);

/* The name of column COL (< hops_table_columns). Borrowed. */
HOPS_EXTERN const char *hops_table_column_name(const hops_table *t, size_t col);

/* The index of the column named NAME, or -1 when there is none. */
HOPS_EXTERN long hops_table_column_index(const hops_table *t, const char *name);

/* The text of cell (ROW, COL), NUL-terminated, or NULL when the cell is null
 * (an empty unquoted CSV field, a JSON null or a missing key). *LEN (may be
 * NULL) gets its length. Borrowed until hops_table_free. */
HOPS_EXTERN const char *hops_table_cell(const hops_table *t, size_t row, size_t col, size_t *len);

/* The 1-based line of the file where ROW starts (for messages). */
HOPS_EXTERN uint64_t hops_table_line(const hops_table *t, size_t row);

#ifdef __cplusplus
}
#endif
#endif
