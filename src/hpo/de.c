/* Differential evolution, DE/rand/1/bin, in the unit cube.
 *
 * Generational mode (hops-util-py's semantics): an initial population of
 * `population` random points, then `generations` generations; each makes one
 * trial vector per member from the previous generation, and only once all of
 * them have values does greedy selection replace each member its trial beat.
 * Asking while a generation is still being evaluated gives HOPS_EBUSY (the
 * barrier). population x (generations + 1) evaluations in all.
 *
 * Async mode (steady state, the default): the same budget of evaluations, but
 * a trial vector is made whenever one is asked for, from the population as it
 * is now, aimed at the next member (round robin) that has a value; when its
 * value comes back it replaces that member if better. No barrier.
 *
 * In both modes a point whose parameter values were evaluated before is not
 * asked again: the cached value is used (and counts as an evaluation).
 * Mutants outside the cube are redrawn at random, coordinate by coordinate.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpo_internal.h"

typedef struct {
    int64_t trial;
    int target;     /* member index */
    int initial;    /* it makes member TARGET rather than challenging it */
    double *u;
} pending;

typedef struct {
    char *key;
    double value;
} cached;

typedef struct {
    hops__sampler base;
    hops__hpo_rng rng;
    size_t np, dims;
    int64_t budget, evals;   /* evaluations asked (cached ones included) */
    double *pos;             /* np x dims */
    double *val;             /* np */
    int *has_val;
    size_t initial_asked;
    size_t rr;               /* async: the next target to consider */
    /* generational */
    int64_t generation;
    size_t gen_asked, gen_told;
    double *tvec, *tval;     /* np x dims, np */
    int *t_done;
    pending *pend;
    size_t n_pend, cap_pend;
    cached *cache;
    size_t n_cache, cap_cache;
} de_sampler;

static char *point_key(de_sampler *d, const double *u)
{
    json_t *o = hops__space_decode(d->base.spec->space, u);
    char *k = o ? hops__json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return k;
}

static int cache_find(de_sampler *d, const char *key, double *value)
{
    for (size_t i = 0; key && i < d->n_cache; i++)
        if (strcmp(d->cache[i].key, key) == 0) {
            *value = d->cache[i].value;
            return 1;
        }
    return 0;
}

static void cache_put(de_sampler *d, const double *u, double value)
{
    char *key = point_key(d, u);
    double old;
    if (!key || cache_find(d, key, &old)) {
        free(key);
        return;
    }
    if (d->n_cache == d->cap_cache) {
        size_t nc = d->cap_cache ? d->cap_cache * 2 : 64;
        cached *c = realloc(d->cache, nc * sizeof *c);
        if (!c) {
            free(key);
            return;
        }
        d->cache = c;
        d->cap_cache = nc;
    }
    d->cache[d->n_cache++] = (cached){key, value};
}

static hops_status add_pending(de_sampler *d, int64_t trial, int target, int initial, const double *u)
{
    if (d->n_pend == d->cap_pend) {
        size_t nc = d->cap_pend ? d->cap_pend * 2 : 16;
        pending *p = realloc(d->pend, nc * sizeof *p);
        if (!p)
            return hops__error(HOPS_ENOMEM, "out of memory");
        d->pend = p;
        d->cap_pend = nc;
    }
    double *copy = malloc(d->dims * sizeof *copy);
    if (!copy)
        return hops__error(HOPS_ENOMEM, "out of memory");
    memcpy(copy, u, d->dims * sizeof *copy);
    d->pend[d->n_pend++] = (pending){trial, target, initial, copy};
    return HOPS_OK;
}

