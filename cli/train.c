/* hops train — train a native model as a recorded run and register it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hops/collective.h>
#include <hops/launch.h>

#include "cli.h"

static const char usage[] =
    "usage: hops train --data D --label COL --model linear|logistic|softmax|mlp|gbdt\n"
    "                  [--features A,B,...] [--categorical A,B,...] [--hidden 64,32]\n"
    "                  [--epochs N] [--batch N] [--lr X] [--l2 X] [--seed S]\n"
    "                  [--test-split 0.2] [--name MODEL] [--experiment E] [--param K=V]...\n"
    "                  [READ OPTIONS] [--quiet] [--json]\n"
    "\n"
    "Train a model on D (a CSV / JSON Lines file or a dataset NAME[:VERSION]) to predict\n"
    "COL, as a recorded run: per-epoch metrics (loss, val_loss, ...) go to the run and its\n"
    "TensorBoard file, the test metrics are its final metrics, and the model file is kept\n"
    "as the run's artifact artifacts/model.hops and registered as the next version of MODEL.\n"
    "\n"
    "Numeric features are standardized and text ones one-hot encoded, with the mean, std\n"
    "and categories of the training split only; the model keeps them, so `hops predict`\n"
    "takes raw rows. Rows with a null label are left out.\n"
    "\n"
    "  --model TYPE       linear (least squares; ridge with --l2, which is Ridge's alpha),\n"
    "                     logistic (binary), softmax (multinomial): L-BFGS, default\n"
    "                     l2 = 1/(C n) with C = 1 as scikit-learn; mlp; gbdt (XGBoost)\n"
    "  --features A,B     the feature columns (default: every column but the label)\n"
    "  --categorical A,B  one-hot these even when their values are numbers\n"
    "  --hidden 64,32     mlp hidden layer widths (default 64)\n"
    "  --epochs N         mlp epochs / L-BFGS iterations (200), gbdt rounds (100)\n"
    "  --batch N          mlp mini-batch (default min(200, rows))\n"
    "  --lr X             mlp learning rate (adam 0.001, sgd 0.01); gbdt eta (0.3)\n"
    "  --l2 X             L2 strength (defaults: linear 0, logistic/softmax 1/(C n),\n"
    "                     mlp 1e-4/batch, gbdt lambda 1)\n"
    "  --seed S           seed of the split, the initial weights and the batches (0)\n"
    "  --test-split F     fraction of rows held out for the test metrics (0.2; 0: none)\n"
    "  --name MODEL       the registered model's name (default: TYPE-COL)\n"
    "  -e, --experiment E the run's experiment (default: MODEL)\n"
    "  -p, --param K=V    more settings: task=classification|regression (mlp, gbdt;\n"
    "                     default: by the label), activation=relu|tanh|sigmoid,\n"
    "                     optimizer=adam|sgd, momentum=0.9, validation=0.1 (mlp: the\n"
    "                     early-stopping split; 0: stop on the training loss),\n"
    "                     patience=10, tol=1e-4, C=1 (logistic, softmax); gbdt passes any\n"
    "                     other K=V to XGBoost (max_depth=4, subsample=0.8, ...)\n"
    "  --threads N        parser, OpenBLAS and XGBoost threads (default: all CPUs); the\n"
    "                     same seed and thread count give the same model, byte for byte\n"
    "  --format, --delimiter, --no-header   how D is read\n"
    "  -q, --quiet        no per-epoch lines\n"
    "      --json         print the result as one JSON document on stdout\n";

static const char usage_distributed[] =
    "\nDistributed and resumable (mlp):\n"
    "  --strategy S       distributed mlp training, one run for the whole job:\n"
    "                       allreduce --workers N   N processes (hops launch: the chief\n"
    "                         and N-1 workers), each computing its share of every global\n"
    "                         batch, gradients summed by all-reduce (shared memory on\n"
    "                         one host, TCP across hosts); --executor local|slurm|mpi\n"
    "                       ps --ps M --workers N [--async]   N workers, the parameters\n"
    "                         and the optimizer sharded over M parameter servers;\n"
    "                         synchronous (default) or asynchronous updates\n"
    "                       mirrored --replicas N   N threads in this process sharing\n"
    "                         the data, each its share of every batch\n"
    "                     allreduce, synchronous ps and mirrored give single-process\n"
    "                     training's loss curve with the same\n"
    "                     global --batch, up to float rounding; logs per rank (chief:0,\n"
    "                     worker:0 ...) and rank 0's metrics in the run\n"
    "  --checkpoint-every N  (mlp) keep the training state every N epochs in the run's\n"
    "                     artifacts/checkpoint.hops\n"
    "  --resume RUN       run RUN's training command again from its last checkpoint, as\n"
    "                     a new run; it ends as an uninterrupted training would have\n";

typedef struct {
    char **items;
    size_t n;
} str_list;

/* Split "a,b,c" into LIST (copies). */
static int split_list(str_list *list, const char *s)
{
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char **items = realloc(list->items, (list->n + 1) * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        if (!(items[list->n] = strndup(p, len)))
            return -1;
        list->n++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static void list_free(str_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i]);
    free(list->items);
}

