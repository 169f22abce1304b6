/* hops data transform IN -o OUT [OPS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hops data transform IN -o OUT [read options] [OPS] [--json]\n"
    "\n"
    "Reshape IN (a CSV or JSON Lines file, or a dataset NAME[:VERSION]) into OUT in one\n"
    "streaming pass (two with --standardize or --one-hot, which need the whole column).\n"
    "\n"
    "The operations apply in this fixed order, whatever order they are given in:\n"
    "  1. --filter EXPR           keep the rows where EXPR holds (see below)\n"
    "  2. --fill-null COL=VALUE   a null in COL becomes VALUE (repeatable)\n"
    "  3. --cast COL:TYPE[,...]   TYPE int, float, bool or string\n"
    "     --cast-errors error|null  a value that does not convert is an error naming\n"
    "                             FILE:LINE:COLUMN (the default), or becomes null\n"
    "  4. --standardize COL[,...] (x - mean) / std over the rows kept; std with ddof 0\n"
    "     --ddof 0|1              (population, like scikit-learn), or 1 (sample, like pandas);\n"
    "                             a column with std 0 becomes x - mean; nulls stay null\n"
    "  5. --one-hot COL[,...]     one 0/1 column COL=value per distinct value, in sorted order\n"
    "                             (numeric when all values are numbers), in COL's place;\n"
    "                             a null sets none; at most 1000 distinct values\n"
    "  6. --select COL[,...]      keep only these columns, in this order\n"
    "     --drop COL[,...]        leave these columns out; the name of a one-hot column\n"
    "                             stands for all its COL=value columns\n"
    "  7. --split NAME=F,...      e.g. train=0.8,test=0.2 (the fractions sum to 1): each split\n"
    "     --seed N                goes to OUT with .NAME before its extension (out.train.csv),\n"
    "                             or to OUT/NAME.csv when OUT ends with '/'. A row's split is\n"
    "                             a hash of (seed, its line number): the same on every run\n"
    "                             and for any --threads. Default seed 0.\n"
    "\n"
    "Filter expressions:\n"
    "  age > 30 and country == 'SE'     compare a column with a number or a 'text' (or \"text\"):\n"
    "                                   = == != < <= > >=\n"
    "  not (score < 0.5 or b = 1)       and, or, not, parentheses; not binds tighter than and,\n"
    "                                   and tighter than or\n"
    "  country in ('SE', 'NO')          COL [not] in (...)\n"
    "  score is null, x is not null     test for null (an empty CSV field, JSON null, no key)\n"
    "  `sepal length` >= 5              other column names in backticks\n"
    "A number compares numerically with a field that reads as a number, and as text\n"
    "otherwise; a quoted literal compares as text. A null field is like NaN in pandas:\n"
    "only != and `not in` hold for it. A bad expression exits 2 and shows the column.\n"
    "\n"
    "Output: CSV (RFC 4180, comma-separated, with a header; a null is an empty field, an\n"
    "empty text is \"\"), or JSON Lines when OUT ends with .jsonl or .ndjson (numbers and\n"
    "true/false typed; --cast COL:string keeps text); --output-format csv|jsonl to choose.\n"
    "Each file is written to a temporary name and renamed when complete. Rows keep the\n"
    "input order whatever --threads.\n"
    "\n"
    "Read options: --format csv|jsonl, --delimiter C, --no-header, --threads N\n"
    "  -o -     writes the data to standard output (the summary is then left out)\n"
    "  --name NAME  also store the output as a version of project dataset NAME (NAME.SPLIT\n"
    "           per split), recording its lineage: the input dataset version and this spec\n"
    "  --json   print a summary as JSON: rows in and out per split, the means and stds\n"
    "           used, the one-hot categories, values made null by --cast-errors null\n"
    "\n"
    "Exit status: 0 done, 1 the data did not convert or could not be read or written,\n"
    "2 bad options or filter, 4 no such file or dataset.\n";

/* Growable arrays of what the options collect. */
typedef struct {
    const char **v;
    size_t n;
} str_list;

typedef struct {
    str_list select, drop, one_hot, standardize;
    hops_transform_cast *casts;
    size_t n_casts;
    hops_transform_fill *fills;
    size_t n_fills;
    hops_transform_split *splits;
    size_t n_splits;
    char **owned; /* copies the lists point into */
    size_t n_owned;
} collected;

static int grow(void **v, size_t n, size_t size)
{
    void *p = realloc(*v, (n + 1) * size);
    if (!p)
        return -1;
    *v = p;
    return 0;
}

static char *own(collected *c, const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy || grow((void **)&c->owned, c->n_owned, sizeof *c->owned) != 0) {
        free(copy);
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    c->owned[c->n_owned++] = copy;
    return copy;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n_owned; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->select.v);
    free(c->drop.v);
    free(c->one_hot.v);
    free(c->standardize.v);
    free(c->casts);
    free(c->fills);
    free(c->splits);
}

