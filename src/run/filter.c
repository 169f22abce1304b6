/* Run filters: `metrics.acc>0.9 and params.lr=0.01 and state!=FAILED`.
 * Clauses are joined by `and`; each is FIELD OP VALUE with OP one of
 * = == != < <= > >=; VALUE is a number, a bare word or a quoted string;
 * parts of FIELD may be in backticks (metrics.`val loss`). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } filter_op;

typedef struct {
    char *field;
    filter_op op;
    json_t *value;
} clause;

struct hops_filter {
    clause *clauses;
    size_t n;
};

static void skip_ws(const char *s, size_t *i)
{
    while (s[*i] && isspace((unsigned char)s[*i]))
        (*i)++;
}

static int is_field_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == '/' || c == ':';
}

static hops_status fail(const char *expr, size_t pos, const char *what)
{
    return hops__error(HOPS_EPARSE, "bad filter at column %zu: %s\n  %s\n  %*s^", pos + 1, what,
                       expr, (int)pos, "");
}

static hops_status parse_clause(const char *s, size_t *i, clause *c)
{
    size_t start;
    skip_ws(s, i);
    start = *i;
    {
        /* A name with other characters goes in backticks: metrics.`val loss`. */
        hops_buf name = HOPS_BUF_INIT;
        while (s[*i]) {
            if (s[*i] == '`') {
                size_t q = *i + 1, e = q;
                while (s[e] && s[e] != '`')
                    e++;
                if (!s[e]) {
                    hops__buf_free(&name);
                    return fail(s, *i, "unterminated backtick");
                }
                hops__buf_put(&name, s + q, e - q);
                *i = e + 1;
            } else if (is_field_char(s[*i]) && !(s[*i] == '-' && *i == start)) {
                hops__buf_put(&name, s + *i, 1);
                (*i)++;
            } else
                break;
        }
        if (name.len == 0) {
            hops__buf_free(&name);
            return fail(s, start, "expected a field such as metrics.acc, params.lr or state");
        }
        c->field = hops__buf_detach(&name);
        json_t *probe = json_string(c->field);
        json_decref(probe);
        if (!probe)
            return fail(s, start, "the field name is not valid UTF-8");
    }
    skip_ws(s, i);
    const char *o = s + *i;
    if (strncmp(o, "==", 2) == 0) { c->op = OP_EQ; *i += 2; }
    else if (strncmp(o, "!=", 2) == 0) { c->op = OP_NE; *i += 2; }
    else if (strncmp(o, "<=", 2) == 0) { c->op = OP_LE; *i += 2; }
    else if (strncmp(o, ">=", 2) == 0) { c->op = OP_GE; *i += 2; }
    else if (*o == '=') { c->op = OP_EQ; *i += 1; }
    else if (*o == '<') { c->op = OP_LT; *i += 1; }
    else if (*o == '>') { c->op = OP_GT; *i += 1; }
    else
        return fail(s, *i, "expected an operator: = != < <= > >=");
    skip_ws(s, i);
    start = *i;
    if (s[*i] == '\'' || s[*i] == '"') {
        char q = s[(*i)++];
        size_t vs = *i;
        while (s[*i] && s[*i] != q)
            (*i)++;
        if (!s[*i])
            return fail(s, start, "unterminated quoted value");
        char *v = hops__strndup(s + vs, *i - vs);
        c->value = json_string(v ? v : "");
        free(v);
        if (!c->value)
            return fail(s, vs, "the value is not valid UTF-8");
        (*i)++;
    } else {
        while (s[*i] && !isspace((unsigned char)s[*i]))
            (*i)++;
        if (*i == start)
            return fail(s, start, "expected a value");
        char *v = hops__strndup(s + start, *i - start);
        char *end;
        double d = v ? strtod(v, &end) : 0;
        /* Non-finite numbers (inf, 1e999) stay text; comparisons read them as numbers. */
        c->value = v && *end == '\0' && *v && isfinite(d) ? json_real(d) : json_string(v ? v : "");
        free(v);
        if (!c->value)
            return fail(s, start, "the value is not valid UTF-8");
    }
    return HOPS_OK;
}

