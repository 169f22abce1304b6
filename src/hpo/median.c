/* The median stopping rule, with Maggy's semantics (see hpo_internal.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpo_internal.h"

int hops__history_push(hops__history *h, double v)
{
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 16;
        double *p = realloc(h->v, nc * sizeof *p);
        if (!p)
            return -1;
        h->v = p;
        h->cap = nc;
    }
    h->v[h->n++] = v;
    return 0;
}

int hops__hpo_metric_value(const json_t *j, double *out)
{
    if (json_is_number(j)) {
        *out = json_number_value(j);
        return 0;
    }
    if (!json_is_string(j))
        return -1;
    if (strcmp(json_string_value(j), "NaN") == 0)
        *out = NAN;
    else if (strcmp(json_string_value(j), "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(json_string_value(j), "-Infinity") == 0)
        *out = -INFINITY;
    else
        return -1;
    return 0;
}

void hops__history_free(hops__history *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int hops__median_should_stop(const hops__history *trial, const hops__history *finished,
                             size_t n_finished, int maximize, int64_t es_min)
{
    size_t step = trial->n, n = 0;
    double *avgs, median, best;
    int stop;
    if (step == 0 || (int64_t)n_finished < es_min)
        return 0;
    if (!(avgs = malloc((n_finished ? n_finished : 1) * sizeof *avgs)))
        return 0;
    for (size_t i = 0; i < n_finished; i++) {
        double sum = 0;
        int bad = 0;
        if (finished[i].n < step)
            continue;
        for (size_t k = 0; k < step; k++) {
            sum += finished[i].v[k];
            bad |= isnan(finished[i].v[k]);
        }
        if (!bad)
            avgs[n++] = sum / (double)step;
    }
    if (n == 0) {
        free(avgs);
        return 0;
    }
    qsort(avgs, n, sizeof *avgs, cmp_double);
    median = n % 2 ? avgs[n / 2] : (avgs[n / 2 - 1] + avgs[n / 2]) / 2;
    free(avgs);
    best = NAN;
    for (size_t k = 0; k < step; k++)
        if (!isnan(trial->v[k]) && (isnan(best) || (maximize ? trial->v[k] > best : trial->v[k] < best)))
            best = trial->v[k];
    if (isnan(best))
        return 1; /* nothing but NaN: worse than any median */
    stop = maximize ? best < median : best > median;
    return stop;
}
