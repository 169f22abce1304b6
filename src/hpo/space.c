/* Search spaces: parsing (hops' shapes and hops-util-py's) and decoding
 * points of the unit cube into typed parameter values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpo_internal.h"

#define MAX_PARAMS 256
#define MAX_NAME 128
#define INT_LIMIT 9007199254740992.0 /* 2^53: integers exact in a double */

static const char *type_names[] = {"int", "float", "categorical", "discrete"};

void hops_space_free(hops_space *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->params[i].name);
        json_decref(s->params[i].values);
    }
    free(s->params);
    free(s);
}

size_t hops_space_dims(const hops_space *s) { return s->n; }
const char *hops_space_name(const hops_space *s, size_t i) { return i < s->n ? s->params[i].name : NULL; }
hops_param_type hops_space_type(const hops_space *s, size_t i) { return s->params[i].type; }

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '=' || c == ' ')
            return 0;
    }
    return name[0] != '-';
}

static int is_int_value(const json_t *v)
{
    if (json_is_integer(v))
        return 1;
    return 0;
}

static hops_status parse_range(hops__param *p, const json_t *range, const char *field)
{
    const json_t *a, *b;
    if (!json_is_array(range) || json_array_size(range) != 2)
        return hops__error(HOPS_EPARSE, "%s.%s: range must be a list [lo, hi]", field, p->name);
    a = json_array_get(range, 0);
    b = json_array_get(range, 1);
    if (!json_is_number(a) || !json_is_number(b))
        return hops__error(HOPS_EPARSE, "%s.%s: range bounds must be numbers", field, p->name);
    p->lo = json_number_value(a);
    p->hi = json_number_value(b);
    if (!isfinite(p->lo) || !isfinite(p->hi))
        return hops__error(HOPS_EPARSE, "%s.%s: range bounds must be finite", field, p->name);
    if (p->type == HOPS_PARAM_INT) {
        if (!is_int_value(a) || !is_int_value(b))
            return hops__error(HOPS_EPARSE, "%s.%s: an int range needs integer bounds, got [%g, %g]",
                               field, p->name, p->lo, p->hi);
        if (fabs(p->lo) > INT_LIMIT || fabs(p->hi) > INT_LIMIT)
            return hops__error(HOPS_EPARSE, "%s.%s: int bounds must be within +-2^53", field, p->name);
    }
    if (!(p->lo < p->hi))
        return hops__error(HOPS_EPARSE, "%s.%s: range [%g, %g]: lo must be below hi", field,
                           p->name, p->lo, p->hi);
    if (p->log && p->lo <= 0)
        return hops__error(HOPS_EPARSE, "%s.%s: a log range needs lo > 0, got %g", field, p->name,
                           p->lo);
    return HOPS_OK;
}

static hops_status parse_values(hops__param *p, const json_t *values, const char *field)
{
    size_t i;
    const json_t *v;
    if (!json_is_array(values))
        return hops__error(HOPS_EPARSE, "%s.%s: values must be a list", field, p->name);
    if (json_array_size(values) == 0)
        return hops__error(HOPS_EPARSE, "%s.%s: values is empty: give at least one", field, p->name);
    json_array_foreach(values, i, v) {
        if (p->type == HOPS_PARAM_DISCRETE && !json_is_number(v))
            return hops__error(HOPS_EPARSE, "%s.%s: discrete values must be numbers (value %zu is not)",
                               field, p->name, i + 1);
        if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v))
            return hops__error(HOPS_EPARSE,
                               "%s.%s: value %zu must be a string, a number or a boolean", field,
                               p->name, i + 1);
        if (json_is_real(v) && !isfinite(json_real_value(v)))
            return hops__error(HOPS_EPARSE, "%s.%s: value %zu is not finite", field, p->name, i + 1);
    }
    p->values = json_deep_copy(values);
    return p->values ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

static int type_from_name(const char *t, hops_param_type *out)
{
    static const struct {
        const char *name;
        hops_param_type type;
    } names[] = {{"int", HOPS_PARAM_INT},           {"integer", HOPS_PARAM_INT},
                 {"float", HOPS_PARAM_FLOAT},       {"double", HOPS_PARAM_FLOAT},
                 {"categorical", HOPS_PARAM_CATEGORICAL}, {"discrete", HOPS_PARAM_DISCRETE}};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(names); i++)
        if (strcasecmp(t, names[i].name) == 0) {
            *out = names[i].type;
            return 1;
        }
    return 0;
}

