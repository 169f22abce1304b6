/* Run ids: short, unique, sortable by creation time (ULID-like). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms, last_rand;

void hops__make_id(char out[15])
{
    uint64_t ms = (uint64_t)(hops__wall_time() * 1000.0), rnd;
    uint32_t r32;
    if (getrandom(&r32, sizeof r32, 0) != (ssize_t)sizeof r32)
        r32 = (uint32_t)(ms ^ ((uint64_t)getpid() << 12) ^ (uint64_t)clock());
    rnd = r32 & 0xfffffu; /* 20 bits: 4 base32 chars */
    /* Within one process ids never repeat and never go back in time: in the
     * same millisecond (or after a clock step back) the random part counts up. */
    pthread_mutex_lock(&id_lock);
    if (ms <= last_ms) {
        ms = last_ms;
        rnd = last_rand + 1;
        if (rnd > 0xfffffu) {
            ms++;
            rnd = 0;
        }
    }
    last_ms = ms;
    last_rand = rnd;
    pthread_mutex_unlock(&id_lock);
    /* 10 chars x 5 bits = 50 bits of milliseconds: good until year 37648. */
    for (int i = 9; i >= 0; i--) {
        out[i] = crockford[ms & 31u];
        ms >>= 5;
    }
    for (int i = 13; i >= 10; i--) {
        out[i] = crockford[rnd & 31u];
        rnd >>= 5;
    }
    out[14] = '\0';
}
