/* Dense layers: the forward pass every layered model predicts with (linear,
 * logistic, softmax and the MLP), and MLP training by back-propagation with
 * mini-batch SGD with momentum or Adam, L2, and early stopping.
 *
 * Every product of a batch with a weight matrix is one cblas_sgemm; the loops
 * here only add biases, apply activations and update parameters. */
#include <cblas.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hops/collective.h"
#include "ml.h"

#define PREDICT_BLOCK 4096 /* rows per forward block when predicting */

const char *hops__act_name(ml_act a)
{
    switch (a) {
    case ML_ACT_IDENTITY:
        return "identity";
    case ML_ACT_RELU:
        return "relu";
    case ML_ACT_TANH:
        return "tanh";
    case ML_ACT_SIGMOID:
        return "sigmoid";
    case ML_ACT_SOFTMAX:
        return "softmax";
    }
    return "?";
}

int hops__act_parse(const char *name, ml_act *out)
{
    static const ml_act all[] = {ML_ACT_IDENTITY, ML_ACT_RELU, ML_ACT_TANH, ML_ACT_SIGMOID,
                                 ML_ACT_SOFTMAX};
    for (size_t i = 0; name && i < HOPS_ARRAY_LEN(all); i++)
        if (strcmp(name, hops__act_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    if (name && strcmp(name, "logistic") == 0) { /* scikit-learn's name */
        *out = ML_ACT_SIGMOID;
        return 0;
    }
    return -1;
}

static float sigmoidf(float z)
{
    if (z >= 0)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

static void activate(ml_act a, float *z, size_t n, size_t k)
{
    size_t total = n * k;
    switch (a) {
    case ML_ACT_IDENTITY:
        break;
    case ML_ACT_RELU:
        for (size_t i = 0; i < total; i++)
            z[i] = z[i] > 0 ? z[i] : 0.0f;
        break;
    case ML_ACT_TANH:
        for (size_t i = 0; i < total; i++)
            z[i] = tanhf(z[i]);
        break;
    case ML_ACT_SIGMOID:
        for (size_t i = 0; i < total; i++)
            z[i] = sigmoidf(z[i]);
        break;
    case ML_ACT_SOFTMAX:
        for (size_t r = 0; r < n; r++) {
            float *row = z + r * k, mx = row[0], sum = 0;
            for (size_t j = 1; j < k; j++)
                mx = row[j] > mx ? row[j] : mx;
            for (size_t j = 0; j < k; j++) {
                row[j] = expf(row[j] - mx);
                sum += row[j];
            }
            for (size_t j = 0; j < k; j++)
                row[j] /= sum;
        }
        break;
    }
}

/* OUT (n x L->out) = act(IN (n x L->in) . W + b). */
static void layer_forward(const ml_layer *l, const float *in, size_t n, float *out)
{
    for (size_t r = 0; r < n; r++)
        memcpy(out + r * l->out, l->b, l->out * sizeof *out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)l->out, (int)l->in, 1.0f,
                in, (int)l->in, l->w, (int)l->out, 1.0f, out, (int)l->out);
    activate(l->act, out, n, l->out);
}

static size_t widest(const hops_model *m)
{
    size_t w = m->n_inputs;
    for (size_t l = 0; l < m->n_layers; l++)
        w = m->layers[l].out > w ? m->layers[l].out : w;
    return w;
}

hops_status hops__forward(const hops_model *m, const float *x, size_t n, float *out)
{
    size_t w = widest(m), block = n < PREDICT_BLOCK ? n : PREDICT_BLOCK;
    float *a = malloc((block ? block : 1) * w * sizeof *a);
    float *b = malloc((block ? block : 1) * w * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    for (size_t r0 = 0; r0 < n; r0 += block) {
        size_t nb = n - r0 < block ? n - r0 : block;
        const float *in = x + r0 * m->n_inputs;
        for (size_t l = 0; l < m->n_layers; l++) {
            float *dst = (l + 1 == m->n_layers) ? out + r0 * m->n_outputs : (l % 2 ? b : a);
            layer_forward(&m->layers[l], in, nb, dst);
            in = dst;
        }
    }
    free(a);
    free(b);
    return HOPS_OK;
}

hops_status hops__model_outputs_eval(const hops_model *m, const float *x, size_t n, int threads,
                                     double *out)
{
    size_t k = m->n_outputs;
    float *raw = malloc((n ? n : 1) * k * sizeof *raw);
    hops_status rc;
    if (!raw)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if (m->type == HOPS_MODEL_GBDT)
        rc = hops__gbdt_predict(m, x, n, m->n_inputs, threads, raw);
    else
        rc = hops__forward(m, x, n, raw);
    if (rc == HOPS_OK) {
        if (m->task == ML_REGRESSION) {
            for (size_t i = 0; i < n; i++)
                out[i] = m->target_scaled ? (double)raw[i] * m->target_std + m->target_mean
                                          : (double)raw[i];
        } else if (k == 1) {
            for (size_t i = 0; i < n; i++) {
                out[2 * i + 1] = (double)raw[i];
                out[2 * i] = 1.0 - (double)raw[i];
            }
        } else {
            for (size_t i = 0; i < n * k; i++)
                out[i] = (double)raw[i];
        }
    }
    free(raw);
    return rc;
}

/* ---- training ---- */

typedef struct {
    float *gw, *gb; /* gradients */
    float *mw, *mb; /* adam first moments / sgd velocities */
    float *vw, *vb; /* adam second moments */
    float *best_w, *best_b;
} layer_state;

static void state_free(layer_state *s, size_t n)
{
    for (size_t l = 0; s && l < n; l++) {
        free(s[l].gw);
        free(s[l].gb);
        free(s[l].mw);
        free(s[l].mb);
        free(s[l].vw);
        free(s[l].vb);
        free(s[l].best_w);
        free(s[l].best_b);
    }
    free(s);
}

/* Glorot uniform, as scikit-learn's MLP: bound sqrt(6 / (in + out)), sqrt(2 / ...)
 * before a sigmoid. */
static void init_weights(hops_model *m, ml_rng *rng)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        ml_layer *L = &m->layers[l];
        double factor = L->act == ML_ACT_SIGMOID ? 2.0 : 6.0;
        double bound = sqrt(factor / (double)(L->in + L->out));
        for (size_t i = 0; i < L->in * L->out; i++)
            L->w[i] = (float)((2.0 * hops__rng_uniform(rng) - 1.0) * bound);
        for (size_t i = 0; i < L->out; i++)
            L->b[i] = (float)((2.0 * hops__rng_uniform(rng) - 1.0) * bound);
    }
}

static double l2_term(const hops_model *m, double l2)
{
    double s = 0;
    if (l2 <= 0)
        return 0;
    for (size_t l = 0; l < m->n_layers; l++)
        for (size_t i = 0; i < m->layers[l].in * m->layers[l].out; i++)
            s += (double)m->layers[l].w[i] * m->layers[l].w[i];
    return 0.5 * l2 * s;
}

static double target_of(const hops_model *m, double y)
{
    return m->target_scaled ? (y - m->target_mean) / m->target_std : y;
}

/* The loss of the outputs OUT (n x k) against Y (summed, not averaged), and
 * optionally DELTA = dLoss/dZ of the output layer, divided by SCALE. */
static double output_loss(const hops_model *m, const float *out, const double *y, const size_t *idx,
                          size_t n, float *delta, float scale)
{
    size_t k = m->n_outputs;
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        double yi = y[idx ? idx[i] : i];
        const float *o = out + i * k;
        if (m->task == ML_REGRESSION) {
            double t = target_of(m, yi), e = (double)o[0] - t;
            loss += 0.5 * e * e;
            if (delta)
                delta[i] = (float)(e / scale);
        } else if (k == 1) {
            double p = o[0] < 1e-12f ? 1e-12 : o[0] > 1 - 1e-7f ? 1 - 1e-7 : (double)o[0];
            loss -= yi > 0.5 ? log(p) : log(1 - p);
            if (delta)
                delta[i] = (float)(((double)o[0] - (yi > 0.5 ? 1.0 : 0.0)) / scale);
        } else {
            size_t c = (size_t)yi;
            double p = o[c] < 1e-12f ? 1e-12 : (double)o[c];
            loss -= log(p);
            if (delta)
                for (size_t j = 0; j < k; j++)
                    delta[i * k + j] = (float)(((double)o[j] - (j == c ? 1.0 : 0.0)) / scale);
        }
    }
    return loss;
}