/* {"type": ..., "range"|"values": ..., "log": b} */
static hops_status parse_object(hops__param *p, const json_t *def, const char *field)
{
    const json_t *type = json_object_get(def, "type");
    const json_t *range = json_object_get(def, "range");
    const json_t *values = json_object_get(def, "values");
    const json_t *log = json_object_get(def, "log");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)def, key, v) {
        if (strcmp(key, "type") && strcmp(key, "range") && strcmp(key, "values") && strcmp(key, "log"))
            return hops__error(HOPS_EPARSE, "%s.%s: unknown key '%s' (type, range, values, log)",
                               field, p->name, key);
    }
    if (!json_is_string(type))
        return hops__error(HOPS_EPARSE, "%s.%s: needs \"type\": int, float, categorical or discrete",
                           field, p->name);
    if (!type_from_name(json_string_value(type), &p->type))
        return hops__error(HOPS_EPARSE,
                           "%s.%s: unknown type '%s' (int, float, categorical or discrete)", field,
                           p->name, json_string_value(type));
    if (log && !json_is_boolean(log))
        return hops__error(HOPS_EPARSE, "%s.%s: log must be true or false", field, p->name);
    if (log && json_is_true(log) && p->type != HOPS_PARAM_FLOAT)
        return hops__error(HOPS_EPARSE, "%s.%s: log applies to float ranges only", field, p->name);
    p->log = log && json_is_true(log);
    if (p->type == HOPS_PARAM_INT || p->type == HOPS_PARAM_FLOAT) {
        if (values)
            return hops__error(HOPS_EPARSE, "%s.%s: a %s takes a range, not values", field, p->name,
                               type_names[p->type]);
        if (!range)
            return hops__error(HOPS_EPARSE, "%s.%s: needs \"range\": [lo, hi]", field, p->name);
        return parse_range(p, range, field);
    }
    if (range)
        return hops__error(HOPS_EPARSE, "%s.%s: a %s takes values, not a range", field, p->name,
                           type_names[p->type]);
    if (!values)
        return hops__error(HOPS_EPARSE, "%s.%s: needs \"values\": [...]", field, p->name);
    return parse_values(p, values, field);
}

/* hops-util-py shapes: [lo, hi], [strings...], ["INTEGER", [lo, hi]] ... */
static hops_status parse_list(hops__param *p, const json_t *def, const char *field)
{
    size_t n = json_array_size(def), i;
    const json_t *v;
    int all_strings = 1;
    if (n == 0)
        return hops__error(HOPS_EPARSE, "%s.%s: the list is empty: give [lo, hi] or values", field,
                           p->name);
    if (n == 2 && json_is_string(json_array_get(def, 0)) && json_is_array(json_array_get(def, 1))) {
        const char *t = json_string_value(json_array_get(def, 0));
        if (!type_from_name(t, &p->type))
            return hops__error(HOPS_EPARSE,
                               "%s.%s: unknown type '%s' (INTEGER, DOUBLE, DISCRETE or CATEGORICAL)",
                               field, p->name, t);
        if (p->type == HOPS_PARAM_INT || p->type == HOPS_PARAM_FLOAT)
            return parse_range(p, json_array_get(def, 1), field);
        return parse_values(p, json_array_get(def, 1), field);
    }
    json_array_foreach(def, i, v) all_strings &= json_is_string(v) ? 1 : 0;
    if (all_strings) {
        p->type = HOPS_PARAM_CATEGORICAL;
        return parse_values(p, def, field);
    }
    if (n == 2 && json_is_number(json_array_get(def, 0)) && json_is_number(json_array_get(def, 1))) {
        p->type = is_int_value(json_array_get(def, 0)) && is_int_value(json_array_get(def, 1))
                      ? HOPS_PARAM_INT
                      : HOPS_PARAM_FLOAT;
        return parse_range(p, def, field);
    }
    return hops__error(HOPS_EPARSE,
                       "%s.%s: a list must be [lo, hi] (numbers), a list of strings, or "
                       "[\"INTEGER\"|\"DOUBLE\"|\"DISCRETE\"|\"CATEGORICAL\", [...]]",
                       field, p->name);
}

