/* Random numbers (splitmix64, so a seed gives the same stream everywhere),
 * the random sampler, and the sampler factory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpo_internal.h"

void hops__hpo_rng_seed(hops__hpo_rng *r, uint64_t seed) { r->state = seed; }

uint64_t hops__hpo_rng_next(hops__hpo_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double hops__hpo_rng_unit(hops__hpo_rng *r) { return (double)(hops__hpo_rng_next(r) >> 11) * 0x1.0p-53; }

size_t hops__hpo_rng_below(hops__hpo_rng *r, size_t n)
{
    /* Rejection keeps it unbiased; n is small, so this almost never loops. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % (uint64_t)n;
    uint64_t x;
    do
        x = hops__hpo_rng_next(r);
    while (x >= limit);
    return (size_t)(x % (uint64_t)n);
}

int hops__better(double a, double b, int maximize)
{
    if (isnan(a))
        return 0;
    if (isnan(b))
        return 1;
    return maximize ? a > b : a < b;
}

/* ---- the random sampler ---- */

typedef struct {
    hops__sampler base;
    hops__hpo_rng rng;
    int64_t asked;
} random_sampler;

static hops_status random_ask(hops__sampler *s, int64_t trial, double *u, int *done)
{
    random_sampler *r = (random_sampler *)s;
    (void)trial;
    *done = 0;
    if (r->asked >= s->spec->trials) {
        *done = 1;
        return HOPS_EBUSY;
    }
    for (size_t i = 0; i < s->dims; i++)
        u[i] = hops__hpo_rng_unit(&r->rng);
    r->asked++;
    return HOPS_OK;
}

static void random_tell(hops__sampler *s, int64_t trial, double value)
{
    (void)s;
    (void)trial;
    (void)value;
}

static json_t *random_state(const hops__sampler *s)
{
    const random_sampler *r = (const random_sampler *)s;
    return json_pack("{s:s, s:I, s:I}", "sampler", "random", "asked", (json_int_t)r->asked, "trials",
                     (json_int_t)s->spec->trials);
}

static void random_free(hops__sampler *s) { free(s); }

static const hops__sampler_ops random_ops = {random_ask, random_tell, random_state, random_free};

hops_status hops__random_new(hops__sampler **out, const hops_hpo_spec *spec)
{
    random_sampler *r = calloc(1, sizeof *r);
    if (!r)
        return hops__error(HOPS_ENOMEM, "out of memory");
    r->base.ops = &random_ops;
    r->base.spec = spec;
    r->base.dims = spec->space->n;
    hops__hpo_rng_seed(&r->rng, spec->seed);
    *out = &r->base;
    return HOPS_OK;
}

hops_status hops__sampler_new(hops__sampler **out, const hops_hpo_spec *spec)
{
    *out = NULL;
    switch (spec->sampler) {
    case HOPS__SAMPLER_GRID:
        return hops__grid_new(out, spec);
    case HOPS__SAMPLER_DE:
        return hops__de_new(out, spec);
    default:
        return hops__random_new(out, spec);
    }
}
