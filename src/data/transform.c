/* `hops data transform`: filter, fill-null, cast, standardize, one-hot,
 * select/drop and split, streamed through the chunked reader.
 *
 * Records are turned into output text on the parser threads, into one buffer
 * per output and chunk; the calling thread appends the buffers to the output
 * files in chunk order (chunk_end), so rows keep the input order whatever the
 * thread count. --standardize and --one-hot need the whole column first: a
 * first pass (the same filter, fill and cast) gathers the mean and variance
 * (Welford per chunk, merged in file order with Chan's formula) and the
 * distinct values. Outputs are written to temporary files beside their final
 * names and renamed at the end. The order of the operations is fixed and
 * documented in include/hops/transform.h. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_internal.h"
#include "expr.h"
#include "hops/transform.h"

#define SCRATCH 40 /* bytes of per-column scratch: a formatted double or int64 */

/* How a value is written in JSON Lines output. */
typedef enum {
    K_INFER,  /* CSV text: a JSON number or true/false as such, else a string */
    K_STRING, /* always a string */
    K_RAW     /* JSON text already (a JSONL number, bool, object; a cast number) */
} value_kind;

typedef struct {
    const char *ptr;
    size_t len;
    int is_null;
    value_kind kind;
} value;

/* An output column: input column SRC, or its one-hot indicator for category CAT. */
typedef struct {
    size_t src;
    long cat;   /* -1: the value itself */
    size_t hot; /* when CAT >= 0: which one-hot column */
    char *name;
    char *json_key; /* "\"name\":" */
} out_col;

typedef struct {
    double n, mean, m2;
} welford;

/* A set of strings (open addressing), for the distinct values of a column. */
typedef struct {
    char **keys;
    size_t *lens;
    size_t cap, count;
} strset;

typedef struct {
    size_t col;
    const char *value;
} fill_op;

typedef struct {
    size_t col;
    hops_cast_type type;
} cast_op;

/* Per chunk: built on a parser thread, merged and freed by chunk_end. */
typedef struct {
    value *vals;
    char *scratch;  /* n_columns x SCRATCH */
    long *cat_of;   /* per one-hot column: the row's category, or -1 */
    hops_buf *out;  /* per output */
    uint64_t *rows; /* per output */
    uint64_t rows_in, filtered;
    uint64_t *cast_nulls; /* per input column */
    welford *std;         /* per standardized column (first pass) */
    strset *hot;          /* per one-hot column (first pass) */
    int failed;
} chunk_state;

typedef struct {
    const hops_transform_options *o;
    hops_table_info info;
    hops_expr *filter;
    size_t ncol;
    int json_in, json_out;
    fill_op *fills;
    size_t n_fills;
    cast_op *casts;
    size_t n_casts;
    size_t *std_col, n_std;
    welford *std;    /* merged */
    double *std_div; /* the divisor used: std, or 1 when std is 0 or undefined */
    size_t *hot_col, n_hot;
    strset *hot;  /* merged (first pass) */
    char ***cats; /* per one-hot column: the sorted categories */
    size_t *n_cats;
    size_t **cats_by_text; /* per one-hot column: category indexes in bytewise order */
    out_col *plan;
    size_t n_plan;
    size_t n_out; /* outputs: the splits, or 1 */
    double *cum;  /* cumulative split fractions */
    char **paths;       /* output paths, for messages and the summary */
    hops_outfile *outs; /* one per output, written atomically */
    uint64_t *rows;
    uint64_t rows_in, filtered;
    uint64_t *cast_nulls;
    int pass; /* 1: gather; 2: write */
    int failed;
} tctx;

/* ---- small helpers ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static uint64_t splitmix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The shortest text that reads back as V, a JSON real: "0.1", "3.0", "1e+300". */
static void format_double(double v, char *out, size_t n)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v)
            break;
    }
    if (!strpbrk(out, ".eEn"))
        hops__strlcpy(out + strlen(out), ".0", n - strlen(out));
}

/* 1 when S[0..LEN) is a number in JSON's grammar. */
static int is_json_number(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i >= len)
        return 0;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < len && s[i] == '.') {
        size_t d = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == len;
}

static int text_is(const value *v, const char *s)
{
    size_t n = strlen(s);
    return v->len == n && memcmp(v->ptr, s, n) == 0;
}

static int utf8_ok(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/* "a, b, c" (at most 40 names) for messages; owned. */
static char *name_list(char *const *names, size_t n)
{
    hops_buf b = HOPS_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i == 40) {
            hops__buf_printf(&b, ", ... (%zu more)", n - i);
            break;
        }
        hops__buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
    }
    if (!b.data)
        hops__buf_puts(&b, "(none)");
    return hops__buf_detach(&b);
}

static hops_status unknown_column(const tctx *t, const char *opt, const char *name)
{
    char *list = name_list(t->info.columns, t->info.n_columns);
    hops__error(HOPS_EINVAL, "%s: unknown column '%s'; the columns are: %s", opt, name,
                list ? list : "?");
    free(list);
    return HOPS_EINVAL;
}

static long find_column(const tctx *t, const char *name)
{
    for (size_t i = 0; i < t->info.n_columns; i++)
        if (strcmp(t->info.columns[i], name) == 0)
            return (long)i;
    return -1;
}

/* ---- string sets ---- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void strset_free(strset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s->lens);
    memset(s, 0, sizeof *s);
}

/* Add S[0..N) unless present: 0 ok, -1 out of memory, -2 the set is full. */
static int strset_add(strset *s, const char *p, size_t n)
{
    if (s->cap == 0 || (s->count + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        strset bigger = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(size_t)), cap, 0};
        if (!bigger.keys || !bigger.lens) {
            free(bigger.keys);
            free(bigger.lens);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i]) {
                size_t h = (size_t)hash_bytes(s->keys[i], s->lens[i]) & (cap - 1);
                while (bigger.keys[h])
                    h = (h + 1) & (cap - 1);
                bigger.keys[h] = s->keys[i];
                bigger.lens[h] = s->lens[i];
                bigger.count++;
            }
        free(s->keys);
        free(s->lens);
        *s = bigger;
    }
    size_t h = (size_t)hash_bytes(p, n) & (s->cap - 1);
    while (s->keys[h]) {
        if (s->lens[h] == n && memcmp(s->keys[h], p, n) == 0)
            return 0;
        h = (h + 1) & (s->cap - 1);
    }
    if (s->count >= HOPS_TRANSFORM_MAX_ONE_HOT)
        return -2;
    if (!(s->keys[h] = hops__strndup(p, n)))
        return -1;
    s->lens[h] = n;
    s->count++;
    return 0;
}

/* ---- where a field is, for messages ---- */