hops_status hops__space_from_json(hops_space **out, const json_t *j, const char *field)
{
    hops_space *s;
    const char *name;
    json_t *def;
    hops_status rc = HOPS_OK;
    *out = NULL;
    if (!json_is_object(j))
        return hops__error(HOPS_EPARSE, "%s must be an object {name: definition}", field);
    if (json_object_size(j) == 0)
        return hops__error(HOPS_EPARSE, "%s is empty: give at least one parameter", field);
    if (json_object_size(j) > MAX_PARAMS)
        return hops__error(HOPS_EPARSE, "%s has %zu parameters; at most %d", field,
                           json_object_size(j), MAX_PARAMS);
    if (!(s = calloc(1, sizeof *s)) || !(s->params = calloc(json_object_size(j), sizeof *s->params))) {
        free(s);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    /* jansson keeps insertion order: the space lists parameters as written. */
    json_object_foreach((json_t *)j, name, def) {
        hops__param *p = &s->params[s->n];
        if (!name_ok(name)) {
            rc = hops__error(HOPS_EPARSE,
                             "%s: bad parameter name '%.*s': use 1-%d characters, no spaces, '=' "
                             "or control characters, not starting with '-'",
                             field, MAX_NAME, name, MAX_NAME);
            break;
        }
        if (!(p->name = hops__strdup(name))) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            break;
        }
        s->n++;
        if (json_is_object(def))
            rc = parse_object(p, def, field);
        else if (json_is_array(def))
            rc = parse_list(p, def, field);
        else
            rc = hops__error(HOPS_EPARSE,
                             "%s.%s: a definition is an object {\"type\": ...} or a list", field,
                             name);
        if (rc != HOPS_OK)
            break;
    }
    if (rc != HOPS_OK) {
        hops_space_free(s);
        return rc;
    }
    *out = s;
    return HOPS_OK;
}

/* jansson says "duplicate object key near '"lr"'": name the field instead. */
hops_status hops_space_parse(hops_space **out, const char *json, size_t len)
{
    json_error_t je;
    json_t *j;
    hops_status rc;
    *out = NULL;
    if (!json)
        return hops__error(HOPS_EINVAL, "no search space given");
    j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (strstr(je.text, "duplicate object key")) {
            const char *q = strstr(je.text, "'\"");
            int n = q ? (int)strcspn(q + 2, "\"") : 0;
            return hops__error(HOPS_EPARSE, "space.%.*s: defined twice (line %d)", n,
                               q ? q + 2 : "", je.line);
        }
        return hops__error(HOPS_EPARSE, "space: not JSON: %s (line %d, column %d)", je.text, je.line,
                           je.column);
    }
    rc = hops__space_from_json(out, j, "space");
    json_decref(j);
    return rc;
}

json_t *hops__space_to_json(const hops_space *s)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->n; i++) {
        const hops__param *p = &s->params[i];
        json_t *d = json_object();
        json_object_set_new(d, "type", json_string(type_names[p->type]));
        if (p->type == HOPS_PARAM_INT)
            json_object_set_new(d, "range", json_pack("[II]", (json_int_t)p->lo, (json_int_t)p->hi));
        else if (p->type == HOPS_PARAM_FLOAT) {
            json_object_set_new(d, "range", json_pack("[ff]", p->lo, p->hi));
            if (p->log)
                json_object_set_new(d, "log", json_true());
        } else
            json_object_set_new(d, "values", json_deep_copy(p->values));
        json_object_set_new(o, p->name, d);
    }
    return o;
}

double hops__unit_of_index(size_t k, size_t n) { return ((double)k + 0.5) / (double)n; }

static size_t index_of_unit(double u, size_t n)
{
    double f = floor(u * (double)n);
    if (!(f >= 0))
        return 0;
    if (f >= (double)n)
        return n - 1;
    return (size_t)f;
}

json_t *hops__space_decode(const hops_space *s, const double *u)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        const hops__param *p = &s->params[i];
        double x = u[i];
        json_t *v;
        if (!(x >= 0))
            x = 0;
        if (x > 1)
            x = 1;
        switch (p->type) {
        case HOPS_PARAM_INT: {
            size_t n = (size_t)(p->hi - p->lo) + 1;
            v = json_integer((json_int_t)p->lo + (json_int_t)index_of_unit(x, n));
            break;
        }
        case HOPS_PARAM_FLOAT: {
            double val;
            if (x <= 0)
                val = p->lo;
            else if (x >= 1)
                val = p->hi;
            else if (p->log)
                val = exp(log(p->lo) + x * (log(p->hi) - log(p->lo)));
            else
                val = p->lo + x * (p->hi - p->lo);
            if (val < p->lo)
                val = p->lo;
            if (val > p->hi)
                val = p->hi;
            v = json_real(val);
            break;
        }
        default:
            v = json_deep_copy(json_array_get(p->values, index_of_unit(x, json_array_size(p->values))));
        }
        if (!v || json_object_set_new(o, p->name, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}
