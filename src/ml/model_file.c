/* The model file: "HOPSMDL\0", u32 format version, u32 header length, the
 * JSON header, zero padding to 8, the payload (little-endian float arrays, or
 * XGBoost's model bytes), and the SHA-256 of everything before it.
 *
 * The decoder trusts nothing: every length, shape and offset is checked
 * against the bytes there are before anything is allocated from it, so a
 * damaged or hostile file is refused with a message and never read past its
 * end (tests/fuzz/fuzz_model_header.c). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ml.h"

#define MAGIC "HOPSMDL" /* 8 bytes with its NUL */
#define FORMAT_VERSION 1u
#define PREFIX_LEN 16u
#define CHECKSUM_LEN 32u
#define MAX_LAYERS 64
#define MAX_WIDTH 1000000u
#define MAX_CLASSES 100000u

void hops__sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    static const char hex[] = "0123456789abcdef";
    if (EVP_Digest(data, len, digest, &dl, EVP_sha256(), NULL) != 1 || dl != 32)
        memset(digest, 0, 32);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

static void sha256_raw(const void *data, size_t len, unsigned char out[32])
{
    unsigned int dl = 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    if (EVP_Digest(data, len, digest, &dl, EVP_sha256(), NULL) != 1 || dl != 32)
        memset(digest, 0, 32);
    memcpy(out, digest, 32);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_f32s(unsigned char *p, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_u32(p + 4 * i, u);
    }
}

static void get_f32s(float *v, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(p + 4 * i);
        memcpy(&v[i], &u, 4);
    }
}

json_t *hops__model_header(const hops_model *m)
{
    json_t *h = json_object(), *features = json_array();
    json_object_set_new(h, "format", json_string("hops-model"));
    json_object_set_new(h, "format_version", json_integer(FORMAT_VERSION));
    json_object_set_new(h, "type", json_string(hops_model_type_name(m->type)));
    json_object_set_new(h, "task",
                        json_string(m->task == ML_REGRESSION ? "regression" : "classification"));
    json_object_set_new(h, "label", json_string(m->label));
    if (m->task == ML_CLASSIFICATION) {
        json_t *c = json_array();
        for (size_t i = 0; i < m->n_classes; i++)
            json_array_append_new(c, json_string(m->classes[i]));
        json_object_set_new(h, "classes", c);
    }
    if (m->target_scaled)
        json_object_set_new(h, "target",
                            json_pack("{s:f, s:f}", "mean", m->target_mean, "std", m->target_std));
    for (size_t i = 0; i < m->n_features; i++) {
        const ml_feature *f = &m->features[i];
        json_t *o;
        if (f->categorical) {
            json_t *cats = json_array();
            for (size_t c = 0; c < f->n_cats; c++)
                json_array_append_new(cats, json_string(f->cats[c]));
            o = json_pack("{s:s, s:s, s:o}", "name", f->name, "kind", "categorical", "categories",
                          cats);
        } else {
            o = json_pack("{s:s, s:s, s:f, s:f}", "name", f->name, "kind", "numeric", "mean",
                          f->mean, "std", f->std);
        }
        json_array_append_new(features, o);
    }
    json_object_set_new(h, "features", features);
    json_object_set_new(h, "inputs", json_integer((json_int_t)m->n_inputs));
    json_object_set_new(h, "outputs", json_integer((json_int_t)m->n_outputs));
    if (m->type != HOPS_MODEL_GBDT) {
        json_t *layers = json_array();
        for (size_t l = 0; l < m->n_layers; l++)
            json_array_append_new(layers,
                                  json_pack("{s:I, s:I, s:s}", "in", (json_int_t)m->layers[l].in,
                                            "out", (json_int_t)m->layers[l].out, "activation",
                                            hops__act_name(m->layers[l].act)));
        json_object_set_new(h, "layers", layers);
    }
    json_object_set_new(h, "training", m->training ? json_deep_copy(m->training) : json_object());
    json_object_set_new(h, "metrics", m->metrics ? json_deep_copy(m->metrics) : json_null());
    return h;
}

static json_t *array_entry(const char *name, const char *dtype, json_t *shape, size_t offset,
                           size_t bytes)
{
    return json_pack("{s:s, s:s, s:o, s:I, s:I}", "name", name, "dtype", dtype, "shape", shape,
                     "offset", (json_int_t)offset, "bytes", (json_int_t)bytes);
}

