/* hops predict — batch prediction with a registered model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hops predict --model NAME[:VERSION] --data D [-o OUT] [--json] [READ OPTIONS]\n"
    "\n"
    "Predict every row of D (a CSV / JSON Lines file or a dataset NAME[:VERSION]) with a\n"
    "registered model (NAME: its latest version). D needs the model's feature columns, raw:\n"
    "the model applies the standardization and one-hot encoding it was trained with.\n"
    "Other columns are ignored. When D has the label column too, the model's metrics on\n"
    "D are reported (on stderr, or under \"metrics\" with --json).\n"
    "\n"
    "Output, one row per input row in order: prediction (the class, or the value), and\n"
    "for classifiers p_CLASS, the probability of each class.\n"
    "  -o, --output OUT   write CSV to OUT (JSON Lines when it ends in .jsonl); default:\n"
    "                     CSV on stdout\n"
    "      --json         print one JSON document: {\"model\", \"rows\", \"columns\",\n"
    "                     \"metrics\", \"predictions\": [{\"prediction\", \"probabilities\"}]}\n"
    "  --threads N        OpenBLAS / XGBoost and parser threads (default: all CPUs)\n"
    "  --format, --delimiter, --no-header   how D is read\n";

int cmd_predict(int argc, char **argv)
{
    hops_predict_options o = HOPS_PREDICT_OPTIONS_INIT;
    const char *spec = NULL, *data = NULL, *out = NULL, *val;
    char *path = NULL, *text = NULL;
    hops_project *p = NULL;
    hops_model *model = NULL;
    int json = 0, code = EXIT_OK, m, rc;

    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--model", "-m", &val)) > 0)
            spec = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--data", "-d", &val)) > 0)
            data = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--output", "-o", &val)) > 0)
            out = val;
        else if (m < 0)
            return cli_fail(EXIT_USAGE, "predict", "option '%s' needs a value", argv[i]);
        else if ((m = cli_read_option("predict", argc, argv, &i, &o.read)) != 0) {
            if (m < 0)
                return EXIT_USAGE;
        } else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else
            return cli_fail(EXIT_USAGE, "predict",
                            "unexpected argument '%s'; see `hops predict --help`", argv[i]);
    }
    if (!spec || !data)
        return cli_fail(EXIT_USAGE, "predict",
                        "%s; usage: hops predict --model NAME[:VERSION] --data D",
                        !spec ? "which model? (--model)" : "which data? (--data)");
    if ((code = cli_open_project("predict", &p)) != 0)
        goto out;
    if ((rc = hops_model_open(p, spec, &model)) != HOPS_OK) {
        code = cli_status("predict", rc);
        goto out;
    }
    if ((code = cli_data_path("predict", data, &path, &o.read)) != 0)
        goto out;
    o.output = out ? out : json ? NULL : "/dev/stdout";
    o.rows_in_json = json;
    o.threads = o.read.threads;
    if ((rc = hops_model_predict(model, path, &o, &text)) != HOPS_OK) {
        code = cli_status("predict", rc);
        goto out;
    }
    json_t *doc = json_loads(text, 0, NULL);
    if (json) {
        json_object_set_new(doc, "model", json_string(spec));
        json_dumpf(doc, stdout, JSON_COMPACT);
        putchar('\n');
    } else {
        json_t *mt = json_object_get(doc, "metrics");
        if (out)
            fprintf(stderr, "hops predict: %lld rows -> %s\n",
                    (long long)json_integer_value(json_object_get(doc, "rows")), out);
        if (json_is_object(mt)) {
            static const char *const order[] = {"accuracy", "f1", "precision", "recall", "log_loss",
                                                "roc_auc",  "r2", "rmse",      "mae"};
            fprintf(stderr, "hops predict: metrics on %s (label '%s', %lld rows):", data,
                    json_string_value(json_object_get(doc, "label")),
                    (long long)json_integer_value(json_object_get(mt, "n")));
            for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
                json_t *v = json_object_get(mt, order[i]);
                if (json_is_number(v))
                    fprintf(stderr, "  %s %.4f", order[i], json_number_value(v));
            }
            fputc('\n', stderr);
        }
    }
    json_decref(doc);
out:
    hops_model_free(model);
    hops_project_close(p);
    hops_free(text);
    free(path);
    return code;
}
