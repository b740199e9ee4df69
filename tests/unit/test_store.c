/* test_store.c - SQLite store: migrations (fresh, upgrade, newer-schema and
 * corrupt-file refusal), constraints, events journal, unavailable database,
 * one process per database (the lock file), reads that do not wait for a
 * writer stuck behind another process's write lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../server/store.h"

static char dir[256];
static char path[300];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kvfleet-store-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[400];
    const char *sfx[] = { "", "-wal", "-shm", "-journal", ".lock" };
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static void exec_sql(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sql error: %s\n", msg);
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static int count_rows(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void test_fresh(void **state)
{
    (void)state;
    struct store *st;
    char err[512];
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_OK);
    assert_true(store_migrations_count >= 1);
    assert_int_equal(store_schema_version(st), store_migrations[store_migrations_count - 1].version);
    assert_int_equal(store_ping(st), STORE_OK);
    store_close(st);
    assert_int_equal(count_rows("SELECT count(*) FROM schema_migrations"), (int)store_migrations_count);
    assert_int_equal(count_rows("SELECT count(*) FROM sqlite_master WHERE name IN"
                                " ('nodes','clusters','node_status','events')"), 4);
    /* Reopening is a no-op. */
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_OK);
    store_close(st);
    assert_int_equal(count_rows("SELECT count(*) FROM schema_migrations"), (int)store_migrations_count);
}

static const struct store_migration migs_v2[] = {
    { 1, "0001_t", "CREATE TABLE t (a INTEGER);" },
    { 2, "0002_t_b", "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x';" },
};

static void test_upgrade(void **state)
{
    (void)state;
    struct store *st = NULL;
    char err[512];
    /* Statements of the real store need the real schema, so open with only
     * the test migrations through store_open_with and expect the prepare
     * step to fail after migrating: migration itself must have happened. */
    int rc = store_open_with(&st, path, migs_v2, 1, err, sizeof(err));
    assert_int_equal(rc, STORE_ESCHEMA);   /* prepare of real statements fails */
    assert_int_equal(count_rows("SELECT max(version) FROM schema_migrations"), 1);
    exec_sql("INSERT INTO t(a) VALUES (42)");
    rc = store_open_with(&st, path, migs_v2, 2, err, sizeof(err));
    assert_int_equal(rc, STORE_ESCHEMA);
    assert_int_equal(count_rows("SELECT max(version) FROM schema_migrations"), 2);
    assert_int_equal(count_rows("SELECT count(*) FROM t WHERE a = 42 AND b = 'x'"), 1);
}

static void test_upgrade_real(void **state)
{
    (void)state;
    /* Real schema applied in two steps: a database at version 1 (built by
     * hand from the first migration, as an older kvfleetd left it, with a
     * row in node_status), then opened by this binary. */
    assert_true(store_migrations_count >= 2);
    struct store *st;
    char err[512];
    exec_sql(store_migrations[0].sql);
    exec_sql("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
             " applied_at INTEGER NOT NULL);"
             "INSERT INTO schema_migrations VALUES (1, '0001_init', 0);"
             "INSERT INTO nodes(name, host, port, first_seen) VALUES ('old', 'h', 1, 1);"
             "INSERT INTO node_status(node_id, state, updated_at) VALUES (1, 'up', 1);");
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_schema_version(st), store_migrations[store_migrations_count - 1].version);
    store_close(st);
    /* Data kept, new columns present and empty. */
    assert_int_equal(count_rows("SELECT count(*) FROM node_status WHERE node_id = 1 AND state = 'up'"
                                " AND lag_bytes IS NULL AND lag_ms IS NULL"), 1);
    assert_int_equal(count_rows("SELECT count(*) FROM schema_migrations"), (int)store_migrations_count);
}

static const struct store_migration migs_bad[] = {
    { 1, "0001_t", "CREATE TABLE t (a INTEGER);" },
    { 2, "0002_bad", "CREATE TABLE u (a INTEGER); THIS IS NOT SQL;" },
};

