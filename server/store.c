/* store.c - SQLite topology store (see store.h). */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum stmt_id {
    S_NODE_INSERT,
    S_NODE_UPDATE,
    S_NODE_DELETE,
    S_CLUSTER_INSERT,
    S_CLUSTER_UPDATE,
    S_CLUSTER_DELETE,
    S_STATUS_SAVE,
    S_NODE_TOUCH,
    S_EVENT_ADD,
    S_LOAD_NODES,
    S_LOAD_CLUSTERS,
    S_LOAD_STATUS,
    S_EVENTS_QUERY,
    S_EVENTS_COUNT,
    S_PING,
    S_FO_INSERT,
    S_FO_UPDATE,
    S_FO_GET,
    S_FO_QUERY,
    S_FO_CLAIM,
    S_FO_LATEST,
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_COUNT
};

static const char *stmt_sql[S_COUNT] = {
    [S_NODE_INSERT] =
        "INSERT INTO nodes(name, host, port, priority, maintenance, tags, cluster_id,"
        " first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_NODE_UPDATE] =
        "UPDATE nodes SET priority = ?2, maintenance = ?3, tags = ?4, cluster_id = ?5,"
        " last_seen = ?6 WHERE id = ?1",
    [S_NODE_DELETE] = "DELETE FROM nodes WHERE id = ?1",
    [S_CLUSTER_INSERT] =
        "INSERT INTO clusters(name, master_id, max_lag_on_failover, min_replicas_to_write,"
        " lag_threshold_bytes, lag_threshold_ms, down_after_ms, auto_failover,"
        " failover_cooldown_ms, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9, ?10, ?7)",
    [S_CLUSTER_UPDATE] =
        "UPDATE clusters SET master_id = ?2, max_lag_on_failover = ?3, min_replicas_to_write = ?4,"
        " lag_threshold_bytes = ?5, lag_threshold_ms = ?6, down_after_ms = ?7,"
        " auto_failover = ?8, failover_cooldown_ms = ?9 WHERE id = ?1",
    [S_CLUSTER_DELETE] = "DELETE FROM clusters WHERE id = ?1",
    [S_STATUS_SAVE] =
        "INSERT INTO node_status(node_id, state, role, master_host, master_port, link,"
        " repl_offset, state_since, updated_at, lag_bytes, lag_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        " ON CONFLICT(node_id) DO UPDATE SET state = excluded.state, role = excluded.role,"
        " master_host = excluded.master_host, master_port = excluded.master_port,"
        " link = excluded.link, repl_offset = excluded.repl_offset,"
        " state_since = excluded.state_since, updated_at = excluded.updated_at,"
        " lag_bytes = excluded.lag_bytes, lag_ms = excluded.lag_ms",
    [S_NODE_TOUCH] = "UPDATE nodes SET last_seen = ?2 WHERE id = ?1",
    [S_EVENT_ADD] =
        "INSERT INTO events(ts, cluster, node, kind, message, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_LOAD_NODES] =
        "SELECT id, name, host, port, priority, maintenance, tags, cluster_id, first_seen,"
        " last_seen FROM nodes ORDER BY id",
    [S_LOAD_CLUSTERS] =
        "SELECT id, name, master_id, max_lag_on_failover, min_replicas_to_write,"
        " lag_threshold_bytes, lag_threshold_ms, created_at, down_after_ms, auto_failover,"
        " failover_cooldown_ms FROM clusters ORDER BY id",
    [S_LOAD_STATUS] =
        "SELECT node_id, state, role, master_host, master_port, link, repl_offset, state_since,"
        " lag_bytes, lag_ms FROM node_status",
    [S_EVENTS_QUERY] =
        "SELECT id, ts, cluster, node, kind, message, actor FROM events"
        " WHERE (?1 IS NULL OR cluster = ?1) AND (?2 IS NULL OR node = ?2)"
        " AND ts >= ?3 AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT ?5",
    [S_EVENTS_COUNT] = "SELECT count(*) FROM events",
    /* A read of the file, not "SELECT 1", which SQLite answers without
     * touching the database: health must say whether it can be read. */
    [S_PING] = "SELECT max(version) FROM schema_migrations",
    [S_FO_INSERT] =
        "INSERT INTO failovers(cluster, kind, status, step, reason, old_master, new_master,"
        " candidates, steps, replicas, error, requested_by, timeout_ms, scheduled_at, created_at,"
        " started_at, finished_at, acked_at, acked_by, ack_comment)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
        " ?19, ?20)",
    [S_FO_UPDATE] =
        "UPDATE failovers SET status = ?3, step = ?4, reason = ?5, old_master = ?6,"
        " new_master = ?7, candidates = ?8, steps = ?9, replicas = ?10, error = ?11,"
        " timeout_ms = ?13, scheduled_at = ?14, started_at = ?16, finished_at = ?17,"
        " acked_at = ?18, acked_by = ?19, ack_comment = ?20"
        " WHERE id = ?21 AND cluster = ?1 AND kind = ?2 AND requested_by = ?12 AND created_at = ?15",
    [S_FO_GET] =
        "SELECT id, cluster, kind, status, step, reason, old_master, new_master, candidates, steps,"
        " replicas, error, requested_by, timeout_ms, scheduled_at, created_at, started_at,"
        " finished_at, acked_at, acked_by, ack_comment FROM failovers WHERE id = ?1",
    [S_FO_CLAIM] = "UPDATE failovers SET status = ?3 WHERE id = ?1 AND status = ?2",
    [S_FO_QUERY] =
        "SELECT id, cluster, kind, status, step, reason, old_master, new_master, candidates, steps,"
        " replicas, error, requested_by, timeout_ms, scheduled_at, created_at, started_at,"
        " finished_at, acked_at, acked_by, ack_comment FROM failovers"
        " WHERE (?1 IS NULL OR cluster = ?1) AND (?2 IS NULL OR status = ?2)"
        " AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4",
    /* One row per cluster: the correlated max(id) is a seek on the
     * failovers_cluster(cluster, id) index, so the cost grows with the number
     * of clusters, not with the length of the history (a GROUP BY over the
     * table would scan every row ever written). Only clusters that exist. */
    [S_FO_LATEST] =
        "SELECT f.id, f.cluster, f.kind, f.status, f.step, f.reason, f.old_master, f.new_master,"
        " f.candidates, f.steps, f.replicas, f.error, f.requested_by, f.timeout_ms,"
        " f.scheduled_at, f.created_at, f.started_at, f.finished_at, f.acked_at, f.acked_by,"
        " f.ack_comment FROM clusters c"
        " JOIN failovers f ON f.id = (SELECT max(id) FROM failovers WHERE cluster = c.name)"
        " ORDER BY c.id",
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
};

