/* hops — private pieces shared by the files of src/hpo/. */
#ifndef HOPS_HPO_INTERNAL_H
#define HOPS_HPO_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "core/core.h"
#include "hops/hpo.h"

/* ---- the search space (space.c) ---- */

typedef struct {
    char *name;
    hops_param_type type;
    double lo, hi;   /* int / float */
    int log;         /* float: log-uniform */
    json_t *values;  /* categorical / discrete: a JSON array (owned) */
} hops__param;

struct hops_space {
    hops__param *params;
    size_t n;
};

/* A point of the space in unit coordinates: one double in [0, 1] per
 * parameter. Samplers work in the unit cube; hops__space_decode maps a point
 * to typed values (ints rounded, log scales applied, choices indexed). */
json_t *hops__space_decode(const hops_space *s, const double *u);

/* The unit coordinate that decodes to choice K of N (grid, int values). */
double hops__unit_of_index(size_t k, size_t n);

/* Parse one space from a JSON value; FIELD prefixes error messages. */
hops_status hops__space_from_json(hops_space **out, const json_t *j, const char *field);
json_t *hops__space_to_json(const hops_space *s);

/* ---- the spec (spec.c) ---- */

typedef enum { HOPS__SAMPLER_GRID, HOPS__SAMPLER_RANDOM, HOPS__SAMPLER_DE } hops__sampler_kind;
typedef enum { HOPS__ES_NONE, HOPS__ES_MEDIAN, HOPS__ES_ASHA } hops__es_kind;

struct hops_hpo_spec {
    char *name;          /* may be NULL */
    json_t *command;     /* JSON array of strings, or NULL */
    hops_space *space;
    hops__sampler_kind sampler;
    int64_t trials;      /* random: number of trials */
    int64_t grid_points; /* grid: points per float range */
    int64_t population, generations;
    double mutation, crossover;
    int de_async;        /* 1: steady state; 0: generational */
    uint64_t seed;
    int maximize;
    char *metric;        /* the optimization key */
    hops__es_kind es;
    int64_t es_min;      /* median: finished trials needed first */
    double es_interval;  /* median: seconds between checks */
    double rf;           /* ASHA reduction factor */
    double min_resource, max_resource;
    char *budget_param;  /* ASHA: the parameter carrying the budget */
    hops_slots request;
    double timeout, kill_grace;
    int64_t retries, max_failures;
    int args;            /* pass --name=value */
};

/* ---- random numbers (random.c): splitmix64, the same on every platform ---- */

typedef struct {
    uint64_t state;
} hops__hpo_rng;

void hops__hpo_rng_seed(hops__hpo_rng *r, uint64_t seed);
uint64_t hops__hpo_rng_next(hops__hpo_rng *r);
double hops__hpo_rng_unit(hops__hpo_rng *r);           /* [0, 1) */
size_t hops__hpo_rng_below(hops__hpo_rng *r, size_t n); /* [0, n), n > 0 */

/* ---- samplers ---- */

typedef struct hops__sampler hops__sampler;

typedef struct {
    /* Propose the point of trial TRIAL (numbers go up by one from 0) into U
     * (dims doubles). HOPS_OK: U is set. HOPS_EBUSY: nothing until a tell
     * (a generation barrier). *done = 1 (and HOPS_EBUSY): the search is over. */
    hops_status (*ask)(hops__sampler *s, int64_t trial, double *u, int *done);
    /* The value of trial TRIAL; NaN when it failed or gave none. */
    void (*tell)(hops__sampler *s, int64_t trial, double value);
    /* A JSON snapshot for display (population, generation ...). */
    json_t *(*state)(const hops__sampler *s);
    void (*free)(hops__sampler *s);
} hops__sampler_ops;

struct hops__sampler {
    const hops__sampler_ops *ops;
    const hops_hpo_spec *spec; /* borrowed */
    size_t dims;
};

hops_status hops__sampler_new(hops__sampler **out, const hops_hpo_spec *spec);
hops_status hops__grid_new(hops__sampler **out, const hops_hpo_spec *spec);
hops_status hops__random_new(hops__sampler **out, const hops_hpo_spec *spec);
hops_status hops__de_new(hops__sampler **out, const hops_hpo_spec *spec);
/* How many points the grid has (0 when over 2^62). */
uint64_t hops__grid_size(const hops_hpo_spec *spec);

/* 1 when A is better than B in this direction; NaN is worse than anything. */
int hops__better(double a, double b, int maximize);

/* ---- early stopping ---- */

/* One trial's heartbeats of the optimization key, in arrival order. */
typedef struct {
    double *v;
    size_t n, cap;
} hops__history;

int hops__history_push(hops__history *h, double v);
/* A metric value in a report: a number or "NaN" / "Infinity" / "-Infinity". 0 ok, -1 not one. */
int hops__hpo_metric_value(const json_t *j, double *out);
void hops__history_free(hops__history *h);

/* The median rule (Maggy's MedianStoppingRule): with STEP = the number of
 * heartbeats of the trial under check, take each finished trial that has at
 * least STEP heartbeats, average its first STEP values, and take the median
 * of those averages. The trial stops when its best value so far is worse than
 * that median. Returns 1 to stop, 0 to go on (also when no finished trial is
 * long enough, or fewer than ES_MIN trials finished). */
int hops__median_should_stop(const hops__history *trial, const hops__history *finished,
                             size_t n_finished, int maximize, int64_t es_min);

/* ASHA as an early-stopping rule (asynchronous successive halving, as in Ray
 * Tune's AsyncHyperBand): milestones min_resource * rf^k up to max_resource;
 * when a trial first reaches a milestone (its heartbeat step >= milestone) its
 * value is recorded in that rung, and it stops if it is worse than the
 * (1 - 1/rf) quantile of the values the rung held before it. */
typedef struct hops__asha hops__asha;
hops_status hops__asha_new(hops__asha **out, double rf, double min_resource, double max_resource,
                           int maximize);
/* A heartbeat of TRIAL at STEP with VALUE; 1: stop it, 0: go on. */
int hops__asha_on_result(hops__asha *a, int64_t trial, double step, double value);
size_t hops__asha_rungs(const hops__asha *a);
double hops__asha_milestone(const hops__asha *a, size_t rung);
size_t hops__asha_rung_size(const hops__asha *a, size_t rung);
json_t *hops__asha_state(const hops__asha *a);
void hops__asha_free(hops__asha *a);

#endif
