/* Placeholder while datasets are being written. */
#include "data_internal.h"
#include "hops/dataset.h"

hops_status hops_dataset_resolve(hops_project *p, const char *spec, char **path_out)
{
    (void)p;
    *path_out = NULL;
    return hops__error(HOPS_ENOTFOUND, "no dataset %s", spec);
}
