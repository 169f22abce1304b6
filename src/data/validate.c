/* Schema validation: parse and check a schema document, then check every
 * record of a file against it in one parallel pass (see hops/schema.h).
 *
 * Records are checked on the parser threads; each chunk keeps its counts,
 * its first examples per rule, and the records that failed or carry values of
 * unique columns. chunk_end, on the calling thread and in file order, merges
 * the counts, decides uniqueness against exact hash sets, and appends the
 * failing records to the quarantine file, so the report and the quarantine
 * file are the same for any thread count.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data_internal.h"
#include "hops/schema.h"

#define SHOW_MAX 200 /* bytes of a value shown in a report */

typedef enum { T_INT, T_FLOAT, T_BOOL, T_STRING, T_CATEGORY, T_TIMESTAMP } col_type;

static const char *const type_names[] = {"int", "float", "bool", "string", "category", "timestamp"};
static const char *const a_type[] = {"an int",   "a float",    "a bool",
                                     "a string", "a category", "a timestamp"};

/* Per-column rules, in report order; a rule's id is column * R_PER_COL + kind. */
enum { R_TYPE, R_NOT_NULL, R_MIN, R_MAX, R_VALUES, R_REGEX, R_UNIQUE, R_PER_COL };
/* Rules about the whole file, after the column rules. */
enum { G_COLUMNS, G_ROWS, G_RAGGED, G_COUNT };

static const char *const rule_names[] = {"type",   "not_null", "min",   "max",
                                         "values", "regex",    "unique"};
static const char *const global_names[] = {"columns", "rows", "ragged"};

typedef struct {
    int set;
    int is_int; /* an integer bound: compared exactly with int values */
    int64_t i;
    double d;   /* the bound as a number (timestamps: seconds since the epoch) */
    char *text; /* as shown in messages */
} bound;

typedef struct {
    const char *s;
    size_t len;
} sv;

typedef struct {
    char *name;
    col_type type;
    int nullable;
    int unique;
    bound min, max;
    int has_values;
    size_t n_values;
    sv *str_values;      /* string/category, sorted bytewise */
    int64_t *int_values; /* int, sorted */
    double *num_values;  /* float and timestamp, sorted */
    int bool_values;     /* bit 0: false allowed, bit 1: true allowed */
    char *values_text;   /* "DK, NO, SE" for messages */
    char *regex;
    long file_col; /* index in the file's columns; -1: missing */
} col_schema;

typedef struct {
    json_t *root; /* owns the strings str_values point at */
    col_schema *cols;
    size_t n_cols;
    int has_rows_min, has_rows_max;
    uint64_t rows_min, rows_max;
} schema;

/* ---- locating a JSON value in the text, for line:column messages ---- */

typedef struct {
    const char *key; /* NULL: an array index */
    size_t index;
} jstep;

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *skip_string(const char *p)
{
    p++; /* the opening quote */
    while (*p && *p != '"') {
        if (*p == '\\' && p[1])
            p++;
        p++;
    }
    return *p ? p + 1 : p;
}