/* Split VAL at commas into pieces (copied); calls ADD for each. -1 after a usage message. */
static int each_item(collected *c, const char *opt, const char *val,
                     int (*add)(collected *, const char *, const char *), const char *what)
{
    const char *p = val;
    if (!*val) {
        cli_fail(EXIT_USAGE, "data transform", "%s needs %s", opt, what);
        return -1;
    }
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *item = own(c, p, n);
        if (!item) {
            cli_fail(EXIT_FAIL, "data transform", "out of memory");
            return -1;
        }
        if (!*item) {
            cli_fail(EXIT_USAGE, "data transform", "%s '%s': an empty item; it takes %s", opt, val,
                     what);
            return -1;
        }
        if (add(c, opt, item) != 0)
            return -1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int add_to(str_list *l, const char *item)
{
    if (grow((void **)&l->v, l->n, sizeof *l->v) != 0)
        return cli_fail(-1, "data transform", "out of memory");
    l->v[l->n++] = item;
    return 0;
}

static int add_select(collected *c, const char *opt, const char *item)
{
    (void)opt;
    return add_to(&c->select, item);
}

static int add_drop(collected *c, const char *opt, const char *item)
{
    (void)opt;
    return add_to(&c->drop, item);
}

static int add_one_hot(collected *c, const char *opt, const char *item)
{
    (void)opt;
    return add_to(&c->one_hot, item);
}

static int add_standardize(collected *c, const char *opt, const char *item)
{
    (void)opt;
    return add_to(&c->standardize, item);
}

/* COL:TYPE, split at the last ':'. */
static int add_cast(collected *c, const char *opt, const char *item)
{
    char *colon = strrchr(item, ':');
    hops_cast_type type;
    if (!colon || colon == item)
        return cli_fail(-1, "data transform",
                        "%s '%s': expected COL:TYPE, TYPE int, float, bool or string", opt, item);
    *colon = '\0';
    type = hops_cast_type_parse(colon + 1);
    if (!type)
        return cli_fail(-1, "data transform",
                        "%s %s: unknown type '%s' (int, float, bool or string)", opt, item,
                        colon + 1);
    if (grow((void **)&c->casts, c->n_casts, sizeof *c->casts) != 0)
        return cli_fail(-1, "data transform", "out of memory");
    c->casts[c->n_casts].column = item;
    c->casts[c->n_casts].type = type;
    c->n_casts++;
    return 0;
}

/* NAME=FRACTION */
static int add_split(collected *c, const char *opt, const char *item)
{
    char *eq = strchr(item, '='), *end;
    double f;
    if (!eq || eq == item)
        return cli_fail(-1, "data transform",
                        "%s: '%s' is not NAME=FRACTION (e.g. train=0.8,test=0.2)", opt, item);
    *eq = '\0';
    errno = 0;
    f = strtod(eq + 1, &end);
    if (eq[1] == '\0' || *end || errno)
        return cli_fail(-1, "data transform", "%s %s: '%s' is not a fraction", opt, item, eq + 1);
    if (grow((void **)&c->splits, c->n_splits, sizeof *c->splits) != 0)
        return cli_fail(-1, "data transform", "out of memory");
    c->splits[c->n_splits].name = item;
    c->splits[c->n_splits].fraction = f;
    c->n_splits++;
    return 0;
}

static int add_fill(collected *c, const char *val)
{
    const char *eq = strchr(val, '=');
    char *col;
    if (!eq || eq == val)
        return cli_fail(EXIT_USAGE, "data transform", "--fill-null '%s': expected COL=VALUE", val);
    if (!(col = own(c, val, (size_t)(eq - val))) ||
        grow((void **)&c->fills, c->n_fills, sizeof *c->fills) != 0)
        return cli_fail(EXIT_FAIL, "data transform", "out of memory");
    c->fills[c->n_fills].column = col;
    c->fills[c->n_fills].value = eq + 1;
    c->n_fills++;
    return 0;
}

static void print_summary(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err), *outs, *e;
    size_t i;
    if (!j) {
        fputs(text, stdout);
        putchar('\n');
        return;
    }
    long long in = json_integer_value(json_object_get(j, "rows_in"));
    long long filtered = json_integer_value(json_object_get(j, "rows_filtered"));
    outs = json_object_get(j, "outputs");
    json_array_foreach(outs, i, e)
    {
        const char *split = json_string_value(json_object_get(e, "split"));
        printf("%s%s%s: %lld rows\n", split ? split : "", split ? " -> " : "wrote ",
               json_string_value(json_object_get(e, "path")),
               (long long)json_integer_value(json_object_get(e, "rows")));
    }
    printf("%lld rows read, %lld kept%s", in, in - filtered, filtered ? "" : "\n");
    if (filtered)
        printf(" (%lld filtered out)\n", filtered);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "cast_nulls"), k, v)
    {
        if (json_integer_value(v))
            printf("--cast %s: %lld values did not convert and became null\n", k,
                   (long long)json_integer_value(v));
    }
    json_decref(j);
}