/* The statements the read helpers run, prepared on the read-only
 * connection too. */
static int stmt_is_read(enum stmt_id id)
{
    switch (id) {
    case S_LOAD_NODES:
    case S_LOAD_CLUSTERS:
    case S_LOAD_STATUS:
    case S_EVENTS_QUERY:
    case S_EVENTS_COUNT:
    case S_PING:
    case S_FO_GET:
    case S_FO_QUERY:
    case S_FO_LATEST:
        return 1;
    default:
        return 0;
    }
}

#define READ_BUSY_TIMEOUT_MS 500

struct store {
    sqlite3 *db;              /* read-write: migrations and every write */
    sqlite3_stmt *stmt[S_COUNT];
    pthread_mutex_t mu;       /* held from store_begin to commit/rollback */
    /* Reads go through their own read-only connection and mutex, so that
     * they never wait for mu, which a writer holds while SQLite waits (up
     * to the busy timeout) for a write lock another process has. A database
     * that is not a file (":memory:", "") cannot be shared by two
     * connections: then rstmt and rmu point at stmt and mu. */
    sqlite3 *rdb;             /* NULL: reads use db */
    sqlite3_stmt *rstmt_own[S_COUNT];
    pthread_mutex_t rmu_own;
    sqlite3_stmt **rstmt;
    pthread_mutex_t *rmu;
    int version;
    int lock_fd;              /* <path>.lock, flock'ed; -1: none */
    char lock_path[PATH_MAX + 8];
    char path[1024];
};

/* Last failure, per thread: the store is shared by the API threads, the
 * writer thread and start-up code, each reading its own error. */
static __thread char tls_errmsg[512];
/* The store whose transaction this thread has open (between store_begin and
 * commit/rollback), NULL: none. Per thread, never shared: another thread's
 * open transaction (the writer's) must not look like ours, or mut_end would
 * roll it back and unlock a mutex this thread does not hold. */
static __thread struct store *tls_txn;

int64_t store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct store *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)st;
    vsnprintf(tls_errmsg, sizeof(tls_errmsg), fmt, ap);
    va_end(ap);
}

const char *store_errmsg(struct store *st)
{
    (void)st;
    return tls_errmsg;
}
int store_in_txn(struct store *st) { return tls_txn == st; }
const char *store_path(struct store *st) { return st->path; }
int store_schema_version(struct store *st) { return st->version; }

/* Map an SQLite result code of connection db to a store error. */
static int map_db_rc(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return STORE_OK;
    case SQLITE_CONSTRAINT:
        set_err(NULL, "%s", sqlite3_errmsg(db));
        return STORE_ECONSTRAINT;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        set_err(NULL, "database corrupt: %s", sqlite3_errmsg(db));
        return STORE_EUNAVAIL;
    default:
        set_err(NULL, "database unavailable: %s", sqlite3_errmsg(db));
        return STORE_EUNAVAIL;
    }
}

static int map_rc(struct store *st, int rc)
{
    return map_db_rc(st->db, rc);
}

/* A read statement's rc: the message comes from the connection it ran on. */
static int map_stmt_rc(sqlite3_stmt *s, int rc)
{
    return map_db_rc(sqlite3_db_handle(s), rc);
}