/* Validation loss (mean, with the L2 term) and accuracy or R^2. */
static hops_status validate(const hops_model *m, const ml_fit *f, double *loss, double *score)
{
    const ml_data *v = &f->val;
    size_t k = m->n_outputs;
    float *out = malloc(v->n * k * sizeof *out);
    if (!out)
        return hops__error(HOPS_ENOMEM, "out of memory");
    hops_status rc = hops__forward(m, v->x, v->n, out);
    if (rc != HOPS_OK) {
        free(out);
        return rc;
    }
    *loss = output_loss(m, out, v->y, NULL, v->n, NULL, 1) / (double)v->n + l2_term(m, f->l2);
    if (m->task == ML_REGRESSION) {
        double mean = 0, ss_tot = 0, ss_res = 0;
        for (size_t i = 0; i < v->n; i++)
            mean += target_of(m, v->y[i]);
        mean /= (double)v->n;
        for (size_t i = 0; i < v->n; i++) {
            double t = target_of(m, v->y[i]), e = t - out[i];
            ss_res += e * e;
            ss_tot += (t - mean) * (t - mean);
        }
        *score = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1 : 0);
    } else {
        size_t right = 0;
        for (size_t i = 0; i < v->n; i++) {
            size_t pred = 0;
            if (k == 1)
                pred = out[i] > 0.5f;
            else
                for (size_t j = 1; j < k; j++)
                    if (out[i * k + j] > out[i * k + pred])
                        pred = j;
            right += pred == (size_t)v->y[i];
        }
        *score = (double)right / (double)v->n;
    }
    free(out);
    return HOPS_OK;
}