static void test_failed_migration_rolls_back(void **state)
{
    (void)state;
    struct store *st = NULL;
    char err[512];
    assert_int_equal(store_open_with(&st, path, migs_bad, 2, err, sizeof(err)), STORE_ESCHEMA);
    assert_non_null(strstr(err, "0002_bad"));
    assert_int_equal(count_rows("SELECT max(version) FROM schema_migrations"), 1);
    assert_int_equal(count_rows("SELECT count(*) FROM sqlite_master WHERE name = 'u'"), 0);
}

static long file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    struct store *st;
    char err[512];
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_OK);
    store_close(st);
    exec_sql("INSERT INTO schema_migrations(version, name, applied_at) VALUES (9999, 'future', 0)");
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_ESCHEMA);
    assert_null(st);
    assert_non_null(strstr(err, "9999"));
    assert_non_null(strstr(err, "newer") != NULL ? strstr(err, "newer") : strstr(err, "only knows"));
    assert_int_equal(count_rows("SELECT count(*) FROM schema_migrations WHERE version = 9999"), 1);
}

static void test_corrupt_refused(void **state)
{
    (void)state;
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 131 + 7);
    memcpy(junk, "this is not sqlite", 18);
    assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
    fclose(fp);
    struct store *st;
    char err[512];
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_ECORRUPT);
    assert_non_null(strstr(err, "untouched"));
    /* Not overwritten. */
    assert_int_equal(file_size(path), (long)sizeof(junk));
    fp = fopen(path, "r");
    char back[sizeof(junk)];
    assert_int_equal(fread(back, 1, sizeof(back), fp), sizeof(back));
    fclose(fp);
    assert_memory_equal(back, junk, sizeof(junk));
}

static void test_foreign_db_refused(void **state)
{
    (void)state;
    exec_sql("CREATE TABLE other (x INTEGER); INSERT INTO other VALUES (1);");
    struct store *st;
    char err[512];
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_ECORRUPT);
    assert_int_equal(count_rows("SELECT count(*) FROM other"), 1);
    assert_int_equal(count_rows("SELECT count(*) FROM sqlite_master WHERE name = 'nodes'"), 0);
}

static struct store *open_ok(void)
{
    struct store *st;
    char err[512];
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_OK);
    return st;
}

static int64_t loaded_down_after, loaded_auto = -1, loaded_cooldown;
static int check_cluster_settings(void *arg, const struct store_cluster *c)
{
    (void)arg;
    loaded_down_after = c->settings.down_after_ms;
    loaded_auto = c->settings.auto_failover;
    loaded_cooldown = c->settings.failover_cooldown_ms;
    return 0;
}

static void test_node_constraints(void **state)
{
    (void)state;
    struct store *st = open_ok();
    struct store_node n = { .name = "a", .host = "127.0.0.1", .port = 7001, .priority = 100,
                            .tags = "[]", .first_seen = 1 };
    int64_t id = 0;
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_node_insert(st, &n, &id), STORE_OK);
    assert_true(id > 0);
    assert_int_equal(store_commit(st), STORE_OK);

    /* Same name. */
    struct store_node dup = n;
    dup.port = 7002;
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_node_insert(st, &dup, NULL), STORE_ECONSTRAINT);
    store_rollback(st);
    /* Same address. */
    dup = n;
    dup.name = "b";
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_node_insert(st, &dup, NULL), STORE_ECONSTRAINT);
    store_rollback(st);
    /* Port out of range (CHECK). */
    dup.port = 70000;
    dup.host = "10.0.0.1";
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_node_insert(st, &dup, NULL), STORE_ECONSTRAINT);
    store_rollback(st);
    /* Unknown cluster (foreign key). */
    dup.port = 7003;
    dup.cluster_id = 999;
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_node_insert(st, &dup, NULL), STORE_ECONSTRAINT);
    store_rollback(st);

    /* Cluster with master; deleting the master node is refused. */
    struct store_cluster c = { .name = "c", .master_id = id, .created_at = 1 };
    health_settings_default(&c.settings);
    int64_t cid = 0;
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_cluster_insert(st, &c, &cid), STORE_OK);
    n.id = id;
    n.cluster_id = cid;
    assert_int_equal(store_node_update(st, &n), STORE_OK);
    assert_int_equal(store_commit(st), STORE_OK);
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_node_delete(st, id), STORE_ECONSTRAINT);
    store_rollback(st);
    /* Deleting the cluster detaches the node (ON DELETE SET NULL). */
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_cluster_delete(st, cid), STORE_OK);
    assert_int_equal(store_commit(st), STORE_OK);
    assert_int_equal(count_rows("SELECT count(*) FROM nodes WHERE cluster_id IS NULL"), 1);
    /* Missing rows. */
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_cluster_delete(st, cid), STORE_ENOTFOUND);
    store_rollback(st);
    store_close(st);
}