/* Line and 1-based character column where field K of REC starts. */
static void field_position(const tctx *t, const hops_record *rec, size_t k, uint64_t *line,
                           size_t *col)
{
    const char *r = rec->raw;
    size_t n = rec->raw_len, idx = 0, i;
    int in_quotes = 0, field_start = 1;
    *line = rec->line;
    *col = 1;
    if (t->json_in) { /* the key's place in the object */
        char key[256];
        int w = snprintf(key, sizeof key, "\"%s\"", t->info.columns[k]);
        const char *at = w > 0 && (size_t)w < sizeof key ? memmem(r, n, key, (size_t)w) : NULL;
        if (at)
            for (const char *c = r; c < at; c++)
                *col += ((unsigned char)*c & 0xc0) != 0x80;
        return;
    }
    for (i = 0; i < n && !(idx == k && field_start); i++) {
        char ch = r[i];
        if (in_quotes) {
            if (ch == '"') {
                if (i + 1 < n && r[i + 1] == '"') {
                    i++;
                    (*col)++;
                } else
                    in_quotes = 0;
            }
        } else if (ch == t->info.delimiter) {
            idx++;
            field_start = 1;
            (*col)++;
            continue;
        } else if (ch == '"' && field_start)
            in_quotes = 1;
        field_start = 0;
        if (ch == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)ch & 0xc0) != 0x80)
            (*col)++;
    }
}

/* HOPS_ERROR "FILE:LINE:COL: column 'C': BEFORE 'VALUE'AFTER". */
static hops_status value_error(const tctx *t, const hops_record *rec, size_t c, const value *v,
                               const char *before, const char *after)
{
    uint64_t line;
    size_t col;
    size_t shown = v->len > 60 ? 60 : v->len;
    while (shown < v->len && shown > 0 && ((unsigned char)v->ptr[shown] & 0xc0) == 0x80)
        shown--; /* cut on a character boundary */
    field_position(t, rec, c, &line, &col);
    return hops__error(HOPS_ERROR, "%s:%llu:%zu: column '%s': %s'%.*s%s'%s", t->info.path,
                       (unsigned long long)line, col, t->info.columns[c], before, (int)shown,
                       v->ptr, shown < v->len ? "..." : "", after);
}

/* ---- casts ---- */

static int parse_bool(const value *v, int *out)
{
    static const char *const yes[] = {"true", "t", "yes", "y", "1"};
    static const char *const no[] = {"false", "f", "no", "n", "0"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(yes); i++) {
        if (v->len == strlen(yes[i]) && strncasecmp(v->ptr, yes[i], v->len) == 0) {
            *out = 1;
            return 1;
        }
        if (v->len == strlen(no[i]) && strncasecmp(v->ptr, no[i], v->len) == 0) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* Convert V (not null) in place to TYPE, using SCRATCH; 0 when it does not convert. */
static int cast_value(value *v, hops_cast_type type, char *scratch)
{
    hops_field f = {v->ptr, v->len, 0, 0};
    int64_t i;
    double d;
    int b;
    switch (type) {
    case HOPS_CAST_INT:
        if (!hops__field_int64(&f, &i)) {
            if (!hops__field_double(&f, &d) || d != floor(d) || d < -9223372036854775808.0 ||
                d >= 9223372036854775808.0)
                return 0;
            i = (int64_t)d;
        }
        snprintf(scratch, SCRATCH, "%lld", (long long)i);
        break;
    case HOPS_CAST_FLOAT:
        if (!hops__field_double(&f, &d))
            return 0;
        format_double(d, scratch, SCRATCH);
        break;
    case HOPS_CAST_BOOL:
        if (!parse_bool(v, &b))
            return 0;
        hops__strlcpy(scratch, b ? "true" : "false", SCRATCH);
        break;
    default: /* HOPS_CAST_STRING */
        v->kind = K_STRING;
        return 1;
    }
    v->ptr = scratch;
    v->len = strlen(scratch);
    v->kind = K_RAW;
    return 1;
}

/* ---- the per-record work ---- */

static void chunk_state_free(const tctx *t, chunk_state *cs)
{
    if (!cs)
        return;
    free(cs->vals);
    free(cs->scratch);
    free(cs->cat_of);
    if (cs->out)
        for (size_t i = 0; i < t->n_out; i++)
            hops__buf_free(&cs->out[i]);
    free(cs->out);
    free(cs->rows);
    free(cs->cast_nulls);
    free(cs->std);
    if (cs->hot)
        for (size_t i = 0; i < t->n_hot; i++)
            strset_free(&cs->hot[i]);
    free(cs->hot);
    free(cs);
}

static void *chunk_begin(void *ud)
{
    tctx *t = ud;
    chunk_state *cs = calloc(1, sizeof *cs);
    size_t ncol = t->ncol ? t->ncol : 1;
    if (!cs)
        return NULL;
    cs->vals = calloc(ncol, sizeof *cs->vals);
    cs->scratch = calloc(ncol, SCRATCH);
    cs->cat_of = calloc(t->n_hot + 1, sizeof *cs->cat_of);
    cs->out = calloc(t->n_out, sizeof *cs->out);
    cs->rows = calloc(t->n_out, sizeof *cs->rows);
    cs->cast_nulls = calloc(ncol, sizeof *cs->cast_nulls);
    cs->std = calloc(t->n_std + 1, sizeof *cs->std);
    cs->hot = calloc(t->n_hot + 1, sizeof *cs->hot);
    if (!cs->vals || !cs->scratch || !cs->cat_of || !cs->out || !cs->rows || !cs->cast_nulls ||
        !cs->std || !cs->hot) {
        chunk_state_free(t, cs);
        return NULL;
    }
    return cs;
}

/* Filter, fill, cast (and standardize in the second pass) one record into
 * cs->vals. *keep 0 when the filter drops it. */
static hops_status prepare_row(const tctx *t, chunk_state *cs, const hops_record *rec, int *keep)
{
    hops_status rc;
    *keep = 0;
    if ((rc = hops__record_check(&t->info, rec)) != HOPS_OK)
        return rc;
    if (t->filter && !hops__expr_eval(t->filter, rec->fields, rec->n_fields))
        return HOPS_OK;
    *keep = 1;
    for (size_t c = 0; c < t->ncol; c++) {
        const hops_field *f = &rec->fields[c];
        value *v = &cs->vals[c];
        v->ptr = f->ptr;
        v->len = f->len;
        v->is_null = f->is_null != 0;
        v->kind = !t->json_in ? K_INFER : f->quoted ? K_STRING : K_RAW;
        if (t->json_in && !f->quoted && !v->is_null && memchr(f->ptr, '.', f->len)) {
            /* The reader writes JSON reals with 17 digits: 0.1 -> 0.10000000000000001. */
            double d;
            if (hops__field_double(f, &d)) {
                char *s = cs->scratch + c * SCRATCH;
                format_double(d, s, SCRATCH);
                v->ptr = s;
                v->len = strlen(s);
            }
        }
    }
    for (size_t i = 0; i < t->n_fills; i++) {
        value *v = &cs->vals[t->fills[i].col];
        if (v->is_null) {
            v->ptr = t->fills[i].value;
            v->len = strlen(v->ptr);
            v->is_null = 0;
            v->kind = K_INFER;
        }
    }
    for (size_t i = 0; i < t->n_casts; i++) {
        size_t c = t->casts[i].col;
        value *v = &cs->vals[c];
        if (v->is_null || cast_value(v, t->casts[i].type, cs->scratch + c * SCRATCH))
            continue;
        if (!t->o->cast_errors_null) {
            char after[96];
            snprintf(after, sizeof after, " to %s (--cast-errors null makes such values null)",
                     hops_cast_type_name(t->casts[i].type));
            return value_error(t, rec, c, v, "cannot cast ", after);
        }
        v->is_null = 1;
        cs->cast_nulls[c]++;
    }
    for (size_t i = 0; i < t->n_std; i++) {
        size_t c = t->std_col[i];
        value *v = &cs->vals[c];
        hops_field f = {v->ptr, v->len, 0, 0};
        double x;
        if (v->is_null)
            continue;
        if (!hops__field_double(&f, &x))
            return value_error(t, rec, c, v, "--standardize needs numbers, not ", "");
        if (t->pass == 1) {
            welford *w = &cs->std[i];
            double d = x - w->mean;
            w->n += 1;
            w->mean += d / w->n;
            w->m2 += d * (x - w->mean);
        } else {
            char *s = cs->scratch + c * SCRATCH;
            format_double((x - t->std[i].mean) / t->std_div[i], s, SCRATCH);
            v->ptr = s;
            v->len = strlen(s);
            v->kind = K_RAW;
        }
    }
    return HOPS_OK;
}

static hops_status oom(void)
{
    return hops__error(HOPS_ENOMEM, "out of memory");
}

/* First pass: the statistics --standardize and --one-hot need. */
/* The error for strset_add's result R (-1: no memory, -2: too many values)
 * on one-hot column I. */
static hops_status strset_error(const tctx *t, size_t i, int r)
{
    if (r == -1)
        return oom();
    return hops__error(HOPS_EINVAL,
                       "--one-hot %s: the column has more than %d distinct values (a one-hot "
                       "encoding is for categories)",
                       t->info.columns[t->hot_col[i]], HOPS_TRANSFORM_MAX_ONE_HOT);
}

static hops_status gather_record(void *ud, void *state, const hops_record *rec)
{
    tctx *t = ud;
    chunk_state *cs = state;
    int keep, r;
    hops_status rc;
    if (!cs)
        return oom();
    cs->rows_in++;
    if ((rc = prepare_row(t, cs, rec, &keep)) != HOPS_OK || !keep) {
        cs->failed = rc != HOPS_OK;
        return rc;
    }
    for (size_t i = 0; i < t->n_hot; i++) {
        const value *v = &cs->vals[t->hot_col[i]];
        if (v->is_null)
            continue;
        if ((r = strset_add(&cs->hot[i], v->ptr, v->len)) != 0) {
            cs->failed = 1;
            return strset_error(t, i, r);
        }
    }
    return HOPS_OK;
}

static hops_status gather_end(void *ud, void *state)
{
    tctx *t = ud;
    chunk_state *cs = state;
    hops_status rc = HOPS_OK;
    if (!cs)
        return HOPS_OK;
    if (cs->failed)
        t->failed = 1;
    for (size_t i = 0; i < t->n_std && !t->failed; i++) {
        welford *a = &t->std[i], *b = &cs->std[i];
        if (b->n == 0)
            continue;
        double n = a->n + b->n, d = b->mean - a->mean;
        a->mean += d * b->n / n;
        a->m2 += b->m2 + d * d * a->n * b->n / n;
        a->n = n;
    }
    for (size_t i = 0; i < t->n_hot && !t->failed && rc == HOPS_OK; i++) {
        strset *s = &cs->hot[i];
        for (size_t k = 0; k < s->cap && rc == HOPS_OK; k++) {
            int r = s->keys[k] ? strset_add(&t->hot[i], s->keys[k], s->lens[k]) : 0;
            if (r != 0)
                rc = strset_error(t, i, r);
        }
    }
    if (rc != HOPS_OK)
        t->failed = 1;
    chunk_state_free(t, cs);
    return rc;
}

/* RFC 4180: quote a field with a comma, quote, CR or LF; and an empty text
 * (an empty unquoted field reads back as null). */
static int put_csv_field(hops_buf *b, const char *s, size_t n)
{
    int quote = n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote)
        return hops__buf_put(b, s, n);
    int bad = hops__buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        const char *q = memchr(s + i, '"', n - i);
        size_t run = q ? (size_t)(q - (s + i)) : n - i;
        bad |= hops__buf_put(b, s + i, run);
        i += run;
        if (q)
            bad |= hops__buf_put(b, "\"\"", 2);
    }
    return bad | hops__buf_put(b, "\"", 1);
}

