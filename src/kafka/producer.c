/* A Kafka producer over librdkafka: asynchronous sends, a poll thread that
 * serves delivery reports, failures counted. */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "hops/kafka.h"

struct hops_kafka_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    pthread_t poller;
    atomic_int stop;
    atomic_ullong failed;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    hops_kafka_producer *p = opaque;
    (void)rk;
    if (msg->err)
        atomic_fetch_add(&p->failed, 1);
}

static void *poll_main(void *arg)
{
    hops_kafka_producer *p = arg;
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

static hops_status set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char err[256];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK)
        return hops__error(HOPS_EINVAL, "kafka setting %s=%s: %s", key, value, err);
    return HOPS_OK;
}

hops_status hops_kafka_producer_new(hops_kafka_producer **out, const char *brokers,
                                    const char *topic, const char *const *config, size_t n_config)
{
    hops_kafka_producer *p;
    rd_kafka_conf_t *conf;
    char err[512];
    hops_status rc = HOPS_OK;
    *out = NULL;
    if (!topic || !*topic)
        return hops__error(HOPS_EINVAL, "kafka: no topic");
    if (!(p = calloc(1, sizeof *p)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    conf = rd_kafka_conf_new();
    if (brokers && *brokers)
        rc = set(conf, "bootstrap.servers", brokers);
    if (rc == HOPS_OK)
        rc = set(conf, "linger.ms", "5");
    for (size_t i = 0; rc == HOPS_OK && i < n_config; i++) {
        const char *eq = strchr(config[i], '=');
        char *key = eq ? hops__strndup(config[i], (size_t)(eq - config[i])) : NULL;
        rc = key ? set(conf, key, eq + 1)
                 : hops__error(HOPS_EINVAL, "kafka setting '%s' is not key=value", config[i]);
        free(key);
    }
    if (rc != HOPS_OK) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return rc;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, p);
    if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err))) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return hops__error(HOPS_EINVAL, "kafka: %s", err);
    }
    if (!(p->topic = rd_kafka_topic_new(p->rk, topic, NULL))) {
        rc = hops__error(HOPS_EINVAL, "kafka topic '%s': %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(p->rk);
        free(p);
        return rc;
    }
    if (pthread_create(&p->poller, NULL, poll_main, p) != 0) {
        rd_kafka_topic_destroy(p->topic);
        rd_kafka_destroy(p->rk);
        free(p);
        return hops__error(HOPS_ERROR, "kafka: cannot start the poll thread");
    }
    *out = p;
    return HOPS_OK;
}

hops_status hops_kafka_produce(hops_kafka_producer *p, const char *key, const void *value,
                               size_t len)
{
    if (rd_kafka_produce(p->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)value, len,
                         key, key ? strlen(key) : 0, NULL) != 0) {
        atomic_fetch_add(&p->failed, 1);
        return hops__error(HOPS_EBUSY, "kafka: %s", rd_kafka_err2str(rd_kafka_last_error()));
    }
    return HOPS_OK;
}

uint64_t hops_kafka_producer_failed(const hops_kafka_producer *p)
{
    return atomic_load(&((hops_kafka_producer *)p)->failed);
}

hops_status hops_kafka_flush(hops_kafka_producer *p, int timeout_ms)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return hops__error(HOPS_ETIMEDOUT, "kafka: %d messages not delivered after %d ms",
                           rd_kafka_outq_len(p->rk), timeout_ms);
    return HOPS_OK;
}

void hops_kafka_producer_free(hops_kafka_producer *p)
{
    if (!p)
        return;
    rd_kafka_flush(p->rk, 5000);
    atomic_store(&p->stop, 1);
    pthread_join(p->poller, NULL);
    rd_kafka_topic_destroy(p->topic);
    rd_kafka_destroy(p->rk);
    free(p);
}
