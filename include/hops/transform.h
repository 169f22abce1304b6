/* hops — transform (being written). */
#ifndef HOPS_TRANSFORM_H
#define HOPS_TRANSFORM_H
#include "data.h"
#endif
