/* HyperLogLog with 2^14 one-byte registers and the improved raw estimator of
 * Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
 * (2017), which needs neither bias tables nor a linear-counting switch. */
#include <math.h>

#include "sketch.h"

#define Q (64 - HOPS_HLL_P) /* register values are 0 .. Q + 1 */

void hops__hll_merge(hops_hll *a, const hops_hll *b)
{
    for (uint32_t i = 0; i < HOPS_HLL_M; i++) /* branch-free, so it vectorises */
        a->reg[i] = b->reg[i] > a->reg[i] ? b->reg[i] : a->reg[i];
}

static double sigma(double x)
{
    if (x == 1.0)
        return INFINITY;
    double y = 1.0, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

static double tau(double x)
{
    if (x == 0.0 || x == 1.0)
        return 0.0;
    double y = 1.0, z = 1.0 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != prev);
    return z / 3.0;
}

double hops__hll_estimate(const hops_hll *h)
{
    uint32_t c[Q + 2] = {0};
    const double m = HOPS_HLL_M;
    for (uint32_t i = 0; i < HOPS_HLL_M; i++)
        c[h->reg[i] <= Q + 1 ? h->reg[i] : Q + 1]++;
    double z = m * tau(1.0 - c[Q + 1] / m);
    for (int k = Q; k >= 1; k--)
        z = 0.5 * (z + c[k]);
    z += m * sigma(c[0] / m);
    return (m * m / (2.0 * log(2.0))) / z;
}

double hops__hll_std_error(void)
{
    return 1.04 / sqrt((double)HOPS_HLL_M);
}
