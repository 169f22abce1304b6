/* Linear regression in closed form: least squares on the centered inputs
 * with LAPACK's dgelsd (SVD; the minimum-norm solution when columns are
 * collinear, as one-hot columns with an intercept are), and ridge by solving
 * the augmented system [X; sqrt(alpha) I] w = [y; 0], which minimizes
 * |y - Xw|^2 + alpha |w|^2 as scikit-learn's Ridge does. The intercept is
 * not penalized: it is mean(y) - mean(X) w. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml.h"

/* LAPACK (in OpenBLAS); Debian ships no lapacke.h with it. */
void dgelsd_(const int *m, const int *n, const int *nrhs, double *a, const int *lda, double *b,
             const int *ldb, double *s, const double *rcond, int *rank, double *work,
             const int *lwork, int *iwork, int *info);

hops_status hops__linear_fit(hops_model *m, ml_fit *f)
{
    size_t n = f->train.n, d = f->train.d, rows = n + (f->l2 > 0 ? d : 0);
    double *a = NULL, *b = NULL, *sv = NULL, *work = NULL, *xmean = NULL, ymean = 0, wq = 0;
    int *iwork = NULL;
    int M = (int)rows, N = (int)d, nrhs = 1, lda = M, ldb = M > N ? M : N, rank = 0, info = 0;
    int lwork = -1, liwork;
    /* Singular values below 1e-10 of the largest count as 0: collinear
     * columns (one-hot with the intercept) then get the minimum-norm
     * weights instead of huge ones that cancel only in double precision
     * (the model keeps floats). */
    double rcond = 1e-10;
    hops_status rc = HOPS_OK;
    ml_layer *L = &m->layers[0];

    if (rows > (size_t)INT32_MAX / (d ? d : 1))
        return hops__error(HOPS_EINVAL, "%zu rows x %zu inputs is too large for the closed form", n,
                           d);
    a = calloc(rows * d + 1, sizeof *a);
    b = calloc((size_t)ldb + 1, sizeof *b);
    sv = calloc(d + 1, sizeof *sv);
    xmean = calloc(d + 1, sizeof *xmean);
    if (!a || !b || !sv || !xmean) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ymean += f->train.y[i];
        for (size_t j = 0; j < d; j++)
            xmean[j] += f->train.x[i * d + j];
    }
    ymean /= (double)n;
    for (size_t j = 0; j < d; j++)
        xmean[j] /= (double)n;
    /* Column-major for LAPACK. */
    for (size_t j = 0; j < d; j++)
        for (size_t i = 0; i < n; i++)
            a[j * rows + i] = (double)f->train.x[i * d + j] - xmean[j];
    if (f->l2 > 0)
        for (size_t j = 0; j < d; j++)
            a[j * rows + n + j] = sqrt(f->l2);
    for (size_t i = 0; i < n; i++)
        b[i] = f->train.y[i] - ymean;

    if (d > 0) {
        /* Workspace query, then the solve. */
        liwork = 1;
        int iq = 0;
        dgelsd_(&M, &N, &nrhs, a, &lda, b, &ldb, sv, &rcond, &rank, &wq, &lwork, &iq, &info);
        if (info != 0) {
            rc = hops__error(HOPS_ERROR, "least squares: LAPACK dgelsd workspace query failed (%d)",
                             info);
            goto out;
        }
        lwork = (int)wq + 1;
        int minmn = M < N ? M : N, nlvl = (int)(log2((double)minmn / 26.0)) + 1;
        liwork = 3 * minmn * (nlvl > 0 ? nlvl : 1) + 11 * minmn + 1;
        if (iq > liwork)
            liwork = iq;
        work = malloc((size_t)lwork * sizeof *work);
        iwork = malloc((size_t)liwork * sizeof *iwork);
        if (!work || !iwork) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
        dgelsd_(&M, &N, &nrhs, a, &lda, b, &ldb, sv, &rcond, &rank, work, &lwork, iwork, &info);
        if (info != 0) {
            rc =
                hops__error(HOPS_ERROR, "least squares did not converge (LAPACK dgelsd: %d)", info);
            goto out;
        }
    }
    double intercept = ymean;
    for (size_t j = 0; j < d; j++) {
        L->w[j] = (float)b[j];
        intercept -= xmean[j] * b[j];
    }
    L->b[0] = (float)intercept;

    /* The training loss (mean squared error), reported as epoch 1. */
    double sse = 0;
    for (size_t i = 0; i < n; i++) {
        double p = intercept;
        for (size_t j = 0; j < d; j++)
            p += b[j] * f->train.x[i * d + j];
        sse += (p - f->train.y[i]) * (p - f->train.y[i]);
    }
    const char *keys[] = {"loss"};
    double vals[] = {sse / (double)n};
    f->epochs_run = 1;
    hops__epoch_report(f, 1, 1, keys, vals);
out:
    free(a);
    free(b);
    free(sv);
    free(work);
    free(iwork);
    free(xmean);
    return rc;
}
