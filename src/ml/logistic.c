/* Logistic (binary) and softmax (multinomial) regression: the mean log loss
 * plus (l2/2)|W|^2 (the intercepts are not penalized), minimized by L-BFGS
 * with a backtracking line search, in double precision. With l2 = 1/(C n)
 * this is scikit-learn's LogisticRegression(C=C) objective divided by C n, so
 * both find the same optimum. Products with the data are cblas_dgemm. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml.h"

#define HISTORY 10      /* L-BFGS memory */
#define MAX_HALVINGS 50 /* line search */

typedef struct {
    const double *x; /* n x d */
    const double *y;
    size_t n, d, k; /* k: 1 (binary) or the number of classes */
    double l2;
    double *z; /* n x k scratch */
} problem;

static double softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* f(theta) and its gradient G. THETA: W (d x k, row-major) then b (k). */
static double objective(const problem *p, const double *theta, double *g)
{
    size_t n = p->n, d = p->d, k = p->k;
    const double *w = theta, *b = theta + d * k;
    double loss = 0, reg = 0;
    for (size_t i = 0; i < n; i++)
        memcpy(p->z + i * k, b, k * sizeof *b);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)d, 1.0, p->x,
                (int)d, w, (int)k, 1.0, p->z, (int)k);
    /* loss, and z becomes dLoss/dz (p - y) */
    for (size_t i = 0; i < n; i++) {
        double *zi = p->z + i * k;
        if (k == 1) {
            double yi = p->y[i];
            loss += softplus(zi[0]) - yi * zi[0];
            double s = zi[0] >= 0 ? 1 / (1 + exp(-zi[0])) : exp(zi[0]) / (1 + exp(zi[0]));
            zi[0] = s - yi;
        } else {
            size_t c = (size_t)p->y[i];
            double mx = zi[0], sum = 0;
            for (size_t j = 1; j < k; j++)
                mx = zi[j] > mx ? zi[j] : mx;
            for (size_t j = 0; j < k; j++)
                sum += exp(zi[j] - mx);
            loss += mx + log(sum) - zi[c];
            for (size_t j = 0; j < k; j++)
                zi[j] = exp(zi[j] - mx) / sum - (j == c ? 1.0 : 0.0);
        }
    }
    for (size_t i = 0; i < d * k; i++)
        reg += w[i] * w[i];
    if (g) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)k, (int)n,
                    1.0 / (double)n, p->x, (int)d, p->z, (int)k, 0.0, g, (int)k);
        for (size_t i = 0; i < d * k; i++)
            g[i] += p->l2 * w[i];
        double *gb = g + d * k;
        memset(gb, 0, k * sizeof *gb);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < k; j++)
                gb[j] += p->z[i * k + j];
        for (size_t j = 0; j < k; j++)
            gb[j] /= (double)n;
    }
    return loss / (double)n + 0.5 * p->l2 * reg;
}

static double dot(const double *a, const double *b, size_t n)
{
    return cblas_ddot((int)n, a, 1, b, 1);
}