hops_status hops__model_encode(const hops_model *m, unsigned char **out, size_t *len_out)
{
    json_t *h = hops__model_header(m), *arrays = json_array();
    size_t payload = 0;
    char name[64];
    char *text = NULL;
    unsigned char *buf = NULL;
    hops_status rc = HOPS_OK;
    *out = NULL;
    if (m->type == HOPS_MODEL_GBDT) {
        json_array_append_new(arrays, array_entry("booster", "u8",
                                                  json_pack("[I]", (json_int_t)m->booster_len), 0,
                                                  m->booster_len));
        payload = m->booster_len;
    } else {
        for (size_t l = 0; l < m->n_layers; l++) {
            size_t wb = m->layers[l].in * m->layers[l].out * 4, bb = m->layers[l].out * 4;
            snprintf(name, sizeof name, "layers.%zu.weight", l);
            json_array_append_new(arrays,
                                  array_entry(name, "<f4",
                                              json_pack("[I, I]", (json_int_t)m->layers[l].in,
                                                        (json_int_t)m->layers[l].out),
                                              payload, wb));
            payload += wb;
            snprintf(name, sizeof name, "layers.%zu.bias", l);
            json_array_append_new(
                arrays, array_entry(name, "<f4", json_pack("[I]", (json_int_t)m->layers[l].out),
                                    payload, bb));
            payload += bb;
        }
    }
    json_object_set_new(h, "arrays", arrays);
    json_object_set_new(h, "payload_bytes", json_integer((json_int_t)payload));
    text = hops__json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(h);
    if (!text)
        return hops__error(HOPS_ENOMEM, "out of memory (model header)");
    size_t hl = strlen(text), start = (PREFIX_LEN + hl + 7) / 8 * 8;
    size_t total = start + payload + CHECKSUM_LEN;
    if (hl > UINT32_MAX) {
        free(text);
        return hops__error(HOPS_EINVAL, "the model header is too large (%zu bytes)", hl);
    }
    if (!(buf = calloc(1, total))) {
        free(text);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    memcpy(buf, MAGIC, 8);
    put_u32(buf + 8, FORMAT_VERSION);
    put_u32(buf + 12, (uint32_t)hl);
    memcpy(buf + PREFIX_LEN, text, hl);
    free(text);
    unsigned char *p = buf + start;
    if (m->type == HOPS_MODEL_GBDT) {
        if (m->booster_len)
            memcpy(p, m->booster, m->booster_len);
    } else {
        for (size_t l = 0; l < m->n_layers; l++) {
            size_t nw = m->layers[l].in * m->layers[l].out, nb = m->layers[l].out;
            put_f32s(p, m->layers[l].w, nw);
            p += nw * 4;
            put_f32s(p, m->layers[l].b, nb);
            p += nb * 4;
        }
    }
    sha256_raw(buf, total - CHECKSUM_LEN, buf + total - CHECKSUM_LEN);
    *out = buf;
    *len_out = total;
    return rc;
}

/* ---- decoding ---- */

typedef struct {
    const char *name; /* the file, for messages */
    const unsigned char *payload;
    size_t payload_len;
    json_t *arrays;
} decoder;

static hops_status corrupt(const decoder *d, const char *fmt, const char *detail)
{
    return hops__error(HOPS_ECORRUPT, "%s is not a usable hops model file: %s%s%s", d->name, fmt,
                       detail ? ": " : "", detail ? detail : "");
}

/* An integer field in [lo, hi]. */
static int get_size(const json_t *obj, const char *key, size_t lo, size_t hi, size_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return -1;
    json_int_t x = json_integer_value(v);
    if (x < 0 || (size_t)x < lo || (size_t)x > hi)
        return -1;
    *out = (size_t)x;
    return 0;
}

/* The array NAME: its dtype must be DTYPE and its bytes BYTES, inside the payload. */
static hops_status find_array(const decoder *d, const char *name, const char *dtype, size_t bytes,
                              const unsigned char **out)
{
    size_t i, off, len;
    json_t *a;
    json_array_foreach(d->arrays, i, a)
    {
        const char *n = json_string_value(json_object_get(a, "name"));
        if (!n || strcmp(n, name) != 0)
            continue;
        const char *dt = json_string_value(json_object_get(a, "dtype"));
        if (!dt || strcmp(dt, dtype) != 0)
            return corrupt(d, "an array has the wrong dtype", name);
        if (get_size(a, "offset", 0, d->payload_len, &off) ||
            get_size(a, "bytes", 0, d->payload_len, &len) || len != bytes ||
            off > d->payload_len - len)
            return corrupt(d, "an array's size or offset does not fit the payload", name);
        *out = d->payload + off;
        return HOPS_OK;
    }
    return corrupt(d, "an array is missing", name);
}

static char *dup_string(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? hops__strdup(s) : NULL;
}

static hops_status decode_features(const decoder *d, const json_t *h, hops_model *m)
{
    json_t *fs = json_object_get(h, "features"), *f;
    size_t i, inputs = 0;
    if (!json_is_array(fs) || json_array_size(fs) == 0 || json_array_size(fs) > MAX_WIDTH)
        return corrupt(d, "'features' is not a non-empty array", NULL);
    if (!(m->features = calloc(json_array_size(fs), sizeof *m->features)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    json_array_foreach(fs, i, f)
    {
        ml_feature *mf = &m->features[i];
        const char *kind = json_string_value(json_object_get(f, "kind"));
        m->n_features = i + 1;
        if (!(mf->name = dup_string(json_object_get(f, "name"))) || !*mf->name || !kind)
            return corrupt(d, "a feature has no name or kind", NULL);
        mf->first = inputs;
        if (strcmp(kind, "numeric") == 0) {
            json_t *mean = json_object_get(f, "mean"), *std = json_object_get(f, "std");
            if (!json_is_number(mean) || !json_is_number(std))
                return corrupt(d, "a numeric feature lacks its mean or std", mf->name);
            mf->mean = json_number_value(mean);
            mf->std = json_number_value(std);
            if (!isfinite(mf->mean) || !(mf->std > 0) || !isfinite(mf->std))
                return corrupt(d, "a numeric feature has a bad mean or std", mf->name);
            inputs++;
        } else if (strcmp(kind, "categorical") == 0) {
            json_t *cats = json_object_get(f, "categories"), *c;
            size_t j;
            if (!json_is_array(cats) || json_array_size(cats) > MAX_WIDTH)
                return corrupt(d, "a categorical feature lacks its categories", mf->name);
            mf->categorical = 1;
            if (!(mf->cats = calloc(json_array_size(cats) + 1, sizeof *mf->cats)))
                return hops__error(HOPS_ENOMEM, "out of memory");
            json_array_foreach(cats, j, c)
            {
                if (!(mf->cats[j] = dup_string(c)))
                    return corrupt(d, "a category is not a string", mf->name);
                mf->n_cats = j + 1;
            }
            inputs += mf->n_cats;
        } else {
            return corrupt(d, "a feature's kind is not numeric or categorical", mf->name);
        }
        if (inputs > MAX_WIDTH)
            return corrupt(d, "too many inputs", NULL);
    }
    if (inputs != m->n_inputs)
        return corrupt(d, "the features do not add up to 'inputs'", NULL);
    return HOPS_OK;
}

static hops_status decode_layers(const decoder *d, const json_t *h, hops_model *m)
{
    json_t *ls = json_object_get(h, "layers"), *l;
    size_t i, prev = m->n_inputs;
    char name[64];
    if (!json_is_array(ls) || json_array_size(ls) == 0 || json_array_size(ls) > MAX_LAYERS)
        return corrupt(d, "'layers' is not an array of 1 to 64 layers", NULL);
    if (!(m->layers = calloc(json_array_size(ls), sizeof *m->layers)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    json_array_foreach(ls, i, l)
    {
        ml_layer *L = &m->layers[i];
        const unsigned char *w, *b;
        hops_status rc;
        m->n_layers = i + 1;
        if (get_size(l, "in", 1, MAX_WIDTH, &L->in) || get_size(l, "out", 1, MAX_WIDTH, &L->out) ||
            L->in != prev)
            return corrupt(d, "a layer's shape does not follow the one before it", NULL);
        if (hops__act_parse(json_string_value(json_object_get(l, "activation")), &L->act) != 0)
            return corrupt(d, "a layer has an unknown activation", NULL);
        prev = L->out;
        /* in, out <= 10^6: the product fits, and must fit in the payload. */
        size_t nw = L->in * L->out;
        if (nw > d->payload_len / 4)
            return corrupt(d, "a layer is larger than the payload", NULL);
        snprintf(name, sizeof name, "layers.%zu.weight", i);
        if ((rc = find_array(d, name, "<f4", nw * 4, &w)) != HOPS_OK)
            return rc;
        snprintf(name, sizeof name, "layers.%zu.bias", i);
        if ((rc = find_array(d, name, "<f4", L->out * 4, &b)) != HOPS_OK)
            return rc;
        L->w = malloc(nw * sizeof *L->w);
        L->b = malloc(L->out * sizeof *L->b);
        if (!L->w || !L->b)
            return hops__error(HOPS_ENOMEM, "out of memory");
        get_f32s(L->w, w, nw);
        get_f32s(L->b, b, L->out);
    }
    if (prev != m->n_outputs)
        return corrupt(d, "the last layer's width is not 'outputs'", NULL);
    if (m->layers[m->n_layers - 1].act != (m->task == ML_REGRESSION ? ML_ACT_IDENTITY
                                           : m->n_outputs == 1      ? ML_ACT_SIGMOID
                                                                    : ML_ACT_SOFTMAX))
        return corrupt(d, "the output activation does not fit the task", NULL);
    for (size_t j = 0; j + 1 < m->n_layers; j++)
        if (m->layers[j].act == ML_ACT_SOFTMAX)
            return corrupt(d, "a hidden layer has a softmax activation", NULL);
    return HOPS_OK;
}

static hops_status decode_header(decoder *d, const json_t *h, hops_model *m)
{
    const char *fmt = json_string_value(json_object_get(h, "format"));
    const char *type = json_string_value(json_object_get(h, "type"));
    const char *task = json_string_value(json_object_get(h, "task"));
    hops_status rc;
    size_t payload_bytes;
    if (!json_is_object(h) || !fmt || strcmp(fmt, "hops-model") != 0)
        return corrupt(d, "the header is not a hops model header", NULL);
    if (!type || !(m->type = hops_model_type_parse(type)))
        return corrupt(d, "unknown model type", type);
    if (!task || (strcmp(task, "regression") != 0 && strcmp(task, "classification") != 0))
        return corrupt(d, "unknown task", task);
    m->task = strcmp(task, "regression") == 0 ? ML_REGRESSION : ML_CLASSIFICATION;
    if (!(m->label = dup_string(json_object_get(h, "label"))))
        return corrupt(d, "no label column", NULL);
    if (m->task == ML_CLASSIFICATION) {
        json_t *cs = json_object_get(h, "classes"), *c;
        size_t i;
        if (!json_is_array(cs) || json_array_size(cs) < 2 || json_array_size(cs) > MAX_CLASSES)
            return corrupt(d, "a classifier needs 'classes', 2 or more", NULL);
        if (!(m->classes = calloc(json_array_size(cs), sizeof *m->classes)))
            return hops__error(HOPS_ENOMEM, "out of memory");
        json_array_foreach(cs, i, c)
        {
            if (!(m->classes[i] = dup_string(c)))
                return corrupt(d, "a class is not a string", NULL);
            m->n_classes = i + 1;
        }
    }
    json_t *target = json_object_get(h, "target");
    if (target) {
        json_t *mean = json_object_get(target, "mean"), *std = json_object_get(target, "std");
        if (!json_is_number(mean) || !json_is_number(std) || !isfinite(json_number_value(mean)) ||
            !(json_number_value(std) > 0) || !isfinite(json_number_value(std)))
            return corrupt(d, "a bad 'target' scaling", NULL);
        m->target_scaled = 1;
        m->target_mean = json_number_value(mean);
        m->target_std = json_number_value(std);
    }
    if (get_size(h, "inputs", 1, MAX_WIDTH, &m->n_inputs) ||
        get_size(h, "outputs", 1, MAX_CLASSES, &m->n_outputs) ||
        m->n_outputs != hops__model_outputs(m->task, m->n_classes))
        return corrupt(d, "'inputs' or 'outputs' is missing or does not fit the task", NULL);
    if (get_size(h, "payload_bytes", 0, SIZE_MAX, &payload_bytes) ||
        payload_bytes != d->payload_len)
        return corrupt(d, "'payload_bytes' is not the size of the payload", NULL);
    if (!json_is_array(d->arrays = json_object_get(h, "arrays")))
        return corrupt(d, "no 'arrays'", NULL);
    if ((rc = decode_features(d, h, m)) != HOPS_OK)
        return rc;
    if (m->type == HOPS_MODEL_GBDT) {
        json_t *a = json_array_get(d->arrays, 0);
        const unsigned char *p;
        size_t len;
        if (get_size(a, "bytes", 1, d->payload_len, &len) ||
            (rc = find_array(d, "booster", "u8", len, &p)) != HOPS_OK)
            return rc != HOPS_OK ? rc : corrupt(d, "no 'booster' array", NULL);
        if (!(m->booster = malloc(len)))
            return hops__error(HOPS_ENOMEM, "out of memory");
        memcpy(m->booster, p, len);
        m->booster_len = len;
    } else if ((rc = decode_layers(d, h, m)) != HOPS_OK) {
        return rc;
    } else if ((m->type == HOPS_MODEL_LINEAR || m->type == HOPS_MODEL_LOGISTIC ||
                m->type == HOPS_MODEL_SOFTMAX) &&
               m->n_layers != 1) {
        return corrupt(d, "a linear model has more than one layer", NULL);
    }
    json_t *tr = json_object_get(h, "training"), *me = json_object_get(h, "metrics");
    m->training = json_is_object(tr) ? json_deep_copy(tr) : json_object();
    m->metrics = json_is_object(me) ? json_deep_copy(me) : json_null();
    return HOPS_OK;
}

hops_status hops__model_decode(const void *data, size_t len, int verify, const char *name,
                               hops_model **out)
{
    const unsigned char *p = data;
    decoder d = {name ? name : "model", NULL, 0, NULL};
    hops_model *m = NULL;
    json_t *h = NULL;
    json_error_t err;
    hops_status rc;
    *out = NULL;
    if (len < PREFIX_LEN || memcmp(p, MAGIC, 8) != 0)
        return corrupt(&d, len < 8 ? "too short to be a model file" : "no model file signature",
                       NULL);
    uint32_t version = get_u32(p + 8), hl = get_u32(p + 12);
    if (version > FORMAT_VERSION || version == 0)
        return hops__error(HOPS_EVERSION,
                           "%s is a hops model file of format version %u; this hops reads "
                           "version %u: upgrade hops",
                           d.name, version, FORMAT_VERSION);
    size_t start = ((size_t)PREFIX_LEN + hl + 7) / 8 * 8;
    if (len < start + CHECKSUM_LEN)
        return corrupt(&d, "truncated (the header runs past the end of the file)", NULL);
    if (verify) {
        unsigned char sum[32];
        sha256_raw(p, len - CHECKSUM_LEN, sum);
        if (memcmp(sum, p + len - CHECKSUM_LEN, CHECKSUM_LEN) != 0)
            return corrupt(&d, "checksum mismatch: the file is truncated or damaged", NULL);
    }
    for (size_t i = PREFIX_LEN + hl; i < start; i++)
        if (p[i] != 0)
            return corrupt(&d, "bad padding after the header", NULL);
    d.payload = p + start;
    d.payload_len = len - CHECKSUM_LEN - start;
    if (!(h = json_loadb((const char *)p + PREFIX_LEN, hl, JSON_REJECT_DUPLICATES, &err)))
        return corrupt(&d, "the header is not JSON", err.text);
    if (!(m = hops__model_new())) {
        json_decref(h);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    rc = decode_header(&d, h, m);
    json_decref(h);
    if (rc != HOPS_OK) {
        hops_model_free(m);
        return rc;
    }
    *out = m;
    return HOPS_OK;
}

hops_status hops_model_save(const hops_model *m, const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    hops_status rc = hops__model_encode(m, &buf, &len);
    if (rc == HOPS_OK)
        rc = hops__atomic_write(path, buf, len);
    free(buf);
    return rc;
}

hops_status hops_model_load_buffer(hops_model **out, const void *data, size_t len, const char *name)
{
    *out = NULL;
    if (!data && len)
        return hops__error(HOPS_EINVAL, "no data");
    return hops__model_decode(data ? data : "", len, 1, name, out);
}

hops_status hops_model_load(hops_model **out, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    hops_status rc;
    *out = NULL;
    if ((rc = hops__read_file(path, &data, &len)) != HOPS_OK)
        return rc;
    rc = hops__model_decode(data, len, 1, path, out);
    free(data);
    return rc;
}
