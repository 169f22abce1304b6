/* Fuzz the parameter server's message decoder (src/collective/ps.c): any
 * byte stream from a client, as one connection would deliver it, is taken
 * apart into messages and handled (INIT, PULL, PUSH, BYE, and garbage) by a
 * synchronous server of two workers. It must never crash, read out of
 * bounds or allocate more than the stream could hold; errors are fine. */
#include <stdint.h>
#include <stdlib.h>

#include "collective/coll_internal.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hops__ps_feed(data, size);
    return 0;
}
