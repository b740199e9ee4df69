/* test_ctl_writer.c - the monitor's journal writer thread: batches reach the
 * store, a temporarily unwritable database delays but does not lose events,
 * a status for a deleted node does not poison the batch, and while another
 * process holds the write lock the writer waits and retries without making
 * the store's readers (the API) wait with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../server/store.h"
#include "../../server/writer.h"

static char dir[64], path[128];

static struct store *open_store(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kvfleet-writer-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/w.db", dir);
    struct store *st;
    char err[512];
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_OK);
    return st;
}

static void close_store(struct store *st)
{
    store_close(st);
    char p[200];
    const char *sfx[] = { "", "-wal", "-shm", ".lock" };
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void test_batches_and_retry(void **state)
{
    (void)state;
    struct store *st = open_store();
    struct writer *w;
    assert_int_equal(writer_start(&w, st), 0);
    for (int i = 0; i < 50; i++)
        writer_event(w, 1000 + i, "c", "n", "test.event", "unit", "hello");
    writer_sync(w);
    assert_int_equal(store_events_count(st), 50);

    /* Status for a node that does not exist: skipped, the rest is kept. */
    struct node_obs o;
    health_obs_init(&o);
    o.state = NODE_UP;
    writer_status(w, 4242, &o, 1);
    writer_event(w, 2000, NULL, "n", "after.bad.status", "unit", "still written");
    writer_sync(w);
    assert_int_equal(store_events_count(st), 51);

    /* Database unwritable: nothing lost, written once it recovers. */
    assert_int_equal(store_set_query_only(st, 1), STORE_OK);
    writer_event(w, 3000, NULL, NULL, "while.readonly", "unit", "queued");
    usleep(200 * 1000);
    assert_int_equal(store_events_count(st), 51);
    assert_int_equal(store_set_query_only(st, 0), STORE_OK);
    writer_sync(w);
    assert_int_equal(store_events_count(st), 52);

    writer_event(w, 4000, NULL, NULL, "at.stop", "unit", "drained by stop");
    writer_stop(w);
    assert_int_equal(store_events_count(st), 53);
    close_store(st);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* An operator's `sqlite3 kvfleet.db` with BEGIN IMMEDIATE open: the writer's
 * batch waits the busy timeout (holding the store's write side) and is
 * retried; meanwhile the reads of the API answer at once, and once the lock
 * goes the batch is written, nothing lost. */
static void test_readers_not_blocked_by_waiting_writer(void **state)
{
    (void)state;
    struct store *st = open_store();
    struct writer *w;
    assert_int_equal(writer_start(&w, st), 0);
    writer_event(w, 1000, NULL, NULL, "before", "unit", "written");
    writer_sync(w);

    sqlite3 *other;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    writer_event(w, 2000, NULL, NULL, "while.locked", "unit", "waits for the lock");
    usleep(100 * 1000);                  /* the writer is inside its busy wait */

    double worst = 0;
    for (int i = 0; i < 10; i++) {       /* over about 1 s of the 2 s wait */
        double t = now_ms();
        assert_int_equal(store_ping(st), STORE_OK);
        assert_int_equal(store_events_count(st), 1);
        if (now_ms() - t > worst)
            worst = now_ms() - t;
        usleep(100 * 1000);
    }
    struct writer_stats ws;
    writer_stats_get(w, &ws);
    printf("# slowest read while the writer waits for the lock: %.1f ms\n", worst);
    assert_true(worst < 200);
    assert_int_equal(ws.queued, 0);      /* taken by the batch that is waiting */

    usleep(1500 * 1000);                 /* past the busy timeout: one failed batch */
    writer_stats_get(w, &ws);
    assert_true(ws.write_errors >= 1);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
    writer_sync(w);
    assert_int_equal(store_events_count(st), 2);
    writer_stop(w);
    close_store(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_and_retry),
        cmocka_unit_test(test_readers_not_blocked_by_waiting_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