static int collect(void *arg, const struct store_event *ev)
{
    int64_t *ids = arg;
    ids[++ids[0]] = ev->id;
    return 0;
}

static void test_events(void **state)
{
    (void)state;
    struct store *st = open_ok();
    for (int i = 0; i < 5; i++) {
        struct store_event ev = { .ts = 1000 + i, .cluster = i % 2 ? "c1" : "c2", .node = "n",
                                  .kind = "test", .message = "m", .actor = "unit" };
        assert_int_equal(store_event_log(st, &ev), STORE_OK);
    }
    assert_int_equal(store_events_count(st), 5);
    int64_t ids[16] = { 0 };
    struct store_event_filter f = { .limit = 2 };
    assert_int_equal(store_events_query(st, &f, collect, ids), STORE_OK);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 5);            /* newest first */
    assert_int_equal(ids[2], 4);
    f.before_id = ids[2];                    /* next page */
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_events_query(st, &f, collect, ids), STORE_OK);
    assert_int_equal(ids[1], 3);
    assert_int_equal(ids[2], 2);
    struct store_event_filter fc = { .cluster = "c1", .limit = 10 };
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_events_query(st, &fc, collect, ids), STORE_OK);
    assert_int_equal(ids[0], 2);
    struct store_event_filter fs = { .since_ms = 1003, .limit = 10 };
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_events_query(st, &fs, collect, ids), STORE_OK);
    assert_int_equal(ids[0], 2);
    store_close(st);

    /* The journal is append-only, even for someone using sqlite3 directly. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET kind = 'x'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(count_rows("SELECT count(*) FROM events"), 5);
}

static int status_cb(void *arg, int64_t id, const struct node_obs *o)
{
    struct node_obs *out = arg;
    (void)id;
    *out = *o;
    return 0;
}

static void test_status_roundtrip(void **state)
{
    (void)state;
    struct store *st = open_ok();
    struct store_node n = { .name = "a", .host = "h", .port = 1, .tags = "[]", .first_seen = 1 };
    int64_t id;
    struct node_obs o;
    health_obs_init(&o);
    o.state = NODE_UP;
    o.role = ROLE_REPLICA;
    snprintf(o.master_host, sizeof(o.master_host), "10.0.0.9");
    o.master_port = 6379;
    o.link = LINK_UP;
    o.offset = 12345;
    o.state_since = 777;
    o.lag_bytes = 64;
    o.lag_ms = 1500;
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_node_insert(st, &n, &id), STORE_OK);
    assert_int_equal(store_status_save(st, id, &o, 1000), STORE_OK);
    assert_int_equal(store_commit(st), STORE_OK);
    struct node_obs back;
    memset(&back, 0, sizeof(back));
    assert_int_equal(store_load(st, NULL, NULL, status_cb, &back), STORE_OK);
    assert_int_equal(back.state, NODE_UP);
    assert_int_equal(back.role, ROLE_REPLICA);
    assert_string_equal(back.master_host, "10.0.0.9");
    assert_int_equal(back.master_port, 6379);
    assert_int_equal(back.link, LINK_UP);
    assert_int_equal(back.offset, 12345);
    assert_int_equal(back.state_since, 777);
    assert_int_equal(back.lag_bytes, 64);
    assert_int_equal(back.lag_ms, 1500);
    /* Status of an unknown node violates the foreign key. */
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_status_save(st, 424242, &o, 1), STORE_ECONSTRAINT);
    store_rollback(st);
    store_close(st);
}