static sqlite3_stmt *stmt_get(struct store *st, enum stmt_id id)
{
    sqlite3_stmt *s = st->stmt[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* A read statement, with *st->rmu held. */
static sqlite3_stmt *rstmt_get(struct store *st, enum stmt_id id)
{
    sqlite3_stmt *s = st->rstmt[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Run a statement that returns no rows. */
static int stmt_exec(struct store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_DONE ? STORE_OK : map_rc(st, rc == SQLITE_ROW ? SQLITE_MISUSE : rc);
    sqlite3_reset(s);
    return ret;
}

static int bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
    return v != NULL ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

static int bind_id_or_null(sqlite3_stmt *s, int i, int64_t v)
{
    return v > 0 ? sqlite3_bind_int64(s, i, v) : sqlite3_bind_null(s, i);
}

static int simple_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Verify the file is a healthy SQLite database that is either empty or ours,
 * without writing anything. */
static int check_file(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s is not a usable kvfleet database (%s); refusing to start, the file was left untouched",
                 path, sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return STORE_ECORRUPT;
    }
    rc = sqlite3_step(s);
    const unsigned char *txt = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
    if (rc != SQLITE_ROW || txt == NULL || strcmp((const char *)txt, "ok") != 0) {
        snprintf(err, errlen, "%s is corrupt (%s); refusing to start, the file was left untouched",
                 path, txt != NULL ? (const char *)txt : sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return STORE_ECORRUPT;
    }
    sqlite3_finalize(s);

    /* Tables present but no schema_migrations: someone else's database. */
    rc = sqlite3_prepare_v2(db,
                            "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table'),"
                            " (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                            " AND name = 'schema_migrations')", -1, &s, NULL);
    if (rc != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: cannot read schema (%s)", path, sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return STORE_ECORRUPT;
    }
    int tables = sqlite3_column_int(s, 0), ours = sqlite3_column_int(s, 1);
    sqlite3_finalize(s);
    if (tables > 0 && ours == 0) {
        snprintf(err, errlen, "%s is an SQLite database but not a kvfleet one (no schema_migrations table); refusing to start, the file was left untouched",
                 path);
        return STORE_ECORRUPT;
    }
    return STORE_OK;
}

static int current_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    int ok = sqlite3_step(s) == SQLITE_ROW;
    if (ok)
        *version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return ok ? 0 : -1;
}

static int migrate(sqlite3 *db, const char *path, const struct store_migration *migs, size_t n,
                   int *version, char *err, size_t errlen)
{
    char msg[400];
    if (simple_exec(db,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL, applied_at INTEGER NOT NULL)", msg, sizeof(msg)) != 0) {
        snprintf(err, errlen, "%s: cannot create schema_migrations: %s", path, msg);
        return STORE_EUNAVAIL;
    }
    int cur = 0;
    if (current_version(db, &cur) != 0) {
        snprintf(err, errlen, "%s: cannot read schema version: %s", path, sqlite3_errmsg(db));
        return STORE_ECORRUPT;
    }
    int known = 0;
    for (size_t i = 0; i < n; i++)
        if (migs[i].version > known)
            known = migs[i].version;
    if (cur > known) {
        snprintf(err, errlen, "%s has schema version %d but this kvfleetd only knows up to %d; refusing to start (upgrade kvfleetd, the database was left untouched)",
                 path, cur, known);
        return STORE_ESCHEMA;
    }
    for (size_t i = 0; i < n; i++) {
        const struct store_migration *m = &migs[i];
        if (m->version <= cur)
            continue;
        if (simple_exec(db, "BEGIN IMMEDIATE", msg, sizeof(msg)) != 0) {
            snprintf(err, errlen, "%s: migration %s: %s", path, m->name, msg);
            return STORE_EUNAVAIL;
        }
        if (simple_exec(db, m->sql, msg, sizeof(msg)) != 0) {
            char rb[64];
            (void)simple_exec(db, "ROLLBACK", rb, sizeof(rb));
            snprintf(err, errlen, "%s: migration %s failed: %s", path, m->name, msg);
            return STORE_ESCHEMA;
        }
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(db,
                                    "INSERT INTO schema_migrations(version, name, applied_at)"
                                    " VALUES (?1, ?2, ?3)", -1, &s, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(s, 1, m->version);
            sqlite3_bind_text(s, 2, m->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, store_now_ms());
            rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        sqlite3_finalize(s);
        if (rc != SQLITE_OK || simple_exec(db, "COMMIT", msg, sizeof(msg)) != 0) {
            char rb[64];
            snprintf(err, errlen, "%s: migration %s: cannot record: %s", path, m->name,
                     sqlite3_errmsg(db));
            (void)simple_exec(db, "ROLLBACK", rb, sizeof(rb));
            return STORE_EUNAVAIL;
        }
        cur = m->version;
    }
    *version = cur;
    return STORE_OK;
}

/* ---- one process per database -------------------------------------------- */

/* A database SQLite keeps in memory ("" is a private temporary one): no
 * file to lock, and a second connection would see another database. */
static int is_file_db(const char *path)
{
    return path[0] != '\0' && strcmp(path, ":memory:") != 0;
}

/* <path>.lock by the database's real path, so that every spelling of one
 * file (relative to any directory, absolute, through a symlink) names the
 * same lock file. A database not created yet: its directory's real path. */
static int lock_file_path(const char *path, char *out, size_t outlen)
{
    char real[PATH_MAX];
    int n;
    if (realpath(path, real) != NULL) {
        n = snprintf(out, outlen, "%s.lock", real);
    } else {
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/'), *base = slash != NULL ? slash + 1 : path;
        if (slash == NULL)
            snprintf(dir, sizeof(dir), ".");
        else if (slash == path)
            snprintf(dir, sizeof(dir), "/");
        else
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        if (realpath(dir, real) != NULL)
            n = snprintf(out, outlen, "%s%s%s.lock", real, strcmp(real, "/") == 0 ? "" : "/",
                         base);
        else    /* no such directory: opening the lock file says so */
            n = snprintf(out, outlen, "%s.lock", path);
    }
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* The pid another process wrote into the lock file; 0 when unknown (it may
 * be between its flock and its write). */
static long lock_holder_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    return pid > 0 && end != buf && (*end == '\n' || *end == '\0') ? pid : 0;
}

/* Take <path>.lock for the life of the store: flock(LOCK_EX|LOCK_NB) on a
 * file of its own. Not fcntl locks: SQLite uses those on the database, they
 * belong to the process (a second open in the same process would succeed
 * and closing any descriptor of the file would drop them), while a flock
 * belongs to this open file description, which the kernel closes when the
 * process dies, kill -9 included. O_CLOEXEC so no child (hook commands)
 * keeps it past an exec; O_NOFOLLOW so a symlink planted at the lock path
 * cannot make us truncate another file. */
static int lock_acquire(struct store *st, const char *path, char *err, size_t errlen)
{
    if (lock_file_path(path, st->lock_path, sizeof(st->lock_path)) != 0) {
        snprintf(err, errlen, "database path too long: %s", path);
        return STORE_EUNAVAIL;
    }
    for (int attempt = 0;; attempt++) {
        int fd = open(st->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open database %s: lock file %s: %s", path, st->lock_path,
                     strerror(errno));
            return STORE_EUNAVAIL;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            if (e == EWOULDBLOCK) {
                long pid = lock_holder_pid(fd);
                char who[48];
                if (pid > 0)
                    snprintf(who, sizeof(who), "pid %ld", pid);
                else
                    snprintf(who, sizeof(who), "pid unknown");
                snprintf(err, errlen, "database %s is in use by another kvfleetd (%s holds the lock %s); refusing to start a second controller on it, both would monitor, reconcile and fail over the same fleet",
                         path, who, st->lock_path);
            } else {
                snprintf(err, errlen, "cannot lock database %s: %s: %s", path, st->lock_path,
                         strerror(e));
            }
            (void)close(fd);    /* read-only use: nothing to flush */
            return e == EWOULDBLOCK ? STORE_ELOCKED : STORE_EUNAVAIL;
        }
        /* store_close() unlinks the file while holding the lock: if that
         * happened between our open and our flock, we locked a file nobody
         * else will ever see; start again on the current one. */
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(st->lock_path, &now) == 0 &&
            held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
            st->lock_fd = fd;
            break;
        }
        (void)close(fd);
        if (attempt >= 20) {
            snprintf(err, errlen, "cannot lock database %s: %s keeps being replaced", path,
                     st->lock_path);
            return STORE_EUNAVAIL;
        }
    }
    /* Our pid, for the message a second process prints. Only a hint: the
     * flock is the lock, so a failed write (disk full) is not fatal; the
     * other process then says "pid unknown". */
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(st->lock_fd, 0) != 0 || pwrite(st->lock_fd, pid, (size_t)n, 0) != n)
        set_err(st, "cannot write the pid into %s: %s", st->lock_path, strerror(errno));
    return STORE_OK;
}

/* Called by store_close() after the database is closed, so a successor
 * cannot start before our last checkpoint. The file is removed (with the
 * lock still held, see the inode check above) rather than left behind. */
static void lock_release(struct store *st)
{
    if (st->lock_fd < 0)
        return;
    /* Nothing to do if it is gone already (someone removed it by hand). */
    (void)unlink(st->lock_path);
    (void)close(st->lock_fd);   /* releases the flock; nothing was buffered */
    st->lock_fd = -1;
}

/* The read-only connection of the read helpers (see struct store). Opened
 * after the migrations, on the schema they left. */
static int open_reader(struct store *st, const char *path, char *err, size_t errlen)
{
    if (!is_file_db(path)) {
        st->rstmt = st->stmt;
        st->rmu = &st->mu;
        return STORE_OK;
    }
    int rc = sqlite3_open_v2(path, &st->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s for reading: %s", path,
                 st->rdb != NULL ? sqlite3_errmsg(st->rdb) : sqlite3_errstr(rc));
        return STORE_EUNAVAIL;
    }
    sqlite3_extended_result_codes(st->rdb, 0);
    /* In WAL mode a reader does not wait for writers; this only bounds the
     * rare waits that remain (another process recovering the WAL) so that
     * an API thread answers 503 rather than sitting there. */
    if (sqlite3_busy_timeout(st->rdb, READ_BUSY_TIMEOUT_MS) != SQLITE_OK) {
        snprintf(err, errlen, "%s: busy_timeout: %s", path, sqlite3_errmsg(st->rdb));
        return STORE_EUNAVAIL;
    }
    for (int i = 0; i < S_COUNT; i++) {
        if (!stmt_is_read((enum stmt_id)i))
            continue;
        if (sqlite3_prepare_v3(st->rdb, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &st->rstmt_own[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: cannot prepare read statement %d: %s", path, i,
                     sqlite3_errmsg(st->rdb));
            return STORE_ESCHEMA;
        }
    }
    st->rstmt = st->rstmt_own;
    st->rmu = &st->rmu_own;
    return STORE_OK;
}

int store_open_with(struct store **out, const char *path, const struct store_migration *migs,
                    size_t nmigs, char *err, size_t errlen)
{
    *out = NULL;
    struct store *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return STORE_EUNAVAIL;
    }
    st->lock_fd = -1;
    snprintf(st->path, sizeof(st->path), "%s", path);
    if (pthread_mutex_init(&st->mu, NULL) != 0) {
        free(st);
        snprintf(err, errlen, "mutex init failed");
        return STORE_EUNAVAIL;
    }
    if (pthread_mutex_init(&st->rmu_own, NULL) != 0) {
        pthread_mutex_destroy(&st->mu);
        free(st);
        snprintf(err, errlen, "mutex init failed");
        return STORE_EUNAVAIL;
    }
    int ret;
    /* Before anything opens, creates, migrates or writes the file: a
     * second controller must leave the first one's database alone. */
    if (is_file_db(path) && (ret = lock_acquire(st, path, err, errlen)) != STORE_OK)
        goto fail;
    int rc = sqlite3_open_v2(path, &st->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        ret = STORE_EUNAVAIL;
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 0);
    if (sqlite3_busy_timeout(st->db, 2000) != SQLITE_OK) {
        snprintf(err, errlen, "%s: busy_timeout: %s", path, sqlite3_errmsg(st->db));
        ret = STORE_EUNAVAIL;
        goto fail;
    }
    if ((ret = check_file(st->db, path, err, errlen)) != STORE_OK)
        goto fail;

    char msg[256];
    if (simple_exec(st->db, "PRAGMA journal_mode=WAL", msg, sizeof(msg)) != 0 ||
        simple_exec(st->db, "PRAGMA synchronous=NORMAL", msg, sizeof(msg)) != 0 ||
        simple_exec(st->db, "PRAGMA foreign_keys=ON", msg, sizeof(msg)) != 0) {
        snprintf(err, errlen, "%s: cannot configure database: %s", path, msg);
        ret = STORE_EUNAVAIL;
        goto fail;
    }
    if ((ret = migrate(st->db, path, migs, nmigs, &st->version, err, errlen)) != STORE_OK)
        goto fail;

    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: cannot prepare statement %d: %s", path, i,
                     sqlite3_errmsg(st->db));
            ret = STORE_ESCHEMA;
            goto fail;
        }
    }
    if ((ret = open_reader(st, path, err, errlen)) != STORE_OK)
        goto fail;
    *out = st;
    return STORE_OK;
