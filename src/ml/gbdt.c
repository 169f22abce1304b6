/* Gradient-boosted trees through XGBoost's C API. The booster is kept in the
 * model file as XGBoost's own UBJSON model, so hops reads it back exactly.
 * Prediction loads it into a booster once and keeps it in the model's pool:
 * a call takes a free booster (or loads one more when every one is busy, so
 * concurrent calls never share one) and puts it back, so a one-row
 * prediction costs XGBoost's prediction, not a model load. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "ml.h"

static hops_status xgb_error(const char *what)
{
    return hops__error(HOPS_ERROR, "XGBoost: %s: %s", what, XGBGetLastError());
}

static hops_status set_param(BoosterHandle h, const char *k, const char *v)
{
    if (XGBoosterSetParam(h, k, v) != 0)
        return hops__error(HOPS_EINVAL, "XGBoost parameter %s=%s: %s", k, v, XGBGetLastError());
    return HOPS_OK;
}

static hops_status matrix(const float *x, size_t n, size_t d, const double *y, DMatrixHandle *out)
{
    *out = NULL;
    if (XGDMatrixCreateFromMat(x, (bst_ulong)n, (bst_ulong)d, NAN, out) != 0)
        return xgb_error("cannot make a DMatrix");
    if (y) {
        float *lab = malloc((n ? n : 1) * sizeof *lab);
        if (!lab)
            return hops__error(HOPS_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            lab[i] = (float)y[i];
        int r = XGDMatrixSetFloatInfo(*out, "label", lab, (bst_ulong)n);
        free(lab);
        if (r != 0)
            return xgb_error("cannot set the labels");
    }
    return HOPS_OK;
}

/* The first "NAME-METRIC:VALUE" of EVAL for NAME. */
static int eval_value(const char *eval, const char *name, double *out)
{
    size_t nl = strlen(name);
    for (const char *p = eval; (p = strstr(p, name)) != NULL; p += nl) {
        if ((p == eval || p[-1] == '\t') && p[nl] == '-') {
            const char *colon = strchr(p, ':');
            if (!colon)
                return 0;
            *out = strtod(colon + 1, NULL);
            return 1;
        }
    }
    return 0;
}

hops_status hops__gbdt_fit(hops_model *m, ml_fit *f, const hops_kv *params, size_t n_params)
{
    DMatrixHandle dtrain = NULL, dval = NULL;
    BoosterHandle h = NULL;
    char buf[64];
    hops_status rc;
    size_t k = m->n_classes;

    if ((rc = matrix(f->train.x, f->train.n, f->train.d, f->train.y, &dtrain)) != HOPS_OK)
        goto out;
    if (f->val.n && (rc = matrix(f->val.x, f->val.n, f->val.d, f->val.y, &dval)) != HOPS_OK)
        goto out;
    DMatrixHandle cache[2] = {dtrain, dval};
    if (XGBoosterCreate(cache, dval ? 2 : 1, &h) != 0) {
        rc = xgb_error("cannot make a booster");
        goto out;
    }
    const char *objective = m->task == ML_REGRESSION ? "reg:squarederror"
                            : k == 2                 ? "binary:logistic"
                                                     : "multi:softprob";
    if ((rc = set_param(h, "objective", objective)) != HOPS_OK)
        goto out;
    if (m->task == ML_CLASSIFICATION && k > 2) {
        snprintf(buf, sizeof buf, "%zu", k);
        if ((rc = set_param(h, "num_class", buf)) != HOPS_OK)
            goto out;
    }
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)(f->o->seed & 0x7fffffff));
    if ((rc = set_param(h, "seed", buf)) != HOPS_OK)
        goto out;
    snprintf(buf, sizeof buf, "%d", f->threads);
    if ((rc = set_param(h, "nthread", buf)) != HOPS_OK || (rc = set_param(h, "verbosity", "0")))
        goto out;
    /* Histogram trees: fast on large tables and deterministic for a given
     * thread count ("exact", the default for small data, is slow). */
    if ((rc = set_param(h, "tree_method", "hist")) != HOPS_OK)
        goto out;
    snprintf(buf, sizeof buf, "%.17g", f->lr);
    if ((rc = set_param(h, "eta", buf)) != HOPS_OK)
        goto out;
    snprintf(buf, sizeof buf, "%.17g", f->l2);
    if ((rc = set_param(h, "lambda", buf)) != HOPS_OK)
        goto out;
    for (size_t i = 0; i < n_params; i++)
        if ((rc = set_param(h, params[i].key, params[i].value)) != HOPS_OK)
            goto out;

    double best = INFINITY;
    int since_best = 0;
    for (int it = 0; it < f->epochs; it++) {
        const char *eval = NULL;
        const char *names[2] = {"train", "val"};
        double tr = NAN, va = NAN;
        if (XGBoosterUpdateOneIter(h, it, dtrain) != 0) {
            rc = xgb_error("training failed");
            goto out;
        }
        if (XGBoosterEvalOneIter(h, it, cache, names, dval ? 2 : 1, &eval) != 0) {
            rc = xgb_error("evaluation failed");
            goto out;
        }
        eval_value(eval, "train", &tr);
        f->epochs_run = it + 1;
        if (dval) {
            eval_value(eval, "val", &va);
            const char *keys[] = {"loss", "val_loss"};
            double vals[] = {tr, va};
            hops__epoch_report(f, it + 1, 2, keys, vals);
            if (va < best - f->tol) {
                best = va;
                since_best = 0;
            } else if (f->patience > 0 && ++since_best >= f->patience) {
                f->stopped_early = 1;
                break;
            }
        } else {
            const char *keys[] = {"loss"};
            double vals[] = {tr};
            hops__epoch_report(f, it + 1, 1, keys, vals);
        }
    }
    bst_ulong len = 0;
    const char *raw = NULL;
    if (XGBoosterSaveModelToBuffer(h, "{\"format\": \"ubj\"}", &len, &raw) != 0) {
        rc = xgb_error("cannot save the booster");
        goto out;
    }
    free(m->booster);
    if (!(m->booster = malloc(len ? len : 1))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(m->booster, raw, len);
    m->booster_len = len;
out:
    if (h)
        XGBoosterFree(h);
    if (dtrain)
        XGDMatrixFree(dtrain);
    if (dval)
        XGDMatrixFree(dval);
    return rc;
}