static void test_unwritable(void **state)
{
    (void)state;
    struct store *st = open_ok();
    assert_int_equal(store_set_query_only(st, 1), STORE_OK);
    struct store_event ev = { .ts = 1, .kind = "k", .message = "m", .actor = "a" };
    assert_int_equal(store_event_log(st, &ev), STORE_EUNAVAIL);
    assert_int_equal(store_ping(st), STORE_OK);   /* reads still work */
    assert_int_equal(store_set_query_only(st, 0), STORE_OK);
    assert_int_equal(store_event_log(st, &ev), STORE_OK);
    store_close(st);
}

struct fo_seen {
    int n;
    int64_t ids[8];
    char status[8][16];
    char steps[256];
};

static int fo_collect(void *arg, const struct store_failover *f)
{
    struct fo_seen *s = arg;
    if (s->n < 8) {
        s->ids[s->n] = f->id;
        snprintf(s->status[s->n], sizeof(s->status[0]), "%s", f->status);
        snprintf(s->steps, sizeof(s->steps), "%s", f->steps ? f->steps : "");
        s->n++;
    }
    return 0;
}

static int fo_stop(void *arg, const struct store_failover *f)
{
    (void)arg;
    (void)f;
    return 7;
}

static int fo_insert(struct store *st, struct store_failover *f, int64_t *id)
{
    int rc = store_begin(st);
    if (rc != STORE_OK)
        return rc;
    rc = store_failover_insert(st, f, id);
    if (rc != STORE_OK) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st);
}

/* One running recovery per cluster is the database's rule, not only the
 * loop's; a scheduled row moves to running or cancelled exactly once. */
static void test_failovers(void **state)
{
    (void)state;
    struct store *st = open_ok();
    struct store_failover f = { .cluster = "c1", .kind = "automatic", .status = "running",
                                .step = "promote", .reason = "master down", .old_master = "a",
                                .new_master = "b", .steps = "[{\"step\":\"promote\"}]",
                                .requested_by = "planner", .created_at = 1000 };
    int64_t id1 = 0, id2 = 0, id3 = 0;
    assert_int_equal(fo_insert(st, &f, &id1), STORE_OK);
    assert_true(id1 > 0);
    /* A second running row of the same cluster is refused... */
    f.kind = "manual";
    assert_int_equal(fo_insert(st, &f, &id2), STORE_ECONSTRAINT);
    /* ...another cluster's is not. */
    f.cluster = "c2";
    assert_int_equal(fo_insert(st, &f, &id2), STORE_OK);
    /* Finishing the first frees the slot. */
    f.cluster = "c1";
    f.kind = "automatic";
    f.id = id1;
    f.status = "done";
    f.steps = "[{\"step\":\"promote\",\"outcome\":\"ok\"}]";
    f.finished_at = 2000;
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_failover_update(st, &f), STORE_OK);
    assert_int_equal(store_commit(st), STORE_OK);
    struct fo_seen seen = { 0 };
    assert_int_equal(store_failover_get(st, id1, fo_collect, &seen), STORE_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.status[0], "done");
    assert_non_null(strstr(seen.steps, "outcome"));
    assert_int_equal(store_failover_get(st, 9999, fo_collect, &seen), STORE_ENOTFOUND);

    /* Scheduled switchover: claimed once. */
    struct store_failover sch = { .cluster = "c1", .kind = "switchover", .status = "scheduled",
                                  .reason = "later", .requested_by = "api", .created_at = 3000,
                                  .scheduled_at = 5000, .timeout_ms = 2000 };
    assert_int_equal(fo_insert(st, &sch, &id3), STORE_OK);
    assert_int_equal(store_failover_claim(st, id3, "scheduled", "cancelled"), STORE_OK);
    assert_int_equal(store_failover_claim(st, id3, "scheduled", "running"), STORE_ENOTFOUND);

    /* History, newest first, filtered by cluster and status. */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_failovers_query(st, "c1", NULL, 0, 10, fo_collect, &seen), STORE_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.ids[0], id3);
    assert_int_equal(seen.ids[1], id1);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_failovers_query(st, NULL, "running", 0, 10, fo_collect, &seen),
                     STORE_OK);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.ids[0], id2);
    /* Paging: before_id. */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_failovers_query(st, "c1", NULL, id3, 10, fo_collect, &seen), STORE_OK);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.ids[0], id1);
    /* CHECK constraints hold. */
    struct store_failover bad = f;
    bad.id = 0;
    bad.cluster = "c3";
    bad.kind = "whatever";
    assert_int_equal(fo_insert(st, &bad, NULL), STORE_ECONSTRAINT);
    store_close(st);
}