static const char *skip_value(const char *p)
{
    int depth = 0;
    p = skip_ws(p);
    if (*p == '"')
        return skip_string(p);
    if (*p != '{' && *p != '[') {
        while (*p && !strchr(",]} \t\r\n", *p))
            p++;
        return p;
    }
    while (*p) {
        if (*p == '"') {
            p = skip_string(p);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return p;
}

/* Where the value at PATH starts in TEXT (valid JSON); with WANT_KEY, where
 * the last step's key starts. Falls back to the nearest enclosing value. */
static const char *locate(const char *text, const jstep *path, size_t n, int want_key)
{
    const char *p = skip_ws(text);
    for (size_t i = 0; i < n; i++) {
        const char *container = p;
        p = skip_ws(p);
        if (path[i].key) {
            const char *hit = NULL;
            size_t klen_want = strlen(path[i].key);
            if (*p != '{')
                return container;
            p = skip_ws(p + 1);
            while (*p == '"') {
                const char *k = p + 1, *ke = skip_string(p);
                const char *colon = skip_ws(ke), *v;
                if (*colon != ':')
                    return container;
                v = skip_ws(colon + 1);
                if (ke > k && (size_t)(ke - k - 1) == klen_want &&
                    memcmp(k, path[i].key, klen_want) == 0) {
                    hit = want_key && i == n - 1 ? p : v;
                    break;
                }
                p = skip_ws(skip_value(v));
                if (*p == ',')
                    p = skip_ws(p + 1);
            }
            if (!hit)
                return container;
            p = hit;
        } else {
            if (*p != '[')
                return container;
            p = skip_ws(p + 1);
            for (size_t k = 0; k < path[i].index && *p && *p != ']'; k++) {
                p = skip_ws(skip_value(p));
                if (*p == ',')
                    p = skip_ws(p + 1);
            }
        }
    }
    return p;
}

typedef struct {
    const char *text;
    const char *source;
} doc;

static hops_status schema_error(const doc *d, const jstep *path, size_t n, int want_key,
                                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static hops_status schema_error(const doc *d, const jstep *path, size_t n, int want_key,
                                const char *fmt, ...)
{
    const char *at = locate(d->text, path, n, want_key);
    unsigned long line = 1, col = 1;
    char msg[1024];
    va_list ap;
    for (const char *p = d->text; p < at; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*p & 0xc0) != 0x80)
            col++;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hops__error(HOPS_EPARSE, "%s:%lu:%lu: %s", d->source, line, col, msg);
}

/* ---- parsing a schema ---- */

static void schema_free(schema *s)
{
    for (size_t i = 0; s->cols && i < s->n_cols; i++) {
        col_schema *c = &s->cols[i];
        free(c->name);
        free(c->min.text);
        free(c->max.text);
        free(c->str_values);
        free(c->int_values);
        free(c->num_values);
        free(c->values_text);
        free(c->regex);
    }
    free(s->cols);
    json_decref(s->root);
    memset(s, 0, sizeof *s);
}

static int known_key(const char *k, const char *const *keys)
{
    for (; *keys; keys++)
        if (strcmp(k, *keys) == 0)
            return 1;
    return 0;
}

static char *shortest(double v)
{
    char num[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, v);
        if (strtod(num, NULL) == v)
            break;
    }
    return hops__strdup(num);
}

/* A min/max bound for column C from J (the value at PATH). */
static hops_status parse_bound(const doc *d, const jstep *path, size_t n, col_schema *c,
                               const char *which, const json_t *j, bound *b)
{
    if (c->type == T_INT || c->type == T_FLOAT) {
        if (!json_is_number(j))
            return schema_error(d, path, n, 0, "column '%s': %s of %s column is a number", c->name,
                                which, a_type[c->type]);
        b->is_int = json_is_integer(j);
        b->i = b->is_int ? (int64_t)json_integer_value(j) : 0;
        b->d = json_number_value(j);
        b->text = b->is_int ? hops__aprintf("%lld", (long long)b->i) : shortest(b->d);
    } else if (c->type == T_TIMESTAMP) {
        const char *s = json_string_value(j);
        if (!s || !hops_data_parse_timestamp(s, json_string_length(j), &b->d))
            return schema_error(d, path, n, 0,
                                "column '%s': %s of a timestamp column is an ISO 8601 date or "
                                "datetime string, like \"2024-01-31\" or \"2024-01-31T12:00:00Z\"",
                                c->name, which);
        b->text = hops__strdup(s);
    } else
        return schema_error(d, path, n, 1,
                            "column '%s': %s applies to int, float and timestamp columns, not %s",
                            c->name, which, type_names[c->type]);
    b->set = 1;
    return b->text ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

static int cmp_sv(const void *a, const void *b)
{
    const sv *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->s, y->s, n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static hops_status parse_values(const doc *d, jstep *path, col_schema *c, const json_t *arr)
{
    size_t n = json_array_size(arr), i;
    const json_t *v;
    hops_buf text = HOPS_BUF_INIT;
    if (!json_is_array(arr))
        return schema_error(d, path, 3, 0, "column '%s': values is a list", c->name);
    c->has_values = 1;
    c->n_values = n;
    if (c->type == T_STRING || c->type == T_CATEGORY)
        c->str_values = calloc(n ? n : 1, sizeof *c->str_values);
    else if (c->type == T_INT)
        c->int_values = calloc(n ? n : 1, sizeof *c->int_values);
    else if (c->type == T_FLOAT || c->type == T_TIMESTAMP)
        c->num_values = calloc(n ? n : 1, sizeof *c->num_values);
    if (c->type != T_BOOL && !c->str_values && !c->int_values && !c->num_values)
        return hops__error(HOPS_ENOMEM, "out of memory");
    json_array_foreach(arr, i, v) {
        const char *want = NULL;
        path[3].key = NULL;
        path[3].index = i;
        switch (c->type) {
        case T_STRING:
        case T_CATEGORY:
            if (!json_is_string(v))
                want = "strings";
            else {
                c->str_values[i].s = json_string_value(v);
                c->str_values[i].len = json_string_length(v);
            }
            break;
        case T_INT:
            if (!json_is_integer(v))
                want = "integers";
            else
                c->int_values[i] = (int64_t)json_integer_value(v);
            break;
        case T_FLOAT:
            if (!json_is_number(v))
                want = "numbers";
            else
                c->num_values[i] = json_number_value(v);
            break;
        case T_BOOL: {
            int b;
            if (json_is_boolean(v))
                c->bool_values |= json_is_true(v) ? 2 : 1;
            else if (json_is_string(v) &&
                     hops_data_parse_bool(json_string_value(v), json_string_length(v), &b))
                c->bool_values |= b ? 2 : 1;
            else
                want = "true or false";
            break;
        }
        case T_TIMESTAMP:
            if (!json_is_string(v) ||
                !hops_data_parse_timestamp(json_string_value(v), json_string_length(v),
                                           &c->num_values[i]))
                want = "ISO 8601 date or datetime strings";
            break;
        }
        if (want) {
            hops__buf_free(&text);
            return schema_error(d, path, 4, 0, "column '%s': values of %s column are %s", c->name,
                                a_type[c->type], want);
        }
        if (text.len < 60) {
            char *s = json_dumps(v, JSON_ENCODE_ANY);
            if (json_is_string(v))
                hops__buf_printf(&text, "%s%s", i ? ", " : "", json_string_value(v));
            else
                hops__buf_printf(&text, "%s%s", i ? ", " : "", s ? s : "?");
            free(s);
        } else if (i + 1 == n)
            hops__buf_printf(&text, ", ... (%zu values)", n);
    }
    if (c->str_values)
        qsort(c->str_values, n, sizeof *c->str_values, cmp_sv);
    if (c->int_values)
        qsort(c->int_values, n, sizeof *c->int_values, cmp_i64);
    if (c->num_values)
        qsort(c->num_values, n, sizeof *c->num_values, cmp_double);
    c->values_text = text.data ? hops__buf_detach(&text) : hops__strdup("none");
    hops__buf_free(&text);
    return c->values_text ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

static hops_status parse_column(const doc *d, schema *s, size_t idx, const json_t *j)
{
    static const char *const keys[] = {"name",   "type",  "nullable", "min",         "max",
                                       "values", "regex", "unique",   "description", NULL};
    jstep path[4] = {{"columns", 0}, {NULL, idx}, {NULL, 0}, {NULL, 0}};
    col_schema *c = &s->cols[idx];
    const char *k, *name, *type;
    json_t *v;
    hops_status rc;
    if (!json_is_object(j))
        return schema_error(d, path, 2, 0,
                            "column %zu is not an object like "
                            "{\"name\": \"age\", \"type\": \"int\"}",
                            idx + 1);
    json_object_foreach((json_t *)j, k, v) {
        if (!known_key(k, keys)) {
            path[2].key = k;
            return schema_error(d, path, 3, 1,
                                "column %zu: unknown key '%s' (known: name, type, "
                                "nullable, min, max, values, regex, unique, description)",
                                idx + 1, k);
        }
    }
    name = json_string_value(json_object_get(j, "name"));
    path[2].key = "name";
    if (!name || !*name)
        return schema_error(d, path, json_object_get(j, "name") ? 3 : 2, 0,
                            "column %zu has no \"name\" (a non-empty string)", idx + 1);
    for (size_t i = 0; i < idx; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return schema_error(d, path, 3, 0, "column '%s' appears twice (columns %zu and %zu)",
                                name, i + 1, idx + 1);
    if (!(c->name = hops__strdup(name)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    path[2].key = "type";
    v = json_object_get(j, "type");
    type = json_string_value(v);
    if (!type)
        return schema_error(d, path, v ? 3 : 2, 0,
                            "column '%s' has no \"type\" (one of int, "
                            "float, bool, string, category, timestamp)",
                            name);
    size_t t;
    for (t = 0; t < HOPS_ARRAY_LEN(type_names); t++)
        if (strcmp(type, type_names[t]) == 0)
            break;
    if (t == HOPS_ARRAY_LEN(type_names))
        return schema_error(d, path, 3, 0,
                            "column '%s': unknown type '%s' (types: int, float, "
                            "bool, string, category, timestamp)",
                            name, type);
    c->type = (col_type)t;
    c->nullable = 1;
    if ((v = json_object_get(j, "nullable"))) {
        path[2].key = "nullable";
        if (!json_is_boolean(v))
            return schema_error(d, path, 3, 0, "column '%s': nullable is true or false", name);
        c->nullable = json_is_true(v);
    }
    if ((v = json_object_get(j, "unique"))) {
        path[2].key = "unique";
        if (!json_is_boolean(v))
            return schema_error(d, path, 3, 0, "column '%s': unique is true or false", name);
        c->unique = json_is_true(v);
    }
    if ((v = json_object_get(j, "min"))) {
        path[2].key = "min";
        if ((rc = parse_bound(d, path, 3, c, "min", v, &c->min)) != HOPS_OK)
            return rc;
    }
    if ((v = json_object_get(j, "max"))) {
        path[2].key = "max";
        if ((rc = parse_bound(d, path, 3, c, "max", v, &c->max)) != HOPS_OK)
            return rc;
    }
    if (c->min.set && c->max.set &&
        (c->min.is_int && c->max.is_int ? c->min.i > c->max.i : c->min.d > c->max.d))
        return schema_error(d, path, 3, 0, "column '%s': min %s is above max %s", name, c->min.text,
                            c->max.text);
    if ((v = json_object_get(j, "values"))) {
        path[2].key = "values";
        if ((rc = parse_values(d, path, c, v)) != HOPS_OK)
            return rc;
    }
    if ((v = json_object_get(j, "regex"))) {
        regex_t re;
        int e;
        path[2].key = "regex";
        if (!json_is_string(v))
            return schema_error(d, path, 3, 0, "column '%s': regex is a string", name);
        if ((e = regcomp(&re, json_string_value(v), REG_EXTENDED)) != 0) {
            char why[256];
            regerror(e, &re, why, sizeof why);
            return schema_error(d, path, 3, 0, "column '%s': bad regex (POSIX extended): %s", name,
                                why);
        }
        regfree(&re);
        if (!(c->regex = hops__strdup(json_string_value(v))))
            return hops__error(HOPS_ENOMEM, "out of memory");
    }
    c->file_col = -1;
    return HOPS_OK;
}

static hops_status parse_rows(const doc *d, schema *s, const json_t *rows)
{
    jstep path[2] = {{"rows", 0}, {NULL, 0}};
    const char *k;
    json_t *v;
    if (!json_is_object(rows))
        return schema_error(d, path, 1, 0, "rows is an object like {\"min\": 1, \"max\": 1000}");
    json_object_foreach((json_t *)rows, k, v) {
        path[1].key = k;
        if (strcmp(k, "min") != 0 && strcmp(k, "max") != 0)
            return schema_error(d, path, 2, 1, "rows: unknown key '%s' (known: min, max)", k);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return schema_error(d, path, 2, 0, "rows: %s is a whole number >= 0", k);
        if (strcmp(k, "min") == 0) {
            s->has_rows_min = 1;
            s->rows_min = (uint64_t)json_integer_value(v);
        } else {
            s->has_rows_max = 1;
            s->rows_max = (uint64_t)json_integer_value(v);
        }
    }
    if (s->has_rows_min && s->has_rows_max && s->rows_min > s->rows_max) {
        path[1].key = "max";
        return schema_error(d, path, 2, 0, "rows: min %llu is above max %llu",
                            (unsigned long long)s->rows_min, (unsigned long long)s->rows_max);
    }
    return HOPS_OK;
}

static hops_status schema_parse(const char *text, const char *source, schema *s)
{
    static const char *const keys[] = {"version", "description", "inferred_from",
                                       "columns", "rows",        NULL};
    doc d = {text, source ? source : "schema"};
    json_error_t je;
    jstep path[1] = {{NULL, 0}};
    const char *k;
    json_t *v, *cols;
    hops_status rc;
    memset(s, 0, sizeof *s);
    if (!text)
        return hops__error(HOPS_EINVAL, "no schema given");
    s->root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!s->root)
        return hops__error(HOPS_EPARSE, "%s:%d:%d: not valid JSON: %s", d.source, je.line,
                           je.column, je.text);
    if (!json_is_object(s->root))
        return schema_error(&d, path, 0, 0, "a schema is a JSON object with \"columns\"");
    json_object_foreach(s->root, k, v) {
        path[0].key = k;
        if (!known_key(k, keys))
            return schema_error(&d, path, 1, 1,
                                "unknown key '%s' at the top level (known: "
                                "columns, rows, version, description, inferred_from)",
                                k);
    }
    if ((v = json_object_get(s->root, "version")) &&
        (!json_is_integer(v) || json_integer_value(v) != 1)) {
        path[0].key = "version";
        return schema_error(&d, path, 1, 0,
                            "unsupported schema version (this hops reads version 1)");
    }
    cols = json_object_get(s->root, "columns");
    path[0].key = "columns";
    if (!json_is_array(cols))
        return schema_error(&d, path, cols ? 1 : 0, 0,
                            "a schema needs \"columns\": a list of {\"name\": ..., \"type\": ...}");
    s->n_cols = json_array_size(cols);
    s->cols = calloc(s->n_cols ? s->n_cols : 1, sizeof *s->cols);
    if (!s->cols)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n_cols; i++)
        if ((rc = parse_column(&d, s, i, json_array_get(cols, i))) != HOPS_OK)
            return rc;
    if ((v = json_object_get(s->root, "rows")) && (rc = parse_rows(&d, s, v)) != HOPS_OK)
        return rc;
    return HOPS_OK;
}

hops_status hops_data_schema_check(const char *schema_json, const char *source)
{
    schema s;
    hops_status rc = schema_parse(schema_json, source, &s);
    schema_free(&s);
    return rc;
}

/* ---- exact sets of values, for unique columns ---- */

/* A slot is 16 bytes; its entry in the arena holds the line where the value
 * was first seen (8 bytes), the value's length (8 bytes), then the value. */
typedef struct {
    uint64_t hash;
    char *entry; /* NULL: an empty slot */
} uslot;

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

typedef struct {
    uslot *slots;
    size_t cap, n; /* cap: a power of two; kept at most half full */
    arena_block *blocks;
} uset;

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, s, n);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    return h;
}

static char *arena_entry(uset *u, uint64_t line, const char *key, size_t len)
{
    size_t n = 16 + len;
    uint64_t len64 = len;
    arena_block *b = u->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = u->blocks;
        b->used = 0;
        b->cap = cap;
        u->blocks = b;
    }
    char *dst = b->data + b->used;
    memcpy(dst, &line, 8);
    memcpy(dst + 8, &len64, 8);
    if (len)
        memcpy(dst + 16, key, len);
    b->used += n;
    return dst;
}

static void uset_free(uset *u)
{
    while (u->blocks) {
        arena_block *next = u->blocks->next;
        free(u->blocks);
        u->blocks = next;
    }
    free(u->slots);
    memset(u, 0, sizeof *u);
}

static int uset_grow(uset *u)
{
    size_t cap = u->cap ? u->cap * 2 : 1024;
    uslot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < u->cap; i++) {
        uslot *o = &u->slots[i];
        if (!o->entry)
            continue;
        size_t j = (size_t)o->hash & (cap - 1);
        while (slots[j].entry)
            j = (j + 1) & (cap - 1);
        slots[j] = *o;
    }
    free(u->slots);
    u->slots = slots;
    u->cap = cap;
    return 0;
}

/* Insert KEY seen on LINE. 1 and *FIRST_LINE when it was there already, 0
 * when added, -1 when out of memory. */
static int uset_insert(uset *u, const char *key, size_t len, uint64_t line, uint64_t *first_line)
{
    if ((u->n + 1) * 2 > u->cap && uset_grow(u) != 0)
        return -1;
    uint64_t h = hash_bytes(key, len);
    size_t j = (size_t)h & (u->cap - 1);
    while (u->slots[j].entry) {
        const char *e = u->slots[j].entry;
        uint64_t elen;
        memcpy(&elen, e + 8, 8);
        if (u->slots[j].hash == h && elen == len && memcmp(e + 16, key, len) == 0) {
            memcpy(first_line, e, 8);
            return 1;
        }
        j = (j + 1) & (u->cap - 1);
    }
    char *entry = arena_entry(u, line, key, len);
    if (!entry)
        return -1;
    u->slots[j] = (uslot){h, entry};
    u->n++;
    return 0;
}

/* ---- the validation pass ---- */

typedef struct {
    uint32_t rule;
    uint64_t line;      /* 0: none */
    const char *column; /* borrowed from the schema or the table info; NULL: none */
    char *value;        /* the field's text (cut to SHOW_MAX); NULL: null or none */
    char *message;
} example;

typedef struct {
    uint32_t col;              /* schema column */
    size_t key_off, key_len;   /* canonical value, in the chunk's arena */
    size_t show_off, show_len; /* the field's text (cut to SHOW_MAX), in the arena */
} ukey;

typedef struct {
    uint64_t line;
    size_t raw_off, raw_len; /* the record's bytes in the arena (with a quarantine) */
    size_t ukey_first, n_ukeys;
    int failed;
} pending;

typedef struct {
    uint64_t rows;
    uint64_t *counts;     /* per rule */
    uint32_t *n_examples; /* per rule, kept in this chunk */
    example *ex;
    size_t n_ex, cap_ex;
    pending *pend;
    size_t n_pend, cap_pend;
    ukey *ukeys;
    size_t n_ukeys, cap_ukeys;
    hops_buf arena;
    hops_buf text; /* a NUL-terminated copy of the field being matched */
    regex_t *re;   /* per schema column; compiled where it has a regex */
    int oom;
} vchunk;

typedef struct {
    schema s;
    hops_table_info info; /* filled by the scan before any callback runs */
    size_t n_rules;
    size_t max_examples;
    pthread_mutex_t map_lock;
    int mapped;
    /* totals, touched only on the calling thread */
    uint64_t rows, failed_rows;
    uint64_t *counts;
    uint32_t *n_examples;
    example *ex;
    size_t n_ex, cap_ex;
    uset *sets; /* per schema column, for unique ones */
    /* the quarantine file */
    const char *q_path;
    hops_outfile q;     /* q.f is NULL when there is none */
    int q_header_done;
    const char *eol;
    uint64_t q_rows;
    hops_status q_err;
} vctx;

/* Match schema columns to file columns by name. */
static void map_columns(vctx *v)
{
    pthread_mutex_lock(&v->map_lock);
    if (!v->mapped) {
        for (size_t i = 0; i < v->s.n_cols; i++) {
            v->s.cols[i].file_col = -1;
            for (size_t k = 0; k < v->info.n_columns; k++)
                if (strcmp(v->s.cols[i].name, v->info.columns[k]) == 0) {
                    v->s.cols[i].file_col = (long)k;
                    break;
                }
        }
        v->mapped = 1;
    }
    pthread_mutex_unlock(&v->map_lock);
}

/* Append S (LEN bytes) for people: at most SHOW_MAX bytes, cut on a UTF-8
 * boundary and marked with "…"; with ESCAPE, control bytes as \n, \t, \xNN. */
static void put_shown(hops_buf *b, const char *s, size_t len, int escape)
{
    size_t n = len;
    if (n > SHOW_MAX) {
        n = SHOW_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!escape || (c >= 0x20 && c != 0x7f))
            hops__buf_put(b, s + i, 1);
        else if (c == '\n')
            hops__buf_puts(b, "\\n");
        else if (c == '\r')
            hops__buf_puts(b, "\\r");
        else if (c == '\t')
            hops__buf_puts(b, "\\t");
        else
            hops__buf_printf(b, "\\x%02x", c);
    }
    if (n < len)
        hops__buf_puts(b, "\xe2\x80\xa6");
}