fail:
    store_close(st);
    return ret;
}

int store_open(struct store **out, const char *path, char *err, size_t errlen)
{
    return store_open_with(out, path, store_migrations, store_migrations_count, err, errlen);
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < S_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
        sqlite3_finalize(st->rstmt_own[i]);
    }
    /* The read-only connection first: the last connection to close
     * checkpoints the WAL and removes it, which only a writer can do. */
    if (st->rdb != NULL && sqlite3_close(st->rdb) != SQLITE_OK)
        fprintf(stderr, "store: closing %s (reader): %s\n", st->path, sqlite3_errmsg(st->rdb));
    if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
        fprintf(stderr, "store: closing %s: %s\n", st->path, sqlite3_errmsg(st->db));
    lock_release(st);
    pthread_mutex_destroy(&st->rmu_own);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

int store_ping(struct store *st)
{
    pthread_mutex_lock(st->rmu);
    sqlite3_stmt *s = rstmt_get(st, S_PING);
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_ROW ? STORE_OK : map_stmt_rc(s, rc);
    sqlite3_reset(s);
    pthread_mutex_unlock(st->rmu);
    return ret;
}

int store_set_query_only(struct store *st, int on)
{
    char msg[128];
    pthread_mutex_lock(&st->mu);
    int rc = simple_exec(st->db, on ? "PRAGMA query_only=1" : "PRAGMA query_only=0", msg,
                         sizeof(msg));
    pthread_mutex_unlock(&st->mu);
    return rc == 0 ? STORE_OK : STORE_EUNAVAIL;
}