static int put_json_string(hops_buf *b, const char *s, size_t n)
{
    int bad = hops__buf_put(b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        size_t run = 0;
        while (i + run < n && (unsigned char)s[i + run] >= 0x20 && s[i + run] != '"' &&
               s[i + run] != '\\')
            run++;
        bad |= hops__buf_put(b, s + i, run);
        i += run;
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i++];
        switch (c) {
        case '"':
            bad |= hops__buf_put(b, "\\\"", 2);
            break;
        case '\\':
            bad |= hops__buf_put(b, "\\\\", 2);
            break;
        case '\n':
            bad |= hops__buf_put(b, "\\n", 2);
            break;
        case '\r':
            bad |= hops__buf_put(b, "\\r", 2);
            break;
        case '\t':
            bad |= hops__buf_put(b, "\\t", 2);
            break;
        default:
            bad |= hops__buf_printf(b, "\\u%04x", c);
            break;
        }
    }
    return bad | hops__buf_put(b, "\"", 1);
}

static int put_json_value(hops_buf *b, const value *v)
{
    if (v->is_null)
        return hops__buf_put(b, "null", 4);
    if (v->kind == K_RAW || (v->kind == K_INFER && (is_json_number(v->ptr, v->len) ||
                                                    text_is(v, "true") || text_is(v, "false"))))
        return hops__buf_put(b, v->ptr, v->len);
    return put_json_string(b, v->ptr, v->len);
}

