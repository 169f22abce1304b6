/* Experiment specs: the JSON file `hops hpo run` takes, parsed and
 * normalized; every error names its field. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpo_internal.h"

#define GRID_LIMIT 1000000

void hops_hpo_spec_free(hops_hpo_spec *s)
{
    if (!s)
        return;
    free(s->name);
    json_decref(s->command);
    hops_space_free(s->space);
    free(s->metric);
    free(s->budget_param);
    free(s);
}

const char *hops_hpo_spec_name(const hops_hpo_spec *s) { return s->name; }
const hops_space *hops_hpo_spec_space(const hops_hpo_spec *s) { return s->space; }

static hops_status unknown_keys(const json_t *o, const char *field, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        int ok = 0;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok) {
            hops_buf b = HOPS_BUF_INIT;
            for (size_t i = 0; known[i]; i++)
                hops__buf_printf(&b, "%s%s", i ? ", " : "", known[i]);
            hops_status rc = hops__error(HOPS_EPARSE, "%s: unknown key '%s' (known: %s)", field, key,
                                         b.data ? b.data : "");
            hops__buf_free(&b);
            return rc;
        }
    }
    return HOPS_OK;
}

/* An integer field in [lo, hi]; absent keeps *out. */
static hops_status get_int(const json_t *o, const char *key, const char *field, int64_t lo,
                           int64_t hi, int64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return HOPS_OK;
    if (!json_is_integer(v))
        return hops__error(HOPS_EPARSE, "%s%s: must be an integer", field, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return hops__error(HOPS_EPARSE, "%s%s: must be between %lld and %lld, got %lld", field, key,
                           (long long)lo, (long long)hi, (long long)x);
    *out = x;
    return HOPS_OK;
}

static hops_status get_num(const json_t *o, const char *key, const char *field, double lo,
                           double hi, int lo_open, double *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return HOPS_OK;
    if (!json_is_number(v))
        return hops__error(HOPS_EPARSE, "%s%s: must be a number", field, key);
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi || (lo_open && x <= lo))
        return hops__error(HOPS_EPARSE, "%s%s: must be %s %g and <= %g, got %g", field, key,
                           lo_open ? ">" : ">=", lo, hi, x);
    *out = x;
    return HOPS_OK;
}

static hops_status get_str(const json_t *o, const char *key, const char *field, char **out)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return HOPS_OK;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return hops__error(HOPS_EPARSE, "%s%s: must be a non-empty string", field, key);
    free(*out);
    *out = hops__strdup(json_string_value(v));
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

static hops_status parse_sampler(hops_hpo_spec *s, const json_t *v)
{
    static const char *const known[] = {"type", "population", "generations", "mutation", "crossover",
                                        "mode", "points", "trials", NULL};
    const char *type;
    const json_t *obj = NULL;
    hops_status rc;
    if (!v)
        type = "random";
    else if (json_is_string(v))
        type = json_string_value(v);
    else if (json_is_object(v)) {
        obj = v;
        if ((rc = unknown_keys(v, "sampler", known)) != HOPS_OK)
            return rc;
        if (!json_is_string(json_object_get(v, "type")))
            return hops__error(HOPS_EPARSE, "sampler.type: must be grid, random or de");
        type = json_string_value(json_object_get(v, "type"));
    } else
        return hops__error(HOPS_EPARSE, "sampler: must be \"grid\", \"random\", \"de\" or an object");
    if (strcmp(type, "grid") == 0)
        s->sampler = HOPS__SAMPLER_GRID;
    else if (strcmp(type, "random") == 0)
        s->sampler = HOPS__SAMPLER_RANDOM;
    else if (strcmp(type, "de") == 0 || strcmp(type, "differential_evolution") == 0)
        s->sampler = HOPS__SAMPLER_DE;
    else
        return hops__error(HOPS_EPARSE, "sampler.type: unknown sampler '%s' (grid, random or de)", type);
    if (!obj)
        return HOPS_OK;
    if ((rc = get_int(obj, "population", "sampler.", 4, 100000, &s->population)) ||
        (rc = get_int(obj, "generations", "sampler.", 0, 100000, &s->generations)) ||
        (rc = get_num(obj, "mutation", "sampler.", 0, 2, 1, &s->mutation)) ||
        (rc = get_num(obj, "crossover", "sampler.", 0, 1, 0, &s->crossover)) ||
        (rc = get_int(obj, "points", "sampler.", 2, 1000000, &s->grid_points)) ||
        (rc = get_int(obj, "trials", "sampler.", 1, INT32_MAX, &s->trials)))
        return rc;
    const json_t *mode = json_object_get(obj, "mode");
    if (mode) {
        if (json_is_string(mode) && strcmp(json_string_value(mode), "async") == 0)
            s->de_async = 1;
        else if (json_is_string(mode) && strcmp(json_string_value(mode), "generational") == 0)
            s->de_async = 0;
        else
            return hops__error(HOPS_EPARSE, "sampler.mode: must be \"async\" or \"generational\"");
    }
    return HOPS_OK;
}

