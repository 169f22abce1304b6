/* An example trial in C: fits y = 3x - 2 + noise by gradient descent and
 * reports the loss every epoch through the hops C API.
 *
 *   hops run --param lr=0.1 --param epochs=20 -- ./train_linear
 *
 * Parameters come from HOPS_PARAMS (a JSON object); reports go to HOPS_REPORT.
 * Outside hops it runs with defaults and just prints. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <hops/run.h>

static double param(json_t *params, const char *key, double fallback)
{
    json_t *v = json_object_get(params, key);
    return json_is_number(v) ? json_number_value(v) : fallback;
}

int main(void)
{
    const char *env = getenv("HOPS_PARAMS");
    json_t *params = env ? json_loads(env, 0, NULL) : NULL;
    double lr = param(params, "lr", 0.05);
    int epochs = (int)param(params, "epochs", 30);
    unsigned seed = (unsigned)param(params, "seed", 42);
    enum { N = 256 };
    double x[N], y[N], w = 0, b = 0, loss = 0;
    int under_hops = getenv("HOPS_REPORT") != NULL;

    json_decref(params);
    srand(seed);
    for (int i = 0; i < N; i++) {
        x[i] = (double)rand() / RAND_MAX * 2 - 1;
        y[i] = 3 * x[i] - 2 + ((double)rand() / RAND_MAX - 0.5) * 0.2;
    }
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double gw = 0, gb = 0;
        loss = 0;
        for (int i = 0; i < N; i++) {
            double err = w * x[i] + b - y[i];
            loss += err * err / N;
            gw += 2 * err * x[i] / N;
            gb += 2 * err / N;
        }
        w -= lr * gw;
        b -= lr * gb;
        const char *keys[] = {"loss", "w", "b"};
        double values[] = {loss, w, b};
        if (under_hops)
            hops_report_step(epoch, 3, keys, values);
    }
    printf("lr=%g epochs=%d: w=%.4f b=%.4f loss=%.5f\n", lr, epochs, w, b, loss);
    if (under_hops) {
        const char *keys[] = {"loss", "w_error"};
        double values[] = {loss, fabs(w - 3)};
        if (hops_report_finals(2, keys, values) != HOPS_OK) {
            fprintf(stderr, "train_linear: %s\n", hops_last_error());
            return 1;
        }
    }
    return 0;
}