static void keep_best(hops_model *m, layer_state *s)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        memcpy(s[l].best_w, m->layers[l].w, m->layers[l].in * m->layers[l].out * sizeof(float));
        memcpy(s[l].best_b, m->layers[l].b, m->layers[l].out * sizeof(float));
    }
}

static void restore_best(hops_model *m, layer_state *s)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        memcpy(m->layers[l].w, s[l].best_w, m->layers[l].in * m->layers[l].out * sizeof(float));
        memcpy(m->layers[l].b, s[l].best_b, m->layers[l].out * sizeof(float));
    }
}

static void update(float *p, float *g, float *mom, float *vel, size_t n, const ml_fit *f,
                   double lr_t)
{
    if (f->adam) {
        for (size_t i = 0; i < n; i++) {
            mom[i] = 0.9f * mom[i] + 0.1f * g[i];
            vel[i] = 0.999f * vel[i] + 0.001f * g[i] * g[i];
            p[i] -= (float)(lr_t * mom[i] / (sqrt((double)vel[i]) + 1e-8));
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            mom[i] = (float)(f->momentum * mom[i] - f->lr * g[i]);
            p[i] += mom[i];
        }
    }
}

/* One share of a batch: forward and backward over ROWS, gradients (of the
 * loss summed over the rows, divided by SCALE: the whole batch's size)
 * packed layer by layer (W then b) into G; its summed loss in LOSS. Each
 * share has its own buffers, so shares run on threads at once. */
typedef struct {
    const hops_model *m;
    const ml_fit *f;
    const size_t *rows;
    size_t n_rows, cap;
    float scale;
    float **act; /* L + 1 buffers of cap rows */
    float *delta, *dprev;
    float *g;
    double loss;
} share;

static size_t packed_size(const hops_model *m)
{
    size_t p = 0;
    for (size_t l = 0; l < m->n_layers; l++)
        p += m->layers[l].in * m->layers[l].out + m->layers[l].out;
    return p;
}

static void share_free(share *sh)
{
    if (sh->act)
        for (size_t l = 0; l <= sh->m->n_layers; l++)
            free(sh->act[l]);
    free(sh->act);
    free(sh->delta);
    free(sh->dprev);
    free(sh->g);
}

