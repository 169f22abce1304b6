/* hops — report (being written). */
#ifndef HOPS_REPORT_H
#define HOPS_REPORT_H
#include "data.h"
#endif