static const char *type_phrase(col_type t)
{
    switch (t) {
    case T_INT:
        return "an int";
    case T_FLOAT:
        return "a float";
    case T_BOOL:
        return "a bool (true or false)";
    case T_TIMESTAMP:
        return "an ISO 8601 timestamp";
    default:
        return "a string";
    }
}

/* The message of a violation of RULE on field text VAL (NULL: a null). */
static char *make_message(const vctx *v, uint32_t rule, const char *val, size_t len, uint64_t extra)
{
    hops_buf b = HOPS_BUF_INIT;
    size_t ncol = v->s.n_cols;
    if (rule >= ncol * R_PER_COL) {
        switch (rule - ncol * R_PER_COL) {
        case G_ROWS:
            hops__buf_printf(&b, "%llu rows, %s %llu", (unsigned long long)v->rows,
                             extra ? "above max" : "below min",
                             (unsigned long long)(extra ? v->s.rows_max : v->s.rows_min));
            break;
        case G_RAGGED:
            hops__buf_printf(&b, "expected %zu fields, found %llu", v->info.n_columns,
                             (unsigned long long)extra);
            break;
        default: /* G_COLUMNS: VAL is the column's name */
            hops__buf_puts(&b, "column '");
            put_shown(&b, val, len, 1);
            hops__buf_puts(&b, extra ? "' is in the file but not in the schema"
                                     : "' is in the schema but not in the file");
        }
        return hops__buf_detach(&b);
    }
    const col_schema *c = &v->s.cols[rule / R_PER_COL];
    unsigned kind = rule % R_PER_COL;
    if (kind == R_NOT_NULL || !val) {
        hops__buf_puts(&b, "null, but the column is not nullable");
        return hops__buf_detach(&b);
    }
    hops__buf_puts(&b, "'");
    put_shown(&b, val, len, 1);
    hops__buf_puts(&b, "'");
    switch (kind) {
    case R_TYPE:
        hops__buf_printf(&b, " is not %s", type_phrase(c->type));
        break;
    case R_MIN:
        hops__buf_printf(&b, " is below min %s", c->min.text);
        break;
    case R_MAX:
        hops__buf_printf(&b, " is above max %s", c->max.text);
        break;
    case R_VALUES:
        hops__buf_printf(&b, " is not one of the allowed values (%s)", c->values_text);
        break;
    case R_REGEX:
        hops__buf_printf(&b, " does not match the regex %s", c->regex);
        break;
    case R_UNIQUE:
        hops__buf_printf(&b, " repeats the value of line %llu", (unsigned long long)extra);
        break;
    default:
        break;
    }
    return hops__buf_detach(&b);
}

