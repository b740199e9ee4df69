/* Unit tests for agent/objclock.c: the LRU clock and LFU counter arithmetic
 * (Redis 7.0's evict.c semantics: 24-bit clock, 16-bit minutes, LFU_INIT_VAL
 * 5, logarithmic growth, decay per lfu-decay-time) and how a server's policy
 * picks between them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "objclock.h"
#include "server.h"

static void test_lru_clock_and_idle(void **state)
{
    (void)state;
    assert_int_equal(objclock_lru_of(0x12345678), 0x345678);
    assert_int_equal(objclock_lru_idle(100, 160), 60);
    assert_int_equal(objclock_lru_idle(160, 160), 0);
    /* Wrapped clock: Redis counts to LRU_CLOCK_MAX, one short. */
    assert_int_equal(objclock_lru_idle(OBJCLOCK_LRU_MAX - 10, 5), 15);
    /* Bits above 24 of a stamp are ignored. */
    assert_int_equal(objclock_lru_idle(0x1000000 | 100, 160), 60);
}

static void test_lfu_minutes_and_elapsed(void **state)
{
    (void)state;
    assert_int_equal(objclock_lfu_minutes_of(59), 0);
    assert_int_equal(objclock_lfu_minutes_of(60), 1);
    assert_int_equal(objclock_lfu_minutes_of(65536LL * 60 + 120), 2);
    assert_int_equal(objclock_lfu_elapsed(10, 15), 5);
    assert_int_equal(objclock_lfu_elapsed(65530, 4), 9);   /* 65535 - 65530 + 4 */
}

static void test_lfu_decay(void **state)
{
    (void)state;
    uint32_t stamp = objclock_lfu_pack(100, 20);
    assert_int_equal(stamp, (100u << 8) | 20u);
    assert_int_equal(objclock_lfu_decayed(stamp, 100, 1), 20);
    assert_int_equal(objclock_lfu_decayed(stamp, 107, 1), 13);
    assert_int_equal(objclock_lfu_decayed(stamp, 107, 2), 17);   /* 3 periods */
    assert_int_equal(objclock_lfu_decayed(stamp, 107, 0), 20);   /* never */
    assert_int_equal(objclock_lfu_decayed(stamp, 200, 1), 0);    /* floor at 0 */
    assert_int_equal(objclock_lfu_decayed(objclock_lfu_pack(100, 255), 2000, 1), 0);
}

static void test_lfu_log_incr(void **state)
{
    (void)state;
    /* At or below LFU_INIT_VAL every access counts. */
    assert_int_equal(objclock_lfu_log_incr(0, 10, 0.999), 1);
    assert_int_equal(objclock_lfu_log_incr(5, 10, 0.999), 6);
    /* Counter 6, factor 10: p = 1 / (1 * 10 + 1). */
    assert_int_equal(objclock_lfu_log_incr(6, 10, 0.09), 7);
    assert_int_equal(objclock_lfu_log_incr(6, 10, 0.091), 6);
    /* Factor 0: always. */
    assert_int_equal(objclock_lfu_log_incr(200, 0, 0.999), 201);
    assert_int_equal(objclock_lfu_log_incr(255, 0, 0.0), 255);
    /* Growth is logarithmic: Redis documents about 18 after 1,000 accesses
     * with factor 10 and about 142 after 100,000 (a fixed stream of draws
     * here, so the figures are exact for this test). */
    uint8_t c = OBJCLOCK_LFU_INIT;
    unsigned seed = 12345;
    for (int i = 1; i <= 100000; i++) {
        seed = seed * 1103515245u + 12345u;
        c = objclock_lfu_log_incr(c, 10, (double)(seed >> 8) / (double)(1u << 24));
        if (i == 1000)
            assert_true(c >= 13 && c <= 24);
    }
    assert_true(c >= 125 && c <= 160);
}

static void test_policy_stamps(void **state)
{
    (void)state;
    srv *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->lru_clock = 1700000000u;   /* unix seconds */
    s->config.lfu_log_factor = 0;
    s->config.lfu_decay_time = 1;
    obj o;
    memset(&o, 0, sizeof(o));

    s->config.maxmemory_policy = MAXMEM_ALLKEYS_LRU;
    assert_true(objclock_policy_is_lru(s));
    assert_false(objclock_policy_is_lfu(s));
    objclock_stamp_new(s, &o);
    assert_int_equal(o.lru, 1700000000u & OBJCLOCK_LRU_MAX);
    s->lru_clock += 42;
    assert_int_equal(objclock_idle_secs(s, &o), 42);
    /* IDLETIME hint under LRU; a FREQ hint is ignored there. */
    assert_int_equal(objclock_apply_hint(s, &o, 7, -1), 0);
    assert_int_equal(objclock_apply_hint(s, &o, -1, 1000), 1);
    assert_int_equal(objclock_idle_secs(s, &o), 1000);

    s->config.maxmemory_policy = MAXMEM_VOLATILE_LFU;
    assert_true(objclock_policy_is_lfu(s));
    objclock_stamp_new(s, &o);
    assert_int_equal(objclock_freq(s, &o), OBJCLOCK_LFU_INIT);
    objclock_touch(s, &o);
    objclock_touch(s, &o);
    assert_int_equal(objclock_freq(s, &o), OBJCLOCK_LFU_INIT + 2);   /* factor 0 */
    s->lru_clock += 3 * 60;   /* three minutes: decays by three */
    assert_int_equal(objclock_freq(s, &o), OBJCLOCK_LFU_INIT - 1);
    assert_int_equal(objclock_apply_hint(s, &o, -1, 1000), 0);
    assert_int_equal(objclock_apply_hint(s, &o, 200, -1), 1);
    assert_int_equal(objclock_freq(s, &o), 200);

    s->config.maxmemory_policy = MAXMEM_NOEVICTION;
    assert_false(objclock_policy_is_lru(s));
    assert_false(objclock_policy_is_lfu(s));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_clock_and_idle),
        cmocka_unit_test(test_lfu_minutes_and_elapsed),
        cmocka_unit_test(test_lfu_decay),
        cmocka_unit_test(test_lfu_log_incr),
        cmocka_unit_test(test_policy_stamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
