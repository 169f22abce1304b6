/* hops serve — TensorFlow Serving's REST API over registered or exported
 * models. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hops/serving.h>

#include "cli.h"

static const char usage[] =
    "usage: hops serve --models N1[,N2...] [--port P] [OPTIONS]\n"
    "       hops serve --model_name N --model_base_path DIR [--rest_api_port P] [OPTIONS]\n"
    "\n"
    "Serve models over TensorFlow Serving's REST API, so existing clients work unchanged:\n"
    "  POST /v1/models/NAME[/versions/V|/labels/L]:predict    {\"instances\": [...]} or "
    "{\"inputs\": ...}\n"
    "  POST /v1/models/NAME[/versions/V|/labels/L]:classify   {\"examples\": [...], \"context\": "
    "{...}}\n"
    "  POST /v1/models/NAME[/versions/V|/labels/L]:regress\n"
    "  GET  /v1/models/NAME[/versions/V]       status;  GET .../metadata   signature\n"
    "  GET  /metrics (Prometheus)   /healthz (alive)   /readyz (models loaded)\n"
    "A row names the model's raw features ({\"age\": 41, \"country\": \"SE\"}, encoded with the\n"
    "stored encodings) or is a ready numeric vector. See docs/rest-api.md.\n"
    "\n"
    "Models:\n"
    "  --models N1,N2            registered models of this project (hops train, hops model)\n"
    "  --model_name N --model_base_path DIR\n"
    "                            one model from DIR/1/model.hops, DIR/2/model.hops, ...\n"
    "                            (tensorflow_model_server's flags; `hops model export` makes "
    "them)\n"
    "  --version-policy P        latest (default), all, or specific (with --versions 1,3)\n"
    "  --label L=V               a label of a base-path model (registry labels: hops model label)\n"
    "  --poll-ms MS              look for new versions and labels this often (1000); a new\n"
    "                            version loads in the background and replaces the old at once\n"
    "                            (also --file_system_poll_wait_seconds S)\n"
    "Server:\n"
    "  --port P, --rest_api_port P   the port (8501); 0 picks a free one\n"
    "  --host H                  bind address (0.0.0.0)\n"
    "  --port-file F             write the port to F once serving\n"
    "  --threads N               HTTP threads per worker (2; also --rest_api_num_threads)\n"
    "  --workers N               worker processes accepting on one socket (1)\n"
    "  --reuse-port              SO_REUSEPORT: another server may bind the same port\n"
    "                            (a rolling restart); otherwise a port in use is an error\n"
    "  --autoscale MIN:MAX       grow workers while CPU or latency is high, shrink when idle\n"
    "  --autoscale-latency-ms MS the latency target of the autoscaler (50)\n"
    "  --autoscale-interval-ms MS how often it looks (500)\n"
    "  --batch-max N             batch rows of concurrent requests (mlp, gbdt), up to N\n"
    "  --batch-timeout-us T      waiting at most T microseconds for a batch to fill (1000)\n"
    "  --max-body-bytes N        larger bodies get 413 (4194304)\n"
    "  --request-timeout-s S     close connections idle this long (30)\n"
    "  --grace-s S               on SIGTERM, finish requests in flight for up to S seconds (10)\n"
    "  --auth-token-file F       require `Authorization: Bearer TOKEN` (TOKEN: F's first line);\n"
    "                            401 otherwise (health checks are open)\n"
    "  --kafka-brokers B --kafka-topic T [--kafka-config K=V ...]\n"
    "                            log every inference (request + prediction JSON) to Kafka\n"
    "  -q, --quiet               no startup line\n"
    "\n"
    "SIGTERM or Ctrl-C stops gracefully. Exit codes: 0 stopped, 1 failed (port in use),\n"
    "2 bad usage, 3 no project, 4 model not found.\n";

static void on_signal(int sig)
{
    (void)sig;
    hops_serve_request_stop();
}

typedef struct {
    const char *host;
    const char *port_file;
    int quiet;
    const char *what;
    int workers;
} ready_info;

static void on_ready(int port, void *ud)
{
    ready_info *ri = ud;
    if (ri->port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", ri->port_file);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%d\n", port);
            if (fclose(f) == 0)
                rename(tmp, ri->port_file);
        }
    }
    if (!ri->quiet) {
        printf("hops serve: %s on http://%s:%d/v1/models/ (%d worker%s)\n", ri->what,
               ri->host ? ri->host : "0.0.0.0", port, ri->workers, ri->workers == 1 ? "" : "s");
        fflush(stdout);
    }
}

/* Split "a,b,c" into LIST (pointers into a copy owned by *STORE). */
static int split_list(const char *s, char **store, const char ***list, size_t *n)
{
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        return -1;
    *store = copy;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const char **more = realloc(*list, (*n + 1) * sizeof *more);
        if (!more)
            return -1;
        *list = more;
        more[(*n)++] = t;
    }
    return 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    char buf[4096];
    if (!f)
        return NULL;
    char *line = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!line)
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? strdup(buf) : NULL;
}

