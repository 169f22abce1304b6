/* hops — reading tabular data: CSV (RFC 4180) and JSON Lines, plain or .gz.
 *
 * Readers stream with bounded memory and parse chunks on several threads;
 * every result is the same whatever the thread count. Data commands take a
 * path or a project dataset `NAME[:VERSION]` (see dataset.h).
 */
#ifndef HOPS_DATA_H
#define HOPS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HOPS_FORMAT_AUTO = 0,  /* by extension: .jsonl/.ndjson(.gz) → JSONL, else CSV */
    HOPS_FORMAT_CSV = 1,
    HOPS_FORMAT_JSONL = 2
} hops_data_format;

typedef struct {
    unsigned version;
    hops_data_format format;
    char delimiter;        /* CSV field separator; 0: ',' */
    int no_header;         /* CSV: the first row is data; columns are named c1, c2, ... */
    int threads;           /* parser threads; 0: the number of CPUs */
    size_t chunk_size;     /* bytes per parse chunk; 0: 4 MiB. Results do not depend on it. */
} hops_read_options;

#define HOPS_READ_OPTIONS_VERSION 1
#define HOPS_READ_OPTIONS_INIT {HOPS_READ_OPTIONS_VERSION, HOPS_FORMAT_AUTO, 0, 0, 0, 0}

#ifdef __cplusplus
}
#endif
#endif
