/* test_repl_backlog: the replication ring buffer against a model (the whole
 * stream kept in a plain array): coverage bounds, wrap-around, feeds larger
 * than the buffer, resizing both ways and reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "repl_backlog.h"
#include "mem.h"

typedef struct sink {
    char buf[4096];
    size_t len;
    int calls;
} sink;

static void sink_emit(void *priv, const char *p, size_t len)
{
    sink *s = priv;
    assert_true(s->len + len <= sizeof(s->buf));
    memcpy(s->buf + s->len, p, len);
    s->len += len;
    s->calls++;
}

/* Check every offset the backlog claims to cover against the model. */
static void check_against(const repl_backlog *b, const char *model, long long total)
{
    assert_int_equal(b->end_offset, total);
    long long first = repl_backlog_first_offset(b);
    assert_false(repl_backlog_covers(b, first - 1));
    assert_false(repl_backlog_covers(b, total + 2));
    for (long long from = first; from <= total + 1; from++) {
        sink s = {0};
        long long n = repl_backlog_copy(b, from, sink_emit, &s);
        assert_int_equal(n, total + 1 - from);
        assert_true(s.calls <= 2);
        assert_memory_equal(s.buf, model + from - 1, (size_t)n);
    }
}

static void test_empty(void **state)
{
    (void)state;
    repl_backlog *b = repl_backlog_create(16, 100);
    assert_int_equal(repl_backlog_first_offset(b), 101);
    assert_true(repl_backlog_covers(b, 101));
    assert_false(repl_backlog_covers(b, 100));
    assert_false(repl_backlog_covers(b, 102));
    sink s = {0};
    assert_int_equal(repl_backlog_copy(b, 101, sink_emit, &s), 0);
    assert_int_equal(repl_backlog_copy(b, 50, sink_emit, &s), -1);
    repl_backlog_free(b);
}

static void test_wrap_and_random_feeds(void **state)
{
    (void)state;
    char model[3000];
    long long total = 0;
    repl_backlog *b = repl_backlog_create(37, 0);
    srand(7);
    while (total < 2900) {
        char chunk[64];
        size_t n = (size_t)(rand() % 64);
        if (total + (long long)n > 2900)
            n = (size_t)(2900 - total);
        for (size_t i = 0; i < n; i++)
            chunk[i] = (char)('a' + (total + (long long)i) % 26);
        memcpy(model + total, chunk, n);
        total += (long long)n;
        repl_backlog_feed(b, chunk, n);
        check_against(b, model, total);
    }
    assert_int_equal(b->histlen, 37);
    repl_backlog_free(b);
}

static void test_resize(void **state)
{
    (void)state;
    char model[500];
    repl_backlog *b = repl_backlog_create(50, 0);
    for (int i = 0; i < 500; i++)
        model[i] = (char)(i * 7);
    repl_backlog_feed(b, model, 123);
    check_against(b, model, 123);
    repl_backlog_resize(b, 20);          /* shrink: keep the newest 20 */
    assert_int_equal(b->histlen, 20);
    check_against(b, model, 123);
    repl_backlog_feed(b, model + 123, 30);
    check_against(b, model, 153);
    repl_backlog_resize(b, 200);         /* grow: keep everything */
    assert_int_equal(b->histlen, 20);
    repl_backlog_feed(b, model + 153, 100);
    assert_int_equal(b->histlen, 120);
    check_against(b, model, 253);
    repl_backlog_feed(b, model + 253, 247);  /* larger than the buffer */
    assert_int_equal(b->histlen, 200);
    check_against(b, model, 500);
    repl_backlog_trim(b, 14);               /* trailing bytes dropped */
    check_against(b, model, 486);
    repl_backlog_feed(b, model + 486, 14);
    check_against(b, model, 500);
    repl_backlog_reset(b, 1000);
    assert_int_equal(b->histlen, 0);
    assert_true(repl_backlog_covers(b, 1001));
    assert_false(repl_backlog_covers(b, 1000));
    repl_backlog_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_wrap_and_random_feeds),
        cmocka_unit_test(test_resize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
