/* hops — schema (being written). */
#ifndef HOPS_SCHEMA_H
#define HOPS_SCHEMA_H
#include "data.h"
#endif