static int share_init(share *sh, const hops_model *m, const ml_fit *f, size_t cap)
{
    size_t L = m->n_layers, w = widest(m);
    memset(sh, 0, sizeof *sh);
    sh->m = m;
    sh->f = f;
    sh->cap = cap ? cap : 1;
    sh->act = calloc(L + 1, sizeof *sh->act);
    sh->delta = malloc(sh->cap * w * sizeof(float));
    sh->dprev = malloc(sh->cap * w * sizeof(float));
    sh->g = malloc(packed_size(m) * sizeof(float));
    if (!sh->act || !sh->delta || !sh->dprev || !sh->g)
        return -1;
    if (!(sh->act[0] = malloc(sh->cap * m->n_inputs * sizeof(float))))
        return -1;
    for (size_t l = 0; l < L; l++)
        if (!(sh->act[l + 1] = malloc(sh->cap * m->layers[l].out * sizeof(float))))
            return -1;
    return 0;
}

static void share_grad(share *sh)
{
    const hops_model *m = sh->m;
    const ml_fit *f = sh->f;
    size_t L = m->n_layers, d = m->n_inputs, nb = sh->n_rows;
    float *delta = sh->delta, *dprev = sh->dprev, **act = sh->act;
    sh->loss = 0;
    if (nb == 0) {
        memset(sh->g, 0, packed_size(m) * sizeof(float));
        return;
    }
    for (size_t i = 0; i < nb; i++)
        memcpy(act[0] + i * d, f->train.x + sh->rows[i] * d, d * sizeof(float));
    for (size_t l = 0; l < L; l++)
        layer_forward(&m->layers[l], act[l], nb, act[l + 1]);
    sh->loss = output_loss(m, act[L], f->train.y, sh->rows, nb, delta, sh->scale);
    size_t off = packed_size(m);
    for (size_t l = L; l-- > 0;) {
        const ml_layer *ly = &m->layers[l];
        off -= ly->in * ly->out + ly->out;
        float *gw = sh->g + off, *gb = gw + ly->in * ly->out;
        /* gW = A^T . delta; gb = column sums of delta */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ly->in, (int)ly->out, (int)nb,
                    1.0f, act[l], (int)ly->in, delta, (int)ly->out, 0.0f, gw, (int)ly->out);
        memset(gb, 0, ly->out * sizeof(float));
        for (size_t i = 0; i < nb; i++)
            for (size_t j = 0; j < ly->out; j++)
                gb[j] += delta[i * ly->out + j];
        if (l > 0) {
            /* delta of the layer below: (delta . W^T) * act'(A) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)ly->in,
                        (int)ly->out, 1.0f, delta, (int)ly->out, ly->w, (int)ly->out, 0.0f, dprev,
                        (int)ly->in);
            const float *a = act[l];
            ml_act h = m->layers[l - 1].act;
            for (size_t i = 0; i < nb * ly->in; i++) {
                float dv = h == ML_ACT_RELU      ? (a[i] > 0 ? 1.0f : 0.0f)
                           : h == ML_ACT_TANH    ? 1.0f - a[i] * a[i]
                           : h == ML_ACT_SIGMOID ? a[i] * (1.0f - a[i])
                                                 : 1.0f;
                dprev[i] *= dv;
            }
            float *t = delta;
            delta = dprev;
            dprev = t;
        }
    }
}

/* Point SH at share K of N of the batch ROWS[0..nb): rows split in order,
 * gradients scaled by the whole batch. */
static void set_share(share *sh, const size_t *rows, size_t nb, size_t k, size_t n)
{
    size_t lo = nb * k / n, hi = nb * (k + 1) / n;
    sh->rows = rows + lo;
    sh->n_rows = hi - lo;
    sh->scale = (float)nb;
}

static void *share_thread(void *arg)
{
    share_grad(arg);
    return NULL;
}

static void pack_params(const hops_model *m, float *x)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t nw = m->layers[l].in * m->layers[l].out, nb = m->layers[l].out;
        memcpy(x, m->layers[l].w, nw * sizeof(float));
        memcpy(x + nw, m->layers[l].b, nb * sizeof(float));
        x += nw + nb;
    }
}

