/* Fuzz the experiment spec parser (`hops hpo run SPEC.json`).
 *
 * The input is a spec (JSON). Properties:
 *   - hops_hpo_spec_parse gives HOPS_OK with a spec, or HOPS_EPARSE / HOPS_EINVAL
 *     with a message and no spec;
 *   - a parsed spec's normalized JSON parses again to the same normalized JSON;
 *   - its sampler proposes points (at most 64 asks, every value told back)
 *     whose decoded values lie in the space: ints in [lo, hi], floats in
 *     [lo, hi], choices among the listed values;
 *   - the space alone (hops_space_parse of the input's "space") agrees.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpo/hpo_internal.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    json_object_seed(1);
    return 0;
}

static void check_point(const hops_space *sp, const json_t *o)
{
    FUZZ_CHECK(json_is_object(o) && json_object_size(o) == sp->n, "decoded point has %zu values",
               json_object_size(o));
    for (size_t i = 0; i < sp->n; i++) {
        const hops__param *p = &sp->params[i];
        const json_t *v = json_object_get(o, p->name);
        FUZZ_CHECK(v, "no value for %s", p->name);
        if (p->type == HOPS_PARAM_INT) {
            FUZZ_CHECK(json_is_integer(v), "%s: not an integer", p->name);
            double x = (double)json_integer_value(v);
            FUZZ_CHECK(x >= p->lo && x <= p->hi, "%s: %g outside [%g, %g]", p->name, x, p->lo, p->hi);
        } else if (p->type == HOPS_PARAM_FLOAT) {
            FUZZ_CHECK(json_is_real(v), "%s: not a real", p->name);
            double x = json_real_value(v);
            FUZZ_CHECK(x >= p->lo && x <= p->hi, "%s: %g outside [%g, %g]", p->name, x, p->lo, p->hi);
        } else {
            size_t k;
            json_t *c;
            int found = 0;
            json_array_foreach(p->values, k, c) found |= json_equal(c, (json_t *)v);
            FUZZ_CHECK(found, "%s: value not among the choices", p->name);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hops_hpo_spec *spec = (hops_hpo_spec *)&spec;
    hops_status rc;
    hops_error_clear();
    rc = hops_hpo_spec_parse(&spec, (const char *)data, size);
    if (rc != HOPS_OK) {
        FUZZ_CHECK(rc == HOPS_EPARSE || rc == HOPS_EINVAL, "spec parse: %s", hops_err_name(rc));
        FUZZ_CHECK(spec == NULL, "a failed parse left a spec");
        FUZZ_CHECK(hops_last_error()[0] != '\0', "an error without a message");
        return 0;
    }
    FUZZ_CHECK(spec && spec->space && spec->space->n > 0, "HOPS_OK without a space");

    char *norm = hops_hpo_spec_json(spec);
    FUZZ_CHECK(norm, "no normalized JSON");
    hops_hpo_spec *again = NULL;
    rc = hops_hpo_spec_parse(&again, norm, strlen(norm));
    FUZZ_CHECK(rc == HOPS_OK, "the normalized spec does not parse: %s\n%s", hops_last_error(), norm);
    char *norm2 = hops_hpo_spec_json(again);
    FUZZ_CHECK(norm2 && strcmp(norm, norm2) == 0, "normalizing twice differs:\n%s\n%s", norm, norm2);
    free(norm2);
    hops_hpo_spec_free(again);
    free(norm);

    hops__sampler *smp = NULL;
    if (hops__sampler_new(&smp, spec) == HOPS_OK) {
        double *u = calloc(spec->space->n, sizeof *u);
        int done = 0;
        int64_t pending[64];
        size_t n_pending = 0;
        for (int64_t t = 0; t < 64 && u && !done; t++) {
            rc = smp->ops->ask(smp, t, u, &done);
            if (rc == HOPS_OK) {
                json_t *o = hops__space_decode(spec->space, u);
                check_point(spec->space, o);
                json_decref(o);
                pending[n_pending++] = t;
            } else {
                FUZZ_CHECK(rc == HOPS_EBUSY, "ask: %s", hops_err_name(rc));
                if (done)
                    break;
                FUZZ_CHECK(n_pending > 0, "the sampler waits with nothing pending");
            }
            if (n_pending && (rc != HOPS_OK || n_pending == 8)) { /* tell a batch back */
                for (size_t k = 0; k < n_pending; k++)
                    smp->ops->tell(smp, pending[k], (double)(pending[k] % 7) - 3);
                n_pending = 0;
            }
        }
        free(u);
        smp->ops->free(smp);
    }

    /* The space alone. */
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *sj = j ? json_object_get(j, "space") : NULL;
    if (sj) {
        char *text = json_dumps(sj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        hops_space *sp = NULL;
        FUZZ_CHECK(text && hops_space_parse(&sp, text, strlen(text)) == HOPS_OK,
                   "the spec parsed but its space alone does not: %s", hops_last_error());
        FUZZ_CHECK(sp->n == spec->space->n, "the space alone has %zu parameters, not %zu", sp->n,
                   spec->space->n);
        hops_space_free(sp);
        free(text);
    }
    json_decref(j);
    hops_hpo_spec_free(spec);
    return 0;
}
