/* libFuzzer target: the partial statistics state that `hops data stats
 * --ranks` ranks hand to the merging one (hops_data_stats_merge_json, which
 * reads it with src/data/stats.c's state reader and the sketches' readers:
 * KLL with its sampler buffer, HyperLogLog, value counts, exact sums).
 *
 * The input is split at its first "\n--\n" into two states merged in order
 * (or taken whole as one). Properties checked besides "no crash, no leak, no
 * UB": the merge either gives a JSON document or fails with HOPS_ECORRUPT
 * (HOPS_EVERSION for another state version, HOPS_EINVAL for a label,
 * HOPS_ENOMEM) and a message; never a document that does not parse. */

#include <jansson.h>

#include "fuzz_util.h"
#include "hops/hops.h"
#include "hops/stats.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    return 0;
}

static const char *find_sep(const char *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(p + i, "\n--\n", 4) == 0)
            return p + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *sep = find_sep(p, size);
    const char *states[2] = {p, sep ? sep + 4 : NULL};
    size_t lens[2] = {sep ? (size_t)(sep - p) : size, sep ? size - (size_t)(sep + 4 - p) : 0};
    size_t n = sep ? 2 : 1;
    char *json = NULL;
    hops_stats_options o = HOPS_STATS_OPTIONS_INIT;
    hops_status rc = hops_data_stats_merge_json(states, lens, n, &o, &json);
    if (rc == HOPS_OK) {
        FUZZ_CHECK(json != NULL, "no document");
        json_error_t e;
        json_t *doc = json_loads(json, JSON_ALLOW_NUL, &e); /* "\u0000" is JSON */
        FUZZ_CHECK(doc != NULL, "the document does not parse: %s", e.text);
        json_decref(doc);
    } else {
        FUZZ_CHECK(rc == HOPS_ECORRUPT || rc == HOPS_EVERSION || rc == HOPS_EINVAL || rc == HOPS_ENOMEM,
                   "status %d", rc);
        FUZZ_CHECK(hops_last_error()[0] != '\0', "no message");
        FUZZ_CHECK(json == NULL, "a document with an error");
    }
    hops_free(json);
    return 0;
}