/* The category index of V in one-hot column H, or -1. */
static long category_of(const tctx *t, size_t h, const value *v)
{
    size_t lo = 0, hi = t->n_cats[h];
    if (v->is_null)
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, k = t->cats_by_text[h][mid];
        const char *c = t->cats[h][k];
        size_t cl = strlen(c), n = cl < v->len ? cl : v->len;
        int cmp = n ? memcmp(c, v->ptr, n) : 0;
        if (cmp == 0)
            cmp = cl < v->len ? -1 : cl > v->len ? 1 : 0;
        if (cmp == 0)
            return (long)k;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Second pass: write the row into its output's chunk buffer. */
static hops_status write_record(void *ud, void *state, const hops_record *rec)
{
    tctx *t = ud;
    chunk_state *cs = state;
    int keep, bad = 0;
    size_t out = 0;
    hops_status rc;
    if (!cs)
        return oom();
    cs->rows_in++;
    if ((rc = prepare_row(t, cs, rec, &keep)) != HOPS_OK || !keep) {
        cs->failed = rc != HOPS_OK;
        cs->filtered += rc == HOPS_OK;
        return rc;
    }
    if (t->n_out > 1) {
        uint64_t h = splitmix64(t->o->seed ^ splitmix64(rec->line));
        double u = (double)(h >> 11) * 0x1.0p-53;
        while (out + 1 < t->n_out && u >= t->cum[out])
            out++;
    }
    for (size_t i = 0; i < t->n_hot; i++)
        cs->cat_of[i] = category_of(t, i, &cs->vals[t->hot_col[i]]);
    hops_buf *b = &cs->out[out];
    if (t->json_out)
        bad |= hops__buf_put(b, "{", 1);
    for (size_t j = 0; j < t->n_plan; j++) {
        const out_col *oc = &t->plan[j];
        const value *v = &cs->vals[oc->src];
        if (t->json_out)
            bad |= hops__buf_puts(b, oc->json_key);
        else if (j)
            bad |= hops__buf_put(b, ",", 1);
        if (oc->cat >= 0)
            bad |= hops__buf_put(b, cs->cat_of[oc->hot] == oc->cat ? "1" : "0", 1);
        else if (t->json_out)
            bad |= put_json_value(b, v);
        else if (!v->is_null)
            bad |= put_csv_field(b, v->ptr, v->len);
        else if (t->n_plan == 1) /* an empty line would be skipped as blank */
            bad |= hops__buf_put(b, "\"\"", 2);
    }
    bad |= hops__buf_put(b, t->json_out ? "}\n" : "\n", t->json_out ? 2 : 1);
    if (bad) {
        cs->failed = 1;
        return oom();
    }
    cs->rows[out]++;
    return HOPS_OK;
}

static hops_status write_end(void *ud, void *state)
{
    tctx *t = ud;
    chunk_state *cs = state;
    hops_status rc = HOPS_OK;
    if (!cs)
        return HOPS_OK;
    if (cs->failed)
        t->failed = 1;
    if (!t->failed) {
        for (size_t i = 0; i < t->n_out && rc == HOPS_OK; i++) {
            if (cs->out[i].len &&
                fwrite(cs->out[i].data, 1, cs->out[i].len, t->outs[i].f) != cs->out[i].len)
                rc = hops__error(HOPS_EIO, "%s: write failed: %s", t->paths[i], strerror(errno));
            t->rows[i] += cs->rows[i];
        }
        t->rows_in += cs->rows_in;
        t->filtered += cs->filtered;
        for (size_t c = 0; c < t->ncol; c++)
            t->cast_nulls[c] += cs->cast_nulls[c];
        if (rc != HOPS_OK)
            t->failed = 1;
    }
    chunk_state_free(t, cs);
    return rc;
}

/* ---- setting up ---- */

static hops_status check_options(const hops_transform_options *o, const char *out_path)
{
    double sum = 0;
    if (o->version != HOPS_TRANSFORM_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_transform_options: unknown version %u", o->version);
    if (!out_path || !*out_path)
        return hops__error(HOPS_EINVAL, "no output path");
    if (ends_with(out_path, ".gz"))
        return hops__error(HOPS_EINVAL,
                           "%s: writing gzip is not supported; name the output without .gz",
                           out_path);
    if (ends_with(out_path, "/") && o->n_splits == 0)
        return hops__error(
            HOPS_EINVAL, "%s names a directory, which is for --split; give a file name", out_path);
    if (o->standardize_ddof != 0 && o->standardize_ddof != 1)
        return hops__error(HOPS_EINVAL, "--ddof is 0 or 1, not %d", o->standardize_ddof);
    if (o->output_format != HOPS_FORMAT_AUTO && o->output_format != HOPS_FORMAT_CSV &&
        o->output_format != HOPS_FORMAT_JSONL)
        return hops__error(HOPS_EINVAL, "unknown output format %d", (int)o->output_format);
    for (size_t i = 0; i < o->n_fills; i++)
        if (!o->fills[i].column || !o->fills[i].value || !utf8_ok(o->fills[i].value))
            return hops__error(HOPS_EINVAL, "--fill-null: the value for '%s' is not UTF-8 text",
                               o->fills[i].column ? o->fills[i].column : "?");
    for (size_t i = 0; i < o->n_casts; i++)
        if (!hops_cast_type_name(o->casts[i].type))
            return hops__error(HOPS_EINVAL,
                               "--cast %s: unknown type %d (int, float, bool or string)",
                               o->casts[i].column, (int)o->casts[i].type);
    for (size_t i = 0; i < o->n_splits; i++) {
        const hops_transform_split *s = &o->splits[i];
        if (!s->name || !*s->name ||
            strspn(s->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                strlen(s->name))
            return hops__error(HOPS_EINVAL,
                               "--split: '%s' is not a split name (letters, digits, '_' and '-')",
                               s->name ? s->name : "");
        if (!(s->fraction > 0 && s->fraction <= 1))
            return hops__error(HOPS_EINVAL,
                               "--split: the fraction of '%s' must be in (0, 1], not %g", s->name,
                               s->fraction);
        for (size_t k = 0; k < i; k++)
            if (strcmp(o->splits[k].name, s->name) == 0)
                return hops__error(HOPS_EINVAL, "--split: '%s' is named twice", s->name);
        sum += s->fraction;
    }
    if (o->n_splits && fabs(sum - 1) > 1e-9)
        return hops__error(HOPS_EINVAL, "--split: the fractions sum to %.10g, not 1", sum);
    return HOPS_OK;
}

/* Column index of NAME for option OPT; *seen marks columns an op has taken. */
static hops_status take_column(const tctx *t, const char *opt, const char *name, char *seen,
                               size_t *out)
{
    long c = name ? find_column(t, name) : -1;
    if (c < 0)
        return unknown_column(t, opt, name ? name : "(null)");
    if (seen[c])
        return hops__error(HOPS_EINVAL, "%s: column '%s' is named twice", opt, name);
    seen[c] = 1;
    *out = (size_t)c;
    return HOPS_OK;
}

static hops_status resolve_columns(tctx *t)
{
    const hops_transform_options *o = t->o;
    size_t n = t->ncol ? t->ncol : 1;
    char *seen = calloc(n, 1), *std_seen = calloc(n, 1);
    hops_status rc = HOPS_OK;
    t->fills = calloc(o->n_fills + 1, sizeof *t->fills);
    t->casts = calloc(o->n_casts + 1, sizeof *t->casts);
    t->std_col = calloc(o->n_standardize + 1, sizeof *t->std_col);
    t->hot_col = calloc(o->n_one_hot + 1, sizeof *t->hot_col);
    if (!seen || !std_seen || !t->fills || !t->casts || !t->std_col || !t->hot_col) {
        rc = oom();
        goto out;
    }
    for (size_t i = 0; i < o->n_fills && rc == HOPS_OK; i++) {
        rc = take_column(t, "--fill-null", o->fills[i].column, seen, &t->fills[i].col);
        t->fills[i].value = o->fills[i].value;
        t->n_fills += rc == HOPS_OK;
    }
    memset(seen, 0, n);
    for (size_t i = 0; i < o->n_casts && rc == HOPS_OK; i++) {
        rc = take_column(t, "--cast", o->casts[i].column, seen, &t->casts[i].col);
        t->casts[i].type = o->casts[i].type;
        t->n_casts += rc == HOPS_OK;
    }
    for (size_t i = 0; i < o->n_standardize && rc == HOPS_OK; i++) {
        rc = take_column(t, "--standardize", o->standardize[i], std_seen, &t->std_col[i]);
        t->n_std += rc == HOPS_OK;
    }
    memset(seen, 0, n);
    for (size_t i = 0; i < o->n_one_hot && rc == HOPS_OK; i++) {
        rc = take_column(t, "--one-hot", o->one_hot[i], seen, &t->hot_col[i]);
        if (rc == HOPS_OK && std_seen[t->hot_col[i]])
            rc =
                hops__error(HOPS_EINVAL, "column '%s' is given to both --standardize and --one-hot",
                            o->one_hot[i]);
        t->n_hot += rc == HOPS_OK;
    }
out:
    free(seen);
    free(std_seen);
    return rc;
}

/* A name that --select/--drop may use before the categories are known: an
 * input column, or COL / COL=... for a one-hot column COL. */
static int plausible_name(const tctx *t, const char *name)
{
    if (find_column(t, name) >= 0)
        return 1;
    for (size_t i = 0; i < t->n_hot; i++) {
        const char *c = t->info.columns[t->hot_col[i]];
        size_t n = strlen(c);
        if (strncmp(name, c, n) == 0 && name[n] == '=')
            return 1;
    }
    return 0;
}

static hops_status check_select_names(const tctx *t)
{
    const hops_transform_options *o = t->o;
    for (int pass = 0; pass < 2; pass++) {
        const char *const *names = pass ? o->drop : o->select;
        size_t n = pass ? o->n_drop : o->n_select;
        for (size_t i = 0; i < n; i++)
            if (!names[i] || !plausible_name(t, names[i]))
                return unknown_column(t, pass ? "--drop" : "--select", names[i] ? names[i] : "");
    }
    return HOPS_OK;
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Numbers first by value, ties (1 and 1.0) by text. */
static int cmp_number_text(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    hops_field fx = {x, strlen(x), 0, 0}, fy = {y, strlen(y), 0, 0};
    double dx = 0, dy = 0;
    hops__field_double(&fx, &dx);
    hops__field_double(&fy, &dy);
    if (dx != dy)
        return dx < dy ? -1 : 1;
    return strcmp(x, y);
}

typedef struct {
    const char *text;
    size_t index;
} text_index;

static int cmp_text_index(const void *a, const void *b)
{
    return strcmp(((const text_index *)a)->text, ((const text_index *)b)->text);
}

/* The merged statistics into means, divisors and sorted categories. */
static hops_status finish_gather(tctx *t)
{
    for (size_t i = 0; i < t->n_std; i++) {
        const welford *w = &t->std[i];
        double dof = w->n - t->o->standardize_ddof;
        double sd = dof > 0 ? sqrt(w->m2 / dof) : 0;
        t->std_div[i] = sd > 0 && isfinite(sd) ? sd : 1;
    }
    for (size_t h = 0; h < t->n_hot; h++) {
        strset *s = &t->hot[h];
        size_t n = 0;
        int numeric = 1;
        t->cats[h] = calloc(s->count + 1, sizeof *t->cats[h]);
        t->cats_by_text[h] = calloc(s->count + 1, sizeof *t->cats_by_text[h]);
        if (!t->cats[h] || !t->cats_by_text[h])
            return oom();
        text_index *ti;
        for (size_t k = 0; k < s->cap; k++)
            if (s->keys[k]) {
                hops_field f = {s->keys[k], s->lens[k], 0, 0};
                double d;
                numeric &= hops__field_double(&f, &d);
                t->cats[h][n++] = s->keys[k];
                s->keys[k] = NULL; /* moved */
            }
        t->n_cats[h] = n;
        strset_free(s);
        qsort(t->cats[h], n, sizeof *t->cats[h], numeric ? cmp_number_text : cmp_text);
        /* A bytewise index for looking values up (the same order unless numeric). */
        if (!(ti = calloc(n + 1, sizeof *ti)))
            return oom();
        for (size_t k = 0; k < n; k++) {
            ti[k].text = t->cats[h][k];
            ti[k].index = k;
        }
        qsort(ti, n, sizeof *ti, cmp_text_index);
        for (size_t k = 0; k < n; k++)
            t->cats_by_text[h][k] = ti[k].index;
        free(ti);
    }
    return HOPS_OK;
}

static hops_status plan_add(out_col **plan, size_t *n, const out_col *c, char *name_owned)
{
    out_col *p = realloc(*plan, (*n + 1) * sizeof *p);
    if (!p || !(name_owned = name_owned ? name_owned : hops__strdup(c->name))) {
        if (p)
            *plan = p;
        free(name_owned);
        return oom();
    }
    *plan = p;
    p[*n] = *c;
    p[*n].name = name_owned;
    p[*n].json_key = NULL;
    (*n)++;
    return HOPS_OK;
}

static void plan_free(out_col *plan, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(plan[i].name);
        free(plan[i].json_key);
    }
    free(plan);
}

/* Indexes into PLAN that NAME stands for: the column of that name, or every
 * indicator of the one-hot column NAME. */
static size_t plan_match(const tctx *t, const out_col *plan, size_t n, const char *name,
                         size_t *idx)
{
    size_t m = 0;
    for (size_t j = 0; j < n; j++)
        if (strcmp(plan[j].name, name) == 0) {
            idx[0] = j;
            return 1;
        }
    for (size_t j = 0; j < n; j++)
        if (plan[j].cat >= 0 && strcmp(t->info.columns[plan[j].src], name) == 0)
            idx[m++] = j;
    return m;
}

static hops_status plan_unknown(const out_col *plan, size_t n, const char *opt, const char *name)
{
    char **names = calloc(n + 1, sizeof *names);
    char *list;
    if (!names)
        return oom();
    for (size_t j = 0; j < n; j++)
        names[j] = plan[j].name;
    list = name_list(names, n);
    free(names);
    hops__error(HOPS_EINVAL, "%s: unknown column '%s'; the columns are: %s", opt, name,
                list ? list : "?");
    free(list);
    return HOPS_EINVAL;
}

/* Every column after one-hot: the input's, a one-hot column replaced in place
 * by its indicators COL=value. */
static hops_status plan_all(const tctx *t, out_col **all, size_t *n_all)
{
    hops_status rc = HOPS_OK;
    for (size_t c = 0; c < t->ncol && rc == HOPS_OK; c++) {
        out_col oc = {c, -1, 0, t->info.columns[c], NULL};
        size_t h;
        for (h = 0; h < t->n_hot && t->hot_col[h] != c; h++)
            ;
        if (h == t->n_hot) {
            rc = plan_add(all, n_all, &oc, NULL);
            continue;
        }
        for (size_t k = 0; k < t->n_cats[h] && rc == HOPS_OK; k++) {
            char *name = hops__aprintf("%s=%s", t->info.columns[c], t->cats[h][k]);
            oc.cat = (long)k;
            oc.hot = h;
            rc = name ? plan_add(all, n_all, &oc, name) : oom();
        }
    }
    for (size_t j = 0; j < *n_all && rc == HOPS_OK; j++)
        for (size_t k = 0; k < j && rc == HOPS_OK; k++)
            if (strcmp((*all)[j].name, (*all)[k].name) == 0)
                rc = hops__error(HOPS_EINVAL,
                                 "--one-hot: the column '%s' it makes is already in the data",
                                 (*all)[j].name);
    return rc;
}

/* The output columns: every column after one-hot, then --select (in its
 * order) and --drop. A name of the input that has no column left (a one-hot
 * column of no values) selects or drops nothing. */
static hops_status build_plan(tctx *t)
{
    const hops_transform_options *o = t->o;
    out_col *all = NULL, *cur = NULL, *res = NULL;
    size_t n_all = 0, n_cur = 0, n_res = 0, *idx = NULL;
    char *taken = NULL;
    hops_status rc = plan_all(t, &all, &n_all);
    if (rc != HOPS_OK)
        goto out;
    idx = calloc(n_all + 1, sizeof *idx);
    taken = calloc(n_all + 1, 1);
    if (!idx || !taken) {
        rc = oom();
        goto out;
    }
    for (size_t i = 0; i < o->n_select && rc == HOPS_OK; i++) {
        size_t m = plan_match(t, all, n_all, o->select[i], idx);
        if (m == 0 && find_column(t, o->select[i]) >= 0)
            continue;
        if (m == 0) {
            rc = plan_unknown(all, n_all, "--select", o->select[i]);
            break;
        }
        for (size_t k = 0; k < m && rc == HOPS_OK; k++) {
            if (taken[idx[k]])
                rc = hops__error(HOPS_EINVAL, "--select: column '%s' is selected twice",
                                 all[idx[k]].name);
            else {
                taken[idx[k]] = 1;
                rc = plan_add(&cur, &n_cur, &all[idx[k]], NULL);
            }
        }
    }
    for (size_t j = 0; j < n_all && rc == HOPS_OK && !o->n_select; j++)
        rc = plan_add(&cur, &n_cur, &all[j], NULL);
    if (rc != HOPS_OK)
        goto out;
    memset(taken, 0, n_all + 1);
    for (size_t i = 0; i < o->n_drop && rc == HOPS_OK; i++) {
        size_t m = plan_match(t, cur, n_cur, o->drop[i], idx);
        if (m == 0 &&
            (plan_match(t, all, n_all, o->drop[i], idx) || find_column(t, o->drop[i]) >= 0))
            continue; /* not selected, or no column left */
        if (m == 0)
            rc = plan_unknown(all, n_all, "--drop", o->drop[i]);
        for (size_t k = 0; k < m; k++)
            taken[idx[k]] = 1;
    }
    for (size_t j = 0; j < n_cur && rc == HOPS_OK; j++)
        if (!taken[j])
            rc = plan_add(&res, &n_res, &cur[j], NULL);
    if (rc == HOPS_OK && n_res == 0)
        rc = hops__error(HOPS_EINVAL, "--select/--drop leave no column to write");
    for (size_t j = 0; j < n_res && rc == HOPS_OK; j++) {
        hops_buf k = HOPS_BUF_INIT;
        int bad = hops__buf_puts(&k, j ? "," : "") |
                  put_json_string(&k, res[j].name, strlen(res[j].name)) | hops__buf_put(&k, ":", 1);
        res[j].json_key = hops__buf_detach(&k);
        if (bad || !res[j].json_key)
            rc = oom();
    }
    if (rc == HOPS_OK) {
        t->plan = res;
        t->n_plan = n_res;
        res = NULL;
        n_res = 0;
    }
out:
    plan_free(all, n_all);
    plan_free(cur, n_cur);
    plan_free(res, n_res);
    free(idx);
    free(taken);
    return rc;
}

/* ---- output files ---- */

/* OUT with ".NAME" inserted before its extension, or OUT/NAME.EXT for a directory. */
static char *split_path(const char *out, const char *name, int json)
{
    const char *slash = strrchr(out, '/'), *base = slash ? slash + 1 : out;
    const char *dot = strrchr(base, '.');
    if (!*base)
        return hops__aprintf("%s%s.%s", out, name, json ? "jsonl" : "csv");
    if (!dot || dot == base)
        return hops__aprintf("%s.%s", out, name);
    return hops__aprintf("%.*s.%s%s", (int)(dot - out), out, name, dot);
}

static hops_status open_outputs(tctx *t, const char *out_path)
{
    const hops_transform_options *o = t->o;
    t->paths = calloc(t->n_out, sizeof *t->paths);
    t->outs = calloc(t->n_out, sizeof *t->outs);
    t->rows = calloc(t->n_out, sizeof *t->rows);
    if (!t->paths || !t->outs || !t->rows)
        return oom();
    if (ends_with(out_path, "/")) {
        hops_status rc = hops__mkdir_p(out_path, 0777);
        if (rc != HOPS_OK)
            return rc;
    }
    for (size_t i = 0; i < t->n_out; i++) {
        t->paths[i] = o->n_splits ? split_path(out_path, o->splits[i].name, t->json_out)
                                  : hops__strdup(out_path);
        if (!t->paths[i])
            return oom();
        for (size_t k = 0; k < i; k++)
            if (strcmp(t->paths[k], t->paths[i]) == 0)
                return hops__error(HOPS_EINVAL, "two splits would write %s", t->paths[i]);
        hops_status rc = hops__outfile_open(&t->outs[i], t->paths[i]);
        if (rc != HOPS_OK)
            return rc;
    }
    if (!t->json_out) { /* the header, in every output */
        hops_buf h = HOPS_BUF_INIT;
        int bad = 0;
        for (size_t j = 0; j < t->n_plan; j++) {
            if (j)
                bad |= hops__buf_put(&h, ",", 1);
            bad |= put_csv_field(&h, t->plan[j].name, strlen(t->plan[j].name));
        }
        bad |= hops__buf_put(&h, "\n", 1);
        for (size_t i = 0; i < t->n_out && !bad; i++)
            if (fwrite(h.data, 1, h.len, t->outs[i].f) != h.len) {
                hops__buf_free(&h);
                return hops__error(HOPS_EIO, "%s: write failed: %s", t->outs[i].path,
                                   strerror(errno));
            }
        hops__buf_free(&h);
        if (bad)
            return oom();
    }
    return HOPS_OK;
}

/* Flush, fsync and rename every output (COMMIT), or remove the temporary files. */
static hops_status close_outputs(tctx *t, int commit)
{
    hops_status rc = HOPS_OK;
    for (size_t i = 0; t->outs && i < t->n_out; i++) {
        if (commit && rc == HOPS_OK)
            rc = hops__outfile_commit(&t->outs[i]);
        else
            hops__outfile_abort(&t->outs[i]);
    }
    return rc;
}

/* ---- the summary ---- */

static hops_status make_summary(const tctx *t, char **out)
{
    json_t *j = json_object(), *cols = json_array(), *outs = json_array();
    hops_status rc = HOPS_OK;
    uint64_t rows_out = 0;
    for (size_t i = 0; i < t->n_out; i++)
        rows_out += t->rows[i];
    json_object_set_new(j, "input", json_string(t->info.path));
    json_object_set_new(j, "format", json_string(t->json_in ? "jsonl" : "csv"));
    json_object_set_new(j, "output_format", json_string(t->json_out ? "jsonl" : "csv"));
    json_object_set_new(j, "rows_in", json_integer((json_int_t)t->rows_in));
    json_object_set_new(j, "rows_out", json_integer((json_int_t)rows_out));
    json_object_set_new(j, "rows_filtered", json_integer((json_int_t)t->filtered));
    for (size_t k = 0; k < t->n_plan; k++)
        json_array_append_new(cols, json_string(t->plan[k].name));
    json_object_set_new(j, "columns", cols);
    for (size_t i = 0; i < t->n_out; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "split",
                            t->o->n_splits ? json_string(t->o->splits[i].name) : json_null());
        json_object_set_new(e, "path", json_string(t->paths[i]));
        json_object_set_new(e, "rows", json_integer((json_int_t)t->rows[i]));
        json_array_append_new(outs, e);
    }
    json_object_set_new(j, "outputs", outs);
    if (t->n_std) {
        json_t *s = json_object();
        for (size_t i = 0; i < t->n_std; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "mean", json_real(t->std[i].n ? t->std[i].mean : 0));
            double dof = t->std[i].n - t->o->standardize_ddof;
            json_object_set_new(e, "std",
                                dof > 0 ? json_real(sqrt(t->std[i].m2 / dof)) : json_null());
            json_object_set_new(e, "count", json_integer((json_int_t)t->std[i].n));
            json_object_set_new(s, t->info.columns[t->std_col[i]], e);
        }
        json_object_set_new(j, "standardize", s);
        json_object_set_new(j, "ddof", json_integer(t->o->standardize_ddof));
    }
    if (t->n_hot) {
        json_t *h = json_object();
        for (size_t i = 0; i < t->n_hot; i++) {
            json_t *a = json_array();
            for (size_t k = 0; k < t->n_cats[i]; k++)
                json_array_append_new(a, json_string(t->cats[i][k]));
            json_object_set_new(h, t->info.columns[t->hot_col[i]], a);
        }
        json_object_set_new(j, "one_hot", h);
    }
    if (t->n_casts) {
        json_t *c = json_object();
        for (size_t i = 0; i < t->n_casts; i++)
            json_object_set_new(c, t->info.columns[t->casts[i].col],
                                json_integer((json_int_t)t->cast_nulls[t->casts[i].col]));
        json_object_set_new(j, "cast_nulls", c);
    }
    *out = hops__json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!*out)
        rc = oom();
    json_decref(j);
    return rc;
}

