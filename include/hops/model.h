/* hops — native models: training, metrics, the model file and the registry.
 *
 * Models train on a table (a CSV or JSON Lines file, see table.h) with one
 * label column and feature columns. Numeric features are standardized and
 * categorical ones one-hot encoded; both encodings are learned from the
 * training split only and stored in the model, so prediction on raw rows of
 * the same shape gives the same result as on the training data.
 *
 *   linear    least squares in closed form (LAPACK dgelsd); ridge with l2 > 0
 *             (l2 is scikit-learn Ridge's alpha)
 *   logistic  binary logistic regression, L-BFGS on the mean log loss plus
 *             (l2/2)|W|^2; by default l2 = 1/(C n) with C = 1 (scikit-learn's
 *             LogisticRegression default)
 *   softmax   multinomial logistic regression, as logistic
 *   mlp       dense layers (relu, tanh or sigmoid) with a softmax, sigmoid or
 *             identity output; SGD with momentum or Adam on mini-batches, L2,
 *             early stopping on a validation split
 *   gbdt      gradient-boosted trees through XGBoost's C API
 * Dense math goes through OpenBLAS (cblas_sgemm for layers and batched
 * prediction). With the same data, options, seed and thread count a model is
 * the same to the byte.
 *
 * The model file (version 1, little-endian):
 *   "HOPSMDL\0"  u32 format version  u32 header length H
 *   H bytes of JSON header: type, task, label, classes, features with their
 *     encodings, shapes, the arrays (name, dtype "<f4" or "u8", shape,
 *     offset, bytes), training facts (run id, seed, settings) and metrics
 *   zero padding to a multiple of 8, the payload (the arrays), then the
 *   SHA-256 of every byte before it (32 bytes).
 * A damaged, truncated or foreign file is refused with HOPS_ECORRUPT (a
 * newer format with HOPS_EVERSION), naming the file and what is wrong.
 */
#ifndef HOPS_MODEL_H
#define HOPS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "error.h"
#include "project.h"
#include "run.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HOPS_MODEL_LINEAR = 1,
    HOPS_MODEL_LOGISTIC = 2,
    HOPS_MODEL_SOFTMAX = 3,
    HOPS_MODEL_MLP = 4,
    HOPS_MODEL_GBDT = 5
} hops_model_type;

/* "linear", "logistic", "softmax", "mlp", "gbdt"; NULL for an unknown type. */
HOPS_EXTERN const char *hops_model_type_name(hops_model_type t);

/* The type named NAME; 0 when unknown. */
HOPS_EXTERN hops_model_type hops_model_type_parse(const char *name);

typedef struct hops_model hops_model;

/* Called after each epoch (an L-BFGS iteration for logistic and softmax, a
 * boosting round for gbdt, once for linear) with N metrics: "loss" (the
 * training loss) and, when there is a validation split, "val_loss" and
 * "val_accuracy" or "val_r2". */
typedef void (*hops_epoch_fn)(void *ud, int64_t epoch, size_t n, const char *const *keys,
                              const double *values);

