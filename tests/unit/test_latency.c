/* Unit tests for agent/latency.c (the latency monitor's samples: one per
 * second keeping the larger spike, a ring of 160, the all-time max, resets,
 * DOCTOR's fixed texts) and agent/monitor.c's feed line (sdscatrepr
 * escaping, redaction of AUTH / HELLO AUTH passwords, "lua" address). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "monitor.h"
#include "client.h"

static void test_one_sample_per_second(void **state)
{
    (void)state;
    latency_state st = {0};
    latency_add_sample(&st, "command", 1000, 50);
    latency_add_sample(&st, "command", 1000, 30);   /* same second, smaller: kept 50 */
    latency_add_sample(&st, "command", 1000, 70);   /* same second, larger: raised */
    latency_series *ts = latency_find(&st, "command", 7);
    assert_non_null(ts);
    const latency_sample *last = latency_latest(ts);
    assert_non_null(last);
    assert_int_equal(last->time, 1000);
    assert_int_equal(last->latency, 70);
    latency_add_sample(&st, "command", 1001, 20);
    last = latency_latest(ts);
    assert_int_equal(last->time, 1001);
    assert_int_equal(last->latency, 20);
    assert_int_equal(ts->max, 70);
    latency_state_free(&st);
}

static void test_ring_keeps_160(void **state)
{
    (void)state;
    latency_state st = {0};
    for (int i = 0; i < 200; i++)
        latency_add_sample(&st, "fork", 5000 + i, (uint32_t)i + 1);
    latency_series *ts = latency_find(&st, "fork", 4);
    int used = 0;
    int32_t oldest = INT32_MAX;
    for (int j = 0; j < LATENCY_TS_LEN; j++) {
        if (ts->samples[j].time) {
            used++;
            if (ts->samples[j].time < oldest)
                oldest = ts->samples[j].time;
        }
    }
    assert_int_equal(used, LATENCY_TS_LEN);
    assert_int_equal(oldest, 5000 + 200 - LATENCY_TS_LEN);
    assert_int_equal(latency_latest(ts)->latency, 200);
    assert_int_equal(ts->max, 200);
    latency_state_free(&st);
}

static void test_events_and_resets(void **state)
{
    (void)state;
    latency_state st = {0};
    assert_int_equal(latency_reset_all(&st), 0);
    latency_add_sample(&st, "command", 10, 5);
    latency_add_sample(&st, "fast-command", 10, 6);
    latency_add_sample(&st, "expire-cycle", 10, 7);
    assert_int_equal(st.count, 3);
    assert_null(latency_find(&st, "comman", 6));
    assert_int_equal(latency_reset_event(&st, "nosuch", 6), 0);
    assert_int_equal(latency_reset_event(&st, "fast-command", 12), 1);
    assert_int_equal(st.count, 2);
    /* The others survive, in order. */
    assert_string_equal(st.events[0].name, "command");
    assert_string_equal(st.events[1].name, "expire-cycle");
    assert_int_equal(latency_reset_all(&st), 2);
    assert_int_equal(st.count, 0);
    latency_state_free(&st);
}

static void test_doctor_texts(void **state)
{
    (void)state;
    latency_state st = {0};
    kstr r = latency_doctor_report(&st, 0, 10000, kstr_empty(64));
    assert_true(strncmp(r, "I'm sorry, Dave, I can't do that.", 33) == 0);
    kstr_free(r);
    r = latency_doctor_report(&st, 100, 10000, kstr_empty(64));
    assert_true(strncmp(r, "Dave, no latency spike was observed", 35) == 0);
    kstr_free(r);
    latency_add_sample(&st, "command", 100, 200);
    latency_add_sample(&st, "command", 101, 100);
    r = latency_doctor_report(&st, 1, 10000, kstr_empty(64));
    assert_non_null(strstr(r, "1. command: 2 latency spikes (average 150ms, mean deviation 50ms, period 0.50 sec). "
                              "Worst all time event 200ms."));
    /* slowlog-log-slower-than above the threshold: the advice to lower it. */
    assert_non_null(strstr(r, "'CONFIG SET slowlog-log-slower-than 1000'"));
    kstr_free(r);
    r = latency_graph(&st.events[0], 102, kstr_empty(64));
    assert_true(strncmp(r, "command - high 200 ms, low 100 ms (all time high 200 ms)\n", 57) == 0);
    kstr_free(r);
    latency_state_free(&st);
}

static kstr line_of(const client *c, int argc, const char **args)
{
    resp_arg argv[8];
    for (int i = 0; i < argc; i++) {
        argv[i].ptr = args[i];
        argv[i].len = strlen(args[i]);
    }
    return monitor_format_line(kstr_empty(64), c, 1234567890123456LL, 3, argc, argv);
}

static void test_monitor_line(void **state)
{
    (void)state;
    client c;
    memset(&c, 0, sizeof(c));
    strcpy(c.addr, "127.0.0.1:5000");
    const char *set[] = { "set", "k", "a\"b\\c\r\n\t\a\b\x01\xc3" };
    kstr l = line_of(&c, 3, set);
    assert_string_equal(l, "1234567890.123456 [3 127.0.0.1:5000] \"set\" \"k\" "
                           "\"a\\\"b\\\\c\\r\\n\\t\\a\\b\\x01\\xc3\"");
    kstr_free(l);
    const char *auth[] = { "AUTH", "user", "pass" };
    l = line_of(&c, 3, auth);
    assert_string_equal(l, "1234567890.123456 [3 127.0.0.1:5000] \"AUTH\" \"(redacted)\" \"(redacted)\"");
    kstr_free(l);
    const char *hello[] = { "hello", "3", "auth", "u", "p", "setname", "n" };
    l = line_of(&c, 7, hello);
    assert_string_equal(l, "1234567890.123456 [3 127.0.0.1:5000] \"hello\" \"3\" \"auth\" \"(redacted)\" "
                           "\"(redacted)\" \"setname\" \"n\"");
    kstr_free(l);
    c.flags |= CLIENT_SCRIPT;
    const char *get[] = { "get", "k" };
    l = line_of(&c, 2, get);
    assert_string_equal(l, "1234567890.123456 [3 lua] \"get\" \"k\"");
    kstr_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_sample_per_second),
        cmocka_unit_test(test_ring_keeps_160),
        cmocka_unit_test(test_events_and_resets),
        cmocka_unit_test(test_doctor_texts),
        cmocka_unit_test(test_monitor_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
