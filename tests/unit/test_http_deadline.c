/* test_http_deadline.c - the HTTP request deadline registry (api/http_deadline.c):
 * a connection past its deadline is shut down once, a disarmed one or one
 * not yet due is left alone, re-arming moves the deadline, and the watchdog
 * thread does it on its own. Socket pairs stand in for client connections:
 * the peer of a shut-down socket reads end of stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../api/http_deadline.h"
#include "../../server/clock.h"

/* 1 when the peer sees end of stream within ms. */
static int peer_sees_eof(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, ms) != 1)
        return 0;
    char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 0;
}

static void test_expire_due_only(void **state)
{
    (void)state;
    struct http_deadlines d;
    assert_int_equal(http_deadlines_init(&d, 1000), 0);
    int due[2], idle[2], busy[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, due), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, idle), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, busy), 0);
    struct http_deadline_conn *a = http_deadlines_add(&d, due[0]);
    struct http_deadline_conn *b = http_deadlines_add(&d, idle[0]);
    struct http_deadline_conn *c = http_deadlines_add(&d, busy[0]);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    http_deadlines_disarm(&d, c);              /* being answered */
    int64_t now = clock_mono_ms();
    assert_int_equal(http_deadlines_expire(&d, now), 0);   /* nobody due yet */
    b->due_ms = now + 5000;                    /* re-armed later */
    assert_int_equal(http_deadlines_expire(&d, now + 2000), 1);
    assert_true(peer_sees_eof(due[1], 1000));
    assert_false(peer_sees_eof(idle[1], 0));
    assert_false(peer_sees_eof(busy[1], 0));
    /* Shut down once only, though MHD has not closed it yet. */
    assert_int_equal(http_deadlines_expire(&d, now + 3000), 0);
    assert_int_equal(http_deadlines_expired_total(&d), 1);
    http_deadlines_remove(&d, a);
    http_deadlines_remove(&d, c);
    http_deadlines_remove(&d, b);
    assert_null(d.head);
    http_deadlines_destroy(&d);
    for (int i = 0; i < 2; i++) {
        close(due[i]);
        close(idle[i]);
        close(busy[i]);
    }
}

static void test_arm_restarts_the_clock(void **state)
{
    (void)state;
    struct http_deadlines d;
    assert_int_equal(http_deadlines_init(&d, 1000), 0);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    struct http_deadline_conn *a = http_deadlines_add(&d, sp[0]);
    assert_non_null(a);
    http_deadlines_disarm(&d, a);
    http_deadlines_arm(&d, a);
    int64_t due = a->due_ms;
    assert_true(due >= clock_mono_ms() + 900);
    assert_int_equal(http_deadlines_expire(&d, due - 1), 0);
    assert_int_equal(http_deadlines_expire(&d, due), 1);
    assert_true(peer_sees_eof(sp[1], 1000));
    http_deadlines_remove(&d, a);
    http_deadlines_destroy(&d);
    close(sp[0]);
    close(sp[1]);
}

static void test_watchdog_thread(void **state)
{
    (void)state;
    struct http_deadlines d;
    assert_int_equal(http_deadlines_init(&d, 100), 0);
    assert_int_equal(http_deadlines_start(&d, 10), 0);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    int64_t t0 = clock_mono_ms();
    struct http_deadline_conn *a = http_deadlines_add(&d, sp[0]);
    assert_non_null(a);
    assert_true(peer_sees_eof(sp[1], 2000));
    int64_t took = clock_mono_ms() - t0;
    assert_true(took >= 95);
    assert_int_equal(http_deadlines_expired_total(&d), 1);
    http_deadlines_remove(&d, a);
    http_deadlines_destroy(&d);                /* joins the thread promptly */
    close(sp[0]);
    close(sp[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expire_due_only),
        cmocka_unit_test(test_arm_restarts_the_clock),
        cmocka_unit_test(test_watchdog_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
