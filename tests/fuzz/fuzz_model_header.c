/* Fuzz the model file decoder (src/ml/model_file.c), above all its JSON
 * header parser.
 *
 * Each input is used twice:
 *   1. as a whole file, checksum verified and not (hops__model_decode with
 *      VERIFY 1 and 0): never a crash, a leak or a read past the end; a
 *      refusal comes with a message naming the file;
 *   2. as HEADER '\0' PAYLOAD: the header bytes and the payload are framed as
 *      a well-formed file (magic, version 1, length, padding, SHA-256), so
 *      the fuzzer reaches the header checks behind the checksum.
 * A file that decodes is encoded again (hops__model_encode) and must decode
 * to the same header, and its model must predict (hops__forward on one row
 * of zeros) without touching memory it does not own; gbdt boosters are not
 * loaded (XGBoost's own parser is not the subject here).
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ml/ml.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    return 0;
}

static void check_model(hops_model *m)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    hops_model *back = NULL;
    char *h1 = NULL, *h2 = NULL;
    FUZZ_CHECK(hops__model_encode(m, &buf, &len) == HOPS_OK, "encode: %s", hops_last_error());
    FUZZ_CHECK(hops__model_decode(buf, len, 1, "re-encoded", &back) == HOPS_OK,
               "a re-encoded model does not decode: %s", hops_last_error());
    FUZZ_CHECK(hops_model_header_json(m, &h1) == HOPS_OK &&
                   hops_model_header_json(back, &h2) == HOPS_OK,
               "header json");
    FUZZ_CHECK(strcmp(h1, h2) == 0, "round trip changed the header:\n%s\n%s", h1, h2);
    if (m->type != HOPS_MODEL_GBDT && m->n_inputs <= 4096 && m->n_outputs <= 4096) {
        float *x = calloc(m->n_inputs, sizeof *x), *out = calloc(m->n_outputs, sizeof *out);
        FUZZ_CHECK(x && out, "out of memory");
        /* Layer widths are bounded by the payload, so this stays small. */
        FUZZ_CHECK(hops__forward(m, x, 1, out) == HOPS_OK, "forward: %s", hops_last_error());
        free(x);
        free(out);
    }
    free(h1);
    free(h2);
    free(buf);
    hops_model_free(back);
}

static void decode(const uint8_t *data, size_t size, int verify)
{
    hops_model *m = NULL;
    hops_error_clear();
    hops_status rc = hops__model_decode(data, size, verify, "fuzz.hops", &m);
    if (rc != HOPS_OK) {
        FUZZ_CHECK(m == NULL, "a refused file still gave a model");
        FUZZ_CHECK(strstr(hops_last_error(), "fuzz.hops") != NULL,
                   "the message does not name the file: %s", hops_last_error());
        FUZZ_CHECK(rc == HOPS_ECORRUPT || rc == HOPS_EVERSION || rc == HOPS_ENOMEM,
                   "unexpected status %s", hops_err_name(rc));
        return;
    }
    check_model(m);
    hops_model_free(m);
}

/* Frame HEADER and PAYLOAD as a file with a valid checksum. */
static void framed(const uint8_t *header, size_t hl, const uint8_t *payload, size_t pl)
{
    size_t start = (16 + hl + 7) / 8 * 8, total = start + pl + 32;
    unsigned char *buf = calloc(1, total);
    unsigned int dl = 0;
    FUZZ_CHECK(buf, "out of memory");
    memcpy(buf, "HOPSMDL", 8);
    buf[8] = 1;
    buf[12] = (unsigned char)hl;
    buf[13] = (unsigned char)(hl >> 8);
    buf[14] = (unsigned char)(hl >> 16);
    buf[15] = (unsigned char)(hl >> 24);
    memcpy(buf + 16, header, hl);
    if (pl)
        memcpy(buf + start, payload, pl);
    EVP_Digest(buf, total - 32, buf + total - 32, &dl, EVP_sha256(), NULL);
    decode(buf, total, 1);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size, 1);
    decode(data, size, 0);
    const uint8_t *nul = memchr(data, 0, size);
    size_t hl = nul ? (size_t)(nul - data) : size;
    framed(data, hl, nul ? nul + 1 : data + size, nul ? size - hl - 1 : 0);
    return 0;
}
