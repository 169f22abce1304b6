/* Batch prediction: raw rows in, the model's encodings applied, predictions
 * (and class probabilities) out, with the model's metrics when the rows carry
 * the label. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ml.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A CSV field, quoted when it needs to be (RFC 4180). */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n") && *s) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static size_t argmax(const double *p, size_t k)
{
    size_t best = 0;
    for (size_t j = 1; j < k; j++)
        if (p[j] > p[best])
            best = j;
    return best;
}

static hops_status write_output(const hops_model *m, const double *pred, size_t n, const char *path)
{
    hops_outfile of;
    hops_status rc;
    int jsonl = ends_with(path, ".jsonl") || ends_with(path, ".ndjson");
    size_t k = m->task == ML_REGRESSION ? 1 : m->n_classes;
    if ((rc = hops__outfile_open(&of, path)) != HOPS_OK)
        return rc;
    if (!jsonl) {
        fputs("prediction", of.f);
        for (size_t c = 0; m->task == ML_CLASSIFICATION && c < k; c++) {
            char *name = hops__aprintf("p_%s", m->classes[c]);
            fputc(',', of.f);
            csv_field(of.f, name ? name : "p_?");
            free(name);
        }
        fputc('\n', of.f);
    }
    for (size_t i = 0; i < n; i++) {
        const double *p = pred + i * k;
        if (jsonl) {
            json_t *row;
            if (m->task == ML_REGRESSION) {
                row = json_pack("{s:f}", "prediction", p[0]);
            } else {
                json_t *probs = json_object();
                for (size_t c = 0; c < k; c++)
                    json_object_set_new(probs, m->classes[c], json_real(p[c]));
                row = json_pack("{s:s, s:o}", "prediction", m->classes[argmax(p, k)],
                                "probabilities", probs);
            }
            char *text = row ? hops__json_dumps(row, JSON_COMPACT) : NULL;
            json_decref(row);
            if (!text) {
                hops__outfile_abort(&of);
                return hops__error(HOPS_ENOMEM, "out of memory");
            }
            fputs(text, of.f);
            fputc('\n', of.f);
            free(text);
        } else if (m->task == ML_REGRESSION) {
            fprintf(of.f, "%.17g\n", p[0]);
        } else {
            csv_field(of.f, m->classes[argmax(p, k)]);
            for (size_t c = 0; c < k; c++)
                fprintf(of.f, ",%.17g", p[c]);
            fputc('\n', of.f);
        }
    }
    return hops__outfile_commit(&of);
}

/* Metrics against the table's label column (rows with a null or unknown
 * label are left out and counted). */
static hops_status label_metrics(const hops_model *m, const hops_table *t, size_t col,
                                 const double *pred, json_t **out)
{
    size_t n = hops_table_rows(t), k = m->task == ML_REGRESSION ? 1 : m->n_classes, used = 0;
    size_t unknown = 0;
    double *p = malloc((n ? n : 1) * k * sizeof *p), *yv = malloc((n ? n : 1) * sizeof *yv);
    size_t *yc = malloc((n ? n : 1) * sizeof *yc);
    char *text = NULL;
    hops_status rc = HOPS_OK;
    *out = NULL;
    if (!p || !yv || !yc) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *cell = hops_table_cell(t, i, col, NULL);
        if (!cell)
            continue;
        if (m->task == ML_REGRESSION) {
            if ((rc = hops__cell_number(t, i, col, "label", &yv[used])) != HOPS_OK)
                goto out;
        } else {
            size_t c = 0;
            while (c < k && strcmp(cell, m->classes[c]) != 0)
                c++;
            if (c == k) {
                unknown++;
                continue;
            }
            yc[used] = c;
        }
        memcpy(p + used * k, pred + i * k, k * sizeof *p);
        used++;
    }
    if (used == 0) {
        *out = json_null();
        goto out;
    }
    if (m->task == ML_REGRESSION)
        rc = hops_metrics_regression(yv, p, used, &text);
    else
        rc = hops_metrics_classification(yc, p, used, k, (const char *const *)m->classes, &text);
    if (rc == HOPS_OK) {
        *out = json_loads(text, 0, NULL);
        if (*out && unknown)
            json_object_set_new(*out, "unknown_labels", json_integer((json_int_t)unknown));
    }
