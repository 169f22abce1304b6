/* Training and prediction: from a table to a model and back.
 *
 * hops_model_train reads the table once into memory, picks the rows with a
 * label, splits them (test, validation, train) by a seeded shuffle, learns
 * the encodings from the training rows only, encodes every split with them,
 * hands the matrices to the trainer of the model type and measures the
 * result. Everything random comes from one xoshiro256** stream seeded with
 * the seed, and OpenBLAS runs on a fixed number of threads, so the same
 * inputs give the same model to the byte. */
#include <cblas.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ml.h"

#define MAX_CATEGORIES 1000 /* distinct values of a one-hot feature */
#define MAX_AUTO_CLASSES 20 /* mlp/gbdt: more distinct integer labels read as regression */
#define MAX_CLASSES_LIMIT 100000

/* ---- names and handles ---- */

static const char *const type_names[] = {NULL, "linear", "logistic", "softmax", "mlp", "gbdt"};

const char *hops_model_type_name(hops_model_type t)
{
    return t >= HOPS_MODEL_LINEAR && t <= HOPS_MODEL_GBDT ? type_names[t] : NULL;
}

hops_model_type hops_model_type_parse(const char *name)
{
    for (int t = HOPS_MODEL_LINEAR; name && t <= HOPS_MODEL_GBDT; t++)
        if (strcmp(name, type_names[t]) == 0)
            return (hops_model_type)t;
    return (hops_model_type)0;
}

hops_model *hops__model_new(void)
{
    return calloc(1, sizeof(hops_model));
}

size_t hops__model_outputs(ml_task task, size_t n_classes)
{
    return task == ML_REGRESSION || n_classes <= 2 ? 1 : n_classes;
}

void hops_model_free(hops_model *m)
{
    if (!m)
        return;
    free(m->label);
    for (size_t i = 0; m->classes && i < m->n_classes; i++)
        free(m->classes[i]);
    free(m->classes);
    for (size_t i = 0; m->features && i < m->n_features; i++) {
        free(m->features[i].name);
        for (size_t c = 0; m->features[i].cats && c < m->features[i].n_cats; c++)
            free(m->features[i].cats[c]);
        free(m->features[i].cats);
    }
    free(m->features);
    for (size_t l = 0; m->layers && l < m->n_layers; l++) {
        free(m->layers[l].w);
        free(m->layers[l].b);
    }
    free(m->layers);
    free(m->booster);
    hops__gbdt_pool_free(m->gbdt_pool);
    json_decref(m->training);
    json_decref(m->metrics);
    free(m);
}

hops_model_type hops_model_get_type(const hops_model *m)
{
    return m->type;
}