/* store_failovers_latest: per existing cluster, the newest row whatever its
 * kind or status (what GET .../failovers?limit=1 shows); rows of a deleted
 * cluster and clusters without any row are left out. */
static void test_failovers_latest(void **state)
{
    (void)state;
    struct store *st = open_ok();
    struct cluster_settings cs;
    health_settings_default(&cs);
    const char *names[] = { "c1", "c2", "c3" };
    int64_t cid[3];
    assert_int_equal(store_begin(st), STORE_OK);
    for (int i = 0; i < 3; i++) {
        struct store_cluster c = { .name = names[i], .settings = cs, .created_at = 1 };
        assert_int_equal(store_cluster_insert(st, &c, &cid[i]), STORE_OK);
    }
    assert_int_equal(store_commit(st), STORE_OK);
    /* Empty history: no row, no error. */
    struct fo_seen seen = { 0 };
    assert_int_equal(store_failovers_latest(st, fo_collect, &seen), STORE_OK);
    assert_int_equal(seen.n, 0);

    struct store_failover f = { .cluster = "c2", .kind = "automatic", .status = "done",
                                .reason = "master down", .old_master = "a", .new_master = "b",
                                .requested_by = "planner", .created_at = 1000,
                                .started_at = 1000, .finished_at = 1900 };
    int64_t c2_old = 0, c2_new = 0, c1_only = 0, gone = 0;
    assert_int_equal(fo_insert(st, &f, &c2_old), STORE_OK);
    f.cluster = "c1";
    assert_int_equal(fo_insert(st, &f, &c1_only), STORE_OK);
    f.cluster = "gone";             /* a cluster deleted since: not listed */
    assert_int_equal(fo_insert(st, &f, &gone), STORE_OK);
    /* c2's newest row is a scheduled switchover: it is the one shown. */
    struct store_failover sch = { .cluster = "c2", .kind = "switchover", .status = "scheduled",
                                  .reason = "later", .requested_by = "api", .created_at = 3000,
                                  .scheduled_at = 9000 };
    assert_int_equal(fo_insert(st, &sch, &c2_new), STORE_OK);
    assert_true(c2_new > gone && gone > c1_only && c1_only > c2_old);

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_failovers_latest(st, fo_collect, &seen), STORE_OK);
    assert_int_equal(seen.n, 2);                      /* c3 has none, "gone" is no cluster */
    assert_int_equal(seen.ids[0], c1_only);           /* ordered by cluster id */
    assert_string_equal(seen.status[0], "done");
    assert_int_equal(seen.ids[1], c2_new);
    assert_string_equal(seen.status[1], "scheduled");
    /* The same rows as the per-cluster history with limit 1. */
    for (int i = 0; i < 2; i++) {
        struct fo_seen one = { 0 };
        assert_int_equal(store_failovers_query(st, names[i], NULL, 0, 1, fo_collect, &one),
                         STORE_OK);
        assert_int_equal(one.n, 1);
        assert_int_equal(one.ids[0], seen.ids[i]);
    }
    /* A callback's non-zero answer stops the walk and is returned. */
    assert_int_equal(store_failovers_latest(st, fo_stop, NULL), 7);
    /* A deleted cluster's rows drop out. */
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_cluster_delete(st, cid[0]), STORE_OK);
    assert_int_equal(store_commit(st), STORE_OK);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_failovers_latest(st, fo_collect, &seen), STORE_OK);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.ids[0], c2_new);
    store_close(st);
}

