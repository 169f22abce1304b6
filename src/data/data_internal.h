/* hops — private interface of src/data: the chunked parallel scanner every
 * data command (stats, schema, validate, transform, report) is built on. */
#ifndef HOPS_DATA_INTERNAL_H
#define HOPS_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "hops/data.h"

/* One field of a record, borrowed for the duration of the callback. */
typedef struct {
    const char *ptr;   /* not NUL-terminated */
    size_t len;
    int quoted;        /* CSV: it was quoted */
    int is_null;       /* empty unquoted CSV field; JSON null; a JSONL key that is missing */
} hops_field;

/* One record, borrowed for the duration of the callback. */
typedef struct {
    const hops_field *fields;
    size_t n_fields;   /* may differ from the column count (a ragged CSV row) */
    uint64_t line;     /* 1-based physical line where the record starts */
    const char *raw;   /* the record's bytes as in the file, without its line ending */
    size_t raw_len;
    size_t eol_len;    /* its line ending ("\n" 1, "\r\n" 2, none at the end: 0), which
                          follows at raw + raw_len: the record as in the file is
                          raw_len + eol_len bytes */
} hops_record;

typedef struct {
    char *path;
    hops_data_format format;
    char delimiter;
    int has_header;
    size_t n_columns;
    char **columns;        /* column names: the header, JSONL keys, or c1..cN */
    char *header_raw;      /* the CSV header line as in the file (for quarantine files) */
} hops_table_info;

/* Callbacks of a scan. CHUNK_BEGIN and RECORD run on parser threads, on
 * several chunks at once (each chunk's records in order, on one thread);
 * CHUNK_END runs on the calling thread, once per chunk, in file order — merge
 * the chunk's state there and free it. CHUNK_END is called for every chunk
 * that was begun, also after an error (so states can be freed). A non-OK
 * return stops the scan; the first error in file order is the one reported. Callbacks that fail set the
 * message with hops__error(), which the scanner carries across threads. */
typedef struct {
    void *ud;
    void *(*chunk_begin)(void *ud);
    hops_status (*record)(void *ud, void *chunk_state, const hops_record *rec);
    hops_status (*chunk_end)(void *ud, void *chunk_state);
    /* Optional: runs on the parser thread right after the chunk's last
     * record, when every record went through (a place to finish per-chunk
     * work without holding up the calling thread). */
    hops_status (*chunk_finish)(void *ud, void *chunk_state);
} hops_scan_cb;

/* Read the header (CSV) or sample the keys (JSONL) of PATH into INFO. */
hops_status hops__table_open(const char *path, const hops_read_options *o, hops_table_info *info);

/* Scan every record of PATH. INFO (may be NULL) receives the table info; free
 * it with hops__table_info_free. Errors name the file, line and column:
 *   data.csv:12:7: unterminated quoted field (the quote opened here)  */
hops_status hops__data_scan(const char *path, const hops_read_options *o, hops_table_info *info,
                            const hops_scan_cb *cb);

/* Scan only the bytes [BEGIN, END) of a plain file: records that start in
 * the range (the first partial record is skipped unless BEGIN is 0). Used to
 * split a file across processes; line numbers are then unknown (0). */
hops_status hops__data_scan_range(const char *path, const hops_read_options *o, uint64_t begin,
                                  uint64_t end, hops_table_info *info, const hops_scan_cb *cb);

void hops__table_info_free(hops_table_info *info);

/* HOPS_EPARSE "FILE:LINE: expected N fields, found M" when REC is ragged. */
hops_status hops__record_check(const hops_table_info *info, const hops_record *rec);

/* Parse a field as a number: 1 and *out on success (C locale, no leading or
 * trailing junk, "nan"/"inf" refused), 0 otherwise. */
int hops__field_double(const hops_field *f, double *out);
int hops__field_int64(const hops_field *f, int64_t *out);

#endif