static void unpack_params(hops_model *m, const float *x)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t nw = m->layers[l].in * m->layers[l].out, nb = m->layers[l].out;
        memcpy(m->layers[l].w, x, nw * sizeof(float));
        memcpy(m->layers[l].b, x + nw, nb * sizeof(float));
        x += nw + nb;
    }
}

/* A step as a worker of parameter servers: this worker's share of the batch,
 * its part of the L2 term, pushed; the servers' parameters back into M. */
static hops_status ps_step(hops_model *m, share *sh, const ml_fit *f, const size_t *rows,
                           size_t nb, float *buf, double *loss)
{
    hops_ps *ps = f->o->ps;
    size_t off = 0;
    set_share(sh, rows, nb, (size_t)hops_ps_worker(ps), (size_t)hops_ps_workers(ps));
    share_grad(sh);
    double frac = (double)sh->n_rows / (double)nb; /* the shares' L2 parts add up to l2 W */
    for (size_t l = 0; l < m->n_layers; l++) {
        const ml_layer *ly = &m->layers[l];
        if (f->l2 > 0)
            for (size_t i = 0; i < ly->in * ly->out; i++)
                sh->g[off + i] += (float)(f->l2 * frac) * ly->w[i];
        off += ly->in * ly->out + ly->out;
    }
    double total = 0;
    hops_status rc = hops_ps_step(ps, sh->g, sh->loss, buf, &total);
    if (rc != HOPS_OK)
        return rc;
    unpack_params(m, buf);
    /* Synchronous servers sum every worker's loss; with asynchronous ones
     * ours, scaled by the share, stands for the batch's. */
    *loss += hops_ps_sync(ps) || frac <= 0 ? total : sh->loss / frac;
    return HOPS_OK;
}

/* The batch ROWS[0..nb)'s gradient into G (packed), its summed loss into
 * *LOSS: alone, over REPLICAS threads (their shares summed in order), or over
 * the ranks of F->o->comm (this rank's share, then an all-reduce). */
static hops_status batch_grad(share *sh, size_t n_sh, const ml_fit *f, const size_t *rows,
                              size_t nb, float *g, double *loss)
{
    const hops_model *m = sh[0].m;
    size_t P = packed_size(m);
    hops_comm *comm = f->o->comm;
    if (comm) {
        set_share(&sh[0], rows, nb, (size_t)hops_comm_rank(comm), (size_t)hops_comm_size(comm));
        share_grad(&sh[0]);
        memcpy(g, sh[0].g, P * sizeof(float));
        *loss += sh[0].loss; /* this rank's part; the epoch's total is all-reduced */
        return hops_comm_allreduce(comm, g, P, HOPS_FLOAT32, HOPS_REDUCE_SUM);
    }
    pthread_t tid[64];
    size_t started = 0;
    for (size_t t = 0; t < n_sh; t++)
        set_share(&sh[t], rows, nb, t, n_sh);
    for (size_t t = 1; t < n_sh; t++) { /* replica 0 runs here */
        if (pthread_create(&tid[t], NULL, share_thread, &sh[t]) != 0)
            share_grad(&sh[t]);
        else
            started |= (size_t)1 << t;
    }
    share_grad(&sh[0]);
    for (size_t t = 1; t < n_sh; t++)
        if (started >> t & 1)
            pthread_join(tid[t], NULL);
    memcpy(g, sh[0].g, P * sizeof(float));
    *loss += sh[0].loss;
    for (size_t t = 1; t < n_sh; t++) {
        for (size_t i = 0; i < P; i++)
            g[i] += sh[t].g[i];
        *loss += sh[t].loss;
    }
    return HOPS_OK;
}

/* ---- checkpoints ----
 * "HOPSCKP1", then little-endian u64s: format version, epoch, step (as a
 * double's bits), the four words of the shuffle generator, best (double
 * bits), epochs since best, layer count, each layer's in and out, the shuffle
 * order's length; the order (u64s); then float arrays for every layer: W, b,
 * their first and second moments, the best W and b; and a CRC-32 of all that
 * came before. Written whole (temp file, fsync, rename) or not at all. */
#define CKPT_MAGIC "HOPSCKP1"
#define CKPT_VERSION 1

