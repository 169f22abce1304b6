/* Classification and regression metrics, defined as scikit-learn defines
 * them (checked against it in tests/e2e/metrics_vs_sklearn.sh). */
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml.h"

static hops_status dump(json_t *doc, char **out)
{
    if (!doc)
        return hops__error(HOPS_ENOMEM, "out of memory");
    *out = hops__json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

/* A real, or null when it is not finite (JSON has no NaN). */
static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static double clip(double p)
{
    return p < DBL_EPSILON ? DBL_EPSILON : p > 1 - DBL_EPSILON ? 1 - DBL_EPSILON : p;
}

typedef struct {
    double score;
    int positive;
} scored;

static int by_score(const void *a, const void *b)
{
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Area under the ROC curve: the Mann-Whitney U statistic with average ranks
 * for ties, which equals scikit-learn's trapezoidal roc_auc_score. NaN when
 * one class is absent. */
static double roc_auc(const size_t *y, const double *proba, size_t n)
{
    scored *s = malloc((n ? n : 1) * sizeof *s);
    double pos = 0, rank_sum = 0;
    if (!s)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        s[i].score = proba[2 * i + 1];
        s[i].positive = y[i] == 1;
        pos += s[i].positive;
    }
    qsort(s, n, sizeof *s, by_score);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j].score == s[i].score)
            j++;
        double avg = (double)(i + 1 + j) / 2.0; /* ranks i+1 .. j */
        for (size_t q = i; q < j; q++)
            if (s[q].positive)
                rank_sum += avg;
        i = j;
    }
    free(s);
    double neg = (double)n - pos;
    if (pos == 0 || neg == 0)
        return NAN;
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

hops_status hops_metrics_classification(const size_t *y_true, const double *proba, size_t n,
                                        size_t k, const char *const *classes, char **out_json)
{
    size_t *cm = NULL;
    double logloss = 0;
    json_t *doc = NULL;
    *out_json = NULL;
    if (k < 2)
        return hops__error(HOPS_EINVAL, "classification metrics need 2 or more classes, not %zu",
                           k);
    if (n == 0)
        return hops__error(HOPS_EINVAL, "no rows to compute metrics on");
    if (!(cm = calloc(k * k, sizeof *cm)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const double *p = proba + i * k;
        size_t pred = 0;
        double sum = 0;
        if (y_true[i] >= k) {
            free(cm);
            return hops__error(HOPS_EINVAL, "row %zu: class %zu is not below %zu", i, y_true[i], k);
        }
        for (size_t j = 1; j < k; j++)
            if (p[j] > p[pred])
                pred = j;
        cm[y_true[i] * k + pred]++;
        /* scikit-learn 1.2: clip every probability to [eps, 1 - eps] (eps
         * of double), normalize the row, take the true class's log. */
        for (size_t j = 0; j < k; j++)
            sum += clip(p[j]);
        double q = clip(p[y_true[i]]) / sum;
        logloss -= log(q);
    }
    /* Macro averages over the classes that occur (in the truth or the
     * predictions), as scikit-learn's default labels. */
    size_t right = 0, present = 0;
    double prec = 0, rec = 0, f1 = 0;
    for (size_t c = 0; c < k; c++) {
        size_t tp = cm[c * k + c], predicted = 0, actual = 0;
        right += tp;
        for (size_t j = 0; j < k; j++) {
            predicted += cm[j * k + c];
            actual += cm[c * k + j];
        }
        if (predicted + actual == 0)
            continue;
        present++;
        double pc = predicted ? (double)tp / (double)predicted : 0;
        double rcl = actual ? (double)tp / (double)actual : 0;
        prec += pc;
        rec += rcl;
        f1 += pc + rcl > 0 ? 2 * pc * rcl / (pc + rcl) : 0;
    }
    doc = json_object();
    json_t *matrix = json_array(), *names = json_array();
    for (size_t r = 0; r < k; r++) {
        json_t *row = json_array();
        for (size_t c = 0; c < k; c++)
            json_array_append_new(row, json_integer((json_int_t)cm[r * k + c]));
        json_array_append_new(matrix, row);
        json_array_append_new(names,
                              classes ? json_string(classes[r]) : json_integer((json_int_t)r));
    }
    json_object_set_new(doc, "n", json_integer((json_int_t)n));
    json_object_set_new(doc, "accuracy", json_real((double)right / (double)n));
    json_object_set_new(doc, "precision", json_real(prec / (double)present));
    json_object_set_new(doc, "recall", json_real(rec / (double)present));
    json_object_set_new(doc, "f1", json_real(f1 / (double)present));
    json_object_set_new(doc, "log_loss", real_or_null(logloss / (double)n));
    if (k == 2)
        json_object_set_new(doc, "roc_auc", real_or_null(roc_auc(y_true, proba, n)));
    json_object_set_new(doc, "confusion_matrix",
                        json_pack("{s:o, s:o}", "classes", names, "matrix", matrix));
    free(cm);
    return dump(doc, out_json);
}

hops_status hops_metrics_regression(const double *y_true, const double *y_pred, size_t n,
                                    char **out_json)
{
    double mean = 0, ss_res = 0, ss_tot = 0, abs_sum = 0;
    *out_json = NULL;
    if (n == 0)
        return hops__error(HOPS_EINVAL, "no rows to compute metrics on");
    for (size_t i = 0; i < n; i++)
        mean += y_true[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = y_true[i] - y_pred[i];
        ss_res += e * e;
        abs_sum += fabs(e);
        ss_tot += (y_true[i] - mean) * (y_true[i] - mean);
    }
    double r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1.0 : 0.0);
    json_t *doc = json_object();
    json_object_set_new(doc, "n", json_integer((json_int_t)n));
    json_object_set_new(doc, "rmse", real_or_null(sqrt(ss_res / (double)n)));
    json_object_set_new(doc, "mae", real_or_null(abs_sum / (double)n));
    json_object_set_new(doc, "r2", real_or_null(r2));
    return dump(doc, out_json);
}
