/* test_ctl_writer.c - the monitor's journal writer thread: batches reach the
 * store, a temporarily unwritable database delays but does not lose events,
 * and a status for a deleted node does not poison the batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    const char *sfx[] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_and_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