static hops_status parse_es(hops_hpo_spec *s, const json_t *v)
{
    static const char *const known[] = {"type", "min", "interval", "reduction_factor",
                                        "min_resource", "max_resource", "budget_param", NULL};
    const json_t *t;
    hops_status rc;
    if (!v || json_is_null(v))
        return HOPS_OK;
    if (json_is_string(v) && strcmp(json_string_value(v), "none") == 0)
        return HOPS_OK;
    if (!json_is_object(v))
        return hops__error(HOPS_EPARSE, "early_stopping: must be an object {\"type\": \"median\"|\"asha\"}");
    if ((rc = unknown_keys(v, "early_stopping", known)) != HOPS_OK)
        return rc;
    t = json_object_get(v, "type");
    if (!json_is_string(t))
        return hops__error(HOPS_EPARSE, "early_stopping.type: must be median, asha or none");
    if (strcmp(json_string_value(t), "median") == 0)
        s->es = HOPS__ES_MEDIAN;
    else if (strcmp(json_string_value(t), "asha") == 0)
        s->es = HOPS__ES_ASHA;
    else if (strcmp(json_string_value(t), "none") == 0)
        s->es = HOPS__ES_NONE;
    else
        return hops__error(HOPS_EPARSE, "early_stopping.type: unknown rule '%s' (median, asha or none)",
                           json_string_value(t));
    if ((rc = get_int(v, "min", "early_stopping.", 0, INT32_MAX, &s->es_min)) ||
        (rc = get_num(v, "interval", "early_stopping.", 0, 86400, 1, &s->es_interval)) ||
        (rc = get_num(v, "reduction_factor", "early_stopping.", 1, 1000, 1, &s->rf)) ||
        (rc = get_num(v, "min_resource", "early_stopping.", 0, 1e12, 1, &s->min_resource)) ||
        (rc = get_num(v, "max_resource", "early_stopping.", 0, 1e12, 1, &s->max_resource)) ||
        (rc = get_str(v, "budget_param", "early_stopping.", &s->budget_param)))
        return rc;
    if (s->es == HOPS__ES_ASHA && !(s->min_resource < s->max_resource))
        return hops__error(HOPS_EPARSE,
                           "early_stopping.min_resource: %g must be below max_resource (%g)",
                           s->min_resource, s->max_resource);
    return HOPS_OK;
}

static hops_status parse_resources(hops_hpo_spec *s, const json_t *v)
{
    static const char *const known[] = {"cpu", "gpu", "mem", NULL};
    int64_t cpu = s->request.cpu, gpu = s->request.gpu;
    hops_status rc;
    if (!v)
        return HOPS_OK;
    if (!json_is_object(v))
        return hops__error(HOPS_EPARSE, "resources: must be an object {\"cpu\": N, \"gpu\": M, \"mem\": G}");
    if ((rc = unknown_keys(v, "resources", known)) ||
        (rc = get_int(v, "cpu", "resources.", 1, 4096, &cpu)) ||
        (rc = get_int(v, "gpu", "resources.", 0, 1024, &gpu)) ||
        (rc = get_num(v, "mem", "resources.", 0, 1e6, 0, &s->request.mem)))
        return rc;
    s->request.cpu = (unsigned)cpu;
    s->request.gpu = (unsigned)gpu;
    return HOPS_OK;
}

static hops_status parse_command(hops_hpo_spec *s, const json_t *v)
{
    size_t i;
    const json_t *a;
    if (!v || json_is_null(v))
        return HOPS_OK;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return hops__error(HOPS_EPARSE, "command: must be a non-empty list of strings, "
                                        "e.g. [\"python3\", \"train.py\"]");
    json_array_foreach(v, i, a) if (!json_is_string(a) || (i == 0 && json_string_length(a) == 0))
        return hops__error(HOPS_EPARSE, "command[%zu]: must be a string%s", i, i ? "" : " (non-empty)");
    s->command = json_deep_copy(v);
    return HOPS_OK;
}