typedef struct {
    hops_run *run;
    int quiet, epochs;
    double last_flush;
} epoch_ctx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_epoch(void *ud, int64_t epoch, size_t n, const char *const *keys,
                     const double *values)
{
    epoch_ctx *e = ud;
    for (size_t i = 0; i < n; i++)
        hops_run_log_metric(e->run, keys[i], epoch, values[i]);
    /* Commit the points at most every 200 ms (as hops run does), so
     * `hops runs list` and `hops runs metrics` follow a long training live. */
    if (now() - e->last_flush >= 0.2) {
        hops_run_flush(e->run);
        e->last_flush = now();
    }
    int every = e->epochs > 10 ? e->epochs / 10 : 1;
    if (e->quiet || (epoch % every != 0 && epoch != 1))
        return;
    fprintf(stderr, "  epoch %4lld", (long long)epoch);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %s %.6g", keys[i], values[i]);
    fputc('\n', stderr);
}

static int parse_double(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return *s && !*end && isfinite(*out);
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    *out = (size_t)v;
    return !*end && v <= 1000000000ULL;
}

/* The final metrics of a run: the numbers of METRICS, with PREFIX. */
static void log_finals(hops_run *run, const json_t *metrics, const char *prefix)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)metrics, k, v)
    {
        if (!json_is_number(v) || strcmp(k, "n") == 0)
            continue;
        char key[128];
        snprintf(key, sizeof key, "%s%s", prefix, k);
        hops_run_log_final(run, key, json_number_value(v));
    }
}

static void print_metrics(const char *what, const json_t *metrics)
{
    static const char *const order[] = {"accuracy", "f1", "precision", "recall", "log_loss",
                                        "roc_auc",  "r2", "rmse",      "mae"};
    if (!json_is_object(metrics))
        return;
    fprintf(stderr, "%s:", what);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        json_t *v = json_object_get(metrics, order[i]);
        if (json_is_number(v))
            fprintf(stderr, "  %s %.4f", order[i], json_number_value(v));
    }
    fputc('\n', stderr);
}

/* ---- --resume RUN ---- */

/* Run the training command RUN recorded again, from its last checkpoint:
 * the same arguments plus --resume-checkpoint, as a new run. Does not
 * return when the command starts. */
static int resume(const char *ref)
{
    hops_project *p = NULL;
    char *show = NULL, *id = NULL, self[4096];
    int code = cli_open_project("train", &p);
    if (code != EXIT_OK)
        return code;
    int rc = hops_run_resolve(p, ref, &id);
    if (rc == HOPS_OK)
        rc = hops_run_show_json(p, id, &show);
    hops_project_close(p);
    if (rc != HOPS_OK) {
        hops_free(id);
        return cli_status("train", rc);
    }
    json_t *run = json_loads(show, 0, NULL), *cmd = json_object_get(run, "command");
    const char *dir = json_string_value(json_object_get(run, "run_dir"));
    size_t n = json_array_size(cmd), start = n;
    for (size_t i = 0; i < n; i++)
        if (json_is_string(json_array_get(cmd, i)) &&
            strcmp(json_string_value(json_array_get(cmd, i)), "train") == 0) {
            start = i;
            break;
        }
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/artifacts/checkpoint.hops", dir ? dir : "");
    if (start == n || !dir) {
        code = cli_fail(EXIT_USAGE, "train", "run %s was not made by hops train: nothing to resume",
                        id);
    } else if (access(ckpt, R_OK) != 0) {
        code = cli_fail(EXIT_NOTFOUND, "train",
                        "run %s left no checkpoint (%s): train with --checkpoint-every N to "
                        "be able to resume",
                        id, ckpt);
    } else {
        const char **args = calloc(n + 4, sizeof *args);
        size_t k = 0;
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        self[len > 0 ? len : 0] = '\0';
        if (!args) {
            code = cli_fail(EXIT_FAIL, "train", "out of memory");
        } else {
            args[k++] = self;
            for (size_t i = start; i < n; i++) {
                const char *a = json_string_value(json_array_get(cmd, i));
                if (a && strcmp(a, "--rank-of-job") != 0)
                    args[k++] = a;
            }
            args[k++] = "--resume-checkpoint";
            args[k++] = ckpt;
            args[k] = NULL;
            fprintf(stderr, "hops: resuming run %s from %s\n", id, ckpt);
            fflush(NULL);
            execv(self, (char *const *)args);
            code = cli_fail(EXIT_FAIL, "train", "cannot run %s: %s", self, strerror(errno));
            free(args);
        }
    }
    json_decref(run);
    hops_free(show);
    hops_free(id);
    return code;
}