typedef struct {
    unsigned version;
    hops_model_type type;
    const char *label;           /* the column to predict (required) */
    const char *const *features; /* NULL/0: every column but the label */
    size_t n_features;
    const char *const *categorical; /* one-hot these even when they read as numbers */
    size_t n_categorical;
    hops_read_options read; /* how the data file is read */
    const size_t *hidden;   /* mlp layer widths; NULL/0: {64}; a 0 is refused */
    size_t n_hidden;
    int epochs;   /* 0: 200 (mlp epochs, L-BFGS iterations), 100 (gbdt rounds) */
    size_t batch; /* mlp mini-batch; 0: min(200, rows) */
    double lr;    /* 0: 0.001 (adam), 0.01 (sgd), 0.3 (gbdt eta); < 0 refused */
    double l2;    /* < 0: the model's default (linear 0, logistic/softmax
                     1/(C n), mlp 1e-4 / batch, gbdt 1) */
    uint64_t seed;
    double test_split;     /* fraction held out for the test metrics, [0, 1) */
    int threads;           /* OpenBLAS and XGBoost threads; 0: one per CPU */
    const hops_kv *params; /* more settings, K=V (see docs/cmd-train.md):
                              task, activation, optimizer, momentum,
                              validation, patience, tol, C; gbdt passes
                              the others on to XGBoost (max_depth, ...) */
    size_t n_params;
    const char *run_id;     /* recorded in the model header; NULL: none */
    hops_epoch_fn on_epoch; /* may be NULL */
    void *ud;
    /* Distributed training of the mlp (other models refuse these):
     * COMM: data parallel over a communicator (include/hops/collective.h):
     *   every rank calls hops_model_train with the same data and options,
     *   computes its share of each global batch (BATCH rows, split in rank
     *   order) and the gradients are summed with hops_comm_allreduce, so every
     *   rank holds the same weights and the loss curve is single-process
     *   training's with the same global batch, up to float rounding.
     * REPLICAS > 1: mirrored: that many threads in this process share the one
     *   copy of the data, each computes its share of every batch, and their
     *   gradients are summed in a fixed order. */
    struct hops_comm *comm;
    int replicas;
    /* Checkpoints (mlp): every CHECKPOINT_EVERY epochs the whole training
     * state (weights, optimizer moments, the shuffle generator, early
     * stopping) is written atomically to CHECKPOINT (with a communicator, by
     * rank 0). RESUME: start from such a file, written by training with the
     * same data and options; the result equals an uninterrupted training's. */
    const char *checkpoint;
    int checkpoint_every;
    const char *resume;
    /* PS: train as a worker of parameter servers (hops_ps_connect): every
     * worker computes its share of each global batch and the servers hold the
     * parameters and the optimizer; synchronous servers give the loss curve of
     * single-process training, asynchronous ones apply each push at once. */
    struct hops_ps *ps;
} hops_train_options;

#define HOPS_TRAIN_OPTIONS_VERSION 1
#define HOPS_TRAIN_OPTIONS_INIT                                                                    \
    {                                                                                              \
        HOPS_TRAIN_OPTIONS_VERSION, (hops_model_type)0, NULL, NULL, 0, NULL, 0,                    \
            HOPS_READ_OPTIONS_INIT, NULL, 0, 0, 0, 0.0, -1.0, 0, 0.2, 0, NULL, 0, NULL, NULL, NULL, \
            NULL, 0, NULL, 0, NULL, NULL                                                           \
    }

/* Train a model on the table at DATA_PATH as O says; *OUT owned
 * (hops_model_free). Rows with a null label are left out (and counted).
 * *REPORT_JSON (may be NULL; owned, hops_free) gets
 *   {"type", "task", "label", "classes", "features": [names], "inputs",
 *    "rows": {"total", "train", "validation", "test", "null_label"},
 *    "epochs", "stopped_early", "train_metrics": {...}, "test_metrics": {...}}
 * (test_metrics null without a test split). The same metrics are in the
 * model header.
 * Errors: HOPS_EINVAL for bad options (a missing label column, naming the
 * columns there are; a hidden width of 0; a negative learning rate; one
 * class), HOPS_EPARSE for a value a model cannot use, naming FILE:LINE:COLUMN
 * (text in a numeric column, NaN, a null in a numeric feature), the reader's
 * errors for a malformed file. */
HOPS_EXTERN hops_status hops_model_train(hops_model **out, const char *data_path,
                                         const hops_train_options *o, char **report_json);

HOPS_EXTERN void hops_model_free(hops_model *m);

/* Write M to PATH atomically (temp file, fsync, rename). */
HOPS_EXTERN hops_status hops_model_save(const hops_model *m, const char *path);

/* Read and check a model file: magic, format version, lengths, checksum and
 * header. HOPS_ECORRUPT for a damaged or truncated file, HOPS_EVERSION for a
 * newer format, HOPS_ENOTFOUND / HOPS_EIO when it cannot be read. */
HOPS_EXTERN hops_status hops_model_load(hops_model **out, const char *path);

/* As hops_model_load, from memory; NAME names the bytes in messages. */
HOPS_EXTERN hops_status hops_model_load_buffer(hops_model **out, const void *data, size_t len,
                                               const char *name);

HOPS_EXTERN hops_model_type hops_model_get_type(const hops_model *m);

/* The model's header as a JSON object (as stored in the file, without
 * "arrays"). *OUT owned (hops_free). */
HOPS_EXTERN hops_status hops_model_header_json(const hops_model *m, char **out);

typedef struct {
    unsigned version;
    hops_read_options read; /* how the input is read */
    const char *output;     /* write predictions here (CSV, or JSON Lines for .jsonl);
                               NULL: no file */
    int rows_in_json;       /* 1: *OUT_JSON also lists every prediction */
    int threads;            /* OpenBLAS / XGBoost threads; 0: one per CPU */
} hops_predict_options;