/* With --name: the dataset version the input is, pinned ("raw" -> "raw:3"), or
 * NULL when the input is a plain file. Returns an exit code. */
static int pin_input(const char *in, const char *path, char **pinned)
{
    hops_project *p = NULL;
    int rc;
    *pinned = NULL;
    if (strcmp(in, path) == 0) /* a file, not a dataset */
        return 0;
    if ((rc = cli_open_project("data transform", &p)) != 0)
        return rc;
    int r = hops_dataset_pin(p, in, pinned);
    hops_project_close(p);
    return r == HOPS_OK ? 0 : cli_status("data transform", r);
}

/* With --name: store every output file as a version of dataset NAME (or
 * NAME.SPLIT per split), with its lineage: the source version and the spec. */
static int record_outputs(const char *name, const char *source, const hops_transform_options *o,
                          const char *summary, int quiet)
{
    hops_project *p = NULL;
    char *spec = NULL;
    json_t *doc = NULL;
    int rc;
    if ((rc = cli_open_project("data transform", &p)) != 0)
        return rc;
    if (hops_transform_options_to_json(o, &spec) != HOPS_OK || !(doc = json_loads(summary, 0, NULL))) {
        rc = cli_fail(EXIT_FAIL, "data transform", "cannot record the transform: %s", hops_last_error());
        goto out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "outputs"), i, e) {
        const char *split = json_string_value(json_object_get(e, "split"));
        const char *file = json_string_value(json_object_get(e, "path"));
        char dsname[256];
        char *added = NULL;
        snprintf(dsname, sizeof dsname, "%s%s%s", name, split ? "." : "", split ? split : "");
        int r = source ? hops_dataset_add_derived(p, dsname, file, source, spec, NULL, &added)
                       : hops_dataset_add(p, dsname, file, NULL, &added);
        if (r != HOPS_OK) {
            rc = cli_status("data transform", r);
            goto out;
        }
        json_t *a = json_loads(added, 0, NULL);
        if (!quiet)
            printf("dataset %s:%lld %s%s%s\n", dsname,
                   (long long)json_integer_value(json_object_get(a, "version")),
                   json_is_true(json_object_get(a, "added")) ? "stored" : "unchanged (same content)",
                   source ? " from " : "", source ? source : "");
        json_decref(a);
        hops_free(added);
    }
out:
    json_decref(doc);
    hops_free(spec);
    hops_project_close(p);
    return rc;
}

