/* A whole table in memory (hops/table.h): every record of a file, as text.
 *
 * Built on the chunked scanner: each chunk collects its cells into its own
 * arena on a parser thread; chunk_end appends the arenas in file order, so the
 * rows come out in input order whatever the thread count. Cells are kept as
 * offsets into one text arena (it moves as it grows).
 */
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"
#include "hops/table.h"

#define NULL_CELL UINT32_MAX

typedef struct {
    uint64_t off; /* into the text arena */
    uint32_t len; /* NULL_CELL: null */
} cell;

struct hops_table {
    char *path;
    int jsonl;
    size_t n_cols;
    char **names;
    size_t n_rows, cap_rows;
    cell *cells;     /* n_rows * n_cols */
    uint64_t *lines; /* n_rows */
    hops_buf text;
};

typedef struct {
    hops_buf text;
    cell *cells;
    uint64_t *lines;
    size_t n_rows, cap_rows;
} chunk;

typedef struct {
    hops_table *t;
    const hops_table_info *info;
} ctx;

static void *chunk_begin(void *ud)
{
    (void)ud;
    return calloc(1, sizeof(chunk));
}

static int rows_reserve(cell **cells, uint64_t **lines, size_t *cap, size_t need, size_t n_cols)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 256;
    while (ncap < need)
        ncap *= 2;
    cell *c = realloc(*cells, ncap * n_cols * sizeof *c + 1);
    if (!c)
        return -1;
    *cells = c;
    uint64_t *l = realloc(*lines, ncap * sizeof *l);
    if (!l)
        return -1;
    *lines = l;
    *cap = ncap;
    return 0;
}

static hops_status on_record(void *ud, void *state, const hops_record *rec)
{
    ctx *x = ud;
    chunk *ch = state;
    size_t nc = x->t->n_cols;
    hops_status rc;
    if (!ch)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if ((rc = hops__record_check(x->info, rec)) != HOPS_OK)
        return rc;
    if (rows_reserve(&ch->cells, &ch->lines, &ch->cap_rows, ch->n_rows + 1, nc) != 0)
        return hops__error(HOPS_ENOMEM, "out of memory");
    cell *row = ch->cells + ch->n_rows * nc;
    for (size_t c = 0; c < nc; c++) {
        const hops_field *f = c < rec->n_fields ? &rec->fields[c] : NULL;
        if (!f || f->is_null) {
            row[c].off = 0;
            row[c].len = NULL_CELL;
            continue;
        }
        if (f->len >= NULL_CELL)
            return hops__error(HOPS_EPARSE, "%s:%llu:%zu: a field of %zu bytes is too long",
                               x->t->path, (unsigned long long)rec->line, c + 1, f->len);
        row[c].off = ch->text.len;
        row[c].len = (uint32_t)f->len;
        /* Each cell is NUL-terminated in the arena. */
        if (hops__buf_put(&ch->text, f->ptr, f->len) != 0 || hops__buf_put(&ch->text, "", 1) != 0)
            return hops__error(HOPS_ENOMEM, "out of memory");
    }
    ch->lines[ch->n_rows++] = rec->line;
    return HOPS_OK;
}

static hops_status on_chunk_end(void *ud, void *state)
{
    ctx *x = ud;
    chunk *ch = state;
    hops_table *t = x->t;
    hops_status rc = HOPS_OK;
    if (!ch)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if (ch->n_rows) {
        uint64_t base = t->text.len;
        if (rows_reserve(&t->cells, &t->lines, &t->cap_rows, t->n_rows + ch->n_rows, t->n_cols) !=
                0 ||
            hops__buf_put(&t->text, ch->text.data, ch->text.len) != 0) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
        } else {
            cell *dst = t->cells + t->n_rows * t->n_cols;
            for (size_t i = 0; i < ch->n_rows * t->n_cols; i++) {
                dst[i] = ch->cells[i];
                if (dst[i].len != NULL_CELL)
                    dst[i].off += base;
            }
            memcpy(t->lines + t->n_rows, ch->lines, ch->n_rows * sizeof *t->lines);
            t->n_rows += ch->n_rows;
        }
    }
    hops__buf_free(&ch->text);
    free(ch->cells);
    free(ch->lines);
    free(ch);
    return rc;
}

hops_status hops_table_read(hops_table **out, const char *path, const hops_read_options *o)
{
    hops_read_options defaults = HOPS_READ_OPTIONS_INIT;
    hops_table_info info, scanned;
    hops_table *t;
    hops_status rc;
    *out = NULL;
    if (!o)
        o = &defaults;
    if (!path || !*path)
        return hops__error(HOPS_EINVAL, "which file? no data path given");
    memset(&info, 0, sizeof info);
    memset(&scanned, 0, sizeof scanned);
    if (!(t = calloc(1, sizeof *t)) || !(t->path = hops__strdup(path))) {
        free(t);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    if ((rc = hops__table_open(path, o, &info)) != HOPS_OK)
        goto out;
    t->jsonl = info.format == HOPS_FORMAT_JSONL;
    t->n_cols = info.n_columns;
    if (!(t->names = calloc(t->n_cols + 1, sizeof *t->names))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < t->n_cols; c++)
        if (!(t->names[c] = hops__strdup(info.columns[c]))) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
    ctx x = {t, &info};
    hops_scan_cb cb = {&x, chunk_begin, on_record, on_chunk_end, NULL};
    if ((rc = hops__data_scan(path, o, &scanned, &cb)) != HOPS_OK)
        goto out;
    if (scanned.n_columns != t->n_cols)
        rc = hops__error(HOPS_ERROR, "%s: the columns changed while it was read", path);
out:
    hops__table_info_free(&info);
    hops__table_info_free(&scanned);
    if (rc != HOPS_OK)
        hops_table_free(t);
    else
        *out = t;
    return rc;
}

void hops_table_free(hops_table *t)
{
    if (!t)
        return;
    for (size_t c = 0; t->names && c < t->n_cols; c++)
        free(t->names[c]);
    free(t->names);
    free(t->cells);
    free(t->lines);
    hops__buf_free(&t->text);
    free(t->path);
    free(t);
}

const char *hops_table_path(const hops_table *t)
{
    return t->path;
}
int hops_table_is_jsonl(const hops_table *t)
{
    return t->jsonl;
}
size_t hops_table_rows(const hops_table *t)
{
    return t->n_rows;
}
size_t hops_table_columns(const hops_table *t)
{
    return t->n_cols;
}

const char *hops_table_column_name(const hops_table *t, size_t col)
{
    return col < t->n_cols ? t->names[col] : NULL;
}

long hops_table_column_index(const hops_table *t, const char *name)
{
    for (size_t c = 0; name && c < t->n_cols; c++)
        if (strcmp(t->names[c], name) == 0)
            return (long)c;
    return -1;
}

const char *hops_table_cell(const hops_table *t, size_t row, size_t col, size_t *len)
{
    if (row >= t->n_rows || col >= t->n_cols)
        return NULL;
    const cell *c = &t->cells[row * t->n_cols + col];
    if (c->len == NULL_CELL) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = c->len;
    return t->text.data + c->off;
}

uint64_t hops_table_line(const hops_table *t, size_t row)
{
    return row < t->n_rows ? t->lines[row] : 0;
}