#define HOPS_PREDICT_OPTIONS_VERSION 1
#define HOPS_PREDICT_OPTIONS_INIT                                                                  \
    {                                                                                              \
        HOPS_PREDICT_OPTIONS_VERSION, HOPS_READ_OPTIONS_INIT, NULL, 0, 0                           \
    }

/* Predict every row of the table at DATA_PATH with M. The table needs every
 * feature column the model was trained on (others are ignored); a missing
 * one is HOPS_EINVAL naming all that are missing. Output rows, in input order:
 *   classifiers: prediction (the class), then p_CLASS for each class
 *   regression:  prediction
 * *OUT_JSON (may be NULL; owned) gets {"rows", "columns", "label",
 * "metrics" (when the table has the label column: the model's metrics on
 * it, else null), "output", and with ROWS_IN_JSON "predictions": [{"prediction":
 * ..., "probabilities": {CLASS: p}}] or [number, ...]}. */
HOPS_EXTERN hops_status hops_model_predict(const hops_model *m, const char *data_path,
                                           const hops_predict_options *o, char **out_json);

/* ---- metrics ------------------------------------------------------------ */

/* Classification metrics of N rows and K >= 2 classes: Y_TRUE[i] in [0, K),
 * PROBA row-major N x K (each row is normalized, then clipped to
 * [eps, 1 - eps] for the log loss as scikit-learn does). The prediction is
 * each row's first largest probability. CLASSES (K names) label the
 * confusion matrix. *OUT_JSON: {"accuracy", "precision", "recall", "f1"
 * (macro averages over the classes that occur in Y_TRUE or the predictions,
 * as scikit-learn; such a class never predicted has precision 0), "log_loss",
 * "roc_auc" (K = 2 only, ties averaged), "confusion_matrix": {"classes",
 * "matrix" (rows: true, columns: predicted)}, "n"}. */
HOPS_EXTERN hops_status hops_metrics_classification(const size_t *y_true, const double *proba,
                                                    size_t n, size_t k, const char *const *classes,
                                                    char **out_json);

/* Regression metrics of N rows: {"rmse", "mae", "r2", "n"}. R^2 is 1 -
 * SS_res/SS_tot (1 when both are 0, 0 when only SS_tot is, as scikit-learn). */
HOPS_EXTERN hops_status hops_metrics_regression(const double *y_true, const double *y_pred,
                                                size_t n, char **out_json);

/* ---- the registry ------------------------------------------------------- */

/* Register the model file at PATH as the next version (1, 2, ...) of NAME in
 * project P: the file is checked (hops_model_load), copied to
 * .hops/models/NAME/VERSION/model.hops (temp file, fsync, rename) and its row
 * (type, run id, metrics, SHA-256, size, time) committed in one transaction
 * that holds the write lock, so concurrent registrations get distinct
 * versions. Names as for datasets. *OUT_JSON (may be NULL) gets the version
 * as hops_model_show_json describes it. */
HOPS_EXTERN hops_status hops_model_register(hops_project *p, const char *name, const char *path,
                                            char **out_json);

/* Open SPEC, "NAME" (the latest version) or "NAME:VERSION", from the
 * registry: the file is loaded and checked against the SHA-256 recorded at
 * registration (HOPS_ECORRUPT when they differ). HOPS_ENOTFOUND naming what
 * is missing. */
HOPS_EXTERN hops_status hops_model_open(hops_project *p, const char *spec, hops_model **out);

/* A JSON array, one object per model sorted by name: name, latest, versions,
 * type, metrics (of the latest), created. */
HOPS_EXTERN hops_status hops_model_list_json(hops_project *p, char **out_json);

/* One version: name, version, spec, type, run, path, sha256, size, metrics,
 * created, and header (the file's header, null when the file cannot be
 * read: then "error" says why). */
HOPS_EXTERN hops_status hops_model_show_json(hops_project *p, const char *spec, char **out_json);

/* Every version of NAME, oldest first, as in show without the header. */
HOPS_EXTERN hops_status hops_model_versions_json(hops_project *p, const char *name,
                                                 char **out_json);

/* Copy SPEC's file, after checking it, to DIR/model.hops and its header to
 * DIR/model.json (DIR is made). *OUT_JSON (may be NULL): {"spec", "files"}. */
