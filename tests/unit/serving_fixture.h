/* Shared by the serving unit tests: a temp directory and small trained
 * models (a classifier with numeric and categorical features, a regression
 * model) saved as model files. */
#ifndef HOPS_SERVING_FIXTURE_H
#define HOPS_SERVING_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/hops.h"

static char fx_dir[256];

static int fx_setup(void **state)
{
    (void)state;
    snprintf(fx_dir, sizeof fx_dir, "/tmp/hops-unit-serving.XXXXXX");
    return mkdtemp(fx_dir) ? 0 : -1;
}

static int fx_teardown(void **state)
{
    (void)state;
    return hops__rm_rf(fx_dir) == HOPS_OK ? 0 : -1;
}

static double fx_noise(unsigned i)
{
    uint64_t z = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0 * 2 - 1;
}

/* x1, x2 numeric, color categorical ("red", "green", "blue", "3"); label
 * yes/no (CLASSIFY) or y = 2 x1 - x2 + (red ? 1 : 0). */
static char *fx_table(const char *name, int classify)
{
    hops_buf b = HOPS_BUF_INIT;
    static const char *const colors[] = {"red", "green", "blue", "3"};
    hops__buf_puts(&b, "x1,x2,color,label\n");
    for (unsigned i = 0; i < 200; i++) {
        double x1 = fx_noise(i) * 3, x2 = fx_noise(i + 500) * 2;
        const char *c = colors[i % 4];
        double y = 2 * x1 - x2 + (i % 4 == 0 ? 1 : 0);
        if (classify)
            hops__buf_printf(&b, "%.6f,%.6f,%s,%s\n", x1, x2, c, y > 0 ? "yes" : "no");
        else
            hops__buf_printf(&b, "%.6f,%.6f,%s,%.6f\n", x1, x2, c, y);
    }
    char *p = hops__aprintf("%s/%s", fx_dir, name);
    if (!p || hops__atomic_write(p, b.data, b.len) != HOPS_OK)
        abort();
    hops__buf_free(&b);
    return p;
}

/* Train TYPE on the table and return the model (owned). */
static hops_model *fx_train(hops_model_type type, int classify)
{
    char *path = fx_table(classify ? "cls.csv" : "reg.csv", classify);
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    static const char *const cats[] = {"color"};
    hops_model *m = NULL;
    o.type = type;
    o.label = "label";
    o.categorical = cats;
    o.n_categorical = 1;
    o.threads = 1;
    o.seed = 1;
    o.epochs = type == HOPS_MODEL_GBDT ? 10 : 0;
    if (hops_model_train(&m, path, &o, NULL) != HOPS_OK) {
        fprintf(stderr, "train: %s\n", hops_last_error());
        abort();
    }
    free(path);
    return m;
}

#endif