/* DE/rand/1/bin: a trial vector for TARGET from members other than it. */
static void make_trial(de_sampler *d, size_t target, double *out)
{
    size_t a, b, c, jrand;
    do
        a = hops__hpo_rng_below(&d->rng, d->np);
    while (a == target);
    do
        b = hops__hpo_rng_below(&d->rng, d->np);
    while (b == target || b == a);
    do
        c = hops__hpo_rng_below(&d->rng, d->np);
    while (c == target || c == a || c == b);
    jrand = hops__hpo_rng_below(&d->rng, d->dims);
    const double F = d->base.spec->mutation, CR = d->base.spec->crossover;
    for (size_t j = 0; j < d->dims; j++) {
        double v = d->pos[a * d->dims + j] + F * (d->pos[b * d->dims + j] - d->pos[c * d->dims + j]);
        if (!(v >= 0 && v <= 1))
            v = hops__hpo_rng_unit(&d->rng);
        double r = hops__hpo_rng_unit(&d->rng);
        out[j] = (r < CR || j == jrand) ? v : d->pos[target * d->dims + j];
    }
}

static void select_member(de_sampler *d, size_t i, const double *u, double value)
{
    if (!d->has_val[i] || hops__better(value, d->val[i], d->base.spec->maximize)) {
        memcpy(&d->pos[i * d->dims], u, d->dims * sizeof *u);
        d->val[i] = value;
    }
    d->has_val[i] = 1;
}

/* Generational: every trial of the generation has a value: select, move on. */
static void end_generation(de_sampler *d)
{
    for (size_t i = 0; i < d->np; i++)
        select_member(d, i, &d->tvec[i * d->dims], d->tval[i]);
    d->generation++;
    d->gen_asked = d->gen_told = 0;
    memset(d->t_done, 0, d->np * sizeof *d->t_done);
}

static hops_status ask_generational(de_sampler *d, int64_t trial, double *u, int *done)
{
    for (;;) {
        if (d->generation == 0) { /* the initial population */
            if (d->initial_asked < d->np) {
                for (size_t j = 0; j < d->dims; j++)
                    u[j] = hops__hpo_rng_unit(&d->rng);
                size_t i = d->initial_asked++;
                memcpy(&d->pos[i * d->dims], u, d->dims * sizeof *u);
                d->evals++;
                return add_pending(d, trial, (int)i, 1, u);
            }
            if (d->gen_told < d->np)
                return HOPS_EBUSY;
            d->generation = 1;
            d->gen_asked = d->gen_told = 0;
            memset(d->t_done, 0, d->np * sizeof *d->t_done);
        }
        if (d->generation > d->base.spec->generations) {
            *done = 1;
            return HOPS_EBUSY;
        }
        if (d->gen_asked < d->np) {
            size_t i = d->gen_asked++;
            double cv;
            make_trial(d, i, &d->tvec[i * d->dims]);
            d->evals++;
            char *key = point_key(d, &d->tvec[i * d->dims]);
            int hit = cache_find(d, key, &cv);
            free(key);
            if (hit) {
                d->tval[i] = cv;
                d->t_done[i] = 1;
                if (++d->gen_told == d->np)
                    end_generation(d);
                continue;
            }
            memcpy(u, &d->tvec[i * d->dims], d->dims * sizeof *u);
            return add_pending(d, trial, (int)i, 0, u);
        }
        if (d->gen_told < d->np)
            return HOPS_EBUSY; /* the barrier */
        end_generation(d);
    }
}

static hops_status ask_async(de_sampler *d, int64_t trial, double *u, int *done)
{
    for (;;) {
        if (d->evals >= d->budget) {
            *done = 1;
            return HOPS_EBUSY;
        }
        if (d->initial_asked < d->np) {
            for (size_t j = 0; j < d->dims; j++)
                u[j] = hops__hpo_rng_unit(&d->rng);
            size_t i = d->initial_asked++;
            memcpy(&d->pos[i * d->dims], u, d->dims * sizeof *u);
            d->evals++;
            return add_pending(d, trial, (int)i, 1, u);
        }
        size_t target = d->np;
        for (size_t k = 0; k < d->np; k++) {
            size_t i = (d->rr + k) % d->np;
            if (d->has_val[i]) {
                target = i;
                break;
            }
        }
        if (target == d->np)
            return HOPS_EBUSY; /* no member has a value yet */
        d->rr = (target + 1) % d->np;
        make_trial(d, target, u);
        d->evals++;
        double cv;
        char *key = point_key(d, u);
        int hit = cache_find(d, key, &cv);
        free(key);
        if (hit) {
            select_member(d, target, u, cv);
            continue;
        }
        return add_pending(d, trial, (int)target, 0, u);
    }
}

