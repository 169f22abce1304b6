/* In-memory prediction for the server: the model's shape (features, inputs,
 * classes), one raw row encoded with the stored encodings, and prediction
 * of an encoded matrix. No tables, no files. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml.h"

size_t hops_model_n_features(const hops_model *m)
{
    return m ? m->n_features : 0;
}

const char *hops_model_feature_name(const hops_model *m, size_t i)
{
    return m && i < m->n_features ? m->features[i].name : NULL;
}

int hops_model_feature_is_categorical(const hops_model *m, size_t i)
{
    return m && i < m->n_features ? m->features[i].categorical != 0 : 0;
}

size_t hops_model_n_inputs(const hops_model *m)
{
    return m ? m->n_inputs : 0;
}

size_t hops_model_n_classes(const hops_model *m)
{
    return m && m->task == ML_CLASSIFICATION ? m->n_classes : 0;
}

const char *hops_model_class_name(const hops_model *m, size_t i)
{
    return m && m->task == ML_CLASSIFICATION && i < m->n_classes ? m->classes[i] : NULL;
}

const char *hops_model_label(const hops_model *m)
{
    return m ? m->label : NULL;
}

/* The shortest decimal text of V that reads back as V ("3", "0.1"). */
static void shortest(double v, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

hops_status hops_model_encode_row(const hops_model *m, const hops_feature_value *values, float *x)
{
    memset(x, 0, m->n_inputs * sizeof *x);
    for (size_t fi = 0; fi < m->n_features; fi++) {
        const ml_feature *f = &m->features[fi];
        const hops_feature_value *v = &values[fi];
        if (f->categorical) {
            char num[40];
            const char *text = v->kind == HOPS_VALUE_TEXT ? v->text : NULL;
            if (v->kind == HOPS_VALUE_NUMBER) {
                shortest(v->number, num, sizeof num);
                text = num;
            }
            for (size_t k = 0; text && k < f->n_cats; k++)
                if (strcmp(f->cats[k], text) == 0) {
                    x[f->first + k] = 1.0f; /* unseen or null: all 0, as in training */
                    break;
                }
            continue;
        }
        double d = 0;
        if (v->kind == HOPS_VALUE_NULL)
            return hops__error(HOPS_EINVAL,
                               "feature '%s' is null; it is numeric and needs a number", f->name);
        if (v->kind == HOPS_VALUE_TEXT) {
            int kind = hops__ml_number(v->text, &d);
            if (kind != 1)
                return hops__error(HOPS_EINVAL, "feature '%s' is numeric but '%.60s' is %s",
                                   f->name, v->text,
                                   kind == 2   ? "NaN"
                                   : kind == 3 ? "infinite"
                                               : "not a number");
        } else {
            d = v->number;
            if (!isfinite(d))
                return hops__error(HOPS_EINVAL, "feature '%s' is %s; it needs a finite number",
                                   f->name, isnan(d) ? "NaN" : "infinite");
        }
        double z = (d - f->mean) / f->std;
        if (!isfinite(z) || fabs(z) > FLT_MAX)
            return hops__error(HOPS_EINVAL, "feature '%s' is out of range (%g)", f->name, d);
        x[f->first] = (float)z;
    }
    return HOPS_OK;
}

hops_status hops_model_predict_matrix(const hops_model *m, const float *x, size_t n, int threads,
                                      double *out)
{
    if (!m || (!x && n))
        return hops__error(HOPS_EINVAL, "hops_model_predict_matrix: no model or no rows");
    if (n == 0)
        return HOPS_OK;
    for (size_t i = 0; i < n * m->n_inputs; i++)
        if (!isfinite(x[i]))
            return hops__error(HOPS_EINVAL, "row %zu, input %zu is not a finite number",
                               i / m->n_inputs, i % m->n_inputs);
    hops_status rc = hops__model_outputs_eval(m, x, n, threads > 0 ? threads : 1, out);
    size_t k = m->task == ML_REGRESSION ? 1 : m->n_classes;
    for (size_t i = 0; rc == HOPS_OK && i < n * k; i++)
        if (!isfinite(out[i]))
            rc = hops__error(HOPS_EINVAL,
                             "row %zu: the prediction is not a finite number (inputs far "
                             "outside what the model was trained on?)",
                             i / k);
    return rc;
}