hops_status hops__logistic_fit(hops_model *m, ml_fit *f)
{
    size_t n = f->train.n, d = f->train.d, k = m->n_outputs, np = d * k + k;
    double *x = malloc((n * d + 1) * sizeof *x), *z = malloc((n * k + 1) * sizeof *z);
    double *theta = calloc(np, sizeof *theta), *g = malloc(np * sizeof *g);
    double *tn = malloc(np * sizeof *tn), *gn = malloc(np * sizeof *gn),
           *dir = malloc(np * sizeof *dir);
    double *S = malloc(HISTORY * np * sizeof *S), *Y = malloc(HISTORY * np * sizeof *Y);
    double rho[HISTORY], alpha[HISTORY];
    size_t hist = 0, head = 0;
    hops_status rc = HOPS_OK;

    if (!x || !z || !theta || !g || !tn || !gn || !dir || !S || !Y) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n * d; i++)
        x[i] = (double)f->train.x[i];
    problem p = {x, f->train.y, n, d, k, f->l2, z};
    double fx = objective(&p, theta, g);
    for (int it = 1; it <= f->epochs; it++) {
        /* Two-loop recursion: dir = -H g. */
        memcpy(dir, g, np * sizeof *dir);
        for (size_t h = 0; h < hist; h++) {
            size_t j = (head + HISTORY - 1 - h) % HISTORY;
            alpha[j] = rho[j] * dot(S + j * np, dir, np);
            cblas_daxpy((int)np, -alpha[j], Y + j * np, 1, dir, 1);
        }
        if (hist) {
            size_t j = (head + HISTORY - 1) % HISTORY;
            double gamma = dot(S + j * np, Y + j * np, np) / dot(Y + j * np, Y + j * np, np);
            cblas_dscal((int)np, gamma, dir, 1);
        } else {
            double gn2 = sqrt(dot(g, g, np));
            cblas_dscal((int)np, gn2 > 0 ? 1.0 / gn2 : 1.0, dir, 1);
        }
        for (size_t h = hist; h-- > 0;) {
            size_t j = (head + HISTORY - 1 - h) % HISTORY;
            double beta = rho[j] * dot(Y + j * np, dir, np);
            cblas_daxpy((int)np, alpha[j] - beta, S + j * np, 1, dir, 1);
        }
        cblas_dscal((int)np, -1.0, dir, 1);
        double slope = dot(g, dir, np);
        if (!(slope < 0)) { /* not a descent direction: start over from the gradient */
            hist = 0;
            memcpy(dir, g, np * sizeof *dir);
            cblas_dscal((int)np, -1.0, dir, 1);
            slope = -dot(g, g, np);
        }
        double t = 1.0, fn = fx;
        int halvings = 0;
        for (;;) {
            memcpy(tn, theta, np * sizeof *tn);
            cblas_daxpy((int)np, t, dir, 1, tn, 1);
            fn = objective(&p, tn, gn);
            if (fn <= fx + 1e-4 * t * slope || ++halvings > MAX_HALVINGS)
                break;
            t *= 0.5;
        }
        f->epochs_run = it;
        if (halvings > MAX_HALVINGS) /* no progress is possible: the optimum */
            break;
        /* History: s = tn - theta, y = gn - g. */
        double *s = S + head * np, *yv = Y + head * np;
        for (size_t i = 0; i < np; i++) {
            s[i] = tn[i] - theta[i];
            yv[i] = gn[i] - g[i];
        }
        double sy = dot(s, yv, np);
        if (sy > 1e-12) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % HISTORY;
            if (hist < HISTORY)
                hist++;
        }
        double change = fx - fn;
        memcpy(theta, tn, np * sizeof *theta);
        memcpy(g, gn, np * sizeof *g);
        fx = fn;
        const char *keys[] = {"loss"};
        double vals[] = {fx};
        hops__epoch_report(f, it, 1, keys, vals);
        double gmax = 0;
        for (size_t i = 0; i < np; i++)
            gmax = fabs(g[i]) > gmax ? fabs(g[i]) : gmax;
        if (gmax < f->tol || change <= 1e-15 * (fabs(fx) > 1 ? fabs(fx) : 1))
            break;
    }
    if (!isfinite(fx)) {
        rc = hops__error(HOPS_ERROR, "training diverged (the loss is %g)", fx);
        goto out;
    }
    for (size_t i = 0; i < d * k; i++)
        m->layers[0].w[i] = (float)theta[i];
    for (size_t j = 0; j < k; j++)
        m->layers[0].b[j] = (float)theta[d * k + j];
out:
    free(x);
    free(z);
    free(theta);
    free(g);
    free(tn);
    free(gn);
    free(dir);
    free(S);
    free(Y);
    return rc;
}