/* ---- --strategy allreduce ---- */

static void report_epoch(void *ud, int64_t epoch, size_t n, const char *const *keys,
                         const double *values)
{
    const epoch_ctx *e = ud;
    hops_report_step(epoch, n, keys, values); /* to the launcher: the run's metrics */
    int every = e->epochs > 10 ? e->epochs / 10 : 1;
    if (e->quiet || (epoch % every != 0 && epoch != 1))
        return;
    fprintf(stderr, "epoch %lld", (long long)epoch);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %s %.6g", keys[i], values[i]);
    fputc('\n', stderr);
}

/* Final metrics of a metrics object (numbers only) as report lines, keys
 * prefixed with PREFIX. */
static void report_finals(const json_t *metrics, const char *prefix)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)metrics, key, v) {
        if (!json_is_number(v))
            continue;
        char k[256];
        snprintf(k, sizeof k, "%s%s", prefix, key);
        hops_report_final(k, json_number_value(v));
    }
}

/* One rank of `hops train --strategy allreduce`, under hops launch: join the
 * communicator (HOPS_RANK, HOPS_WORLD_SIZE, HOPS_RENDEZVOUS), train; rank 0
 * reports every epoch and the final metrics, and leaves the model as the
 * run's artifacts/model.hops for the driver to register. */
/* The "host:port" addresses of the job's parameter servers (TF_CONFIG);
 * *N their number. NULL when there are none. Owned: free(); strings point
 * into *CFG (json_decref). */
static const char **ps_addresses(json_t **cfg, size_t *n)
{
    json_error_t err;
    const char *tf = getenv("TF_CONFIG");
    *cfg = tf ? json_loads(tf, 0, &err) : NULL;
    json_t *arr = json_object_get(json_object_get(*cfg, "cluster"), "ps");
    *n = json_array_size(arr);
    if (!*n)
        return NULL;
    const char **a = calloc(*n, sizeof *a);
    for (size_t i = 0; a && i < *n; i++)
        a[i] = json_string_value(json_array_get(arr, i));
    return a;
}

static int train_rank(hops_train_options *o, const char *path, int quiet, int use_ps, int async_ps)
{
    hops_comm *comm = NULL;
    hops_ps *ps = NULL;
    hops_model *model = NULL;
    json_t *cfg = NULL;
    char *report = NULL;
    const char *run_dir = getenv("HOPS_RUN_DIR"), *type = getenv("HOPS_TASK_TYPE");
    int rc, code = EXIT_OK, rank;
    if (use_ps) {
        size_t n = 0;
        const char **addrs = ps_addresses(&cfg, &n);
        const char *rk = getenv("HOPS_RANK"), *ws = getenv("HOPS_WORLD_SIZE");
        int workers = ws ? atoi(ws) : 0;
        if (!addrs) {
            json_decref(cfg);
            return cli_fail(EXIT_FAIL, "train", "no parameter servers in TF_CONFIG");
        }
        if (type && strcmp(type, "ps") == 0) { /* serve our shard until the job is done */
            int index = atoi(getenv("HOPS_TASK_INDEX") ? getenv("HOPS_TASK_INDEX") : "0");
            const char *colon = index >= 0 && (size_t)index < n ? strrchr(addrs[index], ':') : NULL;
            int nw = (int)json_array_size(
                         json_object_get(json_object_get(cfg, "cluster"), "worker")) +
                     1;
            fprintf(stderr, "parameter server %d of %zu for %d workers (%s)\n", index, n, nw,
                    async_ps ? "asynchronous" : "synchronous");
            rc = colon ? hops_ps_serve(atoi(colon + 1), nw, !async_ps, 120) : HOPS_EINVAL;
            free(addrs);
            json_decref(cfg);
            return rc == HOPS_OK ? EXIT_OK : cli_status("train", rc);
        }
        rank = rk ? atoi(rk) : -1;
        rc = hops_ps_connect(&ps, addrs, n, rank, workers, 120);
        free(addrs);
        if (rc != HOPS_OK) {
            json_decref(cfg);
            return cli_status("train", rc);
        }
        o->ps = ps;
        fprintf(stderr, "worker %d of %d, %zu parameter server(s)\n", rank, workers, n);
    } else {
        if ((rc = hops_comm_open(&comm, NULL)) != HOPS_OK)
            return cli_status("train", rc);
        rank = hops_comm_rank(comm);
        o->comm = comm;
        fprintf(stderr, "rank %d of %d (%s all-reduce)\n", rank, hops_comm_size(comm),
                hops_comm_backend_name(comm));
    }
    epoch_ctx ectx = {NULL, quiet, o->epochs ? o->epochs : 200, now()};
    o->run_id = getenv("HOPS_RUN_ID");
    if (rank == 0) {
        o->on_epoch = report_epoch;
        o->ud = &ectx;
    }
    if ((rc = hops_model_train(&model, path, o, &report)) != HOPS_OK) {
        code = cli_status("train", rc);
        goto out;
    }
    if (rank == 0) {
        json_t *rep = json_loads(report, 0, NULL);
        report_finals(json_object_get(rep, "test_metrics"), "");
        report_finals(json_object_get(rep, "train_metrics"), "train_");
        json_decref(rep);
        char artifact[4200];
        snprintf(artifact, sizeof artifact, "%s/artifacts/model.hops", run_dir ? run_dir : ".");
        if ((rc = hops_model_save(model, artifact)) != HOPS_OK)
            code = cli_status("train", rc);
    }
out:
    hops_model_free(model);
    hops_free(report);
    hops_comm_close(comm);
    hops_ps_close(ps);
    json_decref(cfg);
    return code;
}

