/* hops — versioned datasets in a project (being written). */
#ifndef HOPS_DATASET_H
#define HOPS_DATASET_H

#include "data.h"
#include "project.h"

#ifdef __cplusplus
extern "C" {
#endif

HOPS_EXTERN hops_status hops_dataset_resolve(hops_project *p, const char *spec, char **path_out);

#ifdef __cplusplus
}
#endif
#endif