/* Boosters loaded from a model's trees, free for the next call. */
typedef struct pooled {
    BoosterHandle h;
    int threads; /* its nthread */
    struct pooled *next;
} pooled;

struct hops__gbdt_pool {
    pthread_mutex_t lock;
    const unsigned char *src; /* the trees the boosters hold (m->booster) */
    pooled *free;
};

static void pooled_free(pooled *p)
{
    while (p) {
        pooled *next = p->next;
        XGBoosterFree(p->h);
        free(p);
        p = next;
    }
}

void hops__gbdt_pool_free(struct hops__gbdt_pool *pool)
{
    if (!pool)
        return;
    pooled_free(pool->free);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

/* M's pool, made on first use; several threads may race to make it, one wins. */
static struct hops__gbdt_pool *pool_of(const hops_model *m)
{
    struct hops__gbdt_pool **slot = (struct hops__gbdt_pool **)&m->gbdt_pool; /* a cache */
    struct hops__gbdt_pool *pool = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *none = NULL;
    if (pool)
        return pool;
    if (!(pool = calloc(1, sizeof *pool)))
        return NULL;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return NULL;
    }
    if (!__atomic_compare_exchange_n(slot, &none, pool, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        hops__gbdt_pool_free(pool);
        return none; /* another thread's */
    }
    return pool;
}

/* A booster holding M's trees with nthread THREADS, for this caller alone. */
static hops_status take_booster(const hops_model *m, struct hops__gbdt_pool *pool, int threads,
                                pooled **out)
{
    pooled *p = NULL, *stale = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->src != m->booster) { /* other trees than the pool's: start over */
        stale = pool->free;
        pool->free = NULL;
        pool->src = m->booster;
    }
    if ((p = pool->free) != NULL)
        pool->free = p->next;
    pthread_mutex_unlock(&pool->lock);
    pooled_free(stale);
    if (!p) {
        if (!(p = calloc(1, sizeof *p)))
            return hops__error(HOPS_ENOMEM, "out of memory");
        if (XGBoosterCreate(NULL, 0, &p->h) != 0) {
            free(p);
            return xgb_error("cannot make a booster");
        }
        if (XGBoosterLoadModelFromBuffer(p->h, m->booster, (bst_ulong)m->booster_len) != 0) {
            hops_status rc =
                hops__error(HOPS_ECORRUPT, "the model's trees do not load: %s", XGBGetLastError());
            pooled_free(p);
            return rc;
        }
    }
    if (p->threads != threads) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", threads);
        hops_status rc = set_param(p->h, "nthread", buf);
        if (rc != HOPS_OK) {
            pooled_free(p);
            return rc;
        }
        p->threads = threads;
    }
    *out = p;
    return HOPS_OK;
}

size_t hops__gbdt_pooled(const hops_model *m)
{
    struct hops__gbdt_pool *pool = __atomic_load_n(&m->gbdt_pool, __ATOMIC_ACQUIRE);
    size_t n = 0;
    if (!pool)
        return 0;
    pthread_mutex_lock(&pool->lock);
    for (const pooled *p = pool->free; p; p = p->next)
        n++;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

static void give_booster(const hops_model *m, struct hops__gbdt_pool *pool, pooled *p)
{
    pthread_mutex_lock(&pool->lock);
    if (pool->src == m->booster) {
        p->next = pool->free;
        pool->free = p;
        p = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    pooled_free(p);
}

hops_status hops__gbdt_predict(const hops_model *m, const float *x, size_t n, size_t d, int threads,
                               float *out)
{
    DMatrixHandle dm = NULL;
    bst_ulong len = 0;
    const float *res = NULL;
    pooled *p = NULL;
    hops_status rc = HOPS_OK;
    if (n == 0)
        return HOPS_OK;
    struct hops__gbdt_pool *pool = pool_of(m);
    if (!pool)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if ((rc = take_booster(m, pool, threads, &p)) != HOPS_OK)
        return rc;
    if ((rc = matrix(x, n, d, NULL, &dm)) != HOPS_OK)
        goto out;
    if (XGBoosterPredict(p->h, dm, 0, 0, 0, &len, &res) != 0) {
        rc = xgb_error("prediction failed");
        goto out;
    }
    if (len != (bst_ulong)(n * m->n_outputs)) {
        rc = hops__error(HOPS_ECORRUPT,
                         "the model's trees give %llu outputs for %zu rows, not %zu per row",
                         (unsigned long long)len, n, m->n_outputs);
        goto out;
    }
    memcpy(out, res, n * m->n_outputs * sizeof *out);
out:
    if (dm)
        XGDMatrixFree(dm);
    give_booster(m, pool, p);
    return rc;
}