int store_begin(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    int ret = stmt_exec(st, stmt_get(st, S_BEGIN));
    if (ret != STORE_OK)
        pthread_mutex_unlock(&st->mu);
    else
        tls_txn = st;
    return ret;
}

int store_commit(struct store *st)
{
    int ret = stmt_exec(st, stmt_get(st, S_COMMIT));
    if (ret != STORE_OK) {
        /* COMMIT failed: the transaction may still be open; roll it back so
         * nothing is half-applied and the connection is usable again. */
        if (!sqlite3_get_autocommit(st->db))
            (void)stmt_exec(st, stmt_get(st, S_ROLLBACK));
    }
    tls_txn = NULL;
    pthread_mutex_unlock(&st->mu);
    return ret;
}

void store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db)) {
        char saved[sizeof(tls_errmsg)];
        memcpy(saved, tls_errmsg, sizeof(saved));
        (void)stmt_exec(st, stmt_get(st, S_ROLLBACK));
        memcpy(tls_errmsg, saved, sizeof(saved));
    }
    tls_txn = NULL;
    pthread_mutex_unlock(&st->mu);
}

int store_node_insert(struct store *st, const struct store_node *n, int64_t *id)
{
    sqlite3_stmt *s = stmt_get(st, S_NODE_INSERT);
    sqlite3_bind_text(s, 1, n->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, n->host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 3, n->port);
    sqlite3_bind_int(s, 4, n->priority);
    sqlite3_bind_int(s, 5, n->maintenance ? 1 : 0);
    sqlite3_bind_text(s, 6, n->tags != NULL ? n->tags : "[]", -1, SQLITE_TRANSIENT);
    bind_id_or_null(s, 7, n->cluster_id);
    sqlite3_bind_int64(s, 8, n->first_seen);
    bind_id_or_null(s, 9, n->last_seen);
    int ret = stmt_exec(st, s);
    if (ret == STORE_OK && id != NULL)
        *id = sqlite3_last_insert_rowid(st->db);
    return ret;
}

static int changed_or_notfound(struct store *st, int ret)
{
    if (ret == STORE_OK && sqlite3_changes(st->db) == 0) {
        set_err(st, "no such row");
        return STORE_ENOTFOUND;
    }
    return ret;
}

int store_node_update(struct store *st, const struct store_node *n)
{
    sqlite3_stmt *s = stmt_get(st, S_NODE_UPDATE);
    sqlite3_bind_int64(s, 1, n->id);
    sqlite3_bind_int(s, 2, n->priority);
    sqlite3_bind_int(s, 3, n->maintenance ? 1 : 0);
    sqlite3_bind_text(s, 4, n->tags != NULL ? n->tags : "[]", -1, SQLITE_TRANSIENT);
    bind_id_or_null(s, 5, n->cluster_id);
    bind_id_or_null(s, 6, n->last_seen);
    return changed_or_notfound(st, stmt_exec(st, s));
}

int store_node_delete(struct store *st, int64_t id)
{
    sqlite3_stmt *s = stmt_get(st, S_NODE_DELETE);
    sqlite3_bind_int64(s, 1, id);
    return changed_or_notfound(st, stmt_exec(st, s));
}