static int example_new(const vctx *v, example *e, uint32_t rule, uint64_t line, const char *column,
                       const char *val, size_t len, int is_value, uint64_t extra)
{
    hops_buf shown = HOPS_BUF_INIT;
    memset(e, 0, sizeof *e);
    e->rule = rule;
    e->line = line;
    e->column = column;
    if (val && is_value) {
        put_shown(&shown, val, len, 0);
        e->value = shown.data ? hops__buf_detach(&shown) : hops__strdup("");
        if (!e->value)
            return -1;
    }
    e->message = make_message(v, rule, val, len, extra);
    return e->message ? 0 : -1;
}

static void example_free(example *e)
{
    free(e->value);
    free(e->message);
}

static int push_example(example **arr, size_t *n, size_t *cap, example *e)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        example *na = realloc(*arr, nc * sizeof *na);
        if (!na)
            return -1;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = *e;
    return 0;
}

/* Count a violation in chunk C (on a parser thread) and keep it as an
 * example while the chunk has fewer than max_examples of that rule. */
static void chunk_violation(const vctx *v, vchunk *c, uint32_t rule, uint64_t line,
                            const char *column, const char *val, size_t len, int is_value,
                            uint64_t extra)
{
    example e;
    c->counts[rule]++;
    if (c->n_examples[rule] >= v->max_examples)
        return;
    if (example_new(v, &e, rule, line, column, val, len, is_value, extra) != 0 ||
        push_example(&c->ex, &c->n_ex, &c->cap_ex, &e) != 0) {
        example_free(&e);
        c->oom = 1;
        return;
    }
    c->n_examples[rule]++;
}