/* ---- the whole transform ---- */

static void tctx_free(tctx *t)
{
    hops__expr_free(t->filter);
    free(t->fills);
    free(t->casts);
    free(t->std_col);
    free(t->std);
    free(t->std_div);
    if (t->hot)
        for (size_t i = 0; i < t->n_hot; i++)
            strset_free(&t->hot[i]);
    free(t->hot);
    for (size_t h = 0; t->cats && h < t->n_hot; h++) {
        for (size_t k = 0; t->cats[h] && k < t->n_cats[h]; k++)
            free(t->cats[h][k]);
        free(t->cats[h]);
        free(t->cats_by_text[h]);
    }
    free(t->cats);
    free(t->cats_by_text);
    free(t->n_cats);
    free(t->hot_col);
    plan_free(t->plan, t->n_plan);
    free(t->cum);
    for (size_t i = 0; i < t->n_out; i++) {
        if (t->paths)
            free(t->paths[i]);
        if (t->outs)
            hops__outfile_abort(&t->outs[i]); /* no-op once committed */
    }
    free(t->paths);
    free(t->outs);
    free(t->rows);
    free(t->cast_nulls);
    hops__table_info_free(&t->info);
}

static hops_status run_pass(tctx *t, const char *in_path, int pass)
{
    hops_scan_cb cb = {t, chunk_begin, pass == 1 ? gather_record : write_record,
                       pass == 1 ? gather_end : write_end, NULL};
    hops_table_info scanned;
    hops_status rc;
    t->pass = pass;
    t->failed = 0;
    rc = hops__data_scan(in_path, &t->o->read, &scanned, &cb);
    if (rc == HOPS_OK && scanned.n_columns != t->ncol)
        rc = hops__error(HOPS_ERROR, "%s: the columns changed while it was read", in_path);
    hops__table_info_free(&scanned);
    return rc;
}