typedef struct {
    int epoch;
    double step, best;
    int since_best;
} ckpt_pos;

static void put_u64(hops_buf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    hops__buf_put(b, x, 8);
}

static void put_f64(hops_buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_u64(b, u);
}

static void put_floats(hops_buf *b, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        unsigned char c[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                              (unsigned char)(u >> 24)};
        hops__buf_put(b, c, 4);
    }
}

static hops_status ckpt_save(const char *path, const hops_model *m, const layer_state *s,
                             const ml_rng *rng, const size_t *idx, size_t n, const ckpt_pos *pos)
{
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_put(&b, CKPT_MAGIC, 8);
    put_u64(&b, CKPT_VERSION);
    put_u64(&b, (uint64_t)pos->epoch);
    put_f64(&b, pos->step);
    for (int i = 0; i < 4; i++)
        put_u64(&b, rng->s[i]);
    put_f64(&b, pos->best);
    put_u64(&b, (uint64_t)pos->since_best);
    put_u64(&b, m->n_layers);
    for (size_t l = 0; l < m->n_layers; l++) {
        put_u64(&b, m->layers[l].in);
        put_u64(&b, m->layers[l].out);
    }
    put_u64(&b, n);
    for (size_t i = 0; i < n; i++)
        put_u64(&b, idx[i]);
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t nw = m->layers[l].in * m->layers[l].out, nb = m->layers[l].out;
        put_floats(&b, m->layers[l].w, nw);
        put_floats(&b, m->layers[l].b, nb);
        put_floats(&b, s[l].mw, nw);
        put_floats(&b, s[l].mb, nb);
        put_floats(&b, s[l].vw, nw);
        put_floats(&b, s[l].vb, nb);
        put_floats(&b, s[l].best_w, nw);
        put_floats(&b, s[l].best_b, nb);
    }
    if (!b.data) {
        hops__buf_free(&b);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    put_u64(&b, (uint64_t)crc32(0L, (const Bytef *)b.data, (uInt)b.len));
    hops_status rc = hops__atomic_write(path, b.data, b.len);
    hops__buf_free(&b);
    return rc;
}

typedef struct {
    const unsigned char *p;
    size_t len, pos;
    int bad;
} ckpt_rd;

static uint64_t get_u64(ckpt_rd *r)
{
    uint64_t v = 0;
    if (r->bad || r->len - r->pos < 8) {
        r->bad = 1;
        return 0;
    }
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += 8;
    return v;
}