/* The same on the calling thread, straight into the totals. */
static int total_violation(vctx *v, uint32_t rule, uint64_t line, const char *column,
                           const char *val, size_t len, int is_value, uint64_t extra)
{
    example e;
    v->counts[rule]++;
    if (v->n_examples[rule] >= v->max_examples)
        return 0;
    if (example_new(v, &e, rule, line, column, val, len, is_value, extra) != 0 ||
        push_example(&v->ex, &v->n_ex, &v->cap_ex, &e) != 0) {
        example_free(&e);
        return -1;
    }
    v->n_examples[rule]++;
    return 0;
}

static void vchunk_free(const vctx *v, vchunk *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_ex; i++)
        example_free(&c->ex[i]);
    free(c->ex);
    free(c->counts);
    free(c->n_examples);
    free(c->pend);
    free(c->ukeys);
    hops__buf_free(&c->arena);
    hops__buf_free(&c->text);
    if (c->re)
        for (size_t i = 0; i < v->s.n_cols; i++)
            if (v->s.cols[i].regex)
                regfree(&c->re[i]);
    free(c->re);
    free(c);
}

static void *v_chunk_begin(void *ud)
{
    vctx *v = ud;
    vchunk *c = calloc(1, sizeof *c);
    size_t compiled = 0;
    map_columns(v);
    if (!c)
        return NULL;
    c->counts = calloc(v->n_rules, sizeof *c->counts);
    c->n_examples = calloc(v->n_rules, sizeof *c->n_examples);
    c->re = calloc(v->s.n_cols ? v->s.n_cols : 1, sizeof *c->re);
    if (!c->counts || !c->n_examples || !c->re)
        goto fail;
    /* Each chunk compiles its own regexes: glibc's regexec locks a shared one. */
    for (compiled = 0; compiled < v->s.n_cols; compiled++)
        if (v->s.cols[compiled].regex &&
            regcomp(&c->re[compiled], v->s.cols[compiled].regex, REG_EXTENDED) != 0)
            goto fail;
    return c;
fail:
    for (size_t i = 0; i < compiled; i++)
        if (v->s.cols[i].regex)
            regfree(&c->re[i]);
    free(c->re);
    c->re = NULL;
    vchunk_free(v, c);
    return NULL;
}

static int arena_put(vchunk *c, const void *data, size_t n, size_t *off)
{
    *off = c->arena.len;
    return hops__buf_put(&c->arena, data, n);
}

static int ukey_push(vchunk *c, uint32_t col, const void *key, size_t key_len, const hops_field *f)
{
    ukey u;
    size_t shown = f->len > SHOW_MAX + 8 ? SHOW_MAX + 8 : f->len;
    if (c->n_ukeys == c->cap_ukeys) {
        size_t nc = c->cap_ukeys ? c->cap_ukeys * 2 : 64;
        ukey *na = realloc(c->ukeys, nc * sizeof *na);
        if (!na)
            return -1;
        c->ukeys = na;
        c->cap_ukeys = nc;
    }
    u.col = col;
    u.key_len = key_len;
    u.show_len = shown;
    if (arena_put(c, key, key_len, &u.key_off) != 0 ||
        arena_put(c, f->ptr, shown, &u.show_off) != 0)
        return -1;
    c->ukeys[c->n_ukeys++] = u;
    return 0;
}

