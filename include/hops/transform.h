/* hops — transforming tabular data: `hops data transform IN -o OUT [OPS]`.
 *
 * One streaming pass over IN (two when --one-hot or --standardize need the
 * distinct values or the mean and standard deviation first), parsed on
 * several threads; rows come out in input order whatever the thread count.
 *
 * The operations always apply in this order, whatever order they are given in:
 *   1. filter       keep the rows that match an expression (see below)
 *   2. fill-null    COL=VALUE: a null in COL becomes VALUE
 *   3. cast         COL:TYPE, TYPE int, float, bool or string
 *   4. standardize  COL becomes (x - mean) / std, std with ddof 0 by default
 *                   (population std, like scikit-learn's StandardScaler);
 *                   a column with std 0 becomes x - mean (all 0)
 *   5. one-hot      COL becomes one 0/1 column per distinct value, named
 *                   COL=value, in sorted order (numerically when every value is
 *                   a number, else bytewise), in COL's place; a null sets none
 *   6. select/drop  keep only / leave out columns (select also reorders); the
 *                   name of a one-hot column stands for all its COL=value columns
 *   7. split        each kept row goes to one split chosen by a hash of (seed,
 *                   the row's line number in IN): deterministic, independent of
 *                   threads, and a row keeps its split when the filter changes
 *
 * Filter expressions: comparisons of a column with a literal (= == != < <= >
 * >=), `and`, `or`, `not`, parentheses, `COL is [not] null`, `COL [not] in
 * (1, 2)`; e.g. `age > 30 and country in ('SE', 'NO')`. A number literal
 * compares numerically with a field that reads as a number, otherwise
 * (and for quoted literals) values compare as text. A null field is like NaN
 * in pandas: only != and `not in` are true for it.
 *
 * Output: CSV (RFC 4180, ',' separated, fields quoted when they need it, a
 * null written as an empty field and an empty text as "") or JSON Lines when
 * the output name ends in .jsonl or .ndjson. Each file is written to a
 * temporary name and renamed when complete, so readers never see half a file.
 */
#ifndef HOPS_TRANSFORM_H
#define HOPS_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HOPS_CAST_INT = 1,   /* 64-bit integer; "3.0" is 3, "3.5" does not convert */
    HOPS_CAST_FLOAT = 2, /* double, written in its shortest form ("0.1", "3.0") */
    HOPS_CAST_BOOL = 3,  /* true/false, t/f, yes/no, y/n, 1/0 (any case) -> true/false */
    HOPS_CAST_STRING = 4 /* the text as it is (a JSON string in JSON Lines output) */
} hops_cast_type;

typedef struct {
    const char *column;
    hops_cast_type type;
} hops_transform_cast;

typedef struct {
    const char *column;
    const char *value; /* the text that replaces a null */
} hops_transform_fill;

typedef struct {
    const char *name; /* inserted in the output name: out.NAME.csv */
    double fraction;  /* in (0, 1]; the fractions sum to 1 */
} hops_transform_split;

typedef struct {
    unsigned version;
    hops_read_options read; /* how IN is read */
    const char *filter;     /* NULL: keep every row */
    const hops_transform_fill *fills;
    size_t n_fills;
    const hops_transform_cast *casts;
    size_t n_casts;
    int cast_errors_null; /* 0: a value that does not convert is an
                             error (FILE:LINE:COL); 1: it becomes null */
    const char *const *standardize;
    size_t n_standardize;
    int standardize_ddof; /* 0 (default) or 1 (sample std, like pandas) */
    const char *const *one_hot;
    size_t n_one_hot;
    const char *const *select; /* NULL/0: every column */
    size_t n_select;
    const char *const *drop;
    size_t n_drop;
    const hops_transform_split *splits; /* NULL/0: no split, one output */
    size_t n_splits;
    uint64_t seed;                  /* for the split */
    hops_data_format output_format; /* AUTO: by OUT's extension (.jsonl/.ndjson:
                                       JSON Lines, else CSV); for a directory
                                       OUT, the input's format */
} hops_transform_options;

#define HOPS_TRANSFORM_OPTIONS_VERSION 1
#define HOPS_TRANSFORM_OPTIONS_INIT                                                                \
    {                                                                                              \
        HOPS_TRANSFORM_OPTIONS_VERSION, HOPS_READ_OPTIONS_INIT, NULL, NULL, 0, NULL, 0, 0, NULL,   \
            0, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, 0, HOPS_FORMAT_AUTO                          \
    }

/* Most distinct values a --one-hot column may have. */
#define HOPS_TRANSFORM_MAX_ONE_HOT 1000

/* Transform IN_PATH into OUT_PATH as O says (NULL: copy, converting the
 * format by OUT's extension).
 *
 * With splits, each split goes to OUT with ".NAME" inserted before the
 * extension (out.csv -> out.train.csv, out.test.csv), or to OUT/NAME.csv
 * (or .jsonl) when OUT ends with '/' (the directory is made).
 *
 * *summary_json_out (may be NULL; owned, free with hops_free) gets:
 *   {"input": "in.csv", "format": "csv", "output_format": "csv",
 *    "rows_in": 1000, "rows_out": 812, "rows_filtered": 188,
 *    "columns": ["age", "country=NO", "country=SE"],
 *    "outputs": [{"split": "train", "path": "out.train.csv", "rows": 650}, ...],
 *                 (without splits one entry, "split": null)
 *    "standardize": {"x": {"mean": 1.5, "std": 0.5, "count": 812}}, "ddof": 0,
 *    "one_hot": {"country": ["NO", "SE"]},
 *    "cast_nulls": {"age": 3}}          (values --cast-errors null made null)
 *
 * Errors: HOPS_EPARSE for a bad filter ("--filter: column 7: expected a value
 * after '>'" and a caret line) or a malformed input record; HOPS_EINVAL for
 * bad options (an unknown column, with the list of columns; fractions that
 * do not sum to 1; ...); HOPS_ERROR for a value that does not convert
 * ("in.csv:12:5: column 'age': cannot cast 'abc' to int"); HOPS_EIO for
 * files. On error no output file is left behind (earlier files are kept). */
HOPS_EXTERN hops_status hops_data_transform(const char *in_path, const char *out_path,
                                            const hops_transform_options *o,
                                            char **summary_json_out);

/* The transform spec O as a JSON object (for a dataset version's lineage):
 *   {"filter": "age > 30", "fill_null": [{"column": "c", "value": "x"}],
 *    "cast": [{"column": "age", "type": "int"}], "cast_errors": "error",
 *    "standardize": {"columns": ["x"], "ddof": 0}, "one_hot": ["country"],
 *    "select": [...], "drop": [...],
 *    "split": [{"name": "train", "fraction": 0.8}, ...], "seed": 7,
 *    "read": {"format": "csv", "delimiter": ",", "no_header": false},
 *    "order": "filter,fill_null,cast,standardize,one_hot,select,drop,split"}
 * Operations that are not set are left out. *json owned (hops_free).
 * HOPS_EINVAL when a string in O is not UTF-8. */
HOPS_EXTERN hops_status hops_transform_options_to_json(const hops_transform_options *o,
                                                       char **json);

/* "int", "float", "bool", "string"; NULL for an unknown type. */
HOPS_EXTERN const char *hops_cast_type_name(hops_cast_type t);

/* The type named NAME (also "integer", "double", "boolean", "str", "text");
 * 0 when unknown. */
HOPS_EXTERN hops_cast_type hops_cast_type_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif
