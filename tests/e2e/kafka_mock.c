/* A test helper for tests/e2e/serve_kafka_log.sh: a Kafka cluster from
 * librdkafka's mock (three brokers speaking the protocol over TCP), and a
 * consumer on it.
 *
 *   hops-test-kafka-mock BOOTSTRAP_FILE TOPIC N
 *
 * Writes the cluster's bootstrap servers to BOOTSTRAP_FILE (whole, by a
 * rename), then consumes TOPIC from the beginning and prints each message
 * on a line of its own until N came (exit 0) or 60 s passed (exit 1). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    char err[512], tmp[4096];
    if (argc != 4) {
        fprintf(stderr, "usage: hops-test-kafka-mock BOOTSTRAP_FILE TOPIC N\n");
        return 2;
    }
    long want = atol(argv[3]);
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    rd_kafka_mock_cluster_t *mc = host ? rd_kafka_mock_cluster_new(host, 3) : NULL;
    if (!mc) {
        fprintf(stderr, "no mock cluster: %s\n", err);
        return 1;
    }
    rd_kafka_mock_topic_create(mc, argv[2], 1, 3);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", bootstraps) < 0 || fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
        fprintf(stderr, "cannot write %s\n", argv[1]);
        return 1;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", "e2e", err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, argv[2], 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    long got = 0;
    time_t end = time(NULL) + 60;
    while (got < want && time(NULL) < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err) {
            fwrite(m->payload, 1, m->len, stdout);
            fputc('\n', stdout);
            fflush(stdout);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    return got == want ? 0 : 1;
}