static double get_f64(ckpt_rd *r)
{
    uint64_t u = get_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void get_floats(ckpt_rd *r, float *x, size_t n)
{
    if (r->bad || (r->len - r->pos) / 4 < n) {
        r->bad = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *c = r->p + r->pos + 4 * i;
        uint32_t u = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
                     (uint32_t)c[3] << 24;
        memcpy(&x[i], &u, 4);
    }
    r->pos += 4 * n;
}

/* Load a checkpoint into M, S, RNG, IDX (N entries) and POS; the model's
 * shapes and the row count must be the ones it was written with. */
static hops_status ckpt_load(const char *path, hops_model *m, layer_state *s, ml_rng *rng,
                             size_t *idx, size_t n, ckpt_pos *pos)
{
    char *data = NULL;
    size_t len = 0;
    hops_status rc = hops__read_file(path, &data, &len);
    if (rc != HOPS_OK)
        return rc;
    ckpt_rd r = {(const unsigned char *)data, len, 0, 0};
    if (len < 16 || memcmp(data, CKPT_MAGIC, 8) != 0) {
        free(data);
        return hops__error(HOPS_ECORRUPT, "%s: not a hops training checkpoint", path);
    }
    uint64_t stored = 0;
    for (int i = 0; i < 8; i++)
        stored |= (uint64_t)(unsigned char)data[len - 8 + (size_t)i] << (8 * i);
    if ((uint64_t)crc32(0L, (const Bytef *)data, (uInt)(len - 8)) != stored) {
        free(data);
        return hops__error(HOPS_ECORRUPT, "%s: damaged or truncated (checksum mismatch)", path);
    }
    r.len = len - 8;
    r.pos = 8;
    if (get_u64(&r) != CKPT_VERSION) {
        free(data);
        return hops__error(HOPS_EVERSION, "%s: a checkpoint format this hops does not know", path);
    }
    pos->epoch = (int)get_u64(&r);
    pos->step = get_f64(&r);
    for (int i = 0; i < 4; i++)
        rng->s[i] = get_u64(&r);
    pos->best = get_f64(&r);
    pos->since_best = (int)get_u64(&r);
    int same = get_u64(&r) == m->n_layers;
    for (size_t l = 0; same && l < m->n_layers; l++)
        same = get_u64(&r) == m->layers[l].in && get_u64(&r) == m->layers[l].out;
    same = same && get_u64(&r) == n;
    if (!same || r.bad) {
        free(data);
        return hops__error(HOPS_EINVAL, "%s was written by training with other data or "
                                        "options (layers or rows differ): resume with the same "
                                        "ones", path);
    }
    for (size_t i = 0; i < n; i++) {
        idx[i] = (size_t)get_u64(&r);
        if (idx[i] >= n)
            r.bad = 1;
    }
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t nw = m->layers[l].in * m->layers[l].out, nb = m->layers[l].out;
        get_floats(&r, m->layers[l].w, nw);
        get_floats(&r, m->layers[l].b, nb);
        get_floats(&r, s[l].mw, nw);
        get_floats(&r, s[l].mb, nb);
        get_floats(&r, s[l].vw, nw);
        get_floats(&r, s[l].vb, nb);
        get_floats(&r, s[l].best_w, nw);
        get_floats(&r, s[l].best_b, nb);
    }
    free(data);
    if (r.bad || r.pos != r.len || pos->epoch < 0)
        return hops__error(HOPS_ECORRUPT, "%s: damaged checkpoint", path);
    return HOPS_OK;
}