hops_status hops_data_transform(const char *in_path, const char *out_path,
                                const hops_transform_options *opts, char **summary_json_out)
{
    static const hops_transform_options defaults = HOPS_TRANSFORM_OPTIONS_INIT;
    const hops_transform_options *o = opts ? opts : &defaults;
    tctx t;
    hops_status rc;
    int opened = 0;
    if (summary_json_out)
        *summary_json_out = NULL;
    memset(&t, 0, sizeof t);
    t.o = o;
    if (!in_path)
        return hops__error(HOPS_EINVAL, "no input path");
    if ((rc = check_options(o, out_path)) != HOPS_OK)
        return rc;
    if (o->filter && (rc = hops__expr_parse(&t.filter, o->filter)) != HOPS_OK)
        return hops__error_prefix(rc, "--filter");
    if ((rc = hops__table_open(in_path, &o->read, &t.info)) != HOPS_OK)
        goto out;
    t.ncol = t.info.n_columns;
    t.json_in = t.info.format == HOPS_FORMAT_JSONL;
    if (o->output_format != HOPS_FORMAT_AUTO)
        t.json_out = o->output_format == HOPS_FORMAT_JSONL;
    else if (ends_with(out_path, "/"))
        t.json_out = t.json_in;
    else
        t.json_out = ends_with(out_path, ".jsonl") || ends_with(out_path, ".ndjson") ||
                     ends_with(out_path, ".json");
    if (t.filter &&
        (rc = hops__expr_bind(t.filter, (const char *const *)t.info.columns, t.ncol)) != HOPS_OK) {
        hops__error_prefix(rc, "--filter");
        goto out;
    }
    if ((rc = resolve_columns(&t)) != HOPS_OK || (rc = check_select_names(&t)) != HOPS_OK)
        goto out;
    t.n_out = o->n_splits ? o->n_splits : 1;
    t.cum = calloc(t.n_out, sizeof *t.cum);
    t.cast_nulls = calloc(t.ncol + 1, sizeof *t.cast_nulls);
    t.std = calloc(t.n_std + 1, sizeof *t.std);
    t.std_div = calloc(t.n_std + 1, sizeof *t.std_div);
    t.hot = calloc(t.n_hot + 1, sizeof *t.hot);
    t.cats = calloc(t.n_hot + 1, sizeof *t.cats);
    t.cats_by_text = calloc(t.n_hot + 1, sizeof *t.cats_by_text);
    t.n_cats = calloc(t.n_hot + 1, sizeof *t.n_cats);
    if (!t.cum || !t.cast_nulls || !t.std || !t.std_div || !t.hot || !t.cats || !t.cats_by_text ||
        !t.n_cats) {
        rc = oom();
        goto out;
    }
    for (size_t i = 0; i < o->n_splits; i++)
        t.cum[i] = (i ? t.cum[i - 1] : 0) + o->splits[i].fraction;

    if (t.n_std || t.n_hot) {
        if ((rc = run_pass(&t, in_path, 1)) != HOPS_OK || (rc = finish_gather(&t)) != HOPS_OK)
            goto out;
    }
    if ((rc = build_plan(&t)) != HOPS_OK)
        goto out;
    opened = 1;
    if ((rc = open_outputs(&t, out_path)) != HOPS_OK)
        goto out;
    if ((rc = run_pass(&t, in_path, 2)) != HOPS_OK)
        goto out;
    if ((rc = close_outputs(&t, 1)) != HOPS_OK) {
        opened = 0;
        goto out;
    }
    opened = 0;
    if (summary_json_out)
        rc = make_summary(&t, summary_json_out);
out:
    if (opened)
        close_outputs(&t, 0);
    tctx_free(&t);
    return rc;
}