hops_status hops__filter_parse(hops_filter **out, const char *expr)
{
    hops_filter *f = calloc(1, sizeof *f);
    size_t i = 0;
    hops_status rc = HOPS_OK;
    *out = NULL;
    if (!f)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (;;) {
        clause *cs = realloc(f->clauses, (f->n + 1) * sizeof *cs);
        if (!cs) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            break;
        }
        f->clauses = cs;
        memset(&cs[f->n], 0, sizeof cs[f->n]);
        rc = parse_clause(expr, &i, &cs[f->n]);
        f->n++;
        if (rc != HOPS_OK)
            break;
        skip_ws(expr, &i);
        if (!expr[i])
            break;
        if (strncasecmp(expr + i, "and", 3) == 0 && isspace((unsigned char)expr[i + 3])) {
            i += 3;
            continue;
        }
        if (strncasecmp(expr + i, "or", 2) == 0 && isspace((unsigned char)expr[i + 2])) {
            rc = fail(expr, i, "only `and` joins clauses; run the query twice for `or`");
            break;
        }
        rc = fail(expr, i, "expected `and` or the end of the filter");
        break;
    }
    if (rc != HOPS_OK) {
        hops__filter_free(f);
        return rc;
    }
    *out = f;
    return HOPS_OK;
}

void hops__filter_free(hops_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->clauses[i].field);
        json_decref(f->clauses[i].value);
    }
    free(f->clauses);
    free(f);
}

const json_t *hops__run_field(const json_t *run, const char *field)
{
    static const char *const groups[] = {"metrics.", "params.", "tags."};
    for (size_t g = 0; g < HOPS_ARRAY_LEN(groups); g++) {
        size_t n = strlen(groups[g]);
        if (strncmp(field, groups[g], n) == 0) {
            char grp[16];
            hops__strlcpy(grp, groups[g], sizeof grp);
            grp[n - 1] = '\0';
            return json_object_get(json_object_get(run, grp), field + n);
        }
    }
    return json_object_get(run, field);
}

static int as_number(const json_t *j, double *out)
{
    if (json_is_number(j)) {
        *out = json_number_value(j);
        return 1;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        char *end;
        if (hops__json_metric_value(j, out) == 0)
            return 1;
        if (!*s)
            return 0;
        *out = strtod(s, &end);
        return *end == '\0';
    }
    if (json_is_boolean(j)) {
        *out = json_is_true(j);
        return 1;
    }
    return 0;
}

int hops__json_compare(const json_t *a, const json_t *b, int *cmp)
{
    double x, y;
    if (!a || !b || json_is_null(a) || json_is_null(b))
        return -1;
    if (as_number(a, &x) && as_number(b, &y)) {
        if (isnan(x) || isnan(y))
            return -1;
        *cmp = x < y ? -1 : x > y ? 1 : 0;
        return 0;
    }
    const char *sa = json_is_string(a) ? json_string_value(a) : NULL;
    const char *sb = json_is_string(b) ? json_string_value(b) : NULL;
    char *da = NULL, *db = NULL;
    if (!sa)
        sa = da = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!sb)
        sb = db = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
    *cmp = strcmp(sa ? sa : "", sb ? sb : "");
    free(da);
    free(db);
    return 0;
}

int hops__filter_match(const hops_filter *f, const json_t *run)
{
    if (!f)
        return 1;
    for (size_t i = 0; i < f->n; i++) {
        const clause *c = &f->clauses[i];
        int cmp, ok;
        if (hops__json_compare(hops__run_field(run, c->field), c->value, &cmp) != 0)
            return c->op == OP_NE && !hops__run_field(run, c->field) ? 1 : 0;
        switch (c->op) {
        case OP_EQ: ok = cmp == 0; break;
        case OP_NE: ok = cmp != 0; break;
        case OP_LT: ok = cmp < 0; break;
        case OP_LE: ok = cmp <= 0; break;
        case OP_GT: ok = cmp > 0; break;
        default: ok = cmp >= 0; break;
        }
        if (!ok)
            return 0;
    }
    return 1;
}
