/* Features: numbers read from the table's text, standardized with the
 * training split's mean and standard deviation, and categories one-hot
 * encoded against the training split's sorted values. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml.h"

int hops__ml_number(const char *text, double *out)
{
    char *end;
    if (!text || !*text || text[0] == ' ' || text[0] == '\t')
        return 0;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return 0;
    if (isnan(v))
        return 2;
    if (isinf(v))
        return 3;
    *out = v;
    return 1;
}

/* FILE:LINE:COLUMN for a cell: CSV columns by number, JSONL by key. */
static void cell_where(const hops_table *t, size_t row, size_t col, char *out, size_t n)
{
    if (hops_table_is_jsonl(t))
        snprintf(out, n, "%s:%llu: key '%s'", hops_table_path(t),
                 (unsigned long long)hops_table_line(t, row), hops_table_column_name(t, col));
    else
        snprintf(out, n, "%s:%llu:%zu", hops_table_path(t),
                 (unsigned long long)hops_table_line(t, row), col + 1);
}

hops_status hops__cell_number(const hops_table *t, size_t row, size_t col, const char *what,
                              double *out)
{
    char where[512];
    const char *text = hops_table_cell(t, row, col, NULL);
    const char *name = hops_table_column_name(t, col);
    int kind;
    if (!text) {
        cell_where(t, row, col, where, sizeof where);
        return hops__error(
            HOPS_EPARSE,
            "%s: %s column '%s' is empty (null); models need a number here: fill "
            "it first (hops data transform --fill-null %s=VALUE) or filter the row out",
            where, what, name, name);
    }
    kind = hops__ml_number(text, out);
    if (kind == 1)
        return HOPS_OK;
    cell_where(t, row, col, where, sizeof where);
    if (kind == 2)
        return hops__error(HOPS_EPARSE, "%s: %s column '%s' is NaN; models need a finite number",
                           where, what, name);
    if (kind == 3)
        return hops__error(HOPS_EPARSE,
                           "%s: %s column '%s' is infinite ('%.40s'); models need a finite number",
                           where, what, name, text);
    return hops__error(HOPS_EPARSE, "%s: %s column '%s' is numeric but '%.60s' is not a number",
                       where, what, name, text);
}

hops_status hops__feature_columns(const hops_model *m, const hops_table *t, size_t *cols)
{
    hops_buf missing = HOPS_BUF_INIT;
    size_t n_missing = 0;
    for (size_t f = 0; f < m->n_features; f++) {
        long c = hops_table_column_index(t, m->features[f].name);
        if (c < 0) {
            hops__buf_printf(&missing, "%s'%s'", n_missing ? ", " : "", m->features[f].name);
            n_missing++;
        } else {
            cols[f] = (size_t)c;
        }
    }
    if (!n_missing)
        return HOPS_OK;
    hops_status rc =
        hops__error(HOPS_EINVAL, "%s lacks %zu of the %zu columns the model was trained on: %s",
                    hops_table_path(t), n_missing, m->n_features, missing.data ? missing.data : "");
    hops__buf_free(&missing);
    return rc;
}

static int find_category(const ml_feature *f, const char *text)
{
    /* Categories are sorted numerically or bytewise (as in the training
     * split); a linear scan works for both orders (they are few). */
    for (size_t i = 0; i < f->n_cats; i++)
        if (strcmp(f->cats[i], text) == 0)
            return (int)i;
    return -1;
}

hops_status hops__encode_rows(const hops_model *m, const hops_table *t, const size_t *cols,
                              const size_t *rows, size_t n, float *x)
{
    size_t d = m->n_inputs;
    hops_status rc;
    memset(x, 0, n * d * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        size_t row = rows ? rows[i] : i;
        float *xr = x + i * d;
        for (size_t fi = 0; fi < m->n_features; fi++) {
            const ml_feature *f = &m->features[fi];
            if (f->categorical) {
                const char *text = hops_table_cell(t, row, cols[fi], NULL);
                int k = text ? find_category(f, text) : -1;
                if (k >= 0) /* unseen or null: every input 0, as scikit-learn's ignore */
                    xr[f->first + (size_t)k] = 1.0f;
            } else {
                double v;
                if ((rc = hops__cell_number(t, row, cols[fi], "feature", &v)) != HOPS_OK)
                    return rc;
                xr[f->first] = (float)((v - f->mean) / f->std);
            }
        }
    }
    return HOPS_OK;
}