/* ---- names and the spec ---- */

const char *hops_cast_type_name(hops_cast_type type)
{
    switch (type) {
    case HOPS_CAST_INT:
        return "int";
    case HOPS_CAST_FLOAT:
        return "float";
    case HOPS_CAST_BOOL:
        return "bool";
    case HOPS_CAST_STRING:
        return "string";
    default:
        return NULL;
    }
}

hops_cast_type hops_cast_type_parse(const char *name)
{
    static const struct {
        const char *name;
        hops_cast_type type;
    } names[] = {
        {"int", HOPS_CAST_INT},     {"integer", HOPS_CAST_INT},  {"int64", HOPS_CAST_INT},
        {"float", HOPS_CAST_FLOAT}, {"double", HOPS_CAST_FLOAT}, {"float64", HOPS_CAST_FLOAT},
        {"bool", HOPS_CAST_BOOL},   {"boolean", HOPS_CAST_BOOL}, {"string", HOPS_CAST_STRING},
        {"str", HOPS_CAST_STRING},  {"text", HOPS_CAST_STRING}};
    for (size_t i = 0; name && i < HOPS_ARRAY_LEN(names); i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].type;
    return (hops_cast_type)0;
}

/* json_string, remembering a failure (not UTF-8) in *BAD. */
static json_t *jstr(const char *s, int *bad)
{
    json_t *j = json_string(s ? s : "");
    if (!j) {
        *bad = 1;
        return json_null();
    }
    return j;
}

