/* hops — Kafka: a producer for logs (librdkafka).
 *
 * `hops serve --kafka-brokers B --kafka-topic T` logs each inference (the
 * request and the prediction as one JSON message) through it. Sends are
 * asynchronous: a message is queued and delivered in the background; a
 * full queue drops the message (counted), never blocking a request.
 */
#ifndef HOPS_KAFKA_H
#define HOPS_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hops_kafka_producer hops_kafka_producer;

/* A producer to TOPIC on BROKERS ("host:port,..."), with N_CONFIG more
 * librdkafka settings "key=value" (test.mock.num.brokers=3 for its mock
 * cluster, security settings, ...). *OUT owned: hops_kafka_producer_free.
 * HOPS_EINVAL naming a bad setting. */
HOPS_EXTERN hops_status hops_kafka_producer_new(hops_kafka_producer **out, const char *brokers,
                                                const char *topic, const char *const *config,
                                                size_t n_config);

/* Queue VALUE (LEN bytes, copied) with KEY (may be NULL) for the topic.
 * HOPS_EBUSY when the local queue is full (the message is dropped). */
HOPS_EXTERN hops_status hops_kafka_produce(hops_kafka_producer *p, const char *key,
                                           const void *value, size_t len);

/* Messages dropped or failed so far. */
HOPS_EXTERN uint64_t hops_kafka_producer_failed(const hops_kafka_producer *p);

/* Wait up to TIMEOUT_MS for queued messages to be delivered; HOPS_ETIMEDOUT
 * when some are left. */
HOPS_EXTERN hops_status hops_kafka_flush(hops_kafka_producer *p, int timeout_ms);

/* Flush (up to 5 s) and free. NULL is fine. */
HOPS_EXTERN void hops_kafka_producer_free(hops_kafka_producer *p);

#ifdef __cplusplus
}
#endif
#endif
