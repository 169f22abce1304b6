/* Every public header compiles on its own, and all together. */
#include <hops/error.h>
#include <hops/log.h>
#include <hops/project.h>
#include <hops/run.h>
#include <hops/sched.h>
#include <hops/hpo.h>
#include <hops/launch.h>
#include <hops/collective.h>
#include <hops/table.h>
#include <hops/model.h>
#include <hops/kafka.h>
#include <hops/serving.h>
#include <hops/hops.h>

int main(void) { return hops_strerror(HOPS_OK)[0] == 's' ? 0 : 1; }