static json_t *jstr_array(const char *const *v, size_t n, int *bad)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, jstr(v[i], bad));
    return a;
}

hops_status hops_transform_options_to_json(const hops_transform_options *o, char **json)
{
    json_t *j, *read;
    int bad = 0;
    char delim[2];
    *json = NULL;
    if (!o || o->version != HOPS_TRANSFORM_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_transform_options: unknown version");
    j = json_object();
    if (o->filter)
        json_object_set_new(j, "filter", jstr(o->filter, &bad));
    if (o->n_fills) {
        json_t *a = json_array();
        for (size_t i = 0; i < o->n_fills; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "column", jstr(o->fills[i].column, &bad));
            json_object_set_new(e, "value", jstr(o->fills[i].value, &bad));
            json_array_append_new(a, e);
        }
        json_object_set_new(j, "fill_null", a);
    }
    if (o->n_casts) {
        json_t *a = json_array();
        for (size_t i = 0; i < o->n_casts; i++) {
            json_t *e = json_object();
            const char *tn = hops_cast_type_name(o->casts[i].type);
            json_object_set_new(e, "column", jstr(o->casts[i].column, &bad));
            json_object_set_new(e, "type", tn ? json_string(tn) : json_null());
            bad |= tn == NULL;
            json_array_append_new(a, e);
        }
        json_object_set_new(j, "cast", a);
        json_object_set_new(j, "cast_errors", json_string(o->cast_errors_null ? "null" : "error"));
    }
    if (o->n_standardize) {
        json_t *s = json_object();
        json_object_set_new(s, "columns", jstr_array(o->standardize, o->n_standardize, &bad));
        json_object_set_new(s, "ddof", json_integer(o->standardize_ddof));
        json_object_set_new(j, "standardize", s);
    }
    if (o->n_one_hot)
        json_object_set_new(j, "one_hot", jstr_array(o->one_hot, o->n_one_hot, &bad));
    if (o->n_select)
        json_object_set_new(j, "select", jstr_array(o->select, o->n_select, &bad));
    if (o->n_drop)
        json_object_set_new(j, "drop", jstr_array(o->drop, o->n_drop, &bad));
    if (o->n_splits) {
        json_t *a = json_array();
        for (size_t i = 0; i < o->n_splits; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "name", jstr(o->splits[i].name, &bad));
            json_object_set_new(e, "fraction", json_real(o->splits[i].fraction));
            json_array_append_new(a, e);
        }
        json_object_set_new(j, "split", a);
        json_object_set_new(j, "seed",
                            o->seed <= (uint64_t)INT64_MAX ? json_integer((json_int_t)o->seed)
                                                           : json_real((double)o->seed));
    }
    if (o->output_format != HOPS_FORMAT_AUTO)
        json_object_set_new(j, "output_format",
                            json_string(o->output_format == HOPS_FORMAT_JSONL ? "jsonl" : "csv"));
    read = json_object();
    json_object_set_new(read, "format",
                        json_string(o->read.format == HOPS_FORMAT_CSV     ? "csv"
                                    : o->read.format == HOPS_FORMAT_JSONL ? "jsonl"
                                                                          : "auto"));
    delim[0] = o->read.delimiter ? o->read.delimiter : ',';
    delim[1] = '\0';
    json_object_set_new(read, "delimiter", jstr(delim, &bad));
    json_object_set_new(read, "no_header", json_boolean(o->read.no_header));
    json_object_set_new(j, "read", read);
    json_object_set_new(j, "order",
                        json_string("filter,fill_null,cast,standardize,one_hot,select,drop,split"));
    if (bad) {
        json_decref(j);
        return hops__error(
            HOPS_EINVAL,
            "the transform options hold text that is not UTF-8 (or an unknown cast type)");
    }
    *json = hops__json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return *json ? HOPS_OK : oom();
}
