/* hops — stats (being written). */
#ifndef HOPS_STATS_H
#define HOPS_STATS_H
#include "data.h"
#endif