/* Cluster failover settings survive a reload. */
static void test_cluster_failover_settings(void **state)
{
    (void)state;
    struct store *st = open_ok();
    struct cluster_settings cs;
    health_settings_default(&cs);
    cs.down_after_ms = 2500;
    cs.auto_failover = 0;
    cs.failover_cooldown_ms = 123;
    struct store_cluster c = { .name = "c9", .settings = cs, .created_at = 1 };
    int64_t id = 0;
    assert_int_equal(store_begin(st), STORE_OK);
    assert_int_equal(store_cluster_insert(st, &c, &id), STORE_OK);
    assert_int_equal(store_commit(st), STORE_OK);
    store_close(st);
    st = open_ok();
    assert_int_equal(store_load(st, NULL, check_cluster_settings, NULL, NULL), STORE_OK);
    assert_int_equal(loaded_down_after, 2500);
    assert_int_equal(loaded_auto, 0);
    assert_int_equal(loaded_cooldown, 123);
    store_close(st);
}

/* ---- one process per database --------------------------------------------- */

static void lock_path(char *out, size_t outlen)
{
    snprintf(out, outlen, "%s.lock", path);
}

static void read_lock_file(char *buf, size_t len)
{
    char lp[400];
    lock_path(lp, sizeof(lp));
    FILE *fp = fopen(lp, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, len - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

/* A second store_open of the same database, however it is spelt, is refused
 * while the first is open, with a message naming the database, the lock file
 * and the pid of its holder; allowed again after store_close(), which also
 * removes the lock file. */
static void test_second_open_refused(void **state)
{
    (void)state;
    struct store *st = open_ok(), *st2 = (struct store *)1;
    char err[1024], mine[32], holder[48], lp[400], content[64];
    lock_path(lp, sizeof(lp));
    snprintf(mine, sizeof(mine), "%ld\n", (long)getpid());
    snprintf(holder, sizeof(holder), "pid %ld holds", (long)getpid());
    read_lock_file(content, sizeof(content));
    assert_string_equal(content, mine);

    assert_int_equal(store_open(&st2, path, err, sizeof(err)), STORE_ELOCKED);
    assert_null(st2);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, lp));
    assert_non_null(strstr(err, holder));
    assert_non_null(strstr(err, "in use"));

    /* Relative to another directory, and with a detour: same file, same lock. */
    char cwd[PATH_MAX], other[400];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    int rc = store_open(&st2, "t.db", err, sizeof(err));
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, STORE_ELOCKED);
    snprintf(other, sizeof(other), "%s/./../%s/t.db", dir, strrchr(dir, '/') + 1);
    assert_int_equal(store_open(&st2, other, err, sizeof(err)), STORE_ELOCKED);

    /* The refusals changed nothing: the first store still works. */
    struct store_event ev = { .ts = 1, .kind = "k", .message = "m", .actor = "a" };
    assert_int_equal(store_event_log(st, &ev), STORE_OK);
    read_lock_file(content, sizeof(content));
    assert_string_equal(content, mine);

    store_close(st);
    assert_int_not_equal(access(lp, F_OK), 0);       /* removed with the lock */
    assert_int_equal(store_open(&st2, path, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_events_count(st2), 1);
    store_close(st2);
}

/* The lock comes before anything touches the database: a database another
 * process holds is not even created. A lock file left by a process that died
 * (kill -9 leaves it, without the lock) does not stop the next start. */
static void test_lock_taken_first(void **state)
{
    (void)state;
    char lp[400], err[1024], content[64];
    lock_path(lp, sizeof(lp));
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(write(fd, "4242\n", 5), 5);

    struct store *st = NULL;
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_ELOCKED);
    assert_null(st);
    assert_non_null(strstr(err, "pid 4242"));
    assert_int_equal(file_size(path), -1);            /* not created */
    read_lock_file(content, sizeof(content));
    assert_string_equal(content, "4242\n");           /* not the refused one's to write */

    /* A holder that has not written its pid yet. */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_ELOCKED);
    assert_non_null(strstr(err, "pid unknown"));

    /* The holder dies: its stale file stays, the lock goes with it. */
    assert_int_equal(write(fd, "99999999\n", 9), 9);
    assert_int_equal(close(fd), 0);
    assert_int_equal(store_open(&st, path, err, sizeof(err)), STORE_OK);
    char want[32];
    snprintf(want, sizeof(want), "%ld\n", (long)getpid());
    read_lock_file(content, sizeof(content));
    assert_string_equal(content, want);
    store_close(st);
}

