/* Schema inference: one parallel pass over a file that decides, per column,
 * a type, nullability, a range and a small value set (see hops/schema.h).
 *
 * Each chunk collects per-column facts (which types every value so far can
 * be, extremes, up to 20 distinct values); chunk_end folds them into the
 * totals in file order, so the schema never depends on the thread count.
 * Memory is O(columns), whatever the file size.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data_internal.h"
#include "hops/schema.h"

#define MAX_VALUES 20     /* a category has at most this many distinct values */
#define MAX_VALUE_LEN 256 /* and none longer than this */
#define TS_TEXT 48        /* longest ISO 8601 form we accept is 35 bytes */

/* ---- value parsers shared with validation (public in schema.h) ---- */

int hops_data_parse_bool(const char *s, size_t len, int *value_out)
{
    if (len == 4 && strncasecmp(s, "true", 4) == 0) {
        *value_out = 1;
        return 1;
    }
    if (len == 5 && strncasecmp(s, "false", 5) == 0) {
        *value_out = 0;
        return 1;
    }
    return 0;
}

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int hops_data_parse_timestamp(const char *s, size_t len, double *epoch_out)
{
    const char *p = s, *end = s + len;
    int y, mo, d, h = 0, mi = 0, sec = 0, offset = 0;
    double frac = 0;
    if (len < 10 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &d))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return 0;
    p += 10;
    if (p < end) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return 0;
        p++;
        if (end - p < 5 || !digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi))
            return 0;
        p += 5;
        if (p < end && *p == ':') {
            if (end - p < 3 || !digits(p + 1, 2, &sec))
                return 0;
            p += 3;
            if (p < end && *p == '.') {
                const char *fs = ++p;
                int64_t num = 0;
                double scale = 1;
                while (p < end && *p >= '0' && *p <= '9' && p - fs < 9) {
                    num = num * 10 + (*p++ - '0');
                    scale *= 10;
                }
                if (p == fs || (p < end && *p >= '0' && *p <= '9'))
                    return 0; /* no digits, or more than nine */
                frac = (double)num / scale;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return 0;
        if (p < end) {
            int sign, oh, om = 0;
            if ((*p == 'Z' || *p == 'z') && p + 1 == end)
                p++;
            else if (*p == '+' || *p == '-') {
                sign = *p++ == '-' ? -1 : 1;
                if (end - p < 2 || !digits(p, 2, &oh))
                    return 0;
                p += 2;
                if (p < end && *p == ':')
                    p++;
                if (p < end) {
                    if (end - p != 2 || !digits(p, 2, &om))
                        return 0;
                    p += 2;
                }
                if (oh > 23 || om > 59)
                    return 0;
                offset = sign * (oh * 3600 + om * 60);
            } else
                return 0;
        }
        if (p != end)
            return 0;
    }
    *epoch_out =
        (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600 + mi * 60 + sec + frac - offset;
    return 1;
}

/* ---- what a chunk learns about each column ---- */

typedef struct {
    char *s;
    size_t len;
} value_text;

typedef struct {
    uint64_t nonnull, nulls;
    unsigned char can_int, can_float, can_bool, can_ts; /* every non-null value so far is one */
    unsigned char has_i, has_d, has_t, has_true, has_false;
    unsigned char overflow; /* too many (or too long) distinct values for a category */
    int64_t imin, imax;
    double dmin, dmax;
    double tmin, tmax;
    char tmin_text[TS_TEXT], tmax_text[TS_TEXT];
    size_t n_values;
    value_text values[MAX_VALUES];
} col_facts;

typedef struct {
    uint64_t rows;
    size_t n_cols;
    col_facts *cols;
} facts;

typedef struct {
    hops_table_info info; /* filled by the scan before any callback runs */
    facts total;
    int have_total;
} infer_ctx;

static void facts_free(facts *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->cols && i < f->n_cols; i++)
        for (size_t k = 0; k < f->cols[i].n_values; k++)
            free(f->cols[i].values[k].s);
    free(f->cols);
    f->cols = NULL;
    f->n_cols = 0;
}