int cmd_data_transform(int argc, char **argv)
{
    const char *dataset_name = NULL;
    char *pinned = NULL;
    hops_transform_options o = HOPS_TRANSFORM_OPTIONS_INIT;
    collected c;
    const char *in = NULL, *out = NULL, *val;
    char *path = NULL, *summary = NULL;
    int json = 0, m, rc = EXIT_OK, r;
    memset(&c, 0, sizeof c);
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if ((r = cli_read_option("data transform", argc, argv, &i, &o.read)) != 0) {
            if (r < 0) {
                rc = EXIT_USAGE;
                goto out;
            }
            continue;
        }
        if ((m = cli_opt_value(argc, argv, &i, "--output", "-o", &val)) > 0)
            out = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--filter", "-f", &val)) > 0) {
            if (o.filter) {
                rc = cli_fail(EXIT_USAGE, "data transform",
                              "--filter is given twice; join the expressions with and");
                goto out;
            }
            o.filter = val;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--select", NULL, &val)) > 0)
            r = each_item(&c, "--select", val, add_select, "column names, COL[,COL...]");
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--drop", NULL, &val)) > 0)
            r = each_item(&c, "--drop", val, add_drop, "column names, COL[,COL...]");
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--one-hot", NULL, &val)) > 0)
            r = each_item(&c, "--one-hot", val, add_one_hot, "column names, COL[,COL...]");
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--standardize", NULL, &val)) > 0)
            r = each_item(&c, "--standardize", val, add_standardize, "column names, COL[,COL...]");
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--cast", NULL, &val)) > 0)
            r = each_item(&c, "--cast", val, add_cast, "COL:TYPE[,COL:TYPE...]");
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--split", NULL, &val)) > 0) {
            if (c.n_splits) {
                rc = cli_fail(EXIT_USAGE, "data transform", "--split is given twice");
                goto out;
            }
            r = each_item(&c, "--split", val, add_split, "NAME=FRACTION[,NAME=FRACTION...]");
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--fill-null", NULL, &val)) > 0)
            r = add_fill(&c, val);
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--cast-errors", NULL, &val)) > 0) {
            if (strcmp(val, "null") != 0 && strcmp(val, "error") != 0) {
                rc = cli_fail(EXIT_USAGE, "data transform",
                              "--cast-errors is error or null, not '%s'", val);
                goto out;
            }
            o.cast_errors_null = strcmp(val, "null") == 0;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--ddof", NULL, &val)) > 0) {
            if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0) {
                rc = cli_fail(EXIT_USAGE, "data transform", "--ddof is 0 or 1, not '%s'", val);
                goto out;
            }
            o.standardize_ddof = val[0] - '0';
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--seed", NULL, &val)) > 0) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(val, &end, 10);
            if (!*val || *end || errno || val[0] == '-') {
                rc = cli_fail(EXIT_USAGE, "data transform",
                              "--seed needs a number from 0 to 2^64-1, got '%s'", val);
                goto out;
            }
            o.seed = (uint64_t)s;
        } else if (m == 0 &&
                   (m = cli_opt_value(argc, argv, &i, "--output-format", NULL, &val)) > 0) {
            if (strcmp(val, "csv") == 0)
                o.output_format = HOPS_FORMAT_CSV;
            else if (strcmp(val, "jsonl") == 0 || strcmp(val, "ndjson") == 0)
                o.output_format = HOPS_FORMAT_JSONL;
            else {
                rc = cli_fail(EXIT_USAGE, "data transform", "--output-format is csv or jsonl");
                goto out;
            }
        } else if (m < 0) {
            rc = cli_fail(EXIT_USAGE, "data transform", "option '%s' needs a value", argv[i]);
            goto out;
        } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--name", NULL, &val)) > 0) {
            dataset_name = val;
        } else if (m < 0) {
            rc = cli_fail(EXIT_USAGE, "data transform", "option '%s' needs a value", argv[i]);
            goto out;
        } else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            rc = cli_fail(EXIT_USAGE, "data transform",
                          "unknown option '%s'; see `hops data transform --help`", argv[i]);
            goto out;
        } else if (!in)
            in = argv[i];
        else {
            rc = cli_fail(EXIT_USAGE, "data transform", "unexpected argument '%s' (one input only)",
                          argv[i]);
            goto out;
        }
        if (r != 0) {
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (!in || !out) {
        rc =
            cli_fail(EXIT_USAGE, "data transform", "%s; usage: hops data transform IN -o OUT [OPS]",
                     !in ? "no input given" : "no -o OUT given");
        goto out;
    }
    if (c.n_splits == 0 && o.seed) {
        rc = cli_fail(EXIT_USAGE, "data transform", "--seed is for --split");
        goto out;
    }
    o.select = c.select.v;
    o.n_select = c.select.n;
    o.drop = c.drop.v;
    o.n_drop = c.drop.n;
    o.one_hot = c.one_hot.v;
    o.n_one_hot = c.one_hot.n;
    o.standardize = c.standardize.v;
    o.n_standardize = c.standardize.n;
    o.casts = c.casts;
    o.n_casts = c.n_casts;
    o.fills = c.fills;
    o.n_fills = c.n_fills;
    o.splits = c.splits;
    o.n_splits = c.n_splits;
    /* "-" is standard output; the summary then goes to stderr, out of the data's way. */
    if (strcmp(out, "-") == 0)
        out = "/dev/stdout";
    int to_stdout = strcmp(out, "/dev/stdout") == 0;
    if ((rc = cli_data_path("data transform", in, &path, &o.read)) != 0)
        goto out;
    /* An input that is a dataset is pinned to its version now, so the lineage
     * recorded afterwards names the version that was read. */
    if (dataset_name) { /* fail before writing anything when there is no project */
        hops_project *p = NULL;
        if ((rc = cli_open_project("data transform", &p)) != 0)
            goto out;
        hops_project_close(p);
        if ((rc = pin_input(in, path, &pinned)) != 0)
            goto out;
    }
    if ((r = hops_data_transform(path, out, &o, &summary)) != HOPS_OK) {
        rc = cli_status("data transform", r);
        goto out;
    }
    if (dataset_name && (rc = record_outputs(dataset_name, pinned, &o, summary, json)) != 0)
        goto out;
    if (json) {
        fputs(summary, to_stdout ? stderr : stdout);
        fputc('\n', to_stdout ? stderr : stdout);
    } else if (!to_stdout)
        print_summary(summary);
out:
    hops_free(summary);
    hops_free(pinned);
    free(path);
    collected_free(&c);
    return rc;
}