static int in_str_values(const col_schema *c, const char *s, size_t len)
{
    sv key = {s, len};
    return bsearch(&key, c->str_values, c->n_values, sizeof *c->str_values, cmp_sv) != NULL;
}

/* Check one field against column I's rules; 1 when it broke one. */
static int check_field(const vctx *v, vchunk *c, uint32_t i, const hops_field *f, uint64_t line)
{
    const col_schema *col = &v->s.cols[i];
    uint32_t base = i * R_PER_COL;
    int64_t iv = 0;
    double dv = 0;
    int bv = 0, ok = 1, bad = 0;
    unsigned char key[8];
    const void *kp = key;
    size_t klen = 8;
    if (f->is_null) {
        if (col->nullable)
            return 0;
        chunk_violation(v, c, base + R_NOT_NULL, line, col->name, NULL, 0, 0, 0);
        return 1;
    }
    switch (col->type) {
    case T_INT:
        ok = hops__field_int64(f, &iv);
        dv = (double)iv;
        memcpy(key, &iv, 8);
        break;
    case T_FLOAT:
        ok = hops__field_double(f, &dv);
        if (dv == 0)
            dv = 0; /* -0.0 and 0.0 are one value */
        memcpy(key, &dv, 8);
        break;
    case T_BOOL:
        ok = hops_data_parse_bool(f->ptr, f->len, &bv);
        key[0] = (unsigned char)bv;
        klen = 1;
        break;
    case T_TIMESTAMP:
        ok = hops_data_parse_timestamp(f->ptr, f->len, &dv);
        memcpy(key, &dv, 8);
        break;
    default:
        kp = f->ptr;
        klen = f->len;
    }
    if (!ok) {
        chunk_violation(v, c, base + R_TYPE, line, col->name, f->ptr, f->len, 1, 0);
        return 1;
    }
    if (col->min.set &&
        (col->type == T_INT && col->min.is_int ? iv < col->min.i : dv < col->min.d)) {
        chunk_violation(v, c, base + R_MIN, line, col->name, f->ptr, f->len, 1, 0);
        bad = 1;
    }
    if (col->max.set &&
        (col->type == T_INT && col->max.is_int ? iv > col->max.i : dv > col->max.d)) {
        chunk_violation(v, c, base + R_MAX, line, col->name, f->ptr, f->len, 1, 0);
        bad = 1;
    }
    if (col->has_values) {
        int found;
        switch (col->type) {
        case T_INT:
            found = bsearch(&iv, col->int_values, col->n_values, sizeof iv, cmp_i64) != NULL;
            break;
        case T_FLOAT:
        case T_TIMESTAMP:
            found = bsearch(&dv, col->num_values, col->n_values, sizeof dv, cmp_double) != NULL;
            break;
        case T_BOOL:
            found = (col->bool_values >> bv) & 1;
            break;
        default:
            found = in_str_values(col, f->ptr, f->len);
        }
        if (!found) {
            chunk_violation(v, c, base + R_VALUES, line, col->name, f->ptr, f->len, 1, 0);
            bad = 1;
        }
    }
    if (col->regex) {
        /* A NUL-terminated copy: fields are slices of the chunk, and sanitizers'
         * regexec wrappers read to a NUL even with REG_STARTEND. */
        regmatch_t m[1];
        c->text.len = 0;
        if (hops__buf_put(&c->text, f->ptr, f->len) != 0) {
            c->oom = 1;
            return bad;
        }
        m[0].rm_so = 0;
        m[0].rm_eo = (regoff_t)f->len;
        if (regexec(&c->re[i], c->text.data, 1, m, REG_STARTEND) != 0 || m[0].rm_so != 0 ||
            m[0].rm_eo != (regoff_t)f->len) {
            chunk_violation(v, c, base + R_REGEX, line, col->name, f->ptr, f->len, 1, 0);
            bad = 1;
        }
    }
    if (col->unique && ukey_push(c, i, kp, klen, f) != 0)
        c->oom = 1;
    return bad;
}

static hops_status v_record(void *ud, void *cs, const hops_record *rec)
{
    vctx *v = ud;
    vchunk *c = cs;
    size_t first_ukey;
    int failed = 0;
    if (!c)
        return hops__error(HOPS_ENOMEM, "out of memory");
    c->rows++;
    first_ukey = c->n_ukeys;
    if (v->info.format == HOPS_FORMAT_CSV && rec->n_fields != v->info.n_columns) {
        chunk_violation(v, c, (uint32_t)(v->s.n_cols * R_PER_COL + G_RAGGED), rec->line, NULL,
                        rec->raw, rec->raw_len, 1, rec->n_fields);
        failed = 1;
    } else {
        for (uint32_t i = 0; i < v->s.n_cols; i++) {
            long fc = v->s.cols[i].file_col;
            if (fc >= 0 && (size_t)fc < rec->n_fields)
                failed |= check_field(v, c, i, &rec->fields[fc], rec->line);
        }
    }
    if (failed || c->n_ukeys > first_ukey) {
        pending p = {rec->line, 0, 0, first_ukey, c->n_ukeys - first_ukey, failed};
        if (c->n_pend == c->cap_pend) {
            size_t nc = c->cap_pend ? c->cap_pend * 2 : 64;
            pending *na = realloc(c->pend, nc * sizeof *na);
            if (!na)
                return hops__error(HOPS_ENOMEM, "out of memory");
            c->pend = na;
            c->cap_pend = nc;
        }
        if (v->q_path) { /* the record with its own line ending, byte for byte */
            p.raw_len = rec->raw_len + rec->eol_len;
            if (arena_put(c, rec->raw, p.raw_len, &p.raw_off) != 0)
                c->oom = 1;
        }
        c->pend[c->n_pend++] = p;
    }
    return c->oom ? hops__error(HOPS_ENOMEM, "out of memory") : HOPS_OK;
}

static void q_write(vctx *v, const void *data, size_t n)
{
    if (v->q_err == HOPS_OK && n && fwrite(data, 1, n, v->q.f) != n)
        v->q_err = hops__error(HOPS_EIO, "cannot write '%s': %s", v->q_path, strerror(errno));
}

static void q_header(vctx *v)
{
    if (!v->q.f || v->q_header_done)
        return;
    v->q_header_done = 1;
    if (v->info.header_raw) {
        q_write(v, v->info.header_raw, strlen(v->info.header_raw));
        q_write(v, v->eol, strlen(v->eol));
    }
}