static hops_status from_json(hops_hpo_spec *s, const json_t *j)
{
    static const char *const known[] = {
        "name", "command", "space", "sampler", "trials", "seed", "direction", "metric",
        "optimization_key", "early_stopping", "resources", "timeout", "kill_grace", "retries",
        "max_failures", "args", NULL};
    const json_t *v;
    int64_t seed = 1;
    hops_status rc;
    if (!json_is_object(j))
        return hops__error(HOPS_EPARSE, "the spec must be a JSON object");
    if ((rc = unknown_keys(j, "spec", known)) != HOPS_OK)
        return rc;
    if ((rc = get_str(j, "name", "", &s->name)) != HOPS_OK)
        return rc;
    if ((rc = parse_command(s, json_object_get(j, "command"))) != HOPS_OK)
        return rc;
    if (!(v = json_object_get(j, "space")))
        return hops__error(HOPS_EPARSE, "space: missing: the spec needs a search space");
    if ((rc = hops__space_from_json(&s->space, v, "space")) != HOPS_OK)
        return rc;
    if ((rc = parse_sampler(s, json_object_get(j, "sampler"))) != HOPS_OK)
        return rc;
    if ((rc = get_int(j, "trials", "", 1, INT32_MAX, &s->trials)) ||
        (rc = get_int(j, "seed", "", 0, INT64_MAX, &seed)))
        return rc;
    s->seed = (uint64_t)seed;
    if ((v = json_object_get(j, "direction"))) {
        const char *d = json_is_string(v) ? json_string_value(v) : "";
        if (strcmp(d, "max") == 0 || strcmp(d, "maximize") == 0)
            s->maximize = 1;
        else if (strcmp(d, "min") == 0 || strcmp(d, "minimize") == 0)
            s->maximize = 0;
        else
            return hops__error(HOPS_EPARSE, "direction: must be \"max\" or \"min\"");
    }
    if ((rc = get_str(j, "optimization_key", "", &s->metric)) ||
        (rc = get_str(j, "metric", "", &s->metric)) ||
        (rc = parse_es(s, json_object_get(j, "early_stopping"))) ||
        (rc = parse_resources(s, json_object_get(j, "resources"))) ||
        (rc = get_num(j, "timeout", "", 0, 1e9, 0, &s->timeout)) ||
        (rc = get_num(j, "kill_grace", "", 0, 3600, 1, &s->kill_grace)) ||
        (rc = get_int(j, "retries", "", 0, 1000, &s->retries)) ||
        (rc = get_int(j, "max_failures", "", 1, INT32_MAX, &s->max_failures)))
        return rc;
    if ((v = json_object_get(j, "args"))) {
        if (!json_is_boolean(v))
            return hops__error(HOPS_EPARSE, "args: must be true or false");
        s->args = json_is_true(v);
    }
    if (s->sampler == HOPS__SAMPLER_GRID) {
        uint64_t n = hops__grid_size(s);
        if (n == 0 || n > GRID_LIMIT)
            return hops__error(HOPS_EPARSE, "sampler: the grid has over %d points; narrow the space "
                                            "or use random or de", GRID_LIMIT);
    }
    if (s->es == HOPS__ES_ASHA && s->budget_param && s->space) {
        for (size_t i = 0; i < s->space->n; i++)
            if (strcmp(s->space->params[i].name, s->budget_param) == 0)
                return hops__error(HOPS_EPARSE,
                                   "early_stopping.budget_param: '%s' is also a parameter of the "
                                   "space; ASHA sets it itself", s->budget_param);
    }
    return HOPS_OK;
}

