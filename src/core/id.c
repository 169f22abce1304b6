/* Run ids: short, unique, sortable by creation time. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

void hops__make_id(char out[15])
{
    uint64_t ms = (uint64_t)(hops__wall_time() * 1000.0);
    unsigned char rnd[4];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        uint64_t x = ms ^ ((uint64_t)getpid() << 20) ^ (uint64_t)clock();
        for (int i = 0; i < 4; i++)
            rnd[i] = (unsigned char)(x >> (i * 8));
    }
    /* 10 chars x 5 bits = 50 bits of milliseconds: good until year 37648. */
    for (int i = 9; i >= 0; i--) {
        out[i] = crockford[ms & 31u];
        ms >>= 5;
    }
    for (int i = 0; i < 4; i++)
        out[10 + i] = crockford[rnd[i] & 31u];
    out[14] = '\0';
}