HOPS_EXTERN hops_status hops_model_export(hops_project *p, const char *spec, const char *dir,
                                          char **out_json);

/* The version of NAME with the largest (MAXIMIZE) or smallest value of the
 * test metric METRIC, as in show without the header; versions without the
 * metric are skipped (HOPS_ENOTFOUND when none has it, listing the metrics
 * there are). Ties go to the newest version. */
HOPS_EXTERN hops_status hops_model_best_json(hops_project *p, const char *name, const char *metric,
                                             int maximize, char **out_json);


/* ---- in-memory prediction (the server) ---------------------------------- */

/* The raw columns the model was trained on, in the order its encodings
 * use: N features, each numeric (standardized) or categorical (one-hot). */
HOPS_EXTERN size_t hops_model_n_features(const hops_model *m);
/* Feature I's column name (borrowed); NULL when I is out of range. */
HOPS_EXTERN const char *hops_model_feature_name(const hops_model *m, size_t i);
/* 1 when feature I is one-hot encoded, 0 when numeric (or out of range). */
HOPS_EXTERN int hops_model_feature_is_categorical(const hops_model *m, size_t i);
/* The width of an encoded row: the model's numeric inputs. */
HOPS_EXTERN size_t hops_model_n_inputs(const hops_model *m);
/* The classes of a classifier (0 for a regression model) and their names
 * (borrowed; NULL out of range), in the order of the probabilities. */
HOPS_EXTERN size_t hops_model_n_classes(const hops_model *m);
HOPS_EXTERN const char *hops_model_class_name(const hops_model *m, size_t i);
/* The label column the model predicts (borrowed). */
HOPS_EXTERN const char *hops_model_label(const hops_model *m);

/* One raw value of a feature, as a request carries it. */
typedef enum {
    HOPS_VALUE_NULL = 0,   /* missing or null */
    HOPS_VALUE_NUMBER = 1, /* number */
    HOPS_VALUE_TEXT = 2    /* text (a category, or a number written as text) */
} hops_value_kind;

typedef struct {
    hops_value_kind kind;
    double number;    /* HOPS_VALUE_NUMBER */
    const char *text; /* HOPS_VALUE_TEXT, NUL-terminated */
} hops_feature_value;

/* Encode one raw row with M's stored encodings into X (hops_model_n_inputs
 * floats): VALUES[f] is feature f's value (hops_model_feature_name order).
 * Numeric features take a finite number (or text that reads as one) and are
 * standardized; categorical ones take text (a number is matched by its
 * shortest decimal form, 3 -> "3") and are one-hot encoded, an unseen or null
 * value encoding to all zeros as in training. HOPS_EINVAL naming the feature
 * for a null, NaN, infinite or non-numeric value of a numeric feature. */
HOPS_EXTERN hops_status hops_model_encode_row(const hops_model *m, const hops_feature_value *values,
                                              float *x);

/* Predict N encoded rows X (N x hops_model_n_inputs, row-major) into OUT:
 * classifiers give N x hops_model_n_classes probabilities, regression N
 * values. THREADS: XGBoost threads for gbdt (<= 0: one). Safe to call
 * from several threads at once on the same model. HOPS_EINVAL for an input
 * or a prediction that is not a finite number. */
HOPS_EXTERN hops_status hops_model_predict_matrix(const hops_model *m, const float *x, size_t n,
                                                  int threads, double *out);

/* ---- labels (`stable`, `canary`) ---------------------------------------- */

/* Point LABEL of model NAME at VERSION (which must exist) in one
 * transaction; a label already set moves. Labels are names as models are.
 * HOPS_ENOTFOUND for an unknown model or version. */
HOPS_EXTERN hops_status hops_model_label_set(hops_project *p, const char *name, int64_t version,
                                             const char *label);

/* Remove LABEL of model NAME; HOPS_ENOTFOUND when it is not set. */
HOPS_EXTERN hops_status hops_model_label_remove(hops_project *p, const char *name,
                                                const char *label);

/* The labels of NAME as a JSON object {"stable": 1, "canary": 2}; *OUT_JSON
 * owned (hops_free). HOPS_ENOTFOUND for an unknown model. */
HOPS_EXTERN hops_status hops_model_labels_json(hops_project *p, const char *name,
                                               char **out_json);

#ifdef __cplusplus
}
#endif
#endif