hops_status hops_hpo_spec_parse(hops_hpo_spec **out, const char *json, size_t len)
{
    json_error_t je;
    json_t *j;
    hops_hpo_spec *s;
    hops_status rc;
    *out = NULL;
    if (!json)
        return hops__error(HOPS_EINVAL, "no spec given");
    j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (strstr(je.text, "duplicate object key")) {
            /* jansson: duplicate object key near '"lr"': name the key. */
            const char *q = strstr(je.text, "'\"");
            int n = q ? (int)strcspn(q + 2, "\"") : 0;
            return hops__error(HOPS_EPARSE, "'%.*s' is given twice (line %d): each parameter and "
                                            "setting may appear once",
                               n, q ? q + 2 : "", je.line);
        }
        return hops__error(HOPS_EPARSE, "not JSON: %s (line %d, column %d)", je.text, je.line,
                           je.column);
    }
    if (!(s = calloc(1, sizeof *s))) {
        json_decref(j);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    s->sampler = HOPS__SAMPLER_RANDOM;
    s->trials = 10;
    s->grid_points = 5;
    s->population = 6; /* hops-util-py's defaults */
    s->generations = 4;
    s->mutation = 0.5;
    s->crossover = 0.7;
    s->de_async = 1;
    s->maximize = 1;
    s->es_min = 10; /* Maggy's defaults */
    s->es_interval = 1;
    s->rf = 3;
    s->min_resource = 1;
    s->max_resource = 27;
    s->request.cpu = 1;
    s->kill_grace = 5;
    s->max_failures = 10;
    rc = from_json(s, j);
    json_decref(j);
    if (rc == HOPS_OK && !s->metric && !(s->metric = hops__strdup("metric")))
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    if (rc == HOPS_OK && !s->budget_param && !(s->budget_param = hops__strdup("budget")))
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    if (rc != HOPS_OK) {
        hops_hpo_spec_free(s);
        return rc;
    }
    *out = s;
    return HOPS_OK;
}

hops_status hops_hpo_spec_load(hops_hpo_spec **out, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    hops_status rc;
    *out = NULL;
    if ((rc = hops__read_file(path, &text, &len)) != HOPS_OK)
        return rc == HOPS_EIO ? hops__error(HOPS_ENOTFOUND, "%s: cannot read the spec: %s", path,
                                            hops_last_error())
                              : rc;
    rc = hops_hpo_spec_parse(out, text, len);
    free(text);
    if (rc != HOPS_OK)
        return hops__error_prefix(rc, "%s", path);
    return HOPS_OK;
}

char *hops_hpo_spec_json(const hops_hpo_spec *s)
{
    static const char *const samplers[] = {"grid", "random", "de"};
    json_t *o = json_object(), *smp = json_object(), *res, *es = json_null();
    char *text;
    if (s->name)
        json_object_set_new(o, "name", json_string(s->name));
    if (s->command)
        json_object_set_new(o, "command", json_deep_copy(s->command));
    json_object_set_new(o, "space", hops__space_to_json(s->space));
    json_object_set_new(smp, "type", json_string(samplers[s->sampler]));
    if (s->sampler == HOPS__SAMPLER_DE) {
        json_object_set_new(smp, "population", json_integer(s->population));
        json_object_set_new(smp, "generations", json_integer(s->generations));
        json_object_set_new(smp, "mutation", json_real(s->mutation));
        json_object_set_new(smp, "crossover", json_real(s->crossover));
        json_object_set_new(smp, "mode", json_string(s->de_async ? "async" : "generational"));
    } else if (s->sampler == HOPS__SAMPLER_GRID)
        json_object_set_new(smp, "points", json_integer(s->grid_points));
    else
        json_object_set_new(smp, "trials", json_integer(s->trials));
    json_object_set_new(o, "sampler", smp);
    json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
    json_object_set_new(o, "direction", json_string(s->maximize ? "max" : "min"));
    json_object_set_new(o, "metric", json_string(s->metric));
    if (s->es == HOPS__ES_MEDIAN)
        es = json_pack("{s:s, s:I, s:f}", "type", "median", "min", (json_int_t)s->es_min, "interval",
                       s->es_interval);
    else if (s->es == HOPS__ES_ASHA)
        es = json_pack("{s:s, s:f, s:f, s:f, s:s}", "type", "asha", "reduction_factor", s->rf,
                       "min_resource", s->min_resource, "max_resource", s->max_resource,
                       "budget_param", s->budget_param);
    json_object_set_new(o, "early_stopping", es);
    res = json_pack("{s:i, s:i, s:f}", "cpu", (int)s->request.cpu, "gpu", (int)s->request.gpu, "mem",
                    s->request.mem);
    json_object_set_new(o, "resources", res);
    json_object_set_new(o, "timeout", json_real(s->timeout));
    json_object_set_new(o, "kill_grace", json_real(s->kill_grace));
    json_object_set_new(o, "retries", json_integer(s->retries));
    json_object_set_new(o, "max_failures", json_integer(s->max_failures));
    json_object_set_new(o, "args", json_boolean(s->args));
    text = hops__json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}