static hops_status v_chunk_end(void *ud, void *cs)
{
    vctx *v = ud;
    vchunk *c = cs;
    hops_status rc = HOPS_OK;
    if (!c)
        return hops__error(HOPS_ENOMEM, "out of memory");
    v->rows += c->rows;
    for (size_t r = 0; r < v->n_rules; r++)
        v->counts[r] += c->counts[r];
    for (size_t k = 0; k < c->n_ex; k++) {
        example *e = &c->ex[k];
        if (v->n_examples[e->rule] < v->max_examples &&
            push_example(&v->ex, &v->n_ex, &v->cap_ex, e) == 0) {
            v->n_examples[e->rule]++;
            memset(e, 0, sizeof *e); /* moved */
        }
    }
    q_header(v);
    for (size_t k = 0; k < c->n_pend && rc == HOPS_OK; k++) {
        pending *p = &c->pend[k];
        int failed = p->failed;
        for (size_t u = p->ukey_first; u < p->ukey_first + p->n_ukeys; u++) {
            const ukey *uk = &c->ukeys[u];
            uint64_t first = 0;
            int r = uset_insert(&v->sets[uk->col], c->arena.data + uk->key_off, uk->key_len,
                                p->line, &first);
            if (r == 1) {
                r = total_violation(v, (uint32_t)(uk->col * R_PER_COL + R_UNIQUE), p->line,
                                    v->s.cols[uk->col].name, c->arena.data + uk->show_off,
                                    uk->show_len, 1, first);
                failed = 1;
            }
            if (r < 0)
                rc = hops__error(HOPS_ENOMEM, "out of memory");
        }
        if (!failed)
            continue;
        v->failed_rows++;
        if (v->q.f) {
            q_write(v, c->arena.data ? c->arena.data + p->raw_off : "", p->raw_len);
            v->q_rows++;
        }
    }
    if (rc == HOPS_OK && v->q_err != HOPS_OK)
        rc = v->q_err; /* its message is the last error */
    vchunk_free(v, c);
    return rc;
}

/* ---- the quarantine file ---- */

/* "\r\n" when the first line of PATH (plain or gzip) ends in CRLF, else "\n". */
static const char *detect_eol(const char *path)
{
    char buf[65536];
    gzFile gz = gzopen(path, "rb");
    int n;
    const char *eol = "\n";
    if (!gz)
        return eol;
    n = gzread(gz, buf, sizeof buf);
    if (n > 0) {
        const char *nl = memchr(buf, '\n', (size_t)n);
        if (nl && nl > buf && nl[-1] == '\r')
            eol = "\r\n";
    }
    gzclose(gz);
    return eol;
}

static hops_status q_open(vctx *v, const char *path)
{
    v->q_path = path;
    return hops__outfile_open(&v->q, path);
}

/* Finish the quarantine file: flushed, fsynced and renamed into place when
 * COMMIT, else removed. */
static hops_status q_close(vctx *v, int commit)
{
    if (!v->q.f)
        return HOPS_OK;
    if (commit)
        q_header(v);
    if (!commit || v->q_err != HOPS_OK) {
        hops__outfile_abort(&v->q);
        return commit ? v->q_err : HOPS_OK;
    }
    return hops__outfile_commit(&v->q);
}

/* ---- the report ---- */

static json_t *str_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static json_t *rule_check_text(const vctx *v, uint32_t rule)
{
    size_t ncol = v->s.n_cols;
    if (rule >= ncol * R_PER_COL) {
        switch (rule - ncol * R_PER_COL) {
        case G_ROWS:
            if (v->s.has_rows_min && v->s.has_rows_max)
                return json_sprintf("rows %llu..%llu", (unsigned long long)v->s.rows_min,
                                    (unsigned long long)v->s.rows_max);
            if (v->s.has_rows_min)
                return json_sprintf("rows >= %llu", (unsigned long long)v->s.rows_min);
            return json_sprintf("rows <= %llu", (unsigned long long)v->s.rows_max);
        case G_RAGGED:
            return json_sprintf("%zu fields per record", v->info.n_columns);
        default:
            return json_sprintf("the schema's %zu columns", ncol);
        }
    }
    const col_schema *c = &v->s.cols[rule / R_PER_COL];
    switch (rule % R_PER_COL) {
    case R_TYPE:
        return json_sprintf("type %s", type_names[c->type]);
    case R_NOT_NULL:
        return json_string("not null");
    case R_MIN:
        return json_sprintf("min %s", c->min.text);
    case R_MAX:
        return json_sprintf("max %s", c->max.text);
    case R_VALUES:
        return json_sprintf("one of %s", c->values_text);
    case R_REGEX:
        return json_sprintf("regex %s", c->regex);
    default:
        return json_string("unique");
    }
}

/* Whether RULE was checked at all (rules a schema does not ask for are left out). */
static int rule_checked(const vctx *v, uint32_t rule)
{
    size_t ncol = v->s.n_cols;
    if (rule >= ncol * R_PER_COL) {
        unsigned g = (unsigned)(rule - ncol * R_PER_COL);
        return g == G_COLUMNS || (g == G_ROWS && (v->s.has_rows_min || v->s.has_rows_max)) ||
               (g == G_RAGGED && v->info.format == HOPS_FORMAT_CSV);
    }
    const col_schema *c = &v->s.cols[rule / R_PER_COL];
    if (c->file_col < 0)
        return 0; /* a missing column is one "columns" violation, nothing more */
    switch (rule % R_PER_COL) {
    case R_TYPE:
        return c->type != T_STRING && c->type != T_CATEGORY;
    case R_NOT_NULL:
        return !c->nullable;
    case R_MIN:
        return c->min.set;
    case R_MAX:
        return c->max.set;
    case R_VALUES:
        return c->has_values;
    case R_REGEX:
        return c->regex != NULL;
    default:
        return c->unique;
    }
}