out:
    free(text);
    free(p);
    free(yv);
    free(yc);
    return rc;
}

hops_status hops_model_predict(const hops_model *m, const char *data_path,
                               const hops_predict_options *opts, char **out_json)
{
    static const hops_predict_options defaults = HOPS_PREDICT_OPTIONS_INIT;
    const hops_predict_options *o = opts ? opts : &defaults;
    hops_table *t = NULL;
    size_t *cols = NULL, n = 0, k = m->task == ML_REGRESSION ? 1 : m->n_classes;
    float *x = NULL;
    double *pred = NULL;
    json_t *doc = NULL, *metrics = NULL;
    hops_status rc;
    if (out_json)
        *out_json = NULL;
    if (o->version != HOPS_PREDICT_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_predict_options: unknown version %u", o->version);
    if ((rc = hops_table_read(&t, data_path, &o->read)) != HOPS_OK)
        return rc;
    n = hops_table_rows(t);
    cols = malloc((m->n_features + 1) * sizeof *cols);
    x = malloc((n ? n : 1) * m->n_inputs * sizeof *x);
    pred = malloc((n ? n : 1) * k * sizeof *pred);
    if (!cols || !x || !pred) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = hops__feature_columns(m, t, cols)) != HOPS_OK ||
        (rc = hops__encode_rows(m, t, cols, NULL, n, x)) != HOPS_OK)
        goto out;
    int threads = o->threads;
    if (threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (int)c : 1;
    }
    if ((rc = hops__model_outputs_eval(m, x, n, threads, pred)) != HOPS_OK)
        goto out;
    long lc = hops_table_column_index(t, m->label);
    if (lc >= 0 && (rc = label_metrics(m, t, (size_t)lc, pred, &metrics)) != HOPS_OK)
        goto out;
    if (o->output && (rc = write_output(m, pred, n, o->output)) != HOPS_OK)
        goto out;
    if (!out_json)
        goto out;
    json_t *columns = json_array();
    json_array_append_new(columns, json_string("prediction"));
    for (size_t c = 0; m->task == ML_CLASSIFICATION && c < k; c++) {
        char *name = hops__aprintf("p_%s", m->classes[c]);
        json_array_append_new(columns, json_string(name ? name : "p_?"));
        free(name);
    }
    doc = json_pack("{s:I, s:o, s:s, s:O, s:o}", "rows", (json_int_t)n, "columns", columns, "label",
                    m->label, "metrics", metrics ? metrics : json_null(), "output",
                    o->output ? json_string(o->output) : json_null());
    if (doc && o->rows_in_json) {
        json_t *rows = json_array();
        for (size_t i = 0; i < n; i++) {
            const double *p = pred + i * k;
            if (m->task == ML_REGRESSION) {
                json_array_append_new(rows, json_real(p[0]));
                continue;
            }
            json_t *probs = json_object();
            for (size_t c = 0; c < k; c++)
                json_object_set_new(probs, m->classes[c], json_real(p[c]));
            json_array_append_new(rows,
                                  json_pack("{s:s, s:o}", "prediction", m->classes[argmax(p, k)],
                                            "probabilities", probs));
        }
        json_object_set_new(doc, "predictions", rows);
    }
    if (!doc || !(*out_json = hops__json_dumps(doc, JSON_COMPACT)))
        rc = hops__error(HOPS_ENOMEM, "out of memory");
out:
    json_decref(doc);
    json_decref(metrics);
    free(cols);
    free(x);
    free(pred);
    hops_table_free(t);
    return rc;
}
