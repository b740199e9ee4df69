/* Unit tests for agent/util.c. The expected values were checked against a
 * real redis-server 7.0.15 (INCRBY / ZADD / ZSCORE / INCRBYFLOAT / KEYS), so
 * these tests pin down Redis' exact acceptance and formatting rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static int ll(const char *s, long long *v)
{
    return util_str_to_ll(s, strlen(s), v);
}

static void test_str_to_ll(void **state)
{
    (void)state;
    long long v = 12345;
    static const char *const bad[] = {
        "", " 1", "1 ", "+1", "01", "-0", "-", "00", "-01", "1e3", "1.0", "0x10",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999",
        "123456789012345678901", "abc", "1a", "--1",
        /* 19 digits: no 64-bit overflow, but past LLONG_MAX; 20 digits wrap. */
        "9999999999999999999", "-9999999999999999999", "18446744073709551616",
        "18446744073709551615", "-18446744073709551616",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ll(bad[i], &v))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(v, 12345);   /* untouched on failure */
    assert_true(ll("0", &v));
    assert_int_equal(v, 0);
    assert_true(ll("-1", &v));
    assert_int_equal(v, -1);
    assert_true(ll("9223372036854775807", &v));
    assert_true(v == LLONG_MAX);
    assert_true(ll("-9223372036854775808", &v));
    assert_true(v == LLONG_MIN);
    assert_true(ll("10", &v));
    assert_int_equal(v, 10);
    /* Length is honoured: embedded NUL and a shorter view. */
    assert_false(util_str_to_ll("1\0", 2, &v));
    assert_true(util_str_to_ll("123", 2, &v));
    assert_int_equal(v, 12);
}

