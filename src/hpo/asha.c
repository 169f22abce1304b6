/* ASHA as an early-stopping rule (see hpo_internal.h): rungs at
 * min_resource * rf^k, a trial is cut at a rung when it is below the rung's
 * top 1/rf. Values are kept sign-adjusted so that bigger is better. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpo_internal.h"

typedef struct {
    double milestone;
    int64_t *trials;
    double *values;
    size_t n, cap;
} rung;

struct hops__asha {
    rung *rungs;      /* highest milestone first */
    size_t n_rungs;
    double rf;
    int maximize;
};

hops_status hops__asha_new(hops__asha **out, double rf, double min_resource, double max_resource,
                           int maximize)
{
    hops__asha *a = calloc(1, sizeof *a);
    size_t n = 0;
    *out = NULL;
    if (!a)
        return hops__error(HOPS_ENOMEM, "out of memory");
    /* Milestones below max_resource: a trial that reaches max_resource ends. */
    for (double m = min_resource; m < max_resource && n < 64; m *= rf)
        n++;
    if (n == 0)
        n = 1;
    a->rungs = calloc(n, sizeof *a->rungs);
    if (!a->rungs) {
        free(a);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    a->n_rungs = n;
    a->rf = rf;
    a->maximize = maximize;
    double m = min_resource;
    for (size_t k = 0; k < n; k++, m *= rf)
        a->rungs[n - 1 - k].milestone = m;
    *out = a;
    return HOPS_OK;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* numpy's nanpercentile with linear interpolation, Q in [0, 100]. */
static double percentile(const double *v, size_t n, double q, int *ok)
{
    double *s = malloc(n * sizeof *s);
    size_t m = 0;
    double r;
    *ok = 0;
    if (!s)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            s[m++] = v[i];
    if (m == 0) {
        free(s);
        return 0;
    }
    qsort(s, m, sizeof *s, cmp_double);
    double pos = q / 100.0 * (double)(m - 1);
    size_t lo = (size_t)floor(pos), hi = lo + 1 < m ? lo + 1 : lo;
    r = s[lo] + (pos - (double)lo) * (s[hi] - s[lo]);
    free(s);
    *ok = 1;
    return r;
}

static int rung_has(const rung *r, int64_t trial)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->trials[i] == trial)
            return 1;
    return 0;
}

int hops__asha_on_result(hops__asha *a, int64_t trial, double step, double value)
{
    double v = a->maximize ? value : -value;
    for (size_t k = 0; k < a->n_rungs; k++) {
        rung *r = &a->rungs[k];
        if (step < r->milestone || rung_has(r, trial))
            continue;
        int ok, stop = 0;
        double cutoff = r->n ? percentile(r->values, r->n, (1 - 1 / a->rf) * 100, &ok) : 0;
        if (r->n && ok && (isnan(v) || v < cutoff))
            stop = 1;
        if (r->n == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 16;
            int64_t *t = realloc(r->trials, nc * sizeof *t);
            if (t)
                r->trials = t;
            double *vv = realloc(r->values, nc * sizeof *vv);
            if (vv)
                r->values = vv;
            if (!t || !vv)
                return stop;
            r->cap = nc;
        }
        r->trials[r->n] = trial;
        r->values[r->n++] = v;
        return stop;
    }
    return 0;
}

size_t hops__asha_rungs(const hops__asha *a) { return a->n_rungs; }
double hops__asha_milestone(const hops__asha *a, size_t k) { return a->rungs[k].milestone; }
size_t hops__asha_rung_size(const hops__asha *a, size_t k) { return a->rungs[k].n; }

json_t *hops__asha_state(const hops__asha *a)
{
    json_t *arr = json_array();
    for (size_t k = a->n_rungs; k-- > 0;)
        json_array_append_new(arr, json_pack("{s:f, s:I}", "milestone", a->rungs[k].milestone,
                                             "trials", (json_int_t)a->rungs[k].n));
    return arr;
}

void hops__asha_free(hops__asha *a)
{
    if (!a)
        return;
    for (size_t k = 0; k < a->n_rungs; k++) {
        free(a->rungs[k].trials);
        free(a->rungs[k].values);
    }
    free(a->rungs);
    free(a);
}