hops_status hops__mlp_fit(hops_model *m, ml_fit *f)
{
    size_t L = m->n_layers, n = f->train.n, B = f->batch, P = packed_size(m);
    size_t n_sh = f->o->replicas > 1 ? (size_t)f->o->replicas : 1;
    size_t *idx = malloc(n * sizeof *idx);
    float *g = malloc(P * sizeof *g);
    layer_state *s = calloc(L, sizeof *s);
    share *sh = calloc(n_sh, sizeof *sh);
    double best = INFINITY, step = 0;
    int since_best = 0;
    ml_rng rng;
    hops_status rc = HOPS_OK;

    if (n_sh > 64) {
        free(idx), free(g), free(s), free(sh);
        return hops__error(HOPS_EINVAL, "at most 64 mirrored replicas, not %zu", n_sh);
    }
    if (!idx || !g || !s || !sh) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t t = 0; t < n_sh; t++) /* a share is at most a batch's rows */
        if (share_init(&sh[t], m, f, B) != 0) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
    for (size_t l = 0; l < L; l++) {
        size_t nw = m->layers[l].in * m->layers[l].out, nb = m->layers[l].out;
        s[l].mw = calloc(nw, sizeof(float));
        s[l].mb = calloc(nb, sizeof(float));
        s[l].vw = calloc(nw, sizeof(float));
        s[l].vb = calloc(nb, sizeof(float));
        s[l].best_w = malloc(nw * sizeof(float));
        s[l].best_b = malloc(nb * sizeof(float));
        if (!s[l].mw || !s[l].mb || !s[l].vw || !s[l].vb || !s[l].best_w || !s[l].best_b) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
    }
    hops__rng_seed(&rng, f->o->seed);
    init_weights(m, &rng);
    keep_best(m, s);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    int first_epoch = 1;
    if (f->o->resume) {
        ckpt_pos pos = {0, 0, 0, 0};
        if ((rc = ckpt_load(f->o->resume, m, s, &rng, idx, n, &pos)) != HOPS_OK)
            goto out;
        first_epoch = pos.epoch + 1;
        step = pos.step;
        best = pos.best;
        since_best = pos.since_best;
        f->epochs_run = pos.epoch;
    }
    int writer = !f->o->comm || hops_comm_rank(f->o->comm) == 0;
    if (f->o->ps) { /* the chief gives the servers its weights; everyone starts from theirs */
        hops_ps_optimizer opt = {f->adam, f->lr, f->momentum};
        pack_params(m, g);
        if ((rc = hops_ps_start(f->o->ps, g, P, &opt)) != HOPS_OK)
            goto out;
        unpack_params(m, g);
    }

    for (int epoch = first_epoch; epoch <= f->epochs; epoch++) {
        double loss = 0;
        hops__rng_shuffle(&rng, idx, n); /* every rank draws the same order */
        for (size_t b0 = 0; b0 < n; b0 += B) {
            size_t nb = n - b0 < B ? n - b0 : B;
            if (f->o->ps) {
                if ((rc = ps_step(m, &sh[0], f, idx + b0, nb, g, &loss)) != HOPS_OK)
                    goto out;
                continue; /* the servers applied the update */
            }
            if ((rc = batch_grad(sh, n_sh, f, idx + b0, nb, g, &loss)) != HOPS_OK)
                goto out;
            step += 1;
            double lr_t = f->lr * sqrt(1 - pow(0.999, step)) / (1 - pow(0.9, step));
            size_t off = 0;
            for (size_t l = 0; l < L; l++) {
                ml_layer *ly = &m->layers[l];
                float *gw = g + off, *gb = gw + ly->in * ly->out;
                off += ly->in * ly->out + ly->out;
                if (f->l2 > 0) /* after the sum: the weights are the same everywhere */
                    for (size_t i = 0; i < ly->in * ly->out; i++)
                        gw[i] += (float)f->l2 * ly->w[i];
                update(ly->w, gw, s[l].mw, s[l].vw, ly->in * ly->out, f, lr_t);
                update(ly->b, gb, s[l].mb, s[l].vb, ly->out, f, lr_t);
            }
        }
        if (f->o->comm &&
            (rc = hops_comm_allreduce(f->o->comm, &loss, 1, HOPS_FLOAT64, HOPS_REDUCE_SUM)) !=
                HOPS_OK)
            goto out;
        loss = loss / (double)n + l2_term(m, f->l2);
        f->epochs_run = epoch;
        if (!isfinite(loss)) {
            rc = hops__error(HOPS_ERROR,
                             "training diverged at epoch %d (the loss is %g): lower the learning "
                             "rate (--lr, now %g)",
                             epoch, loss, f->lr);
            goto out;
        }
        if (f->val.n) {
            double vloss = 0, vscore = 0;
            if ((rc = validate(m, f, &vloss, &vscore)) != HOPS_OK)
                goto out;
            const char *keys[] = {"loss", "val_loss",
                                  m->task == ML_REGRESSION ? "val_r2" : "val_accuracy"};
            double vals[] = {loss, vloss, vscore};
            hops__epoch_report(f, epoch, 3, keys, vals);
            if (vloss < best - f->tol) {
                best = vloss;
                since_best = 0;
                keep_best(m, s);
            } else if (f->patience > 0 && ++since_best >= f->patience) {
                f->stopped_early = 1;
                break;
            }
        } else {
            const char *keys[] = {"loss"};
            double vals[] = {loss};
            hops__epoch_report(f, epoch, 1, keys, vals);
            /* scikit-learn's rule without a validation split: stop when the
             * training loss has not improved by TOL for PATIENCE epochs. */
            if (loss < best - f->tol) {
                since_best = 0;
            } else if (f->patience > 0 && ++since_best >= f->patience) {
                f->stopped_early = 1;
                break;
            }
            if (loss < best)
                best = loss;
        }
        if (f->o->checkpoint_every > 0 && epoch % f->o->checkpoint_every == 0 && writer) {
            ckpt_pos pos = {epoch, step, best, since_best};
            if ((rc = ckpt_save(f->o->checkpoint, m, s, &rng, idx, n, &pos)) != HOPS_OK)
                goto out;
        }
    }
    if (f->val.n)
        restore_best(m, s);
out:
    for (size_t t = 0; sh && t < n_sh; t++)
        if (sh[t].m)
            share_free(&sh[t]);
    free(sh);
    free(idx);
    free(g);
    state_free(s, L);
    return rc;
}
