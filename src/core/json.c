/* JSON helpers over jansson. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Rewrite the number at S (LEN bytes) in its shortest round-tripping form. */
static void put_shortest(hops_buf *out, const char *s, size_t len)
{
    char tok[64], buf[64];
    char *end;
    if (len >= sizeof tok || (!memchr(s, '.', len) && !memchr(s, 'e', len) && !memchr(s, 'E', len))) {
        hops__buf_put(out, s, len); /* an integer, or too long to be ours */
        return;
    }
    memcpy(tok, s, len);
    tok[len] = '\0';
    double v = strtod(tok, &end);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) {
            /* Keep it a JSON real: 1 -> 1.0, as jansson writes reals. */
            if (!strpbrk(buf, ".eEn"))
                hops__strlcpy(buf + strlen(buf), ".0", sizeof buf - strlen(buf));
            hops__buf_puts(out, buf);
            return;
        }
    }
    hops__buf_put(out, s, len);
}

char *hops__json_dumps(const json_t *j, size_t flags)
{
    char *raw = json_dumps(j, flags | JSON_REAL_PRECISION(17));
    hops_buf out = HOPS_BUF_INIT;
    int in_str = 0;
    if (!raw)
        return NULL;
    for (size_t i = 0; raw[i];) {
        char c = raw[i];
        if (in_str) {
            size_t n = (c == '\\' && raw[i + 1]) ? 2 : 1;
            if (c == '"')
                in_str = 0;
            hops__buf_put(&out, raw + i, n);
            i += n;
        } else if (c == '"') {
            in_str = 1;
            hops__buf_put(&out, raw + i, 1);
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t n = strspn(raw + i, "0123456789+-.eE");
            put_shortest(&out, raw + i, n);
            i += n;
        } else {
            hops__buf_put(&out, raw + i, 1);
            i++;
        }
    }
    free(raw);
    return hops__buf_detach(&out);
}
