/* hops — the command-line tool. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: hops [--version] [--help] COMMAND [ARGS]\n"
    "\n"
    "The HopsML pipeline: versioned runs, experiments and models, with no server to start.\n"
    "\n"
    "Commands:\n"
    "  init [DIR]             make DIR (default: here) a hops project\n"
    "  run [OPTS] -- CMD ...  run CMD as a versioned, recorded run\n"
    "  launch [OPTS] -- CMD   run CMD as one distributed job (TF_CONFIG, torch.distributed)\n"
    "  runs list|show|metrics|compare|delete\n"
    "                         look at recorded runs\n"
    "  hpo run|resume|show|list\n"
    "                         parallel experiments: search hyperparameters over slots\n"
    "  dataset add|list|show  versioned datasets in the project\n"
    "  data schema|validate|stats|transform|report\n"
    "                         look at, check and reshape CSV / JSON Lines data\n"
    "  train --data D --label COL --model TYPE\n"
    "                         train a native model (linear, logistic, softmax, mlp, gbdt)\n"
    "                         as a run and register it\n"
    "  predict --model NAME[:VER] --data D\n"
    "                         batch predictions with a registered model\n"
    "  model list|show|versions|export|best|label\n"
    "                         the model registry\n"
    "  serve --models N1,N2 [--port P]\n"
    "                         serve models over TensorFlow Serving's REST API\n"
    "\n"
    "Run `hops COMMAND --help` for a command's options. Commands find the project by\n"
    "walking up from the current directory, or through HOPS_PROJECT.\n"
    "Exit codes: 0 ok, 1 failed, 2 bad usage, 3 no project, 4 not found,\n"
    "5 damaged or foreign database, 6 database busy; `hops run` exits with its command's code.\n";

static void log_to_stderr(hops_log_level level, const char *msg, void *ud)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    (void)ud;
    fprintf(stderr, "hops: %s: %s\n", level <= HOPS_LOG_ERROR ? names[level] : "log", msg);
}

/* OpenBLAS (pthreads build) starts its worker threads when it is loaded,
 * and they spin on sched_yield for about 0.1 s of CPU before they sleep:
 * time taken from every command, most of which never call BLAS. Stop them;
 * OpenBLAS starts them again on the first call that needs them. Looked up
 * at run time, since only that build has them. */
static void quiet_blas_threads(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    if (sym) {
        int (*shutdown)(void);
        memcpy(&shutdown, &sym, sizeof shutdown);
        shutdown();
    }
}

int main(int argc, char **argv)
{
    quiet_blas_threads();
    hops_log_set_sink(log_to_stderr, NULL);
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("hops %s (schema %d)\n", hops_version(), hops_project_schema_version());
        return EXIT_OK;
    }
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "launch") == 0)
        return cmd_launch(argc - 1, argv + 1);
    if (strcmp(cmd, "runs") == 0)
        return cmd_runs(argc - 1, argv + 1);
    if (strcmp(cmd, "hpo") == 0)
        return cmd_hpo(argc - 1, argv + 1);
    if (strcmp(cmd, "data") == 0)
        return cmd_data(argc - 1, argv + 1);
    if (strcmp(cmd, "dataset") == 0)
        return cmd_dataset(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0)
        return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0)
        return cmd_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "model") == 0)
        return cmd_model(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    fprintf(stderr, "hops: '%s' is not a hops command. See `hops --help`.\n", cmd);
    return EXIT_USAGE;
}