hops_status hops_model_header_json(const hops_model *m, char **out)
{
    json_t *h = hops__model_header(m);
    *out = h ? hops__json_dumps(h, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(h);
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

void hops__epoch_report(const ml_fit *f, int64_t epoch, size_t n, const char *const *keys,
                        const double *values)
{
    if (f->o->on_epoch)
        f->o->on_epoch(f->o->ud, epoch, n, keys, values);
}

static int resolve_threads(int threads)
{
    if (threads > 0)
        return threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* ---- settings ---- */

typedef struct {
    const char *task;       /* NULL: by model type / inferred */
    const char *activation; /* mlp hidden layers */
    const char *optimizer;  /* adam | sgd */
    double momentum, validation, tol, C;
    int patience;
    hops_kv *xgb; /* gbdt: passed on */
    size_t n_xgb;
} settings;

static hops_status param_number(const hops_kv *kv, double lo, double hi, double *out)
{
    double v;
    if (hops__ml_number(kv->value, &v) != 1 || v < lo || v > hi)
        return hops__error(HOPS_EINVAL, "--param %s=%s: expected a number from %g to %g", kv->key,
                           kv->value, lo, hi);
    *out = v;
    return HOPS_OK;
}

static hops_status parse_settings(const hops_train_options *o, settings *s)
{
    hops_status rc;
    memset(s, 0, sizeof *s);
    s->activation = "relu";
    s->optimizer = "adam";
    s->momentum = 0.9;
    s->validation = o->type == HOPS_MODEL_MLP ? 0.1 : 0;
    s->patience = 10;
    s->tol = 1e-4;
    s->C = 1.0;
    if (o->n_params && !(s->xgb = calloc(o->n_params, sizeof *s->xgb)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->n_params; i++) {
        const hops_kv *kv = &o->params[i];
        double v;
        if (!kv->key || !kv->value)
            return hops__error(HOPS_EINVAL, "a --param without a key or value");
        if (strcmp(kv->key, "task") == 0) {
            if (strcmp(kv->value, "classification") != 0 && strcmp(kv->value, "regression") != 0)
                return hops__error(HOPS_EINVAL,
                                   "--param task=%s: expected classification or regression",
                                   kv->value);
            s->task = kv->value;
        } else if (strcmp(kv->key, "validation") == 0) {
            if ((rc = param_number(kv, 0, 0.9, &s->validation)) != HOPS_OK)
                return rc;
        } else if (strcmp(kv->key, "patience") == 0) {
            if ((rc = param_number(kv, 0, 1e6, &v)) != HOPS_OK)
                return rc;
            s->patience = (int)v;
        } else if (strcmp(kv->key, "tol") == 0) {
            if ((rc = param_number(kv, 0, 1e6, &s->tol)) != HOPS_OK)
                return rc;
        } else if (o->type == HOPS_MODEL_GBDT) {
            s->xgb[s->n_xgb++] = *kv;
        } else if (strcmp(kv->key, "activation") == 0 && o->type == HOPS_MODEL_MLP) {
            ml_act a;
            if (hops__act_parse(kv->value, &a) != 0 ||
                (a != ML_ACT_RELU && a != ML_ACT_TANH && a != ML_ACT_SIGMOID))
                return hops__error(HOPS_EINVAL,
                                   "--param activation=%s: expected relu, tanh or sigmoid",
                                   kv->value);
            s->activation = kv->value;
        } else if (strcmp(kv->key, "optimizer") == 0 && o->type == HOPS_MODEL_MLP) {
            if (strcmp(kv->value, "adam") != 0 && strcmp(kv->value, "sgd") != 0)
                return hops__error(HOPS_EINVAL, "--param optimizer=%s: expected adam or sgd",
                                   kv->value);
            s->optimizer = kv->value;
        } else if (strcmp(kv->key, "momentum") == 0 && o->type == HOPS_MODEL_MLP) {
            if ((rc = param_number(kv, 0, 0.999999, &s->momentum)) != HOPS_OK)
                return rc;
        } else if (strcmp(kv->key, "C") == 0 &&
                   (o->type == HOPS_MODEL_LOGISTIC || o->type == HOPS_MODEL_SOFTMAX)) {
            if ((rc = param_number(kv, 1e-12, 1e12, &s->C)) != HOPS_OK)
                return rc;
        } else {
            return hops__error(HOPS_EINVAL,
                               "--param %s: not a setting of %s models (see `hops train --help`)",
                               kv->key, hops_model_type_name(o->type));
        }
    }
    return HOPS_OK;
}

/* ---- labels and features ---- */

typedef struct {
    const char *text;
    double num;
} value;

static int by_number(const void *a, const void *b)
{
    double x = ((const value *)a)->num, y = ((const value *)b)->num;
    return x < y ? -1 : x > y ? 1 : strcmp(((const value *)a)->text, ((const value *)b)->text);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(((const value *)a)->text, ((const value *)b)->text);
}

/* The distinct non-null texts of column COL over ROWS, sorted numerically
 * when every one is a number, else bytewise. *OUT owned (the strings are
 * copies). HOPS_EINVAL when there are more than MAX. */
static hops_status distinct_values(const hops_table *t, size_t col, const size_t *rows, size_t n,
                                   size_t max, char ***out, size_t *n_out)
{
    value *v = malloc((n ? n : 1) * sizeof *v);
    size_t nv = 0, nd = 0;
    int all_numbers = 1;
    *out = NULL;
    *n_out = 0;
    if (!v)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *text = hops_table_cell(t, rows[i], col, NULL);
        if (!text)
            continue;
        v[nv].text = text;
        if (hops__ml_number(text, &v[nv].num) != 1)
            all_numbers = 0;
        nv++;
    }
    qsort(v, nv, sizeof *v, by_text);
    for (size_t i = 0; i < nv; i++)
        if (i == 0 || strcmp(v[i].text, v[nd - 1].text) != 0)
            v[nd++] = v[i];
    if (nd > max) {
        free(v);
        return hops__error(HOPS_EINVAL, "column '%s' of %s has more than %zu distinct values",
                           hops_table_column_name(t, col), hops_table_path(t), max);
    }
    if (all_numbers)
        qsort(v, nd, sizeof *v, by_number);
    char **names = calloc(nd + 1, sizeof *names);
    for (size_t i = 0; names && i < nd; i++)
        if (!(names[i] = hops__strdup(v[i].text))) {
            for (size_t j = 0; j < i; j++)
                free(names[j]);
            free(names);
            names = NULL;
        }
    free(v);
    if (!names)
        return hops__error(HOPS_ENOMEM, "out of memory");
    *out = names;
    *n_out = nd;
    return HOPS_OK;
}

static hops_status no_column(const hops_table *t, const char *what, const char *name)
{
    hops_buf cols = HOPS_BUF_INIT;
    for (size_t c = 0; c < hops_table_columns(t); c++)
        hops__buf_printf(&cols, "%s%s", c ? ", " : "", hops_table_column_name(t, c));
    hops_status rc = hops__error(HOPS_EINVAL, "%s column '%s' is not in %s; its columns are: %s",
                                 what, name, hops_table_path(t), cols.data ? cols.data : "(none)");
    hops__buf_free(&cols);
    return rc;
}

static int listed(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* Learn the encoding of feature F (table column COL) from the training rows. */
static hops_status learn_feature(const hops_train_options *o, const hops_table *t, size_t col,
                                 const size_t *rows, size_t n, ml_feature *f)
{
    size_t nonnull = 0, numeric = 0;
    hops_status rc;
    if (!(f->name = hops__strdup(hops_table_column_name(t, col))))
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *text = hops_table_cell(t, rows[i], col, NULL);
        double v;
        if (!text)
            continue;
        nonnull++;
        numeric += hops__ml_number(text, &v) != 0;
    }
    f->categorical =
        listed(o->categorical, o->n_categorical, f->name) || (nonnull > 0 && numeric * 2 < nonnull);
    if (f->categorical) {
        if ((rc = distinct_values(t, col, rows, n, MAX_CATEGORIES, &f->cats, &f->n_cats)) !=
            HOPS_OK)
            return hops__error_prefix(rc,
                                      "cannot one-hot encode it (leave it out with --features)");
        return HOPS_OK;
    }
    /* Numeric: mean and population std (ddof 0, as StandardScaler), in two
     * passes for accuracy. Errors name the first bad cell. */
    double sum = 0, ss = 0, v;
    for (size_t i = 0; i < n; i++) {
        if ((rc = hops__cell_number(t, rows[i], col, "feature", &v)) != HOPS_OK)
            return rc;
        sum += v;
    }
    f->mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        hops__cell_number(t, rows[i], col, "feature", &v);
        ss += (v - f->mean) * (v - f->mean);
    }
    f->std = sqrt(ss / (double)n);
    if (!(f->std > 0) || !isfinite(f->std))
        f->std = 1.0; /* a constant column: x - mean (all 0), as StandardScaler */
    return HOPS_OK;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- training ---- */

typedef struct {
    hops_table *t;
    size_t label_col;
    size_t *feature_cols;
    size_t *usable; /* rows with a label */
    size_t n_usable;
    size_t *test, *val, *train; /* into the table's rows */
    size_t n_test, n_val, n_train;
    double *y_all; /* per table row: class index or value */
    float *x_train, *x_val, *x_test;
    double *y_train, *y_val, *y_test;
    settings s;
} job;

static void job_free(job *j)
{
    hops_table_free(j->t);
    free(j->feature_cols);
    free(j->usable);
    free(j->test);
    free(j->y_all);
    free(j->x_train);
    free(j->x_val);
    free(j->x_test);
    free(j->y_train);
    free(j->y_val);
    free(j->y_test);
    free(j->s.xgb);
}

static hops_status check_options(const hops_train_options *o)
{
    if (o->version != HOPS_TRAIN_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_train_options: unknown version %u", o->version);
    if (!hops_model_type_name(o->type))
        return hops__error(HOPS_EINVAL,
                           "which model? expected linear, logistic, softmax, mlp or gbdt");
    if (!o->label || !*o->label)
        return hops__error(HOPS_EINVAL,
                           "which column to predict? name the label column (--label COL)");
    if (!(o->lr >= 0) || !isfinite(o->lr))
        return hops__error(HOPS_EINVAL, "the learning rate must be a positive number, not %g",
                           o->lr);
    if (isnan(o->l2) || isinf(o->l2))
        return hops__error(HOPS_EINVAL, "the L2 strength must be a finite number, not %g", o->l2);
    if (o->epochs < 0)
        return hops__error(HOPS_EINVAL, "the number of epochs must be positive, not %d", o->epochs);
    if (!(o->test_split >= 0 && o->test_split < 1))
        return hops__error(HOPS_EINVAL, "the test split must be a fraction in [0, 1), not %g",
                           o->test_split);
    if (o->n_hidden && o->type != HOPS_MODEL_MLP)
        return hops__error(HOPS_EINVAL, "hidden layers are for mlp models, not %s",
                           hops_model_type_name(o->type));
    for (size_t i = 0; i < o->n_hidden; i++)
        if (o->hidden[i] == 0 || o->hidden[i] > 1000000)
            return hops__error(HOPS_EINVAL,
                               "hidden layer %zu has %zu units; every hidden layer needs 1 to "
                               "1000000 (e.g. --hidden 64,32)",
                               i + 1, o->hidden[i]);
    if (o->n_hidden > 62)
        return hops__error(HOPS_EINVAL, "at most 62 hidden layers, not %zu", o->n_hidden);
    if ((o->comm || o->replicas > 1) && o->type != HOPS_MODEL_MLP)
        return hops__error(HOPS_EINVAL, "distributed training (a strategy) is for mlp models, "
                                        "not %s", hops_model_type_name(o->type));
    if (o->replicas < 0 || o->replicas > 1024)
        return hops__error(HOPS_EINVAL, "replicas must be 1 to 1024, not %d", o->replicas);
    if (o->comm && o->replicas > 1)
        return hops__error(HOPS_EINVAL, "a communicator or replicas, not both");
    if (o->ps && (o->type != HOPS_MODEL_MLP || o->comm || o->replicas > 1 || o->checkpoint ||
                  o->resume))
        return hops__error(HOPS_EINVAL, "parameter servers train an mlp, without a "
                                        "communicator, replicas or checkpoints");
    if ((o->checkpoint || o->resume) && o->type != HOPS_MODEL_MLP)
        return hops__error(HOPS_EINVAL, "checkpoints are for mlp models, not %s",
                           hops_model_type_name(o->type));
    if (o->checkpoint_every < 0 || (o->checkpoint_every > 0 && !o->checkpoint))
        return hops__error(HOPS_EINVAL, "checkpoint_every needs a checkpoint file and >= 0");
    return HOPS_OK;
}

/* Label column, rows with a label, the task, classes and targets. */
static hops_status prepare_labels(const hops_train_options *o, job *j, hops_model *m)
{
    hops_table *t = j->t;
    size_t rows = hops_table_rows(t);
    long lc = hops_table_column_index(t, o->label);
    hops_status rc;
    if (lc < 0)
        return no_column(t, "label", o->label);
    j->label_col = (size_t)lc;
    if (rows == 0)
        return hops__error(HOPS_EINVAL, "%s has no rows to train on", hops_table_path(t));
    if (!(j->usable = malloc(rows * sizeof *j->usable)) ||
        !(j->y_all = calloc(rows, sizeof *j->y_all)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++)
        if (hops_table_cell(t, r, j->label_col, NULL))
            j->usable[j->n_usable++] = r;
    if (j->n_usable == 0)
        return hops__error(HOPS_EINVAL,
                           "the label column '%s' of %s is entirely null (%zu rows): nothing to "
                           "learn from",
                           o->label, hops_table_path(t), rows);
    if (!(m->label = hops__strdup(o->label)))
        return hops__error(HOPS_ENOMEM, "out of memory");

    /* The task. */
    if (o->type == HOPS_MODEL_LINEAR)
        m->task = ML_REGRESSION;
    else if (o->type == HOPS_MODEL_LOGISTIC || o->type == HOPS_MODEL_SOFTMAX)
        m->task = ML_CLASSIFICATION;
    else if (j->s.task)
        m->task = strcmp(j->s.task, "regression") == 0 ? ML_REGRESSION : ML_CLASSIFICATION;
    else {
        /* Numbers that are not all small integers read as regression. */
        int regression = 1;
        for (size_t i = 0; i < j->n_usable && regression; i++) {
            double v;
            if (hops__ml_number(hops_table_cell(t, j->usable[i], j->label_col, NULL), &v) != 1)
                regression = 0;
        }
        if (regression) {
            char **cls = NULL;
            size_t k = 0;
            int integers = 1;
            for (size_t i = 0; i < j->n_usable && integers; i++) {
                double v = 0;
                hops__ml_number(hops_table_cell(t, j->usable[i], j->label_col, NULL), &v);
                integers = v == floor(v);
            }
            if (integers && distinct_values(t, j->label_col, j->usable, j->n_usable,
                                            MAX_AUTO_CLASSES, &cls, &k) == HOPS_OK)
                regression = 0;
            for (size_t i = 0; i < k; i++)
                free(cls[i]);
            free(cls);
            hops_error_clear();
        }
        m->task = regression ? ML_REGRESSION : ML_CLASSIFICATION;
    }

    if (m->task == ML_REGRESSION) {
        for (size_t i = 0; i < j->n_usable; i++)
            if ((rc = hops__cell_number(t, j->usable[i], j->label_col, "label",
                                        &j->y_all[j->usable[i]])) != HOPS_OK)
                return hops__error_prefix(
                    rc, "a regression label must be a number (for classes "
                        "use --model logistic, softmax, or --param task=classification)");
        return HOPS_OK;
    }
    if ((rc = distinct_values(t, j->label_col, j->usable, j->n_usable, MAX_CLASSES_LIMIT,
                              &m->classes, &m->n_classes)) != HOPS_OK)
        return rc;
    if (m->n_classes < 2)
        return hops__error(HOPS_EINVAL,
                           "the label column '%s' of %s has a single class ('%s'): a classifier "
                           "needs at least two",
                           o->label, hops_table_path(t), m->classes[0]);
    if (o->type == HOPS_MODEL_LOGISTIC && m->n_classes > 2)
        return hops__error(HOPS_EINVAL,
                           "the label column '%s' has %zu classes; logistic regression is binary: "
                           "use --model softmax",
                           o->label, m->n_classes);
    for (size_t i = 0; i < j->n_usable; i++) {
        const char *text = hops_table_cell(t, j->usable[i], j->label_col, NULL);
        for (size_t c = 0; c < m->n_classes; c++)
            if (strcmp(text, m->classes[c]) == 0) {
                j->y_all[j->usable[i]] = (double)c;
                break;
            }
    }
    return HOPS_OK;
}

static hops_status split_rows(const hops_train_options *o, job *j)
{
    ml_rng rng;
    size_t n = j->n_usable;
    if (!(j->test = malloc(n * sizeof *j->test)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    memcpy(j->test, j->usable, n * sizeof *j->test);
    hops__rng_seed(&rng, o->seed);
    hops__rng_shuffle(&rng, j->test, n);
    j->n_test = (size_t)floor((double)n * o->test_split + 0.5);
    size_t rest = n - j->n_test;
    j->n_val = (size_t)floor((double)rest * j->s.validation + 0.5);
    if (j->n_test >= n || rest - j->n_val < 1)
        return hops__error(HOPS_EINVAL,
                           "%zu rows with a label are too few for a test split of %g and a "
                           "validation split of %g",
                           n, o->test_split, j->s.validation);
    j->val = j->test + j->n_test;
    j->train = j->val + j->n_val;
    j->n_train = rest - j->n_val;
    qsort(j->test, j->n_test, sizeof *j->test, cmp_size);
    qsort(j->val, j->n_val, sizeof *j->val, cmp_size);
    qsort(j->train, j->n_train, sizeof *j->train, cmp_size);
    return HOPS_OK;
}

/* 1 when feature column COL is numeric by the rule of learn_feature. */
static int is_numeric(const hops_train_options *o, const job *j, size_t col)
{
    size_t nonnull = 0, numeric = 0;
    if (listed(o->categorical, o->n_categorical, hops_table_column_name(j->t, col)))
        return 0;
    for (size_t i = 0; i < j->n_train + j->n_val; i++) {
        const char *text = hops_table_cell(j->t, j->val[i], col, NULL);
        double v;
        if (!text)
            continue;
        nonnull++;
        numeric += hops__ml_number(text, &v) != 0;
    }
    return !(nonnull > 0 && numeric * 2 < nonnull);
}

/* Check every numeric feature cell of every labelled row, in file order. */
static hops_status check_numbers(const hops_train_options *o, job *j, size_t nf)
{
    unsigned char *numeric = calloc(nf + 1, 1);
    hops_status rc = HOPS_OK;
    if (!numeric)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t k = 0; k < nf; k++)
        numeric[k] = (unsigned char)is_numeric(o, j, j->feature_cols[k]);
    for (size_t i = 0; i < j->n_usable && rc == HOPS_OK; i++)
        for (size_t k = 0; k < nf && rc == HOPS_OK; k++) {
            double v;
            if (numeric[k])
                rc = hops__cell_number(j->t, j->usable[i], j->feature_cols[k], "feature", &v);
        }
    free(numeric);
    return rc;
}

static hops_status prepare_features(const hops_train_options *o, job *j, hops_model *m)
{
    hops_table *t = j->t;
    size_t nc = hops_table_columns(t), nf = 0;
    hops_status rc;
    if (!(j->feature_cols = malloc((nc + 1) * sizeof *j->feature_cols)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    if (o->n_features) {
        for (size_t i = 0; i < o->n_features; i++) {
            long c = hops_table_column_index(t, o->features[i]);
            if (c < 0)
                return no_column(t, "feature", o->features[i] ? o->features[i] : "");
            if ((size_t)c == j->label_col)
                return hops__error(HOPS_EINVAL, "'%s' is the label; it cannot be a feature too",
                                   o->features[i]);
            for (size_t k = 0; k < nf; k++)
                if (j->feature_cols[k] == (size_t)c)
                    return hops__error(HOPS_EINVAL, "feature '%s' is listed twice", o->features[i]);
            j->feature_cols[nf++] = (size_t)c;
        }
    } else {
        for (size_t c = 0; c < nc; c++)
            if (c != j->label_col)
                j->feature_cols[nf++] = c;
    }
    for (size_t i = 0; i < o->n_categorical; i++)
        if (hops_table_column_index(t, o->categorical[i]) < 0)
            return no_column(t, "categorical", o->categorical[i] ? o->categorical[i] : "");
    if (nf == 0)
        return hops__error(HOPS_EINVAL, "%s has no columns besides the label '%s' to learn from",
                           hops_table_path(t), o->label);
    if (!(m->features = calloc(nf, sizeof *m->features)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    /* Every numeric cell of every row with a label must be a number: check
     * them in file order first, so that the error names the first bad cell
     * of the file whatever the seed and split. A column is numeric unless
     * it is listed as categorical or most of its training values are text. */
    if ((rc = check_numbers(o, j, nf)) != HOPS_OK)
        return rc;
    /* The encodings are learned from the training rows (validation included). */
    size_t n_fit = j->n_train + j->n_val;
    size_t *fit_rows = malloc(n_fit * sizeof *fit_rows);
    if (!fit_rows)
        return hops__error(HOPS_ENOMEM, "out of memory");
    memcpy(fit_rows, j->val, n_fit * sizeof *fit_rows); /* val and train are adjacent */
    qsort(fit_rows, n_fit, sizeof *fit_rows, cmp_size);
    for (size_t i = 0; i < nf; i++) {
        m->n_features = i + 1;
        if ((rc = learn_feature(o, t, j->feature_cols[i], fit_rows, n_fit, &m->features[i])) !=
            HOPS_OK) {
            free(fit_rows);
            return rc;
        }
        m->features[i].first = m->n_inputs;
        m->n_inputs += m->features[i].categorical ? m->features[i].n_cats : 1;
    }
    free(fit_rows);
    if (m->n_inputs == 0)
        return hops__error(HOPS_EINVAL, "the features encode to no inputs (every value is null)");
    return HOPS_OK;
}

static hops_status build_layers(const hops_train_options *o, const settings *s, hops_model *m)
{
    static const size_t default_hidden[] = {64};
    const size_t *hidden = o->n_hidden ? o->hidden : default_hidden;
    size_t nh = o->type == HOPS_MODEL_MLP ? (o->n_hidden ? o->n_hidden : 1) : 0;
    ml_act h_act = ML_ACT_RELU;
    m->n_outputs = hops__model_outputs(m->task, m->n_classes);
    if (o->type == HOPS_MODEL_GBDT)
        return HOPS_OK;
    hops__act_parse(s->activation, &h_act);
    if (!(m->layers = calloc(nh + 1, sizeof *m->layers)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    size_t in = m->n_inputs;
    for (size_t l = 0; l <= nh; l++) {
        ml_layer *L = &m->layers[l];
        L->in = in;
        L->out = l < nh ? hidden[l] : m->n_outputs;
        L->act = l < nh                     ? h_act
                 : m->task == ML_REGRESSION ? ML_ACT_IDENTITY
                 : m->n_outputs == 1        ? ML_ACT_SIGMOID
                                            : ML_ACT_SOFTMAX;
        m->n_layers = l + 1;
        if (L->in > SIZE_MAX / sizeof(float) / L->out)
            return hops__error(HOPS_EINVAL, "layer %zu is too large", l + 1);
        L->w = calloc(L->in * L->out, sizeof *L->w);
        L->b = calloc(L->out, sizeof *L->b);
        if (!L->w || !L->b)
            return hops__error(HOPS_ENOMEM, "out of memory (layer %zu: %zu x %zu)", l + 1, L->in,
                               L->out);
        in = L->out;
    }
    return HOPS_OK;
}

static hops_status encode_split(const hops_model *m, job *j, const size_t *rows, size_t n,
                                float **x, double **y)
{
    *x = malloc((n ? n : 1) * m->n_inputs * sizeof **x);
    *y = malloc((n ? n : 1) * sizeof **y);
    if (!*x || !*y)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        (*y)[i] = j->y_all[rows[i]];
    return hops__encode_rows(m, j->t, j->feature_cols, rows, n, *x);
}

/* Metrics of M on X/Y (N rows) as a JSON object (new reference). */
static hops_status evaluate(const hops_model *m, const float *x, const double *y, size_t n,
                            int threads, json_t **out)
{
    size_t k = m->task == ML_REGRESSION ? 1 : m->n_classes;
    double *pred = malloc((n ? n : 1) * k * sizeof *pred);
    size_t *yc = malloc((n ? n : 1) * sizeof *yc);
    char *text = NULL;
    hops_status rc;
    *out = NULL;
    if (!pred || !yc) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = hops__model_outputs_eval(m, x, n, threads, pred)) != HOPS_OK)
        goto out;
    if (m->task == ML_REGRESSION) {
        rc = hops_metrics_regression(y, pred, n, &text);
    } else {
        for (size_t i = 0; i < n; i++)
            yc[i] = (size_t)y[i];
        rc = hops_metrics_classification(yc, pred, n, k, (const char *const *)m->classes, &text);
    }
    if (rc == HOPS_OK && !(*out = json_loads(text, 0, NULL)))
        rc = hops__error(HOPS_ENOMEM, "out of memory");
out:
    free(text);
    free(pred);
    free(yc);
    return rc;
}

static json_t *size_list(const size_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

hops_status hops_model_train(hops_model **out, const char *data_path, const hops_train_options *o,
                             char **report_json)
{
    job j;
    ml_fit f;
    hops_model *m = NULL;
    json_t *train_metrics = NULL, *report = NULL;
    hops_status rc;

    *out = NULL;
    if (report_json)
        *report_json = NULL;
    memset(&j, 0, sizeof j);
    memset(&f, 0, sizeof f);
    if (!o)
        return hops__error(HOPS_EINVAL, "no training options");
    if ((rc = check_options(o)) != HOPS_OK || (rc = parse_settings(o, &j.s)) != HOPS_OK)
        goto out;
    if (!(m = hops__model_new())) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    m->type = o->type;
    int threads = resolve_threads(o->threads);
    /* Mirrored replicas are the parallelism: each runs OpenBLAS on one thread. */
    openblas_set_num_threads(o->replicas > 1 ? 1 : threads);
    if ((rc = hops_table_read(&j.t, data_path, &o->read)) != HOPS_OK ||
        (rc = prepare_labels(o, &j, m)) != HOPS_OK || (rc = split_rows(o, &j)) != HOPS_OK ||
        (rc = prepare_features(o, &j, m)) != HOPS_OK)
        goto out;
    if ((rc = build_layers(o, &j.s, m)) != HOPS_OK)
        goto out;
    if ((rc = encode_split(m, &j, j.train, j.n_train, &j.x_train, &j.y_train)) != HOPS_OK ||
        (rc = encode_split(m, &j, j.val, j.n_val, &j.x_val, &j.y_val)) != HOPS_OK ||
        (rc = encode_split(m, &j, j.test, j.n_test, &j.x_test, &j.y_test)) != HOPS_OK)
        goto out;

    /* Settings after the defaults. */
    f.o = o;
    f.train = (ml_data){j.x_train, j.y_train, j.n_train, m->n_inputs};
    f.val = (ml_data){j.x_val, j.y_val, j.n_val, m->n_inputs};
    f.n_classes = m->n_classes;
    f.threads = threads;
    f.adam = strcmp(j.s.optimizer, "adam") == 0;
    f.momentum = j.s.momentum;
    f.patience = j.s.patience;
    f.tol = j.s.tol;
    f.batch = o->batch ? o->batch : (j.n_train < 200 ? j.n_train : 200);
    if (f.batch > j.n_train)
        f.batch = j.n_train;
    switch (o->type) {
    case HOPS_MODEL_LINEAR:
        f.l2 = o->l2 >= 0 ? o->l2 : 0;
        f.epochs = 1;
        rc = hops__linear_fit(m, &f);
        break;
    case HOPS_MODEL_LOGISTIC:
    case HOPS_MODEL_SOFTMAX:
        f.l2 = o->l2 >= 0 ? o->l2 : 1.0 / (j.s.C * (double)j.n_train);
        f.epochs = o->epochs ? o->epochs : 200;
        f.tol = j.s.tol / (double)j.n_train; /* scikit-learn's tol is on the summed loss */
        rc = hops__logistic_fit(m, &f);
        break;
    case HOPS_MODEL_MLP:
        f.lr = o->lr > 0 ? o->lr : f.adam ? 0.001 : 0.01;
        f.l2 = o->l2 >= 0 ? o->l2 : 1e-4 / (double)f.batch;
        f.epochs = o->epochs ? o->epochs : 200;
        if (m->task == ML_REGRESSION) {
            double mean = 0, ss = 0;
            for (size_t i = 0; i < j.n_train; i++)
                mean += j.y_train[i];
            mean /= (double)j.n_train;
            for (size_t i = 0; i < j.n_train; i++)
                ss += (j.y_train[i] - mean) * (j.y_train[i] - mean);
            m->target_scaled = 1;
            m->target_mean = mean;
            m->target_std = sqrt(ss / (double)j.n_train) > 0 ? sqrt(ss / (double)j.n_train) : 1;
        }
        rc = hops__mlp_fit(m, &f);
        break;
    case HOPS_MODEL_GBDT:
        f.lr = o->lr > 0 ? o->lr : 0.3;
        f.l2 = o->l2 >= 0 ? o->l2 : 1.0;
        f.epochs = o->epochs ? o->epochs : 100;
        rc = hops__gbdt_fit(m, &f, j.s.xgb, j.s.n_xgb);
        break;
    }
    if (rc != HOPS_OK)
        goto out;

    if ((rc = evaluate(m, j.x_train, j.y_train, j.n_train, threads, &train_metrics)) != HOPS_OK)
        goto out;
    json_decref(m->metrics);
    m->metrics = json_null();
    if (j.n_test &&
        (rc = evaluate(m, j.x_test, j.y_test, j.n_test, threads, &m->metrics)) != HOPS_OK)
        goto out;

    json_t *params = json_object();
    for (size_t i = 0; i < o->n_params; i++)
        json_object_set_new(params, o->params[i].key, json_string(o->params[i].value));
    json_t *rows = json_pack("{s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)hops_table_rows(j.t),
                             "train", (json_int_t)j.n_train, "validation", (json_int_t)j.n_val,
                             "test", (json_int_t)j.n_test, "null_label",
                             (json_int_t)(hops_table_rows(j.t) - j.n_usable));
    m->training = json_object();
    json_object_set_new(m->training, "run", o->run_id ? json_string(o->run_id) : json_null());
    json_object_set_new(m->training, "data", json_string(data_path));
    json_object_set_new(m->training, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(m->training, "threads", json_integer(threads));
    json_object_set_new(m->training, "test_split", json_real(o->test_split));
    json_object_set_new(m->training, "epochs", json_integer(f.epochs));
    json_object_set_new(m->training, "epochs_run", json_integer(f.epochs_run));
    json_object_set_new(m->training, "stopped_early", json_boolean(f.stopped_early));
    json_object_set_new(m->training, "l2", json_real(f.l2));
    if (o->type == HOPS_MODEL_MLP || o->type == HOPS_MODEL_GBDT)
        json_object_set_new(m->training, "lr", json_real(f.lr));
    if (o->type == HOPS_MODEL_MLP) {
        json_object_set_new(m->training, "batch", json_integer((json_int_t)f.batch));
        json_object_set_new(m->training, "optimizer", json_string(j.s.optimizer));
        json_object_set_new(m->training, "hidden",
                            size_list(o->n_hidden ? o->hidden : (const size_t[]){64},
                                      o->n_hidden ? o->n_hidden : 1));
    }
    json_object_set_new(m->training, "params", params);
    json_object_set(m->training, "rows", rows);
    json_object_set(m->training, "train_metrics", train_metrics);

    if (report_json) {
        json_t *fnames = json_array(), *classes = json_null();
        for (size_t i = 0; i < m->n_features; i++)
            json_array_append_new(fnames, json_string(m->features[i].name));
        if (m->task == ML_CLASSIFICATION) {
            classes = json_array();
            for (size_t i = 0; i < m->n_classes; i++)
                json_array_append_new(classes, json_string(m->classes[i]));
        }
        report =
            json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:O, s:i, s:b, s:O, s:O}", "type",
                      hops_model_type_name(m->type), "task",
                      m->task == ML_REGRESSION ? "regression" : "classification", "label", m->label,
                      "classes", classes, "features", fnames, "inputs", (json_int_t)m->n_inputs,
                      "rows", rows, "epochs", f.epochs_run, "stopped_early", f.stopped_early,
                      "train_metrics", train_metrics, "test_metrics", m->metrics);
        if (!report || !(*report_json = hops__json_dumps(report, JSON_COMPACT))) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            json_decref(rows);
            goto out;
        }
    }
    json_decref(rows);
out:
    json_decref(report);
    json_decref(train_metrics);
    job_free(&j);
    if (rc != HOPS_OK)
        hops_model_free(m);
    else
        *out = m;
    return rc;
}