static void bind_settings(sqlite3_stmt *s, int first, const struct cluster_settings *cs)
{
    sqlite3_bind_int64(s, first, cs->max_lag_on_failover);
    sqlite3_bind_int64(s, first + 1, cs->min_replicas_to_write);
    sqlite3_bind_int64(s, first + 2, cs->lag_threshold_bytes);
    sqlite3_bind_int64(s, first + 3, cs->lag_threshold_ms);
}

/* The failover columns follow the original four in the UPDATE (?7..?9) but
 * not in the INSERT, where created_at sits between them (?7, then ?8..?10). */
static void bind_failover_settings(sqlite3_stmt *s, int first, const struct cluster_settings *cs)
{
    sqlite3_bind_int64(s, first, cs->down_after_ms);
    sqlite3_bind_int64(s, first + 1, cs->auto_failover ? 1 : 0);
    sqlite3_bind_int64(s, first + 2, cs->failover_cooldown_ms);
}

int store_cluster_insert(struct store *st, const struct store_cluster *c, int64_t *id)
{
    sqlite3_stmt *s = stmt_get(st, S_CLUSTER_INSERT);
    sqlite3_bind_text(s, 1, c->name, -1, SQLITE_TRANSIENT);
    bind_id_or_null(s, 2, c->master_id);
    bind_settings(s, 3, &c->settings);
    sqlite3_bind_int64(s, 7, c->created_at);
    bind_failover_settings(s, 8, &c->settings);
    int ret = stmt_exec(st, s);
    if (ret == STORE_OK && id != NULL)
        *id = sqlite3_last_insert_rowid(st->db);
    return ret;
}

int store_cluster_update(struct store *st, const struct store_cluster *c)
{
    sqlite3_stmt *s = stmt_get(st, S_CLUSTER_UPDATE);
    sqlite3_bind_int64(s, 1, c->id);
    bind_id_or_null(s, 2, c->master_id);
    bind_settings(s, 3, &c->settings);
    bind_failover_settings(s, 7, &c->settings);
    return changed_or_notfound(st, stmt_exec(st, s));
}

int store_cluster_delete(struct store *st, int64_t id)
{
    sqlite3_stmt *s = stmt_get(st, S_CLUSTER_DELETE);
    sqlite3_bind_int64(s, 1, id);
    return changed_or_notfound(st, stmt_exec(st, s));
}

int store_status_save(struct store *st, int64_t node_id, const struct node_obs *o, int64_t now_ms)
{
    sqlite3_stmt *s = stmt_get(st, S_STATUS_SAVE);
    sqlite3_bind_int64(s, 1, node_id);
    sqlite3_bind_text(s, 2, health_state_name(o->state), -1, SQLITE_STATIC);
    bind_text_or_null(s, 3, health_role_name(o->role));
    if (o->role == ROLE_REPLICA) {
        sqlite3_bind_text(s, 4, o->master_host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 5, o->master_port);
    } else {
        sqlite3_bind_null(s, 4);
        sqlite3_bind_null(s, 5);
    }
    bind_text_or_null(s, 6, health_link_name(o->link));
    if (o->offset >= 0)
        sqlite3_bind_int64(s, 7, o->offset);
    else
        sqlite3_bind_null(s, 7);
    bind_id_or_null(s, 8, o->state_since);
    sqlite3_bind_int64(s, 9, now_ms);
    if (o->lag_bytes >= 0)
        sqlite3_bind_int64(s, 10, o->lag_bytes);
    else
        sqlite3_bind_null(s, 10);
    if (o->lag_ms >= 0)
        sqlite3_bind_int64(s, 11, o->lag_ms);
    else
        sqlite3_bind_null(s, 11);
    return stmt_exec(st, s);
}

int store_node_touch(struct store *st, int64_t node_id, int64_t last_seen)
{
    sqlite3_stmt *s = stmt_get(st, S_NODE_TOUCH);
    sqlite3_bind_int64(s, 1, node_id);
    sqlite3_bind_int64(s, 2, last_seen);
    return stmt_exec(st, s);
}

int store_event_add(struct store *st, const struct store_event *ev)
{
    sqlite3_stmt *s = stmt_get(st, S_EVENT_ADD);
    sqlite3_bind_int64(s, 1, ev->ts > 0 ? ev->ts : store_now_ms());
    bind_text_or_null(s, 2, ev->cluster);
    bind_text_or_null(s, 3, ev->node);
    sqlite3_bind_text(s, 4, ev->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, ev->message, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, ev->actor, -1, SQLITE_TRANSIENT);
    return stmt_exec(st, s);
}

