/* Unit tests for src/kafka/producer.c and the server's inference log,
 * against librdkafka's mock cluster (three brokers speaking the Kafka
 * protocol over TCP in this process): messages produced come back to a
 * real consumer in order; a served prediction is logged as {model, version,
 * verb, request, response} with the very response the HTTP client got. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hops/kafka.h"
#include "hops/serving.h"
#include "serving_fixture.h"

static rd_kafka_t *host;
static rd_kafka_mock_cluster_t *mc;
static const char *bootstraps;

static int setup(void **state)
{
    char err[256];
    if (fx_setup(state) != 0)
        return -1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!host || !(mc = rd_kafka_mock_cluster_new(host, 3)))
        return -1;
    bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    rd_kafka_mock_topic_create(mc, "plain", 1, 3);
    rd_kafka_mock_topic_create(mc, "inference", 1, 3);
    return 0;
}

static int teardown(void **state)
{
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    return fx_teardown(state);
}

/* Read up to N messages of TOPIC from the start; returns them as a JSON
 * array of strings. */
static json_t *consume(const char *topic, size_t n)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(conf, "group.id", "test", err, sizeof err),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    assert_non_null(c);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(c, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    json_t *got = json_array();
    for (int tries = 0; json_array_size(got) < n && tries < 300; tries++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err)
            json_array_append_new(got, json_stringn((const char *)m->payload, m->len));
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return got;
}

static void test_produce_consume(void **state)
{
    (void)state;
    hops_kafka_producer *p;
    const char *bad[] = {"no.such.setting=1"};
    assert_int_equal(hops_kafka_producer_new(&p, bootstraps, "plain", bad, 1), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "no.such.setting"));
    assert_int_equal(hops_kafka_producer_new(&p, bootstraps, "", NULL, 0), HOPS_EINVAL);
    assert_int_equal(hops_kafka_producer_new(&p, bootstraps, "plain", NULL, 0), HOPS_OK);
    for (int i = 0; i < 100; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "message %d", i);
        assert_int_equal(hops_kafka_produce(p, "k", msg, strlen(msg)), HOPS_OK);
    }
    assert_int_equal(hops_kafka_flush(p, 10000), HOPS_OK);
    assert_int_equal(hops_kafka_producer_failed(p), 0);
    hops_kafka_producer_free(p);
    json_t *got = consume("plain", 100);
    assert_int_equal(json_array_size(got), 100);
    assert_string_equal(json_string_value(json_array_get(got, 0)), "message 0");
    assert_string_equal(json_string_value(json_array_get(got, 99)), "message 99");
    json_decref(got);
}

/* POST BODY to 127.0.0.1:PORT PATH over a real socket; the response body
 * (owned) and *STATUS. */
static char *http_post(int port, const char *path, const char *body, int *status)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char *req = hops__aprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                              path, strlen(body), body);
    assert_int_equal(hops__write_all(fd, req, strlen(req)), 0);
    free(req);
    hops_buf b = HOPS_BUF_INIT;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        hops__buf_put(&b, buf, (size_t)n);
    close(fd);
    assert_non_null(b.data);
    assert_int_equal(sscanf(b.data, "HTTP/1.1 %d", status), 1);
    char *sep = strstr(b.data, "\r\n\r\n");
    assert_non_null(sep);
    char *out = hops__strdup(sep + 4);
    hops__buf_free(&b);
    return out;
}

static void test_inference_log(void **state)
{
    (void)state;
    hops_model *m = fx_train(HOPS_MODEL_LOGISTIC, 1);
    char *dir = hops__aprintf("%s/base/1", fx_dir), *file = hops__aprintf("%s/model.hops", dir);
    char *base = hops__aprintf("%s/base", fx_dir);
    assert_int_equal(hops__mkdir_p(dir, 0755), HOPS_OK);
    assert_int_equal(hops_model_save(m, file), HOPS_OK);
    hops_model_free(m);

    hops_serve_options o = HOPS_SERVE_OPTIONS_INIT;
    o.host = "127.0.0.1";
    o.port = 0;
    o.model_name = "iris";
    o.model_base_path = base;
    o.kafka_brokers = bootstraps;
    o.kafka_topic = "inference";
    hops_server *s;
    assert_int_equal(hops_server_start(&s, &o), HOPS_OK);
    int port = hops_server_port(s), status = 0;
    assert_true(port > 0);
    const char *req = "{\"instances\": [{\"x1\": 1, \"x2\": 2, \"color\": \"red\"}]}";
    char *resp = http_post(port, "/v1/models/iris:predict", req, &status);
    assert_int_equal(status, 200);
    char *bad = http_post(port, "/v1/models/iris:predict", "{\"instances\": 3}", &status);
    assert_int_equal(status, 400); /* not logged: no prediction */
    free(bad);
    hops_server_stop(s); /* flushes the log */

    json_t *got = consume("inference", 1);
    assert_int_equal(json_array_size(got), 1);
    json_t *msg = json_loads(json_string_value(json_array_get(got, 0)), 0, NULL);
    assert_non_null(msg);
    assert_string_equal(json_string_value(json_object_get(msg, "model")), "iris");
    assert_int_equal(json_integer_value(json_object_get(msg, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(msg, "verb")), "predict");
    json_t *want_req = json_loads(req, 0, NULL), *want_resp = json_loads(resp, 0, NULL);
    assert_true(json_equal(json_object_get(msg, "request"), want_req));
    assert_true(json_equal(json_object_get(msg, "response"), want_resp));
    json_decref(want_req);
    json_decref(want_resp);
    json_decref(msg);
    json_decref(got);
    free(resp);
    free(dir);
    free(file);
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_produce_consume),
        cmocka_unit_test(test_inference_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