int cmd_serve(int argc, char **argv)
{
    hops_serve_options o = HOPS_SERVE_OPTIONS_INIT;
    const char **models = NULL, **labels = NULL, **kconf = NULL, *val;
    char *models_store = NULL, *token = NULL;
    int64_t *versions = NULL;
    size_t n_models = 0, n_labels = 0, n_kconf = 0, n_versions = 0;
    const char *versions_arg = NULL, *policy = NULL, *token_file = NULL;
    ready_info ri = {NULL, NULL, 0, NULL, 1};
    int rc = EXIT_USAGE, m;
    long v;
    o.port = 8501;
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define OPT(name, alt) ((m = cli_opt_value(argc, argv, &i, name, alt, &val)) != 0)
#define NUM(lo, hi)                                                                                \
    if (m < 0 || parse_int(val, lo, hi, &v) != 0) {                                                \
        cli_fail(EXIT_USAGE, "serve", "%s needs a whole number in [%ld, %ld]", a, (long)(lo),      \
                 (long)(hi));                                                                      \
        goto out;                                                                                  \
    }
        if (cli_flag(a, "--quiet", "-q")) {
            ri.quiet = 1;
            continue;
        }
        if (cli_flag(a, "--reuse-port", NULL)) {
            o.reuse_port = 1;
            continue;
        }
        if (OPT("--models", NULL)) {
            if (m < 0 || split_list(val, &models_store, &models, &n_models) != 0 || !n_models) {
                cli_fail(EXIT_USAGE, "serve", "--models needs names: --models N1,N2");
                goto out;
            }
        } else if (OPT("--model_name", NULL) || OPT("--model-name", NULL)) {
            if (m < 0)
                goto missing;
            o.model_name = val;
        } else if (OPT("--model_base_path", NULL) || OPT("--model-base-path", NULL)) {
            if (m < 0)
                goto missing;
            o.model_base_path = val;
        } else if (OPT("--port", "-p") || OPT("--rest_api_port", NULL)) {
            NUM(0, 65535);
            o.port = (int)v;
        } else if (OPT("--host", NULL)) {
            if (m < 0)
                goto missing;
            o.host = ri.host = val;
        } else if (OPT("--port-file", NULL)) {
            if (m < 0)
                goto missing;
            ri.port_file = val;
        } else if (OPT("--version-policy", NULL)) {
            if (m < 0)
                goto missing;
            policy = val;
        } else if (OPT("--versions", NULL)) {
            if (m < 0)
                goto missing;
            versions_arg = val;
        } else if (OPT("--label", NULL)) {
            if (m < 0)
                goto missing;
            const char **more = realloc(labels, (n_labels + 1) * sizeof *more);
            if (!more)
                goto out;
            labels = more;
            labels[n_labels++] = val;
        } else if (OPT("--poll-ms", NULL)) {
            NUM(10, 3600000);
            o.poll_ms = (int)v;
        } else if (OPT("--file_system_poll_wait_seconds", NULL)) {
            NUM(1, 3600);
            o.poll_ms = (int)v * 1000;
        } else if (OPT("--threads", NULL) || OPT("--rest_api_num_threads", NULL)) {
            NUM(1, 256);
            o.threads = (int)v;
        } else if (OPT("--workers", NULL)) {
            NUM(1, 64);
            o.workers = (int)v;
        } else if (OPT("--autoscale", NULL)) {
            int lo, hi, used = 0;
            if (m < 0 || sscanf(val, "%d:%d%n", &lo, &hi, &used) != 2 || val[used] || lo < 1 ||
                hi < lo || hi > 64) {
                cli_fail(EXIT_USAGE, "serve", "--autoscale is MIN:MAX with 1 <= MIN <= MAX <= 64");
                goto out;
            }
            o.autoscale_min = lo;
            o.autoscale_max = hi;
        } else if (OPT("--autoscale-latency-ms", NULL)) {
            NUM(1, 600000);
            o.autoscale_latency_ms = (double)v;
        } else if (OPT("--autoscale-interval-ms", NULL)) {
            NUM(50, 600000);
            o.autoscale_interval_ms = (int)v;
        } else if (OPT("--batch-max", NULL)) {
            NUM(1, 1000000);
            o.batch_max = (size_t)v;
        } else if (OPT("--batch-timeout-us", NULL)) {
            NUM(1, 10000000);
            o.batch_timeout_us = v;
        } else if (OPT("--max-body-bytes", NULL)) {
            NUM(1, 1L << 30);
            o.max_body_bytes = (size_t)v;
        } else if (OPT("--request-timeout-s", NULL)) {
            NUM(1, 86400);
            o.request_timeout_s = (int)v;
        } else if (OPT("--grace-s", NULL)) {
            NUM(1, 3600);
            o.grace_s = (int)v;
        } else if (OPT("--auth-token-file", NULL)) {
            if (m < 0)
                goto missing;
            token_file = val;
        } else if (OPT("--kafka-brokers", NULL)) {
            if (m < 0)
                goto missing;
            o.kafka_brokers = val;
        } else if (OPT("--kafka-topic", NULL)) {
            if (m < 0)
                goto missing;
            o.kafka_topic = val;
        } else if (OPT("--kafka-config", NULL)) {
            if (m < 0 || !strchr(val, '=')) {
                cli_fail(EXIT_USAGE, "serve", "--kafka-config takes KEY=VALUE");
                goto out;
            }
            const char **more = realloc(kconf, (n_kconf + 1) * sizeof *more);
            if (!more)
                goto out;
            kconf = more;
            kconf[n_kconf++] = val;
        } else {
            cli_fail(EXIT_USAGE, "serve", "unexpected argument '%s'; see `hops serve --help`", a);
            goto out;
        }
        continue;
    missing:
        cli_fail(EXIT_USAGE, "serve", "option '%s' needs a value", a);
        goto out;
#undef OPT
#undef NUM
    }
    if (!!o.model_name != !!o.model_base_path) {
        cli_fail(EXIT_USAGE, "serve", "--model_name and --model_base_path go together");
        goto out;
    }
    if (o.model_base_path && n_models) {
        cli_fail(EXIT_USAGE, "serve", "give either --models or --model_base_path, not both");
        goto out;
    }
    if (!o.model_base_path && !n_models) {
        cli_fail(EXIT_USAGE, "serve",
                 "which models? --models N1,N2 or --model_name N --model_base_path DIR");
        goto out;
    }
    if (n_labels && !o.model_base_path) {
        cli_fail(EXIT_USAGE, "serve",
                 "--label is for --model_base_path; set registry labels with `hops model label`");
        goto out;
    }
    if (!policy || strcmp(policy, "latest") == 0) {
        o.policy = HOPS_VERSION_POLICY_LATEST;
    } else if (strcmp(policy, "all") == 0) {
        o.policy = HOPS_VERSION_POLICY_ALL;
    } else if (strcmp(policy, "specific") == 0) {
        o.policy = HOPS_VERSION_POLICY_SPECIFIC;
    } else {
        cli_fail(EXIT_USAGE, "serve", "--version-policy is latest, all or specific, not '%s'",
                 policy);
        goto out;
    }
    if ((o.policy == HOPS_VERSION_POLICY_SPECIFIC) != (versions_arg != NULL)) {
        cli_fail(EXIT_USAGE, "serve", "--versions 1,3 goes with --version-policy specific");
        goto out;
    }
    if (versions_arg) {
        char *copy = strdup(versions_arg), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
             t = strtok_r(NULL, ",", &save)) {
            if (parse_int(t, 1, 2147483647L, &v) != 0) {
                free(copy);
                cli_fail(EXIT_USAGE, "serve", "--versions: '%s' is not a version (1, 2, ...)", t);
                goto out;
            }
            int64_t *more = realloc(versions, (n_versions + 1) * sizeof *more);
            if (!more) {
                free(copy);
                goto out;
            }
            versions = more;
            versions[n_versions++] = v;
        }
        free(copy);
    }
    if (token_file && !(token = read_token(token_file))) {
        rc = cli_fail(EXIT_USAGE, "serve", "--auth-token-file %s: cannot read a token from it",
                      token_file);
        goto out;
    }
    if (!!o.kafka_brokers != !!o.kafka_topic) {
        cli_fail(EXIT_USAGE, "serve", "--kafka-brokers and --kafka-topic go together");
        goto out;
    }
    o.models = models;
    o.n_models = n_models;
    o.versions = versions;
    o.n_versions = n_versions;
    o.labels = labels;
    o.n_labels = n_labels;
    o.auth_token = token;
    o.kafka_config = kconf;
    o.n_kafka_config = n_kconf;
    ri.what = o.model_base_path ? o.model_name : "models";
    ri.workers = o.autoscale_min ? o.autoscale_min : (o.workers > 1 ? o.workers : 1);
    if (n_models == 1)
        ri.what = models[0];

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    int st = hops_serve_run(&o, on_ready, &ri);
    rc = st == HOPS_OK ? EXIT_OK : cli_status("serve", st);
    if (st == HOPS_OK && !ri.quiet)
        printf("hops serve: stopped\n");
out:
    free(models);
    free(models_store);
    free(labels);
    free(kconf);
    free(versions);
    free(token);
    return rc;
}