/* The last line of failed task TASK's ("worker:1") stderr in run RUN_ID,
 * which says why (its output was not shown with --json). */
static void print_task_error(hops_project *p, const char *run_id, const char *task)
{
    char *show = NULL, path[4300], line[1024], last[1024] = "";
    const char *colon = strchr(task, ':');
    if (!colon || hops_run_show_json(p, run_id, &show) != HOPS_OK)
        return;
    json_t *run = json_loads(show, 0, NULL);
    const char *dir = json_string_value(json_object_get(run, "run_dir"));
    snprintf(path, sizeof path, "%s/tasks/%.*s-%s.stderr.log", dir ? dir : ".",
             (int)(colon - task), task, colon + 1);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '\n')
            memcpy(last, line, sizeof last);
    if (f)
        fclose(f);
    last[strcspn(last, "\n")] = '\0';
    if (last[0])
        fprintf(stderr, "hops train: %s: %s\n", task, last);
    json_decref(run);
    hops_free(show);
}

/* The driver of `hops train --strategy allreduce`: the same command, with
 * --rank-of-job, as WORKERS ranks of one hops launch job (one run), then
 * the chief's model registered. */
static int train_job(hops_project *p, const hops_run_options *ro, int argc, char **argv,
                     int workers, int n_ps, const char *executor, const char *name, int json)
{
    hops_launch_options lo = HOPS_LAUNCH_OPTIONS_INIT;
    hops_launch_result res;
    char self[4096], *artifact = NULL, *reg = NULL, *show = NULL;
    const char **cmd = calloc((size_t)argc + 3, sizeof *cmd);
    int code = EXIT_OK;
    if (!cmd)
        return cli_fail(EXIT_FAIL, "train", "out of memory");
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    cmd[0] = self;
    for (int i = 0; i < argc; i++) /* argv[0] is "train" */
        cmd[1 + i] = argv[i];
    cmd[1 + argc] = "--rank-of-job";
    lo.run = *ro;
    lo.run.argv = cmd;
    lo.run.argc = (size_t)argc + 2;
    lo.workers = workers;
    lo.ps = n_ps;
    lo.tee = !json;
    lo.forward_signals = 1;
    if (executor && strcmp(executor, "slurm") == 0)
        lo.executor = HOPS_LAUNCH_SLURM;
    else if (executor && strcmp(executor, "mpi") == 0)
        lo.executor = HOPS_LAUNCH_MPI;
    int rc = hops_run_launch(p, &lo, &res);
    if (rc != HOPS_OK && !res.run_id[0]) {
        code = cli_status("train", rc);
        goto out;
    }
    if (res.state != HOPS_RUN_FINISHED) {
        print_task_error(p, res.run_id, res.failed_task);
        code = cli_fail(res.exit_code ? res.exit_code : EXIT_FAIL, "train",
                        "run %s %s%s%s: see `hops runs show %s`", res.run_id,
                        hops_run_state_name(res.state), res.failed_task[0] ? ", task " : "",
                        res.failed_task, res.run_id);
        goto out;
    }
    if ((rc = hops_run_show_json(p, res.run_id, &show)) != HOPS_OK) {
        code = cli_status("train", rc);
        goto out;
    }
    json_t *run = json_loads(show, 0, NULL);
    const char *dir = json_string_value(json_object_get(run, "run_dir"));
    size_t alen = strlen(dir ? dir : ".") + 32;
    if ((artifact = malloc(alen)))
        snprintf(artifact, alen, "%s/artifacts/model.hops", dir ? dir : ".");
    if (!artifact ||
        (rc = hops_model_register(p, name, artifact, &reg)) != HOPS_OK) {
        json_decref(run);
        code = artifact ? cli_status("train", rc) : cli_fail(EXIT_FAIL, "train", "out of memory");
        goto out;
    }
    json_t *regdoc = json_loads(reg, 0, NULL);
    if (json) {
        json_t *doc = json_pack("{s:s, s:O, s:O, s:O, s:O, s:i, s:O}", "run_id", res.run_id,
                                "model", json_object_get(regdoc, "name"), "version",
                                json_object_get(regdoc, "version"), "spec",
                                json_object_get(regdoc, "spec"), "path",
                                json_object_get(regdoc, "path"), "workers", workers,
                                "test_metrics", json_object_get(run, "final_metrics"));
        json_dumpf(doc, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(doc);
    } else {
        printf("Registered model %s (run %s, %d workers)\n  %s\n",
               json_string_value(json_object_get(regdoc, "spec")), res.run_id, workers,
               json_string_value(json_object_get(regdoc, "path")));
    }
    json_decref(regdoc);
    json_decref(run);
out:
    free(cmd);
    free(artifact);
    hops_free(reg);
    hops_free(show);
    return code;
}

int cmd_train(int argc, char **argv)
{
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_run_options ro = HOPS_RUN_OPTIONS_INIT;
    str_list features = {0}, categorical = {0}, hidden_s = {0}, params_s = {0};
    size_t *hidden = NULL;
    hops_kv *params = NULL, run_params[16];
    const char *data = NULL, *name = NULL, *experiment = NULL, *val, *type_s = NULL;
    const char *hidden_arg = NULL;
    char *path = NULL, *report = NULL, *reg = NULL, *artifact = NULL, *default_name = NULL;
    char numbuf[8][64];
    hops_project *p = NULL;
    hops_run *run = NULL;
    hops_model *model = NULL;
    json_t *rep = NULL, *regdoc = NULL;
    int json = 0, quiet = 0, code = EXIT_OK, m;
    size_t n_run_params = 0;
    const char *strategy = NULL, *executor = NULL;
    int workers = 0, replicas = 0, rank_mode = 0, ckpt_every = 0, n_ps = 0, async_ps = 0;
    const char *resume_run = NULL, *resume_ckpt = NULL;
    char *ckpt_path = NULL;

    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        fputs(usage_distributed, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((m = cli_opt_value(argc, argv, &i, "--data", "-d", &val)) > 0)
            data = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--label", "-l", &val)) > 0)
            o.label = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--model", "-m", &val)) > 0) {
            type_s = val;
            if (!(o.type = hops_model_type_parse(val))) {
                code = cli_fail(
                    EXIT_USAGE, "train",
                    "unknown --model '%s'; expected linear, logistic, softmax, mlp or gbdt", val);
                goto out;
            }
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--features", NULL, &val)) > 0) {
            if (split_list(&features, val) != 0)
                goto nomem;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--categorical", NULL, &val)) > 0) {
            if (split_list(&categorical, val) != 0)
                goto nomem;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--hidden", NULL, &val)) > 0) {
            hidden_arg = val;
            list_free(&hidden_s);
            memset(&hidden_s, 0, sizeof hidden_s);
            if (split_list(&hidden_s, val) != 0)
                goto nomem;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--epochs", NULL, &val)) > 0) {
            size_t v;
            if (!parse_size(val, &v) || v == 0 || v > 1000000) {
                code = cli_fail(EXIT_USAGE, "train",
                                "--epochs needs a number from 1 to 1000000, not '%s'", val);
                goto out;
            }
            o.epochs = (int)v;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--batch", NULL, &val)) > 0) {
            if (!parse_size(val, &o.batch) || o.batch == 0) {
                code =
                    cli_fail(EXIT_USAGE, "train", "--batch needs a positive number, not '%s'", val);
                goto out;
            }
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--lr", NULL, &val)) > 0) {
            if (!parse_double(val, &o.lr) || !(o.lr > 0)) {
                code =
                    cli_fail(EXIT_USAGE, "train",
                             "--lr (the learning rate) must be a positive number, not '%s'", val);
                goto out;
            }
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--l2", NULL, &val)) > 0) {
            if (!parse_double(val, &o.l2) || o.l2 < 0) {
                code = cli_fail(EXIT_USAGE, "train", "--l2 must be a number >= 0, not '%s'", val);
                goto out;
            }
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--seed", NULL, &val)) > 0) {
            char *end;
            if (!*val || *val == '-' || (o.seed = strtoull(val, &end, 10), *end)) {
                code = cli_fail(EXIT_USAGE, "train",
                                "--seed needs a non-negative integer, not '%s'", val);
                goto out;
            }
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--test-split", NULL, &val)) > 0) {
            if (!parse_double(val, &o.test_split) || o.test_split < 0 || o.test_split >= 1) {
                code = cli_fail(EXIT_USAGE, "train",
                                "--test-split is a fraction in [0, 1), not '%s'", val);
                goto out;
            }
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--name", "-n", &val)) > 0)
            name = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--experiment", "-e", &val)) > 0)
            experiment = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--param", "-p", &val)) > 0) {
            if (!strchr(val, '=') || val[0] == '=') {
                code = cli_fail(EXIT_USAGE, "train",
                                "bad --param '%s': expected K=V, e.g. --param max_depth=4", val);
                goto out;
            }
            if (split_list(&params_s, "") != 0)
                goto nomem;
            free(params_s.items[params_s.n - 1]);
            if (!(params_s.items[params_s.n - 1] = strdup(val)))
                goto nomem;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--strategy", NULL, &val)) > 0) {
            if (strcmp(val, "allreduce") != 0 && strcmp(val, "mirrored") != 0 &&
                strcmp(val, "ps") != 0) {
                code = cli_fail(EXIT_USAGE, "train",
                                "--strategy '%s': expected allreduce, ps or mirrored", val);
                goto out;
            }
            strategy = val;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--workers", NULL, &val)) > 0) {
            size_t v;
            if (!parse_size(val, &v) || v < 1 || v > 1000) {
                code = cli_fail(EXIT_USAGE, "train", "--workers needs 1 to 1000, not '%s'", val);
                goto out;
            }
            workers = (int)v;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--replicas", NULL, &val)) > 0) {
            size_t v;
            if (!parse_size(val, &v) || v < 1 || v > 64) {
                code = cli_fail(EXIT_USAGE, "train", "--replicas needs 1 to 64, not '%s'", val);
                goto out;
            }
            replicas = (int)v;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--executor", NULL, &val)) > 0) {
            if (strcmp(val, "local") != 0 && strcmp(val, "slurm") != 0 && strcmp(val, "mpi") != 0) {
                code = cli_fail(EXIT_USAGE, "train", "--executor '%s': expected local, slurm or mpi", val);
                goto out;
            }
            executor = val;
        } else if (m == 0 &&
                   (m = cli_opt_value(argc, argv, &i, "--checkpoint-every", NULL, &val)) > 0) {
            size_t v;
            if (!parse_size(val, &v) || v < 1 || v > 1000000) {
                code = cli_fail(EXIT_USAGE, "train",
                                "--checkpoint-every needs a number of epochs >= 1, not '%s'", val);
                goto out;
            }
            ckpt_every = (int)v;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--resume", NULL, &val)) > 0) {
            resume_run = val;
        } else if (m == 0 &&
                   (m = cli_opt_value(argc, argv, &i, "--resume-checkpoint", NULL, &val)) > 0) {
            resume_ckpt = val; /* how --resume re-runs the command */
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--ps", NULL, &val)) > 0) {
            size_t v;
            if (!parse_size(val, &v) || v < 1 || v > 64) {
                code = cli_fail(EXIT_USAGE, "train", "--ps needs 1 to 64 servers, not '%s'", val);
                goto out;
            }
            n_ps = (int)v;
        } else if (m == 0 && cli_flag(a, "--async", NULL)) {
            async_ps = 1;
        } else if (m == 0 && cli_flag(a, "--rank-of-job", NULL)) {
            rank_mode = 1; /* one rank of a job `hops train --strategy allreduce` launched */
        } else if (m < 0) {
            code = cli_fail(EXIT_USAGE, "train", "option '%s' needs a value", a);
            goto out;
        } else if ((m = cli_read_option("train", argc, argv, &i, &o.read)) != 0) {
            if (m < 0) {
                code = EXIT_USAGE;
                goto out;
            }
        } else if (cli_flag(a, "--json", NULL))
            json = 1;
        else if (cli_flag(a, "--quiet", "-q"))
            quiet = 1;
        else {
            code = cli_fail(EXIT_USAGE, "train",
                            "unexpected argument '%s'; see `hops train --help`", a);
            goto out;
        }
    }
    if (resume_run) {
        code = resume(resume_run);
        goto out;
    }
    if (!data || !o.label || !o.type) {
        code =
            cli_fail(EXIT_USAGE, "train", "%s; usage: hops train --data D --label COL --model TYPE",
                     !data      ? "which data? (--data)"
                     : !o.label ? "which label column? (--label)"
                                : "which model? (--model)");
        goto out;
    }
    if (hidden_s.n) {
        if (!(hidden = calloc(hidden_s.n, sizeof *hidden)))
            goto nomem;
        for (size_t i = 0; i < hidden_s.n; i++)
            if (!parse_size(hidden_s.items[i], &hidden[i])) {
                code = cli_fail(EXIT_USAGE, "train",
                                "--hidden takes layer widths like 64,32; '%s' is not one",
                                hidden_s.items[i]);
                goto out;
            }
        o.hidden = hidden;
        o.n_hidden = hidden_s.n;
    }
    if (params_s.n) {
        if (!(params = calloc(params_s.n, sizeof *params)))
            goto nomem;
        for (size_t i = 0; i < params_s.n; i++) {
            char *eq = strchr(params_s.items[i], '=');
            *eq = '\0';
            params[i].key = params_s.items[i];
            params[i].value = eq + 1;
        }
        o.params = params;
        o.n_params = params_s.n;
    }
    o.features = (const char *const *)features.items;
    o.n_features = features.n;
    o.categorical = (const char *const *)categorical.items;
    o.n_categorical = categorical.n;
    o.threads = o.read.threads;
    if (strategy && o.type != HOPS_MODEL_MLP) {
        code = cli_fail(EXIT_USAGE, "train", "--strategy is for --model mlp, not %s", type_s);
        goto out;
    }
    int launched = strategy && (strcmp(strategy, "allreduce") == 0 || strcmp(strategy, "ps") == 0);
    if ((workers || executor) && !launched) {
        code = cli_fail(EXIT_USAGE, "train",
                        "--workers and --executor go with --strategy allreduce or ps");
        goto out;
    }
    if ((n_ps || async_ps) && (!strategy || strcmp(strategy, "ps") != 0)) {
        code = cli_fail(EXIT_USAGE, "train", "--ps and --async go with --strategy ps");
        goto out;
    }
    if (strategy && strcmp(strategy, "ps") == 0 && (!workers || !n_ps)) {
        code = cli_fail(EXIT_USAGE, "train", "--strategy ps needs --ps M and --workers N");
        goto out;
    }
    if (strategy && strcmp(strategy, "ps") == 0 && (ckpt_every || resume_ckpt)) {
        code = cli_fail(EXIT_USAGE, "train",
                        "checkpoints are for --strategy allreduce or mirrored (the parameter "
                        "servers hold the optimizer state)");
        goto out;
    }
    if (replicas && (!strategy || strcmp(strategy, "mirrored") != 0)) {
        code = cli_fail(EXIT_USAGE, "train", "--replicas goes with --strategy mirrored");
        goto out;
    }
    if (strategy && strcmp(strategy, "allreduce") == 0 && !workers) {
        code = cli_fail(EXIT_USAGE, "train", "--strategy allreduce needs --workers N");
        goto out;
    }
    if (strategy && strcmp(strategy, "mirrored") == 0) {
        if (!replicas) {
            code = cli_fail(EXIT_USAGE, "train", "--strategy mirrored needs --replicas N");
            goto out;
        }
        o.replicas = replicas;
    }

    if ((ckpt_every || resume_ckpt) && o.type != HOPS_MODEL_MLP) {
        code = cli_fail(EXIT_USAGE, "train", "checkpoints are for --model mlp, not %s", type_s);
        goto out;
    }
    o.resume = resume_ckpt;
    if (ckpt_every) {
        const char *dir = rank_mode ? getenv("HOPS_RUN_DIR") : NULL;
        o.checkpoint_every = ckpt_every;
        if (rank_mode) {
            size_t len = strlen(dir ? dir : ".") + 40;
            if (!(ckpt_path = malloc(len)))
                goto nomem;
            snprintf(ckpt_path, len, "%s/artifacts/checkpoint.hops", dir ? dir : ".");
            o.checkpoint = ckpt_path;
        }
    }

    if ((code = cli_open_project("train", &p)) != 0)
        goto out;
    if ((code = cli_data_path("train", data, &path, &o.read)) != 0)
        goto out;
    if (rank_mode) { /* a rank of the job: train, rank 0 reports and keeps the model */
        code = train_rank(&o, path, quiet, strategy && strcmp(strategy, "ps") == 0, async_ps);
        goto out;
    }
    if (!name) {
        if (!(default_name = malloc(strlen(type_s) + strlen(o.label) + 2)))
            goto nomem;
        snprintf(default_name, strlen(type_s) + strlen(o.label) + 2, "%s-%s", type_s, o.label);
        for (char *c = default_name; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-'))
                *c = '_';
        name = default_name;
    }

    /* The run: its parameters are the training settings. */
    run_params[n_run_params++] = (hops_kv){"model", type_s};
    run_params[n_run_params++] = (hops_kv){"data", data};
    run_params[n_run_params++] = (hops_kv){"label", o.label};
    run_params[n_run_params++] = (hops_kv){"name", name};
    snprintf(numbuf[0], sizeof numbuf[0], "%llu", (unsigned long long)o.seed);
    run_params[n_run_params++] = (hops_kv){"seed", numbuf[0]};
    snprintf(numbuf[1], sizeof numbuf[1], "%g", o.test_split);
    run_params[n_run_params++] = (hops_kv){"test_split", numbuf[1]};
    if (o.epochs) {
        snprintf(numbuf[2], sizeof numbuf[2], "%d", o.epochs);
        run_params[n_run_params++] = (hops_kv){"epochs", numbuf[2]};
    }
    if (o.lr > 0) {
        snprintf(numbuf[3], sizeof numbuf[3], "%g", o.lr);
        run_params[n_run_params++] = (hops_kv){"lr", numbuf[3]};
    }
    if (o.l2 >= 0) {
        snprintf(numbuf[4], sizeof numbuf[4], "%g", o.l2);
        run_params[n_run_params++] = (hops_kv){"l2", numbuf[4]};
    }
    if (o.batch) {
        snprintf(numbuf[5], sizeof numbuf[5], "%zu", o.batch);
        run_params[n_run_params++] = (hops_kv){"batch", numbuf[5]};
    }
    if (hidden_arg)
        run_params[n_run_params++] = (hops_kv){"hidden", hidden_arg};
    ro.experiment = experiment ? experiment : name;
    ro.params = run_params;
    ro.n_params = n_run_params;
    ro.tags = params;
    ro.n_tags = params_s.n;
    ro.argv = (const char *const *)argv;
    ro.argc = (size_t)argc;
    if (launched) {
        code = train_job(p, &ro, argc, argv, workers, n_ps, executor, name, json);
        goto out;
    }
    int rc = hops_run_start(&run, p, &ro);
    if (rc != HOPS_OK) {
        code = cli_status("train", rc);
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "hops: run %s started (experiment %s): %s on %s, label %s\n",
                hops_run_id(run), hops_run_experiment(run), type_s, data, o.label);
    epoch_ctx ectx = {run, quiet || json,
                      o.epochs ? o.epochs : (o.type == HOPS_MODEL_GBDT ? 100 : 200), now()};
    o.on_epoch = on_epoch;
    o.ud = &ectx;
    o.run_id = hops_run_id(run);
    if (ckpt_every) {
        size_t len = strlen(hops_run_dir(run)) + 40;
        if (!(ckpt_path = malloc(len)))
            goto nomem;
        snprintf(ckpt_path, len, "%s/artifacts/checkpoint.hops", hops_run_dir(run));
        o.checkpoint = ckpt_path;
    }
    if ((rc = hops_model_train(&model, path, &o, &report)) != HOPS_OK) {
        code = cli_status("train", rc);
        hops_run_end(run, HOPS_RUN_FAILED, code, 0, hops_last_error());
        goto out;
    }
    rep = json_loads(report, 0, NULL);
    log_finals(run, json_object_get(rep, "test_metrics"), "");
    log_finals(run, json_object_get(rep, "train_metrics"), "train_");
    if (!(artifact = malloc(strlen(hops_run_dir(run)) + 32)))
        goto nomem;
    snprintf(artifact, strlen(hops_run_dir(run)) + 32, "%s/artifacts/model.hops",
             hops_run_dir(run));
    if ((rc = hops_model_save(model, artifact)) != HOPS_OK ||
        (rc = hops_model_register(p, name, artifact, &reg)) != HOPS_OK) {
        code = cli_status("train", rc);
        hops_run_end(run, HOPS_RUN_FAILED, code, 0, hops_last_error());
        goto out;
    }
    regdoc = json_loads(reg, 0, NULL);
    if ((rc = hops_run_end(run, HOPS_RUN_FINISHED, 0, 0, NULL)) != HOPS_OK) {
        code = cli_status("train", rc);
        goto out;
    }
    if (json) {
        json_t *doc = json_pack(
            "{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "run_id", hops_run_id(run), "model",
            json_object_get(regdoc, "name"), "version", json_object_get(regdoc, "version"), "spec",
            json_object_get(regdoc, "spec"), "path", json_object_get(regdoc, "path"), "rows",
            json_object_get(rep, "rows"), "test_metrics", json_object_get(rep, "test_metrics"),
            "train_metrics", json_object_get(rep, "train_metrics"));
        json_object_set(doc, "epochs", json_object_get(rep, "epochs"));
        json_object_set(doc, "classes", json_object_get(rep, "classes"));
        json_object_set(doc, "task", json_object_get(rep, "task"));
        json_dumpf(doc, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(doc);
    } else {
        const json_t *rows = json_object_get(rep, "rows");
        fprintf(stderr, "Trained %s (%s) on %lld rows, tested on %lld, %lld epochs%s\n", type_s,
                json_string_value(json_object_get(rep, "task")),
                (long long)json_integer_value(json_object_get(rows, "train")),
                (long long)json_integer_value(json_object_get(rows, "test")),
                (long long)json_integer_value(json_object_get(rep, "epochs")),
                json_is_true(json_object_get(rep, "stopped_early")) ? " (stopped early)" : "");
        print_metrics("  train", json_object_get(rep, "train_metrics"));
        print_metrics("  test ", json_object_get(rep, "test_metrics"));
        printf("Registered model %s (run %s)\n  %s\n",
               json_string_value(json_object_get(regdoc, "spec")), hops_run_id(run),
               json_string_value(json_object_get(regdoc, "path")));
    }
    goto out;
nomem:
    code = cli_fail(EXIT_FAIL, "train", "out of memory");
out:
    hops_run_free(run);
    hops_model_free(model);
    hops_project_close(p);
    json_decref(rep);
    json_decref(regdoc);
    hops_free(report);
    hops_free(reg);
    free(path);
    free(artifact);
    free(default_name);
    free(ckpt_path);
    free(hidden);
    free(params);
    list_free(&features);
    list_free(&categorical);
    list_free(&hidden_s);
    list_free(&params_s);
    return code;
}