static int facts_init(facts *f, size_t n_cols)
{
    memset(f, 0, sizeof *f);
    f->n_cols = n_cols;
    f->cols = calloc(n_cols ? n_cols : 1, sizeof *f->cols);
    if (!f->cols)
        return -1;
    for (size_t i = 0; i < n_cols; i++) {
        col_facts *c = &f->cols[i];
        c->can_int = c->can_float = c->can_bool = c->can_ts = 1;
    }
    return 0;
}

static void values_drop(col_facts *c)
{
    for (size_t k = 0; k < c->n_values; k++)
        free(c->values[k].s);
    c->n_values = 0;
    c->overflow = 1;
}

/* Remember S as one of C's distinct values; takes ownership of OWNED when
 * given (else copies S). Returns -1 only when out of memory. */
static int values_add(col_facts *c, const char *s, size_t len, char *owned)
{
    if (c->overflow) {
        free(owned);
        return 0;
    }
    for (size_t k = 0; k < c->n_values; k++)
        if (c->values[k].len == len && memcmp(c->values[k].s, s, len) == 0) {
            free(owned);
            return 0;
        }
    if (c->n_values == MAX_VALUES || len > MAX_VALUE_LEN) {
        free(owned);
        values_drop(c);
        return 0;
    }
    char *copy = owned ? owned : hops__strndup(s, len);
    if (!copy)
        return -1;
    c->values[c->n_values].s = copy;
    c->values[c->n_values].len = len;
    c->n_values++;
    return 0;
}