static hops_status file_rules(vctx *v)
{
    size_t ncol = v->s.n_cols;
    uint32_t g = (uint32_t)(ncol * R_PER_COL);
    uint64_t line = v->info.has_header ? 1 : 0;
    int r = 0;
    for (size_t i = 0; i < ncol && r == 0; i++)
        if (v->s.cols[i].file_col < 0)
            r = total_violation(v, g + G_COLUMNS, line, v->s.cols[i].name, v->s.cols[i].name,
                                strlen(v->s.cols[i].name), 0, 0);
    for (size_t k = 0; k < v->info.n_columns && r == 0; k++) {
        int known = 0;
        for (size_t i = 0; i < ncol && !known; i++)
            known = v->s.cols[i].file_col == (long)k;
        if (!known)
            r = total_violation(v, g + G_COLUMNS, line, v->info.columns[k], v->info.columns[k],
                                strlen(v->info.columns[k]), 0, 1);
    }
    if (r == 0 && v->s.has_rows_min && v->rows < v->s.rows_min)
        r = total_violation(v, g + G_ROWS, 0, NULL, NULL, 0, 0, 0);
    if (r == 0 && v->s.has_rows_max && v->rows > v->s.rows_max)
        r = total_violation(v, g + G_ROWS, 0, NULL, NULL, 0, 0, 1);
    return r == 0 ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

static hops_status report_json(vctx *v, const char *path, char **out, int *failed_out)
{
    json_t *root = json_object(), *rules = json_array();
    uint64_t total = 0;
    size_t ncol = v->s.n_cols;
    for (uint32_t r = 0; r < v->n_rules; r++)
        total += v->counts[r];
    json_object_set_new(root, "file", str_or_null(path));
    json_object_set_new(root, "format",
                        json_string(v->info.format == HOPS_FORMAT_JSONL ? "jsonl" : "csv"));
    json_object_set_new(root, "rows", json_integer((json_int_t)v->rows));
    json_object_set_new(root, "passed", json_boolean(total == 0));
    json_object_set_new(root, "violations", json_integer((json_int_t)total));
    json_object_set_new(root, "failed_rows", json_integer((json_int_t)v->failed_rows));
    /* File rules first, then each column's in schema order. */
    for (uint32_t pass = 0; pass < 2; pass++) {
        uint32_t from = pass == 0 ? (uint32_t)(ncol * R_PER_COL) : 0;
        uint32_t to = pass == 0 ? (uint32_t)v->n_rules : (uint32_t)(ncol * R_PER_COL);
        for (uint32_t r = from; r < to; r++) {
            if (!rule_checked(v, r) && v->counts[r] == 0)
                continue;
            json_t *rule = json_object(), *exs = json_array();
            int global = r >= ncol * R_PER_COL;
            json_object_set_new(rule, "rule",
                                json_string(global ? global_names[r - ncol * R_PER_COL]
                                                   : rule_names[r % R_PER_COL]));
            json_object_set_new(rule, "column",
                                global ? json_null() : str_or_null(v->s.cols[r / R_PER_COL].name));
            json_object_set_new(rule, "check", rule_check_text(v, r));
            json_object_set_new(rule, "count", json_integer((json_int_t)v->counts[r]));
            for (size_t k = 0; k < v->n_ex; k++) {
                const example *e = &v->ex[k];
                if (e->rule != r)
                    continue;
                json_t *ex = json_object();
                json_object_set_new(ex, "line",
                                    e->line ? json_integer((json_int_t)e->line) : json_null());
                json_object_set_new(ex, "column", str_or_null(e->column));
                json_object_set_new(ex, "value", str_or_null(e->value));
                json_object_set_new(ex, "message", str_or_null(e->message));
                json_array_append_new(exs, ex);
            }
            json_object_set_new(rule, "examples", exs);
            json_array_append_new(rules, rule);
        }
    }
    json_object_set_new(root, "rules", rules);
    if (v->q_path) {
        json_t *q = json_object();
        json_object_set_new(q, "path", str_or_null(v->q_path));
        json_object_set_new(q, "rows", json_integer((json_int_t)v->q_rows));
        json_object_set_new(root, "quarantine", q);
    }
    *out = hops__json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2));
    json_decref(root);
    if (failed_out)
        *failed_out = total > 0;
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

hops_status hops_data_validate_json(const char *path, const char *schema_json,
                                    const hops_read_options *o, const char *quarantine_path,
                                    size_t max_examples, char **report_json_out, int *failed_out)
{
    vctx v;
    hops_scan_cb cb = {&v, v_chunk_begin, v_record, v_chunk_end, NULL};
    hops_status rc;
    if (!path || !schema_json || !report_json_out)
        return hops__error(HOPS_EINVAL, "hops_data_validate_json: path, schema and report are "
                                        "required");
    *report_json_out = NULL;
    if (failed_out)
        *failed_out = 0;
    memset(&v, 0, sizeof v);
    pthread_mutex_init(&v.map_lock, NULL);
    if ((rc = schema_parse(schema_json, "schema", &v.s)) != HOPS_OK)
        goto out;
    v.max_examples = max_examples > UINT32_MAX ? UINT32_MAX : max_examples;
    v.n_rules = v.s.n_cols * R_PER_COL + G_COUNT;
    v.counts = calloc(v.n_rules, sizeof *v.counts);
    v.n_examples = calloc(v.n_rules, sizeof *v.n_examples);
    v.sets = calloc(v.s.n_cols ? v.s.n_cols : 1, sizeof *v.sets);
    if (!v.counts || !v.n_examples || !v.sets) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if (quarantine_path) {
        struct stat in, q;
        if (stat(path, &in) == 0 && stat(quarantine_path, &q) == 0 && in.st_dev == q.st_dev &&
            in.st_ino == q.st_ino) {
            rc = hops__error(HOPS_EINVAL, "the quarantine file '%s' is the file being checked",
                             quarantine_path);
            goto out;
        }
        v.eol = detect_eol(path);
        if ((rc = q_open(&v, quarantine_path)) != HOPS_OK)
            goto out;
    }
    rc = hops__data_scan(path, o, &v.info, &cb);
    if (rc == HOPS_OK) {
        map_columns(&v); /* when no chunk ran: a file with only a header */
        q_header(&v);
        rc = file_rules(&v);
    }
    {
        hops_status qrc = q_close(&v, rc == HOPS_OK);
        if (rc == HOPS_OK)
            rc = qrc;
    }
    if (rc == HOPS_OK)
        rc = report_json(&v, path, report_json_out, failed_out);
out:
    if (v.q.f)
        q_close(&v, 0);
    for (size_t i = 0; v.sets && i < v.s.n_cols; i++)
        uset_free(&v.sets[i]);
    free(v.sets);
    for (size_t i = 0; i < v.n_ex; i++)
        example_free(&v.ex[i]);
    free(v.ex);
    free(v.counts);
    free(v.n_examples);
    schema_free(&v.s);
    hops__table_info_free(&v.info);
    pthread_mutex_destroy(&v.map_lock);
    return rc;
}