int store_event_log(struct store *st, const struct store_event *ev)
{
    int ret = store_begin(st);
    if (ret != STORE_OK)
        return ret;
    ret = store_event_add(st, ev);
    if (ret != STORE_OK) {
        store_rollback(st);
        return ret;
    }
    return store_commit(st);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static int role_from(const char *s)
{
    if (s == NULL) return ROLE_UNKNOWN;
    if (strcmp(s, "master") == 0) return ROLE_MASTER;
    if (strcmp(s, "replica") == 0) return ROLE_REPLICA;
    return ROLE_UNKNOWN;
}

static int state_from(const char *s)
{
    if (s == NULL) return NODE_UNKNOWN;
    if (strcmp(s, "up") == 0) return NODE_UP;
    if (strcmp(s, "down") == 0) return NODE_DOWN;
    return NODE_UNKNOWN;
}

static int link_from(const char *s)
{
    if (s == NULL) return LINK_NONE;
    if (strcmp(s, "up") == 0) return LINK_UP;
    if (strcmp(s, "down") == 0) return LINK_DOWN;
    return LINK_NONE;
}

int store_load(struct store *st, store_node_cb ncb, store_cluster_cb ccb, store_status_cb scb,
               void *arg)
{
    int ret = STORE_OK, rc = SQLITE_DONE;
    pthread_mutex_lock(st->rmu);
    sqlite3_stmt *s = rstmt_get(st, S_LOAD_CLUSTERS);
    while (ret == STORE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_cluster c = {
            .id = sqlite3_column_int64(s, 0),
            .name = col_text(s, 1),
            .master_id = sqlite3_column_int64(s, 2),
            .settings = {
                .max_lag_on_failover = sqlite3_column_int64(s, 3),
                .min_replicas_to_write = sqlite3_column_int64(s, 4),
                .lag_threshold_bytes = sqlite3_column_int64(s, 5),
                .lag_threshold_ms = sqlite3_column_int64(s, 6),
                .down_after_ms = sqlite3_column_int64(s, 8),
                .auto_failover = sqlite3_column_int64(s, 9),
                .failover_cooldown_ms = sqlite3_column_int64(s, 10),
            },
            .created_at = sqlite3_column_int64(s, 7),
        };
        if (ccb != NULL)
            ret = ccb(arg, &c);
    }
    if (ret == STORE_OK && rc != SQLITE_DONE)
        ret = map_stmt_rc(s, rc);
    sqlite3_reset(s);

    s = rstmt_get(st, S_LOAD_NODES);
    while (ret == STORE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_node n = {
            .id = sqlite3_column_int64(s, 0),
            .name = col_text(s, 1),
            .host = col_text(s, 2),
            .port = sqlite3_column_int(s, 3),
            .priority = sqlite3_column_int(s, 4),
            .maintenance = sqlite3_column_int(s, 5),
            .tags = col_text(s, 6),
            .cluster_id = sqlite3_column_int64(s, 7),
            .first_seen = sqlite3_column_int64(s, 8),
            .last_seen = sqlite3_column_int64(s, 9),
        };
        if (ncb != NULL)
            ret = ncb(arg, &n);
    }
    if (ret == STORE_OK && rc != SQLITE_DONE)
        ret = map_stmt_rc(s, rc);
    sqlite3_reset(s);

    s = rstmt_get(st, S_LOAD_STATUS);
    while (ret == STORE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct node_obs o;
        health_obs_init(&o);
        o.state = state_from(col_text(s, 1));
        o.role = role_from(col_text(s, 2));
        const char *mh = col_text(s, 3);
        if (mh != NULL)
            snprintf(o.master_host, sizeof(o.master_host), "%s", mh);
        o.master_port = sqlite3_column_int(s, 4);
        o.link = link_from(col_text(s, 5));
        o.offset = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 6);
        o.state_since = sqlite3_column_int64(s, 7);
        o.lag_bytes = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 8);
        o.lag_ms = sqlite3_column_type(s, 9) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 9);
        if (scb != NULL)
            ret = scb(arg, sqlite3_column_int64(s, 0), &o);
    }
    if (ret == STORE_OK && rc != SQLITE_DONE)
        ret = map_stmt_rc(s, rc);
    sqlite3_reset(s);
    pthread_mutex_unlock(st->rmu);
    return ret;
}

int store_events_query(struct store *st, const struct store_event_filter *f, store_event_cb cb,
                       void *arg)
{
    int ret = STORE_OK, rc = SQLITE_DONE;
    pthread_mutex_lock(st->rmu);
    sqlite3_stmt *s = rstmt_get(st, S_EVENTS_QUERY);
    bind_text_or_null(s, 1, f->cluster);
    bind_text_or_null(s, 2, f->node);
    sqlite3_bind_int64(s, 3, f->since_ms);
    sqlite3_bind_int64(s, 4, f->before_id);
    sqlite3_bind_int(s, 5, f->limit > 0 ? f->limit : 100);
    while (ret == STORE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_event ev = {
            .id = sqlite3_column_int64(s, 0),
            .ts = sqlite3_column_int64(s, 1),
            .cluster = col_text(s, 2),
            .node = col_text(s, 3),
            .kind = col_text(s, 4),
            .message = col_text(s, 5),
            .actor = col_text(s, 6),
        };
        ret = cb(arg, &ev);
    }
    if (ret == STORE_OK && rc != SQLITE_DONE)
        ret = map_stmt_rc(s, rc);
    sqlite3_reset(s);
    pthread_mutex_unlock(st->rmu);
    return ret;
}

int64_t store_events_count(struct store *st)
{
    pthread_mutex_lock(st->rmu);
    sqlite3_stmt *s = rstmt_get(st, S_EVENTS_COUNT);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    pthread_mutex_unlock(st->rmu);
    return n;
}

/* ---- failovers ----------------------------------------------------------- */

