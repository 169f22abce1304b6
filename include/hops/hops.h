/* hops — the HopsML machine-learning pipeline. Umbrella header. */
#ifndef HOPS_H
#define HOPS_H

#include "error.h"
#include "log.h"
#include "project.h"
#include "run.h"
#include "launch.h"
#include "collective.h"
#include "sched.h"
#include "hpo.h"
#include "data.h"
#include "dataset.h"
#include "schema.h"
#include "stats.h"
#include "transform.h"
#include "report.h"
#include "table.h"
#include "model.h"
#include "kafka.h"
#include "serving.h"

#endif
