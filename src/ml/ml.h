/* hops — private interface of src/ml: the model in memory, encodings, the
 * trainers and the file codec. */
#ifndef HOPS_ML_H
#define HOPS_ML_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "hops/model.h"
#include "hops/table.h"

struct json_t;

/* ---- random numbers (rng.c): xoshiro256** seeded through splitmix64 ---- */

typedef struct {
    uint64_t s[4];
} ml_rng;

void hops__rng_seed(ml_rng *r, uint64_t seed);
uint64_t hops__rng_next(ml_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double hops__rng_uniform(ml_rng *r);
/* Uniform in [0, n), unbiased. N > 0. */
uint64_t hops__rng_below(ml_rng *r, uint64_t n);
/* Fisher-Yates shuffle of IDX[0..n). */
void hops__rng_shuffle(ml_rng *r, size_t *idx, size_t n);

/* ---- the model ---- */

typedef enum { ML_REGRESSION = 0, ML_CLASSIFICATION = 1 } ml_task;

typedef enum {
    ML_ACT_IDENTITY = 0,
    ML_ACT_RELU = 1,
    ML_ACT_TANH = 2,
    ML_ACT_SIGMOID = 3,
    ML_ACT_SOFTMAX = 4
} ml_act;

const char *hops__act_name(ml_act a);
int hops__act_parse(const char *name, ml_act *out); /* 0 ok, -1 unknown */

typedef struct {
    size_t in, out;
    ml_act act;
    float *w; /* in x out, row-major */
    float *b; /* out */
} ml_layer;

typedef struct {
    char *name;
    int categorical;
    double mean, std; /* numeric: x -> (x - mean) / std */
    size_t n_cats;
    char **cats;  /* categorical: one 0/1 input per category, sorted */
    size_t first; /* its first input */
} ml_feature;

struct hops_model {
    hops_model_type type;
    ml_task task;
    char *label;
    size_t n_classes;
    char **classes;
    int target_scaled; /* mlp regression: outputs are (y - mean) / std */
    double target_mean, target_std;
    size_t n_features;
    ml_feature *features;
    size_t n_inputs, n_outputs; /* n_outputs: 1 for regression and binary, else K */
    size_t n_layers;
    ml_layer *layers;       /* linear, logistic, softmax: one layer */
    unsigned char *booster; /* gbdt: XGBoost's model (UBJSON) */
    size_t booster_len;
    struct hops__gbdt_pool *gbdt_pool; /* gbdt: loaded boosters (gbdt.c), a cache */
    struct json_t *training; /* owned: run, seed, threads, settings */
    struct json_t *metrics;  /* owned: test metrics (or null) */
};

hops_model *hops__model_new(void);

/* Width of the output layer for the model's task and classes. */
size_t hops__model_outputs(ml_task task, size_t n_classes);

/* ---- encoding (encode.c) ---- */

/* Parse TEXT as a number: 1 ok, 0 not a number, 2 NaN, 3 +-Inf. */
int hops__ml_number(const char *text, double *out);

/* Encode rows ROWS[0..n) of T (or all rows when ROWS is NULL) into X
 * (n x m->n_inputs, row-major) with M's encodings. COLS[f] is the table
 * column of feature f. Errors name FILE:LINE:COLUMN. */
hops_status hops__encode_rows(const hops_model *m, const hops_table *t, const size_t *cols,
                              const size_t *rows, size_t n, float *x);

/* Map M's features to T's columns (COLS gets m->n_features entries).
 * HOPS_EINVAL naming every missing column. */
hops_status hops__feature_columns(const hops_model *m, const hops_table *t, size_t *cols);

/* Read a numeric value at (ROW, COL) of T for feature NAME: errors name
 * FILE:LINE:COLUMN for null, text, NaN and infinity. */
hops_status hops__cell_number(const hops_table *t, size_t row, size_t col, const char *what,
                              double *out);

/* ---- forward pass (mlp.c) ---- */

/* Outputs of the layer stack for N rows of X (n x inputs): OUT (n x
 * n_outputs) after the output activation. SCRATCH: NULL (allocated). */
hops_status hops__forward(const hops_model *m, const float *x, size_t n, float *out);

/* Probabilities (classifiers, n x K) or values (regression, n) in double,
 * from the model's raw outputs. */
hops_status hops__model_outputs_eval(const hops_model *m, const float *x, size_t n, int threads,
                                     double *out);

/* ---- trainers ---- */

typedef struct {
    const float *x;  /* n x d */
    const double *y; /* regression targets, or class indices */
    size_t n, d;
} ml_data;

typedef struct {
    const hops_train_options *o;
    ml_data train, val; /* val.n may be 0 */
    size_t n_classes;   /* classification */
    int threads;
    /* settings after defaults */
    int epochs;
    size_t batch;
    double lr, l2, momentum, tol;
    int patience;
    int adam;
    ml_act hidden_act;
    /* results */
    int epochs_run;
    int stopped_early;
} ml_fit;

hops_status hops__linear_fit(hops_model *m, ml_fit *f);
hops_status hops__logistic_fit(hops_model *m, ml_fit *f); /* logistic and softmax */
hops_status hops__mlp_fit(hops_model *m, ml_fit *f);
hops_status hops__gbdt_fit(hops_model *m, ml_fit *f, const hops_kv *params, size_t n_params);
void hops__gbdt_pool_free(struct hops__gbdt_pool *pool);
/* Boosters M's pool holds loaded and free (tests: calls reuse them). */
size_t hops__gbdt_pooled(const hops_model *m);
hops_status hops__gbdt_predict(const hops_model *m, const float *x, size_t n, size_t d, int threads,
                               float *out);

/* Report an epoch to the caller's callback (when there is one). */
void hops__epoch_report(const ml_fit *f, int64_t epoch, size_t n, const char *const *keys,
                        const double *values);

/* ---- the file (model_file.c) ---- */

/* Encode M into a model file image; *OUT owned (free). */
hops_status hops__model_encode(const hops_model *m, unsigned char **out, size_t *len);

/* Decode a file image. With VERIFY 0 the checksum is not checked (the
 * fuzzer). NAME names the bytes in messages. */
hops_status hops__model_decode(const void *data, size_t len, int verify, const char *name,
                               hops_model **out);

/* The header as a JSON object (new reference), without the arrays. */
struct json_t *hops__model_header(const hops_model *m);

/* SHA-256 of DATA in lowercase hex. */
void hops__sha256_hex(const void *data, size_t len, char out[65]);

#endif