static void set_ts(char *dst, const char *s, size_t len)
{
    size_t n = len < TS_TEXT - 1 ? len : TS_TEXT - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static int observe(col_facts *c, const hops_field *f)
{
    if (f->is_null) {
        c->nulls++;
        return 0;
    }
    c->nonnull++;
    if (c->can_float) {
        int64_t i;
        double d;
        if (c->can_int && hops__field_int64(f, &i)) {
            if (!c->has_i || i < c->imin)
                c->imin = i;
            if (!c->has_i || i > c->imax)
                c->imax = i;
            c->has_i = 1;
            d = (double)i;
        } else if (hops__field_double(f, &d))
            c->can_int = 0;
        else
            c->can_int = c->can_float = 0;
        if (c->can_float) {
            if (!c->has_d || d < c->dmin)
                c->dmin = d;
            if (!c->has_d || d > c->dmax)
                c->dmax = d;
            c->has_d = 1;
        }
    }
    if (c->can_bool) {
        int b;
        if (!hops_data_parse_bool(f->ptr, f->len, &b))
            c->can_bool = 0;
        else if (b)
            c->has_true = 1;
        else
            c->has_false = 1;
    }
    if (c->can_ts) {
        double t;
        if (!hops_data_parse_timestamp(f->ptr, f->len, &t))
            c->can_ts = 0;
        else {
            if (!c->has_t || t < c->tmin) {
                c->tmin = t;
                set_ts(c->tmin_text, f->ptr, f->len);
            }
            if (!c->has_t || t > c->tmax) {
                c->tmax = t;
                set_ts(c->tmax_text, f->ptr, f->len);
            }
            c->has_t = 1;
        }
    }
    return values_add(c, f->ptr, f->len, NULL);
}

/* Fold chunk facts FROM (later in the file) into INTO; FROM is emptied. */
static int facts_merge(facts *into, facts *from)
{
    into->rows += from->rows;
    for (size_t i = 0; i < into->n_cols && i < from->n_cols; i++) {
        col_facts *a = &into->cols[i], *b = &from->cols[i];
        a->nonnull += b->nonnull;
        a->nulls += b->nulls;
        a->can_int &= b->can_int;
        a->can_float &= b->can_float;
        a->can_bool &= b->can_bool;
        a->can_ts &= b->can_ts;
        if (b->has_i) {
            if (!a->has_i || b->imin < a->imin)
                a->imin = b->imin;
            if (!a->has_i || b->imax > a->imax)
                a->imax = b->imax;
            a->has_i = 1;
        }
        if (b->has_d) {
            if (!a->has_d || b->dmin < a->dmin)
                a->dmin = b->dmin;
            if (!a->has_d || b->dmax > a->dmax)
                a->dmax = b->dmax;
            a->has_d = 1;
        }
        if (b->has_t) { /* strict comparisons: the earliest text of a tie wins */
            if (!a->has_t || b->tmin < a->tmin) {
                a->tmin = b->tmin;
                memcpy(a->tmin_text, b->tmin_text, TS_TEXT);
            }
            if (!a->has_t || b->tmax > a->tmax) {
                a->tmax = b->tmax;
                memcpy(a->tmax_text, b->tmax_text, TS_TEXT);
            }
            a->has_t = 1;
        }
        a->has_true |= b->has_true;
        a->has_false |= b->has_false;
        if (b->overflow)
            values_drop(a);
        for (size_t k = 0; k < b->n_values; k++) {
            if (values_add(a, b->values[k].s, b->values[k].len, b->values[k].s) != 0)
                return -1;
            b->values[k].s = NULL;
        }
        b->n_values = 0;
    }
    return 0;
}

/* ---- scan callbacks ---- */

static void *infer_chunk_begin(void *ud)
{
    infer_ctx *ctx = ud;
    facts *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    if (facts_init(f, ctx->info.n_columns) != 0) {
        free(f);
        return NULL;
    }
    return f;
}

static hops_status infer_record(void *ud, void *cs, const hops_record *rec)
{
    infer_ctx *ctx = ud;
    facts *f = cs;
    hops_status rc;
    if (!f)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if ((rc = hops__record_check(&ctx->info, rec)) != HOPS_OK)
        return rc;
    f->rows++;
    for (size_t i = 0; i < f->n_cols; i++)
        if (observe(&f->cols[i], &rec->fields[i]) != 0)
            return hops__error(HOPS_ENOMEM, "out of memory");
    return HOPS_OK;
}

static hops_status ensure_total(infer_ctx *ctx)
{
    if (ctx->have_total)
        return HOPS_OK;
    if (facts_init(&ctx->total, ctx->info.n_columns) != 0)
        return hops__error(HOPS_ENOMEM, "out of memory");
    ctx->have_total = 1;
    return HOPS_OK;
}

static hops_status infer_chunk_end(void *ud, void *cs)
{
    infer_ctx *ctx = ud;
    facts *f = cs;
    hops_status rc = HOPS_OK;
    if (!f)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if ((rc = ensure_total(ctx)) == HOPS_OK && facts_merge(&ctx->total, f) != 0)
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    facts_free(f);
    free(f);
    return rc;
}

/* ---- the schema document ---- */

static int cmp_values(const void *a, const void *b)
{
    const value_text *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static json_t *column_json(const char *name, col_facts *c)
{
    json_t *col = json_object();
    const char *type;
    if (c->nonnull == 0)
        type = "string";
    else if (c->can_bool)
        type = "bool";
    else if (c->can_int)
        type = "int";
    else if (c->can_float)
        type = "float";
    else if (c->can_ts)
        type = "timestamp";
    else if (!c->overflow && c->n_values > 0 && c->nonnull >= 2 * (uint64_t)c->n_values)
        type = "category";
    else
        type = "string";
    json_object_set_new(col, "name", json_string(name));
    json_object_set_new(col, "type", json_string(type));
    json_object_set_new(col, "nullable", json_boolean(c->nulls > 0 || c->nonnull == 0));
    if (strcmp(type, "int") == 0) {
        json_object_set_new(col, "min", json_integer((json_int_t)c->imin));
        json_object_set_new(col, "max", json_integer((json_int_t)c->imax));
    } else if (strcmp(type, "float") == 0) {
        json_object_set_new(col, "min", json_real(c->dmin));
        json_object_set_new(col, "max", json_real(c->dmax));
    } else if (strcmp(type, "timestamp") == 0) {
        json_object_set_new(col, "min", json_string(c->tmin_text));
        json_object_set_new(col, "max", json_string(c->tmax_text));
    } else if (strcmp(type, "bool") == 0) {
        json_t *v = json_array();
        if (c->has_false)
            json_array_append_new(v, json_false());
        if (c->has_true)
            json_array_append_new(v, json_true());
        json_object_set_new(col, "values", v);
    } else if (strcmp(type, "category") == 0) {
        json_t *v = json_array();
        qsort(c->values, c->n_values, sizeof *c->values, cmp_values);
        for (size_t k = 0; k < c->n_values; k++)
            json_array_append_new(v, json_stringn(c->values[k].s, c->values[k].len));
        json_object_set_new(col, "values", v);
    }
    return col;
}

/* The document, laid out for people: one column per line. */
static hops_status schema_text(const char *path, infer_ctx *ctx, char **out)
{
    hops_buf b = HOPS_BUF_INIT;
    hops_status rc = HOPS_OK;
    json_t *from = json_object(), *rows = json_object();
    char *s;
    json_object_set_new(from, "file", json_string(path));
    json_object_set_new(from, "format",
                        json_string(ctx->info.format == HOPS_FORMAT_JSONL ? "jsonl" : "csv"));
    json_object_set_new(from, "rows", json_integer((json_int_t)ctx->total.rows));
    hops__buf_puts(&b, "{\n  \"version\": 1,\n  \"inferred_from\": ");
    s = hops__json_dumps(from, JSON_PRESERVE_ORDER);
    if (!s) {
        rc = hops__error(HOPS_EINVAL, "%s: the file name is not valid UTF-8", path);
        goto out;
    }
    hops__buf_puts(&b, s);
    free(s);
    hops__buf_puts(&b, ",\n  \"columns\": [");
    for (size_t i = 0; i < ctx->total.n_cols; i++) {
        json_t *col = column_json(ctx->info.columns[i], &ctx->total.cols[i]);
        s = hops__json_dumps(col, JSON_PRESERVE_ORDER);
        json_decref(col);
        if (!s) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
        hops__buf_printf(&b, "%s\n    %s", i ? "," : "", s);
        free(s);
    }
    hops__buf_puts(&b, ctx->total.n_cols ? "\n  ],\n" : "],\n");
    if (ctx->total.rows > 0)
        json_object_set_new(rows, "min", json_integer(1));
    s = hops__json_dumps(rows, JSON_PRESERVE_ORDER);
    hops__buf_printf(&b, "  \"rows\": %s\n}\n", s ? s : "{}");
    free(s);
    if (!b.data) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    *out = hops__buf_detach(&b);
out:
    hops__buf_free(&b);
    json_decref(from);
    json_decref(rows);
    return rc;
}

hops_status hops_data_schema_infer_json(const char *path, const hops_read_options *o, char **out)
{
    infer_ctx ctx;
    hops_scan_cb cb = {&ctx, infer_chunk_begin, infer_record, infer_chunk_end, NULL};
    hops_status rc;
    if (!path || !out)
        return hops__error(HOPS_EINVAL, "hops_data_schema_infer_json: path and out are required");
    *out = NULL;
    memset(&ctx, 0, sizeof ctx);
    rc = hops__data_scan(path, o, &ctx.info, &cb);
    if (rc == HOPS_OK)
        rc = ensure_total(&ctx); /* a file with a header and no records */
    if (rc == HOPS_OK)
        rc = schema_text(path, &ctx, out);
    facts_free(&ctx.total);
    hops__table_info_free(&ctx.info);
    return rc;
}

hops_status hops_data_schema_write(const char *schema_json, const char *out_path)
{
    hops_status rc;
    if (!schema_json || !out_path)
        return hops__error(HOPS_EINVAL, "hops_data_schema_write: schema and path are required");
    if ((rc = hops_data_schema_check(schema_json, out_path)) != HOPS_OK)
        return rc;
    return hops__atomic_write(out_path, schema_json, strlen(schema_json));
}