static void test_ll_to_str(void **state)
{
    (void)state;
    char buf[32];
    assert_int_equal(util_ll_to_str(buf, sizeof(buf), LLONG_MIN), 20);
    assert_string_equal(buf, "-9223372036854775808");
    assert_int_equal(util_ll_to_str(buf, sizeof(buf), LLONG_MAX), 19);
    assert_string_equal(buf, "9223372036854775807");
    assert_int_equal(util_ll_to_str(buf, sizeof(buf), 0), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(util_ll_to_str(buf, sizeof(buf), -7), 2);
    assert_string_equal(buf, "-7");
    assert_int_equal(util_ll_to_str(buf, 3, 123), 0);   /* no room */
    assert_string_equal(buf, "");
    assert_int_equal(util_ll_to_str(buf, 4, 123), 3);
}

static int dbl(const char *s, double *v)
{
    return util_str_to_double(s, strlen(s), v);
}

static void test_str_to_double(void **state)
{
    (void)state;
    double v = 0;
    static const char *const bad[] = {
        "", " 1.5", "1.5 ", "nan", "NaN", "-nan", "1e400", "-1e400", "1e-400",
        "abc", "1.5x", "\t1", "1,5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (dbl(bad[i], &v))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_false(util_str_to_double("1\0", 2, &v));
    assert_true(dbl("1.5", &v));
    assert_true(v == 1.5);
    assert_true(dbl("inf", &v));
    assert_true(isinf(v) && v > 0);
    assert_true(dbl("+inf", &v));
    assert_true(isinf(v) && v > 0);
    assert_true(dbl("-inf", &v));
    assert_true(isinf(v) && v < 0);
    assert_true(dbl("infinity", &v));
    assert_true(isinf(v));
    assert_true(dbl("1e3", &v));
    assert_true(v == 1000);
    assert_true(dbl("0x10", &v));   /* strtod hex, as Redis */
    assert_true(v == 16);
    assert_true(dbl(".5", &v));
    assert_true(v == 0.5);
    assert_true(dbl("5.", &v));
    assert_true(v == 5);
    assert_true(dbl("+1", &v));
    assert_true(v == 1);
    assert_true(dbl("-0", &v));
    assert_true(v == 0 && signbit(v));
    assert_true(dbl("4.9e-324", &v));   /* denormal, not zero: accepted */
    assert_true(v > 0);
    /* Long input goes through the heap copy path. */
    char big[300];
    memset(big, '0', sizeof(big));
    big[0] = '1';
    big[1] = '.';
    assert_true(util_str_to_double(big, sizeof(big), &v));
    assert_true(v == 1);
}

/* valgrind runs x87 long double arithmetic at double precision; the long
 * double checks are meaningless there, so they detect it and skip. */
static int ldouble_is_native(void)
{
    volatile long double one = 1.0L, tiny = 0x1p-60L;
    return one + tiny != one;
}

static int ldbl(const char *s, long double *v)
{
    return util_str_to_ldouble(s, strlen(s), v);
}

static void test_str_to_ldouble(void **state)
{
    (void)state;
    if (!ldouble_is_native())
        skip();
    long double v = 0;
    static const char *const bad[] = {
        "", " 1", "1 ", "nan", "abc", "1e99999", "1e-99999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ldbl(bad[i], &v))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_true(ldbl("10.5", &v));
    assert_true(v == 10.5L);
    assert_true(ldbl("3.0e3", &v));
    assert_true(v == 3000.0L);
    assert_true(ldbl("inf", &v));
    assert_true(isinf(v));
    assert_true(ldbl("0x10", &v));
    assert_true(v == 16.0L);
    char huge[UTIL_MAX_LDOUBLE_CHARS];
    memset(huge, '1', sizeof(huge));
    assert_false(util_str_to_ldouble(huge, sizeof(huge), &v));   /* too long */
}

static void check_double(double v, const char *want)
{
    char buf[64];
    int n = util_double_to_str(buf, sizeof(buf), v);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_double_to_str(void **state)
{
    (void)state;
    check_double(1.5, "1.5");
    check_double(0.1, "0.10000000000000001");
    check_double(1e300, "1.0000000000000001e+300");
    check_double(123456789012345678.0, "1.2345678901234568e+17");
    check_double(4.9e-324, "4.9406564584124654e-324");
    check_double(1000, "1000");
    check_double(-0.0, "-0");          /* ZINCRBY z -0.0 m replies "-0" */
    check_double(INFINITY, "inf");
    check_double(-INFINITY, "-inf");
    char tiny[4];
    assert_int_equal(util_double_to_str(tiny, sizeof(tiny), 0.1), 0);
}

static void check_ldouble(long double v, const char *want)
{
    char buf[UTIL_MAX_LDOUBLE_CHARS];
    int n = util_ldouble_to_str(buf, sizeof(buf), v);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_ldouble_to_str(void **state)
{
    (void)state;
    if (!ldouble_is_native())
        skip();
    check_ldouble(10.5L, "10.5");
    check_ldouble(3.0e3L, "3000");
    check_ldouble(0.0L, "0");
    check_ldouble(-0.0L, "0");
    check_ldouble(1.0L + 0.1L, "1.1");   /* INCRBYFLOAT 1 by 0.1 */
    check_ldouble(1.1L + 1e20L, "100000000000000000000");
    check_ldouble(-2.25L, "-2.25");
    check_ldouble(HUGE_VALL, "inf");
    check_ldouble(-HUGE_VALL, "-inf");
    char tiny[4];
    assert_int_equal(util_ldouble_to_str(tiny, sizeof(tiny), 12345.5L), 0);
}

static int glob(const char *p, const char *s, int nocase)
{
    return util_glob_match(p, strlen(p), s, strlen(s), nocase);
}

static void test_glob(void **state)
{
    (void)state;
    /* Redis' matcher never matches an empty string, not even with "*"
     * (KEYS * lists the key "" only through its match-all shortcut). */
    assert_false(glob("*", "", 0));
    assert_false(glob("**", "", 0));
    assert_true(glob("*", "anything", 0));
    assert_true(glob("", "", 0));
    assert_false(glob("", "a", 0));
    assert_true(glob("h?llo", "hello", 0));
    assert_false(glob("h?llo", "hllo", 0));
    assert_true(glob("h*llo", "hllo", 0));
    assert_true(glob("h*llo", "heeeello", 0));
    assert_true(glob("a*b*c", "aXbYc", 0));
    assert_false(glob("a*b*c", "aXbY", 0));
    assert_true(glob("a**", "a", 0));
    assert_true(glob("h[ae]llo", "hallo", 0));
    assert_false(glob("h[ae]llo", "hillo", 0));
    assert_true(glob("h[^e]llo", "hallo", 0));
    assert_false(glob("h[^e]llo", "hello", 0));
    assert_true(glob("h[a-b]llo", "hbllo", 0));
    assert_true(glob("h[b-a]llo", "hallo", 0));   /* reversed range */
    assert_false(glob("h[a-b]llo", "hcllo", 0));
    assert_true(glob("[\\]]", "]", 0));          /* escaped ']' in a class */
    assert_true(glob("[a\\-z]", "-", 0));
    assert_false(glob("[a\\-z]", "m", 0));
    assert_true(glob("\\*", "*", 0));
    assert_false(glob("\\*", "a", 0));
    assert_true(glob("\\?x", "?x", 0));
    assert_false(glob("\\?x", "ax", 0));
    assert_true(glob("a\\", "a\\", 0));          /* trailing backslash is literal */
    assert_true(glob("[abc", "a", 0));           /* unterminated class */
    assert_true(glob("[abc", "c", 0));
    assert_false(glob("[abc", "d", 0));
    assert_false(glob("[abc", "ab", 0));
    assert_true(glob("HeLLo", "hello", 1));
    assert_false(glob("HeLLo", "hello", 0));
    assert_true(glob("[A-C]x", "bX", 1));
    assert_false(glob("[A-C]x", "bx", 0));
    assert_true(util_glob_match("a?c", 3, "a\0c", 3, 0));   /* binary safe */
    /* Pathological pattern stays fast (no exponential backtracking). */
    char s[200];
    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    assert_false(glob("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s, 0));
}

static void test_parse_memory(void **state)
{
    (void)state;
    unsigned long long v = 7;
    assert_true(util_parse_memory("42", &v));
    assert_true(v == 42);
    assert_true(util_parse_memory("42b", &v));
    assert_true(v == 42);
    assert_true(util_parse_memory("512k", &v));
    assert_true(v == 512000);
    assert_true(util_parse_memory("1kb", &v));
    assert_true(v == 1024);
    assert_true(util_parse_memory("1KB", &v));
    assert_true(v == 1024);
    assert_true(util_parse_memory("100mb", &v));
    assert_true(v == 100ULL * 1024 * 1024);
    assert_true(util_parse_memory("3m", &v));
    assert_true(v == 3000000);
    assert_true(util_parse_memory("1G", &v));
    assert_true(v == 1000000000ULL);
    assert_true(util_parse_memory("1gb", &v));
    assert_true(v == 1073741824ULL);
    assert_true(util_parse_memory("", &v));   /* Redis reads this as 0 */
    assert_true(v == 0);
    v = 7;
    static const char *const bad[] = {
        "-1", "1x", "1.5gb", " 1", "1 ", "1kbb", "gb1", "18446744073709551616",
        "18446744073709551615gb",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (util_parse_memory(bad[i], &v))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_true(v == 7);
}

static void test_strcasecmp_len(void **state)
{
    (void)state;
    assert_int_equal(util_strcasecmp_len("GET", 3, "get"), 0);
    assert_int_equal(util_strcasecmp_len("gEt", 3, "GeT"), 0);
    assert_int_not_equal(util_strcasecmp_len("GE", 2, "get"), 0);
    assert_int_not_equal(util_strcasecmp_len("GETX", 4, "get"), 0);
    assert_int_not_equal(util_strcasecmp_len("SET", 3, "get"), 0);
    assert_int_equal(util_strcasecmp_len("", 0, ""), 0);
    assert_true(util_strcasecmp_len("a", 1, "b") < 0);
}

static void test_clocks_and_random(void **state)
{
    (void)state;
    assert_true(util_ms_now() > 1600000000000LL);
    int64_t us = util_us_now();
    assert_true(us / 1000 - util_ms_now() <= 1);
    int64_t m1 = util_mono_us();
    int64_t m2 = util_mono_us();
    assert_true(m2 >= m1 && m1 > 0);

    char a[41], b[41];
    util_random_hex(a, sizeof(a));
    util_random_hex(b, sizeof(b));
    assert_int_equal(strlen(a), 40);
    assert_int_equal(strspn(a, "0123456789abcdef"), 40);
    assert_string_not_equal(a, b);
    char one[1] = { 'x' };
    util_random_hex(one, 1);
    assert_int_equal(one[0], '\0');
}

/* Ticks measure elapsed time in either mode (nanoseconds before init, the
 * TSC after it where the CPU has an invariant one). */
static void check_ticks_measure_a_sleep(void)
{
    uint64_t t0 = util_ticks();
    int64_t m0 = util_mono_us();
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    int64_t elapsed = util_ticks_to_us(util_ticks() - t0);
    int64_t mono = util_mono_us() - m0;
    assert_true(elapsed >= 19000);
    /* within 10% of the monotonic clock over the same span */
    assert_true(llabs(elapsed - mono) <= mono / 10);
}

static void test_ticks(void **state)
{
    (void)state;
    check_ticks_measure_a_sleep();
    util_ticks_init();
    util_ticks_init();   /* idempotent */
    check_ticks_measure_a_sleep();
    uint64_t a = util_ticks(), b = util_ticks();
    assert_true(b >= a);
    assert_int_equal(util_ticks_to_us(0), 0);
}

/* SETRANGE / APPEND limits: the sum must not wrap past the limit. */
static void test_string_too_long(void **state)
{
    (void)state;
    const unsigned long long mb512 = 512ULL * 1024 * 1024;
    assert_false(util_string_too_long(0, 0, mb512));
    assert_false(util_string_too_long(mb512 - 1, 1, mb512));
    assert_false(util_string_too_long(mb512, 0, mb512));
    assert_true(util_string_too_long(mb512, 1, mb512));
    assert_true(util_string_too_long(mb512 + 1, 0, mb512));
    /* SETRANGE k 9223372036854775807 A: the sum wraps in a signed long. */
    assert_true(util_string_too_long(9223372036854775807ULL, 1, mb512));
    assert_true(util_string_too_long(9223372036854775806ULL, 2, mb512));
    assert_true(util_string_too_long(ULLONG_MAX, ULLONG_MAX, ULLONG_MAX - 1));
    assert_true(util_string_too_long(1, ULLONG_MAX, ULLONG_MAX));
    assert_false(util_string_too_long(1, ULLONG_MAX - 1, ULLONG_MAX));
}

/* COUNT * 10 as Redis' wrapping long: exact for normal counts, and the
 * same bit pattern (so the same number of steps) for huge ones. */
static void test_scan_budget(void **state)
{
    (void)state;
    assert_true(util_scan_budget(1) == 10);
    assert_true(util_scan_budget(10) == 100);
    assert_true(util_scan_budget(922337203685477580LL) == 9223372036854775800ULL);
    /* 10 * 1844674407370955162 = 2^64 + 4: Redis' budget is 4 steps. */
    assert_true(util_scan_budget(1844674407370955162LL) == 4);
    assert_true(util_scan_budget(LLONG_MAX) == (uint64_t)LLONG_MAX * 10u);
}

/* Checked against redis-server 7.0.15 with SCAN on an empty keyspace. */
static void test_parse_scan_cursor(void **state)
{
    (void)state;
    uint64_t v = 7;
    static const struct { const char *s; uint64_t v; } good[] = {
        { "0", 0 }, { "17", 17 }, { "007", 7 }, { "+5", 5 }, { "-0", 0 },
        { "", 0 }, { "-1", UINT64_MAX }, { "18446744073709551615", UINT64_MAX },
        { "-18446744073709551615", 1 },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!util_parse_scan_cursor(good[i].s, strlen(good[i].s), &v))
            fail_msg("refused \"%s\"", good[i].s);
        assert_true(v == good[i].v);
    }
    /* Read as a C string: an embedded NUL ends it. */
    assert_true(util_parse_scan_cursor("5\0x", 3, &v) && v == 5);
    assert_true(util_parse_scan_cursor("\0" "9", 2, &v) && v == 0);
    static const char *const bad[] = {
        " 1", "\t1", "1 ", "0x10", "abc", "+", "-", "- 1", "1a",
        "18446744073709551616", "-18446744073709551616", "99999999999999999999",
    };
    v = 7;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (util_parse_scan_cursor(bad[i], strlen(bad[i]), &v))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_true(v == 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_to_ll),
        cmocka_unit_test(test_ll_to_str),
        cmocka_unit_test(test_str_to_double),
        cmocka_unit_test(test_str_to_ldouble),
        cmocka_unit_test(test_double_to_str),
        cmocka_unit_test(test_ldouble_to_str),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_parse_memory),
        cmocka_unit_test(test_strcasecmp_len),
        cmocka_unit_test(test_clocks_and_random),
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_string_too_long),
        cmocka_unit_test(test_scan_budget),
        cmocka_unit_test(test_parse_scan_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
