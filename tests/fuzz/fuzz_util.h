/* Helpers shared by the libFuzzer targets in tests/fuzz/. */
#ifndef HOPS_FUZZ_UTIL_H
#define HOPS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"

/* libFuzzer's entry points. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Helpers of the harness itself that loop over every byte: leave them out
 * of the coverage instrumentation, which would make them slow and steer the
 * fuzzer towards them rather than the library. */
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))

/* A property that does not hold is a finding like a crash: say which and abort
 * (libFuzzer then saves the input). */
#define FUZZ_CHECK(cond, ...)                                                          \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "\nFUZZ CHECK FAILED at %s:%d: %s\n  ", __FILE__, __LINE__, \
                    #cond);                                                            \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* libFuzzer writes crash-<sha1> files to the current directory (the source
 * tree, under `make fuzz`) unless told otherwise. Unless the command line
 * names an -artifact_prefix, use <directory of the executable>/crashes/<name>-.
 * libFuzzer parses its flags after LLVMFuzzerInitialize, which may change argv. */
static inline void fuzz_default_artifact_prefix(int *argc, char ***argv)
{
    const char *exe = (*argv)[0];
    const char *slash = strrchr(exe, '/');
    char *dir, **nv;
    for (int i = 1; i < *argc; i++)
        if (strncmp((*argv)[i], "-artifact_prefix=", 17) == 0)
            return;
    dir = slash ? hops__aprintf("%.*s/crashes", (int)(slash - exe), exe) : hops__strdup("crashes");
    nv = calloc((size_t)*argc + 2, sizeof *nv);
    if (!dir || !nv) {
        free(dir);
        free(nv);
        return;
    }
    mkdir(dir, 0777);
    memcpy(nv, *argv, (size_t)*argc * sizeof *nv);
    nv[*argc] = hops__aprintf("-artifact_prefix=%s/%s-", dir, slash ? slash + 1 : exe);
    free(dir);
    if (!nv[*argc]) {
        free(nv);
        return;
    }
    *argv = nv; /* kept for the life of the process */
    (*argc)++;
}

/* A new empty directory $TMPDIR/hops-fuzz-NAME-XXXXXX (hops_free it). */
static inline char *fuzz_tempdir(const char *name)
{
    const char *base = getenv("TMPDIR");
    char *dir = hops__aprintf("%s/hops-fuzz-%s-XXXXXX", base && *base ? base : "/tmp", name);
    FUZZ_CHECK(dir && mkdtemp(dir), "cannot make a temporary directory");
    return dir;
}

/* A NUL-terminated copy of DATA[0..SIZE). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s, "out of memory");
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* 1 when S[0..N) is well-formed UTF-8 (no overlongs, surrogates or code points
 * past U+10FFFF): decode code points, then judge them. Written apart from the
 * library's check in tfevents.c. */
FUZZ_NO_COVERAGE static inline int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], cp, len;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
            return 0; /* overlong */
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += len;
    }
    return 1;
}

#endif