/* ---- reads while another process holds the write lock --------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct begin_arg {
    struct store *st;
    int rc;
    char msg[256];                        /* store_errmsg is per thread */
    int done;                             /* atomic: read while the thread runs */
};

/* A writer (the journal writer thread, an API call) that runs into the
 * other process's lock: store_begin waits out the busy timeout. */
static void *begin_thread(void *p)
{
    struct begin_arg *a = p;
    a->rc = store_begin(a->st);
    snprintf(a->msg, sizeof(a->msg), "%s", store_errmsg(a->st));
    if (a->rc == STORE_OK)
        store_rollback(a->st);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int count_cb(void *arg, const struct store_event *ev)
{
    (void)ev;
    (*(int *)arg)++;
    return 0;
}

static int fo_count_cb(void *arg, const struct store_failover *f)
{
    (void)f;
    (*(int *)arg)++;
    return 0;
}

/* The regression: every read helper used to queue on the store mutex that a
 * writer holds for the whole busy timeout (2 s) while another process (the
 * sqlite3 shell, a backup script) holds the write lock. Now each answers at
 * once, from the last committed state. */
static void test_reads_while_write_locked(void **state)
{
    (void)state;
    struct store *st = open_ok();
    struct store_event ev = { .ts = 1, .kind = "k", .message = "m", .actor = "a" };
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_event_log(st, &ev), STORE_OK);

    sqlite3 *other;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other,
                                  "BEGIN IMMEDIATE; INSERT INTO events(ts, kind, message, actor)"
                                  " VALUES (2, 'other', 'uncommitted', 'sqlite3')",
                                  NULL, NULL, NULL), SQLITE_OK);

    struct begin_arg a = { .st = st };
    pthread_t t;
    double t0 = now_ms();
    assert_int_equal(pthread_create(&t, NULL, begin_thread, &a), 0);
    usleep(100 * 1000);                   /* the writer is now waiting, holding the store */

    /* Every read helper, each timed. */
    double t1 = now_ms(), worst = 0;
#define TIMED(expr)                                   \
    do {                                              \
        t1 = now_ms();                                \
        expr;                                         \
        if (now_ms() - t1 > worst)                    \
            worst = now_ms() - t1;                    \
    } while (0)
    int n = 0;
    struct store_event_filter f = { .limit = 10 };
    TIMED(assert_int_equal(store_ping(st), STORE_OK));
    TIMED(assert_int_equal(store_events_query(st, &f, count_cb, &n), STORE_OK));
    assert_int_equal(n, 3);               /* the other process's row is not committed */
    TIMED(assert_int_equal(store_events_count(st), 3));
    n = 0;
    TIMED(assert_int_equal(store_failovers_latest(st, fo_count_cb, &n), STORE_OK));
    TIMED(assert_int_equal(store_failovers_query(st, NULL, NULL, 0, 10, fo_count_cb, &n),
                           STORE_OK));
    TIMED(assert_int_equal(store_failovers_query_nowait(st, NULL, NULL, 0, 10, fo_count_cb, &n),
                           STORE_OK));
    TIMED(assert_int_equal(store_failover_get(st, 1, fo_count_cb, &n), STORE_ENOTFOUND));
    TIMED(assert_int_equal(store_load(st, NULL, NULL, NULL, NULL), STORE_OK));
#undef TIMED
    printf("# slowest read while a writer waits for the lock: %.1f ms\n", worst);
    assert_int_equal(n, 0);
    /* All of it while the writer was still waiting. */
    assert_false(__atomic_load_n(&a.done, __ATOMIC_ACQUIRE));
    assert_true(worst < 200);

    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.rc, STORE_EUNAVAIL);  /* busy timeout */
    assert_true(now_ms() - t0 >= 1500);
    assert_non_null(strstr(a.msg, "locked"));

    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
    assert_int_equal(store_events_count(st), 4);   /* committed now: seen */
    assert_int_equal(store_event_log(st, &ev), STORE_OK);
    assert_int_equal(store_events_count(st), 5);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_real, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_db_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_constraints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_failover_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failovers_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_open_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_taken_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_while_write_locked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
