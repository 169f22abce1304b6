/* The grid sampler: the cartesian product of every parameter's values, the
 * last parameter varying fastest. Int ranges give every integer, float
 * ranges `points` evenly spaced values (log-spaced for log ranges). */
#include <math.h>
#include <stdlib.h>

#include "hpo_internal.h"

typedef struct {
    hops__sampler base;
    uint64_t size, next;
    uint64_t *radix;   /* values per parameter */
} grid_sampler;

static uint64_t values_of(const hops__param *p, int64_t points)
{
    switch (p->type) {
    case HOPS_PARAM_INT:
        return (uint64_t)(p->hi - p->lo) + 1;
    case HOPS_PARAM_FLOAT:
        return (uint64_t)points;
    default:
        return (uint64_t)json_array_size(p->values);
    }
}

uint64_t hops__grid_size(const hops_hpo_spec *spec)
{
    uint64_t n = 1;
    for (size_t i = 0; i < spec->space->n; i++) {
        uint64_t k = values_of(&spec->space->params[i], spec->grid_points);
        if (k == 0 || n > (UINT64_C(1) << 62) / k)
            return 0;
        n *= k;
    }
    return n;
}

static hops_status grid_ask(hops__sampler *s, int64_t trial, double *u, int *done)
{
    grid_sampler *g = (grid_sampler *)s;
    uint64_t idx;
    (void)trial;
    *done = 0;
    if (g->next >= g->size) {
        *done = 1;
        return HOPS_EBUSY;
    }
    idx = g->next++;
    for (size_t i = s->dims; i-- > 0;) {
        const hops__param *p = &s->spec->space->params[i];
        uint64_t k = idx % g->radix[i];
        idx /= g->radix[i];
        if (p->type == HOPS_PARAM_FLOAT)
            u[i] = g->radix[i] > 1 ? (double)k / (double)(g->radix[i] - 1) : 0.5;
        else
            u[i] = hops__unit_of_index((size_t)k, (size_t)g->radix[i]);
    }
    return HOPS_OK;
}

static void grid_tell(hops__sampler *s, int64_t trial, double value)
{
    (void)s;
    (void)trial;
    (void)value;
}

static json_t *grid_state(const hops__sampler *s)
{
    const grid_sampler *g = (const grid_sampler *)s;
    return json_pack("{s:s, s:I, s:I}", "sampler", "grid", "asked", (json_int_t)g->next, "size",
                     (json_int_t)g->size);
}

static void grid_free(hops__sampler *s)
{
    grid_sampler *g = (grid_sampler *)s;
    free(g->radix);
    free(g);
}

static const hops__sampler_ops grid_ops = {grid_ask, grid_tell, grid_state, grid_free};

hops_status hops__grid_new(hops__sampler **out, const hops_hpo_spec *spec)
{
    grid_sampler *g = calloc(1, sizeof *g);
    if (!g || !(g->radix = calloc(spec->space->n, sizeof *g->radix))) {
        free(g);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    g->base.ops = &grid_ops;
    g->base.spec = spec;
    g->base.dims = spec->space->n;
    for (size_t i = 0; i < spec->space->n; i++)
        g->radix[i] = values_of(&spec->space->params[i], spec->grid_points);
    g->size = hops__grid_size(spec);
    *out = &g->base;
    return HOPS_OK;
}