static hops_status de_ask(hops__sampler *s, int64_t trial, double *u, int *done)
{
    de_sampler *d = (de_sampler *)s;
    *done = 0;
    return s->spec->de_async ? ask_async(d, trial, u, done) : ask_generational(d, trial, u, done);
}

static void de_tell(hops__sampler *s, int64_t trial, double value)
{
    de_sampler *d = (de_sampler *)s;
    size_t k;
    for (k = 0; k < d->n_pend; k++)
        if (d->pend[k].trial == trial)
            break;
    if (k == d->n_pend)
        return; /* not ours (told twice): ignore */
    pending p = d->pend[k];
    d->pend[k] = d->pend[--d->n_pend];
    cache_put(d, p.u, value);
    size_t i = (size_t)p.target;
    if (!s->spec->de_async) {
        if (p.initial) {
            d->val[i] = value;
            d->has_val[i] = 1;
        } else {
            d->tval[i] = value;
            d->t_done[i] = 1;
        }
        d->gen_told++;
    } else if (p.initial) {
        d->val[i] = value;
        d->has_val[i] = 1;
    } else {
        select_member(d, i, p.u, value);
    }
    free(p.u);
}

static json_t *de_state(const hops__sampler *s)
{
    const de_sampler *d = (const de_sampler *)s;
    json_t *pop = json_array();
    for (size_t i = 0; i < d->np; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "params", hops__space_decode(s->spec->space, &d->pos[i * d->dims]));
        json_object_set_new(m, "value", d->has_val[i] && !isnan(d->val[i]) ? json_real(d->val[i])
                                                                            : json_null());
        json_array_append_new(pop, m);
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "sampler", "de", "mode",
                     s->spec->de_async ? "async" : "generational", "generation",
                     (json_int_t)d->generation, "evaluations", (json_int_t)d->evals, "budget",
                     (json_int_t)d->budget, "population", pop);
}

static void de_free(hops__sampler *s)
{
    de_sampler *d = (de_sampler *)s;
    for (size_t i = 0; i < d->n_pend; i++)
        free(d->pend[i].u);
    for (size_t i = 0; i < d->n_cache; i++)
        free(d->cache[i].key);
    free(d->pend);
    free(d->cache);
    free(d->pos);
    free(d->val);
    free(d->has_val);
    free(d->tvec);
    free(d->tval);
    free(d->t_done);
    free(d);
}

static const hops__sampler_ops de_ops = {de_ask, de_tell, de_state, de_free};

hops_status hops__de_new(hops__sampler **out, const hops_hpo_spec *spec)
{
    de_sampler *d = calloc(1, sizeof *d);
    size_t np = (size_t)spec->population, dims = spec->space->n;
    if (!d)
        return hops__error(HOPS_ENOMEM, "out of memory");
    d->base.ops = &de_ops;
    d->base.spec = spec;
    d->base.dims = dims;
    d->np = np;
    d->dims = dims;
    d->budget = spec->population * (spec->generations + 1);
    hops__hpo_rng_seed(&d->rng, spec->seed);
    d->pos = calloc(np * dims, sizeof *d->pos);
    d->val = calloc(np, sizeof *d->val);
    d->has_val = calloc(np, sizeof *d->has_val);
    d->tvec = calloc(np * dims, sizeof *d->tvec);
    d->tval = calloc(np, sizeof *d->tval);
    d->t_done = calloc(np, sizeof *d->t_done);
    if (!d->pos || !d->val || !d->has_val || !d->tvec || !d->tval || !d->t_done) {
        de_free(&d->base);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    *out = &d->base;
    return HOPS_OK;
}
