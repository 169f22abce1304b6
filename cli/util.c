/* hops CLI — messages, option parsing, formatting. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(int code, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hops%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_status(const char *cmd, int status)
{
    int code;
    switch (status) {
    case HOPS_ENOPROJECT:
        code = EXIT_NOPROJECT;
        break;
    case HOPS_ENOTFOUND:
    case HOPS_EAMBIGUOUS:
        code = EXIT_NOTFOUND;
        break;
    case HOPS_ECORRUPT:
    case HOPS_EVERSION:
        code = EXIT_CORRUPT;
        break;
    case HOPS_EBUSY:
        code = EXIT_BUSY;
        break;
    case HOPS_EINVAL:
    case HOPS_EPARSE:
        code = EXIT_USAGE;
        break;
    default:
        code = EXIT_FAIL;
    }
    const char *msg = hops_last_error();
    return cli_fail(code, cmd, "%s", *msg ? msg : hops_strerror(status));
}

int cli_opt_value(int argc, char **argv, int *i, const char *name, const char *shortname,
                  const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (strcmp(a, name) == 0 || (shortname && strcmp(a, shortname) == 0)) {
        if (*i + 1 >= argc)
            return -1;
        *val = argv[++*i];
        return 1;
    }
    return 0;
}

int cli_flag(const char *arg, const char *name, const char *shortname)
{
    return strcmp(arg, name) == 0 || (shortname && strcmp(arg, shortname) == 0);
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int cli_open_project(const char *cmd, hops_project **out)
{
    int rc = hops_project_open(out, NULL);
    return rc == HOPS_OK ? 0 : cli_status(cmd, rc);
}

int cli_term_width(void)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (cols && atoi(cols) > 0)
        return atoi(cols);
    return 0;
}

void cli_format_value(const json_t *v, char *out, size_t n)
{
    if (!v || json_is_null(v))
        snprintf(out, n, "-");
    else if (json_is_integer(v))
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, n, "%.6g", json_real_value(v));
    else if (json_is_string(v))
        snprintf(out, n, "%s", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(out, n, "%s", json_is_true(v) ? "true" : "false");
    else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, n, "%s", s ? s : "?");
        free(s);
    }
}

void cli_format_duration(double secs, char *out, size_t n)
{
    if (!(secs >= 0) || isinf(secs))
        snprintf(out, n, "-");
    else if (secs < 60)
        snprintf(out, n, "%.1fs", secs);
    else if (secs < 3600)
        snprintf(out, n, "%dm%02ds", (int)secs / 60, (int)secs % 60);
    else
        snprintf(out, n, "%dh%02dm", (int)(secs / 3600), ((int)secs % 3600) / 60);
}

void cli_format_time(double t, char *out, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;
    if (t <= 0 || !localtime_r(&s, &tm) || strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(out, n, "-");
}

int cli_run_subcommand(const char *group, const char *usage, const cli_subcommand *subs, size_t n,
                       int argc, char **argv)
{
    hops_project *p = NULL;
    const cli_subcommand *sc = NULL;
    int rc;
    if (argc < 2 || cli_flag(argv[1], "--help", "-h") || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < n && !sc; i++)
        if (strcmp(argv[1], subs[i].name) == 0 || (subs[i].alias && strcmp(argv[1], subs[i].alias) == 0))
            sc = &subs[i];
    if (!sc)
        return cli_fail(EXIT_USAGE, group, "unknown subcommand '%s'; see `hops %s --help`", argv[1],
                        group);
    if ((rc = cli_open_project(group, &p)) != 0)
        return rc;
    rc = sc->fn(p, argc, argv);
    hops_project_close(p);
    return rc;
}

int cli_kv_add(cli_kv_list *list, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return -1;
    hops_kv *items = realloc(list->items, (list->n + 1) * sizeof *items);
    if (!items)
        return -1;
    list->items = items;
    char *key = strndup(arg, (size_t)(eq - arg));
    if (!key)
        return -1;
    items[list->n].key = key;
    items[list->n].value = eq + 1;
    list->n++;
    return 0;
}

void cli_kv_free(cli_kv_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free((char *)list->items[i].key);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

int cli_run_option(const char *cmd, int argc, char **argv, int *i, const char **experiment,
                   cli_kv_list *params, cli_kv_list *tags)
{
    const char *val;
    int m;
    if ((m = cli_opt_value(argc, argv, i, "--experiment", "-e", &val)) != 0) {
        if (m < 0)
            return cli_fail(EXIT_USAGE, cmd, "option '%s' needs a value", argv[*i]), -1;
        *experiment = val;
        return 1;
    }
    int is_param = (m = cli_opt_value(argc, argv, i, "--param", "-p", &val)) != 0;
    if (!is_param && (m = cli_opt_value(argc, argv, i, "--tag", "-t", &val)) == 0)
        return 0;
    if (m < 0)
        return cli_fail(EXIT_USAGE, cmd, "option '%s' needs a value", argv[*i]), -1;
    if (cli_kv_add(is_param ? params : tags, val) != 0)
        return cli_fail(EXIT_USAGE, cmd, "bad --%s '%s': expected KEY=VALUE%s",
                        is_param ? "param" : "tag", val, is_param ? ", e.g. --param lr=0.01" : ""),
               -1;
    return 1;
}