static void bind_i64_or_null(sqlite3_stmt *s, int i, int64_t v)
{
    if (v > 0)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

static void bind_failover(sqlite3_stmt *s, const struct store_failover *f)
{
    sqlite3_bind_text(s, 1, f->cluster, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, f->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, f->status, -1, SQLITE_TRANSIENT);
    bind_text_or_null(s, 4, f->step);
    sqlite3_bind_text(s, 5, f->reason != NULL ? f->reason : "", -1, SQLITE_TRANSIENT);
    bind_text_or_null(s, 6, f->old_master);
    bind_text_or_null(s, 7, f->new_master);
    sqlite3_bind_text(s, 8, f->candidates != NULL ? f->candidates : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 9, f->steps != NULL ? f->steps : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 10, f->replicas != NULL ? f->replicas : "[]", -1, SQLITE_TRANSIENT);
    bind_text_or_null(s, 11, f->error);
    sqlite3_bind_text(s, 12, f->requested_by, -1, SQLITE_TRANSIENT);
    bind_i64_or_null(s, 13, f->timeout_ms);
    bind_i64_or_null(s, 14, f->scheduled_at);
    sqlite3_bind_int64(s, 15, f->created_at);
    bind_i64_or_null(s, 16, f->started_at);
    bind_i64_or_null(s, 17, f->finished_at);
    bind_i64_or_null(s, 18, f->acked_at);
    bind_text_or_null(s, 19, f->acked_by);
    bind_text_or_null(s, 20, f->ack_comment);
}

int store_failover_insert(struct store *st, const struct store_failover *f, int64_t *id)
{
    sqlite3_stmt *s = stmt_get(st, S_FO_INSERT);
    bind_failover(s, f);
    int ret = stmt_exec(st, s);
    if (ret == STORE_OK && id != NULL)
        *id = sqlite3_last_insert_rowid(st->db);
    return ret;
}

int store_failover_update(struct store *st, const struct store_failover *f)
{
    sqlite3_stmt *s = stmt_get(st, S_FO_UPDATE);
    bind_failover(s, f);
    sqlite3_bind_int64(s, 21, f->id);
    return changed_or_notfound(st, stmt_exec(st, s));
}

static int64_t col_i64_or_zero(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, i);
}

static void failover_from_row(sqlite3_stmt *s, struct store_failover *f)
{
    f->id = sqlite3_column_int64(s, 0);
    f->cluster = col_text(s, 1);
    f->kind = col_text(s, 2);
    f->status = col_text(s, 3);
    f->step = col_text(s, 4);
    f->reason = col_text(s, 5);
    f->old_master = col_text(s, 6);
    f->new_master = col_text(s, 7);
    f->candidates = col_text(s, 8);
    f->steps = col_text(s, 9);
    f->replicas = col_text(s, 10);
    f->error = col_text(s, 11);
    f->requested_by = col_text(s, 12);
    f->timeout_ms = col_i64_or_zero(s, 13);
    f->scheduled_at = col_i64_or_zero(s, 14);
    f->created_at = col_i64_or_zero(s, 15);
    f->started_at = col_i64_or_zero(s, 16);
    f->finished_at = col_i64_or_zero(s, 17);
    f->acked_at = col_i64_or_zero(s, 18);
    f->acked_by = col_text(s, 19);
    f->ack_comment = col_text(s, 20);
}

static int failover_rows(sqlite3_stmt *s, store_failover_cb cb, void *arg)
{
    int ret = STORE_OK, rc;
    while (ret == STORE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_failover f;
        failover_from_row(s, &f);
        ret = cb(arg, &f);
    }
    if (ret == STORE_OK && rc != SQLITE_DONE)
        ret = map_stmt_rc(s, rc);
    sqlite3_reset(s);
    return ret;
}

int store_failover_get(struct store *st, int64_t id, store_failover_cb cb, void *arg)
{
    pthread_mutex_lock(st->rmu);
    sqlite3_stmt *s = rstmt_get(st, S_FO_GET);
    sqlite3_bind_int64(s, 1, id);
    int found = 0;
    int rc, ret = STORE_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_failover f;
        failover_from_row(s, &f);
        found = 1;
        ret = cb(arg, &f);
        break;
    }
    if (!found && rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = map_stmt_rc(s, rc);
    else if (!found)
        ret = STORE_ENOTFOUND;
    sqlite3_reset(s);
    pthread_mutex_unlock(st->rmu);
    return ret;
}

static int failovers_query_locked(struct store *st, const char *cluster, const char *status,
                                  int64_t before_id, int limit, store_failover_cb cb, void *arg);

int store_failovers_query(struct store *st, const char *cluster, const char *status,
                          int64_t before_id, int limit, store_failover_cb cb, void *arg)
{
    pthread_mutex_lock(st->rmu);
    return failovers_query_locked(st, cluster, status, before_id, limit, cb, arg);
}

int store_failovers_query_nowait(struct store *st, const char *cluster, const char *status,
                                 int64_t before_id, int limit, store_failover_cb cb, void *arg)
{
    if (pthread_mutex_trylock(st->rmu) != 0) {
        set_err(st, "the database is busy");
        return STORE_EUNAVAIL;
    }
    return failovers_query_locked(st, cluster, status, before_id, limit, cb, arg);
}

/* Called with *st->rmu held; releases it. */
static int failovers_query_locked(struct store *st, const char *cluster, const char *status,
                                  int64_t before_id, int limit, store_failover_cb cb, void *arg)
{
    sqlite3_stmt *s = rstmt_get(st, S_FO_QUERY);
    bind_text_or_null(s, 1, cluster);
    bind_text_or_null(s, 2, status);
    sqlite3_bind_int64(s, 3, before_id);
    sqlite3_bind_int(s, 4, limit > 0 ? limit : 100);
    int ret = failover_rows(s, cb, arg);
    pthread_mutex_unlock(st->rmu);
    return ret;
}

int store_failovers_latest(struct store *st, store_failover_cb cb, void *arg)
{
    pthread_mutex_lock(st->rmu);
    int ret = failover_rows(rstmt_get(st, S_FO_LATEST), cb, arg);
    pthread_mutex_unlock(st->rmu);
    return ret;
}

int store_failover_claim(struct store *st, int64_t id, const char *from, const char *to)
{
    int ret = store_begin(st);
    if (ret != STORE_OK)
        return ret;
    sqlite3_stmt *s = stmt_get(st, S_FO_CLAIM);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, to, -1, SQLITE_TRANSIENT);
    ret = changed_or_notfound(st, stmt_exec(st, s));
    if (ret != STORE_OK) {
        store_rollback(st);
        return ret;
    }
    return store_commit(st);
}
