/* rdb_save: persistence as the server sees it. SAVE, BGSAVE [SCHEDULE],
 * LASTSAVE; `save <seconds> <changes>` points checked from the cron; the
 * INFO persistence section; loading <dir>/<dbfilename> at start-up; DEBUG
 * RELOAD; and the -MISCONF state after a failed background save.
 *
 * Crash safety: a snapshot is written to temp-<pid>.rdb in the working
 * directory (the server chdir()s to `dir`), fsync'd, renamed over the
 * target and the directory fsync'd, so at every instant the target is
 * either the old complete file or the new complete file.
 *
 * BGSAVE forks: the child writes the snapshot from its copy-on-write view
 * of memory and exits; the parent keeps serving and reaps the child from
 * the cron (waitpid WNOHANG), which is also when it learns the child's
 * copy-on-write size through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "rdb.h"
#include "function.h"
#include "aof.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "dict.h"
#include "log.h"
#include "mem.h"
#include "reply.h"
#include "server.h"
#include "objclock.h"
#include "util.h"

/* After a failed BGSAVE, save points wait this long before retrying. */
#define RDB_BGSAVE_RETRY_DELAY 5
/* Log a loading progress line at most this often (ms). */
#define RDB_PROGRESS_LOG_MS 2000

typedef struct rdb_state {
    pid_t child_pid;            /* -1: no BGSAVE child */
    int cow_pipe;               /* read end: child's copy-on-write bytes */
    int64_t child_start_ms;
    long long dirty_at_fork;
    int bgsave_scheduled;
    time_t lastsave;            /* last successful save (unix s) */
    time_t last_bgsave_try;
    int last_bgsave_ok;
    long long last_bgsave_secs; /* -1 until a BGSAVE ended */
    long long saves;
    size_t last_cow_size;
    long long load_keys_loaded;
    long long load_keys_expired;
    rdb_meta_fn *meta_fn;
    void *meta_priv;
} rdb_state;

static rdb_state *rdb_st(srv *s)
{
    return s->rdb;
}

void rdb_set_meta_provider(srv *s, rdb_meta_fn *fn, void *priv)
{
    rdb_state *st = rdb_st(s);
    if (!st)
        return;
    st->meta_fn = fn;
    st->meta_priv = priv;
}

static void rdb_fill_meta(srv *s, rdb_meta *m)
{
    rdb_state *st = rdb_st(s);
    memset(m, 0, sizeof(*m));
    snprintf(m->redis_ver, sizeof(m->redis_ver), "%s", RDB_REDIS_VER);
    m->redis_bits = (int)(sizeof(void *) * 8);
    m->ctime = (int64_t)time(NULL);
    m->used_mem = (long long)srv_used_memory(s);
    m->repl_stream_db = -1;
    if (st && st->meta_fn)
        st->meta_fn(s, m, st->meta_priv);
}

/* ---- writing a file -------------------------------------------------- */

static const char *rdb_cwd(char *buf, size_t len)
{
    if (!getcwd(buf, len))
        snprintf(buf, len, "unknown");
    return buf;
}

static int rdb_fsync_dir(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    else
        snprintf(dir, sizeof(dir), ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* File output that asks the kernel to start writing back every few MB
 * (without waiting), so the final fsync only waits for the tail and the
 * disk works while we serialize. */
#define RDB_WRITEBACK_STEP (8u << 20)

typedef struct rdb_file_out {
    int fd;
    off_t written;
    off_t flushed;
} rdb_file_out;

static int rdb_file_write(void *priv, const void *buf, size_t len)
{
    rdb_file_out *f = priv;
    if (rdb_fd_write(&f->fd, buf, len) < 0)
        return -1;
    f->written += (off_t)len;
    if (f->written - f->flushed >= (off_t)RDB_WRITEBACK_STEP) {
        /* Advisory: an error here only loses the overlap, not data. */
        (void)sync_file_range(f->fd, f->flushed, f->written - f->flushed, SYNC_FILE_RANGE_WRITE);
        f->flushed = f->written;
    }
    return 0;
}

/* Write the snapshot to tmp, then move it over path. Used by SAVE and by a
 * BGSAVE child. Logs Redis' messages; 0 or -1 with err. */
static int rdb_save_file(srv *s, const char *path, const char *tmp, char *err, size_t errlen)
{
    char cwd[1024];
    rdb_meta meta;
    rdb_writer w;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s",
                 tmp, rdb_cwd(cwd, sizeof(cwd)), strerror(errno));
        log_msg(LOG_WARNING, "%s", err);
        return -1;
    }
    rdb_file_out out = {fd, 0, 0};
    rdb_fill_meta(s, &meta);
    rdb_writer_init(&w, rdb_file_write, &out, s->config.rdbcompression, s->config.rdbchecksum);
    int rc = rdb_write_snapshot(&w, s, &meta);
    if (rc < 0)
        snprintf(err, errlen, "Write error saving DB on disk: %s", w.err);
    rdb_writer_release(&w);
    if (rc == 0 && fsync(fd) != 0) {
        snprintf(err, errlen, "Write error saving DB on disk: fsync: %s", strerror(errno));
        rc = -1;
    }
    if (close(fd) != 0 && rc == 0) {
        snprintf(err, errlen, "Write error saving DB on disk: close: %s", strerror(errno));
        rc = -1;
    }
    if (rc < 0) {
        log_msg(LOG_WARNING, "%s", err);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "Error moving temp DB file %s on the final destination %s (in server root dir %s): %s",
                 tmp, path, rdb_cwd(cwd, sizeof(cwd)), strerror(errno));
        log_msg(LOG_WARNING, "%s", err);
        unlink(tmp);
        return -1;
    }
    if (rdb_fsync_dir(path) != 0) {
        /* The data is in the file; only the rename's durability is in
         * doubt. Report it, as the operator asked for a durable save. */
        snprintf(err, errlen, "Failed to fsync the directory of %s: %s", path, strerror(errno));
        log_msg(LOG_WARNING, "%s", err);
        return -1;
    }
    log_msg(LOG_NOTICE, "DB saved on disk");
    return 0;
}

static void rdb_kill_child(srv *s)
{
    rdb_state *st = rdb_st(s);
    if (!st || st->child_pid <= 0)
        return;
    char tmp[64];
    int status;
    snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)st->child_pid);
    kill(st->child_pid, SIGUSR1);
    while (waitpid(st->child_pid, &status, 0) < 0 && errno == EINTR)
        ;
    unlink(tmp);
    if (st->cow_pipe >= 0)
        close(st->cow_pipe);
    st->cow_pipe = -1;
    st->child_pid = -1;
}

static int rdb_save_foreground(srv *s, char *err, size_t errlen)
{
    rdb_state *st = rdb_st(s);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)getpid());
    st->saves++;
    if (rdb_save_file(s, s->config.dbfilename, tmp, err, errlen) != 0)
        return -1;
    s->dirty = 0;
    st->lastsave = time(NULL);
    st->last_bgsave_ok = 1;
    return 0;
}

int rdb_save_now(srv *s, char *err, size_t errlen)
{
    if (!rdb_st(s)) {
        snprintf(err, errlen, "persistence is not initialised");
        return -1;
    }
    /* Shutdown and FLUSHALL take precedence over a running BGSAVE. */
    if (rdb_st(s)->child_pid > 0) {
        log_msg(LOG_WARNING, "There is a child saving an .rdb. Killing it!");
        rdb_kill_child(s);
    }
    return rdb_save_foreground(s, err, errlen);
}

int rdb_has_save_points(srv *s)
{
    return s->config.save_point_count > 0;
}

int rdb_writes_refused(srv *s)
{
    rdb_state *st = rdb_st(s);
    return st && s->config.stop_writes_on_bgsave_error && s->config.save_point_count > 0 &&
           !st->last_bgsave_ok;
}

int rdb_bgsave_in_progress(srv *s)
{
    rdb_state *st = rdb_st(s);
    return st && st->child_pid > 0;
}

/* ---- BGSAVE ---------------------------------------------------------- */

static void rdb_child_main(srv *s, const char *path, int cow_fd)
{
    char err[1024], tmp[64];
    srv_fork_child_setup(s);
    snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)getpid());
    int rc = rdb_save_file(s, path, tmp, err, sizeof(err));
    if (rc == 0) {
        size_t cow = util_private_dirty_bytes();
        log_msg(LOG_NOTICE, "Fork CoW for RDB: current %zu MB, peak %zu MB, average %zu MB",
                cow >> 20, cow >> 20, cow >> 20);
        uint64_t v = cow;
        if (write(cow_fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
            v = 0;   /* the parent then reports 0 */
    }
    close(cow_fd);
    _exit(rc == 0 ? 0 : 1);
}

int rdb_bgsave_start(srv *s, const char *path, char *err, size_t errlen)
{
    rdb_state *st = rdb_st(s);
    int pfd[2];
    if (st->child_pid > 0) {
        snprintf(err, errlen, "Background save already in progress");
        return -1;
    }
    if (pipe(pfd) != 0) {
        snprintf(err, errlen, "Can't save in background: pipe: %s", strerror(errno));
        return -1;
    }
    st->dirty_at_fork = s->dirty;
    st->last_bgsave_try = time(NULL);
    st->saves++;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        st->last_bgsave_ok = 0;
        snprintf(err, errlen, "Can't save in background: fork: %s", strerror(e));
        log_msg(LOG_WARNING, "%s", err);
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        rdb_child_main(s, path ? path : s->config.dbfilename, pfd[1]);
    }
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
    st->cow_pipe = pfd[0];
    st->child_pid = pid;
    st->child_start_ms = util_ms_now();
    st->bgsave_scheduled = 0;
    log_msg(LOG_NOTICE, "Background saving started by pid %ld", (long)pid);
    return 0;
}

static void rdb_bgsave_done(srv *s, int status)
{
    rdb_state *st = rdb_st(s);
    uint64_t cow = 0;
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)st->child_pid);
    if (st->cow_pipe >= 0) {
        if (read(st->cow_pipe, &cow, sizeof(cow)) != (ssize_t)sizeof(cow))
            cow = 0;
        close(st->cow_pipe);
        st->cow_pipe = -1;
    }
    st->last_bgsave_secs = (util_ms_now() - st->child_start_ms) / 1000;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        log_msg(LOG_NOTICE, "Background saving terminated with success");
        s->dirty -= st->dirty_at_fork;
        if (s->dirty < 0)
            s->dirty = 0;
        st->lastsave = time(NULL);
        st->last_bgsave_ok = 1;
        st->last_cow_size = (size_t)cow;
    } else if (WIFEXITED(status)) {
        log_msg(LOG_WARNING, "Background saving error");
        st->last_bgsave_ok = 0;
    } else {
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        log_msg(LOG_WARNING, "Background saving terminated by signal %d", sig);
        unlink(tmp);
        /* SIGUSR1 is how we stop a child on purpose: not an error. */
        if (sig != SIGUSR1)
            st->last_bgsave_ok = 0;
    }
    st->child_pid = -1;
}

static void rdb_cron(srv *s, void *priv)
{
    rdb_state *st = priv;
    char err[512];
    if (st->child_pid > 0) {
        int status;
        pid_t r = waitpid(st->child_pid, &status, WNOHANG);
        if (r == st->child_pid)
            rdb_bgsave_done(s, status);
        else if (r < 0 && errno == ECHILD)
            st->child_pid = -1;
        return;
    }
    time_t now = time(NULL);
    /* One fork at a time, as in Redis: wait for an AOF rewrite to end. */
    if (aof_rewrite_in_progress(s))
        return;
    if (st->bgsave_scheduled) {
        rdb_bgsave_start(s, NULL, err, sizeof(err));
        return;
    }
    for (int i = 0; i < s->config.save_point_count; i++) {
        const cfg_save_point *sp = &s->config.save_points[i];
        if (s->dirty >= sp->changes && now - st->lastsave > sp->seconds &&
            (now - st->last_bgsave_try > RDB_BGSAVE_RETRY_DELAY || st->last_bgsave_ok)) {
            log_msg(LOG_NOTICE, "%lld changes in %lld seconds. Saving...",
                    (long long)sp->changes, (long long)sp->seconds);
            rdb_bgsave_start(s, NULL, err, sizeof(err));
            return;
        }
    }
}

/* ---- loading --------------------------------------------------------- */

typedef struct rdb_load_ctx {
    srv *s;
    rdb_reader *r;
    int64_t now_ms;
    int64_t last_log_ms;
    uint64_t total;
    long long loaded;
    long long expired;
} rdb_load_ctx;

/* A loaded value's access clock: the file's FREQ/IDLE hint where the policy
 * uses it (objclock_apply_hint), else a new value's stamp. */
static void rdb_load_stamp(srv *s, obj *val)
{
    long long freq = -1, idle = -1;
    if (val->reserved & OBJ_LRU_HINT_FREQ)
        freq = val->lru;
    else if (val->reserved & OBJ_LRU_HINT_IDLE)
        idle = val->lru;
    val->reserved &= (uint16_t)~(OBJ_LRU_HINT_FREQ | OBJ_LRU_HINT_IDLE | OBJ_LRU_UNSET);
    objclock_note_new_value(s, val);
    if (!objclock_apply_hint(s, val, freq, idle))
        objclock_stamp_new(s, val);
}

static int rdb_load_key(void *priv, int dbid, kstr key, obj *val, int64_t expire_ms)
{
    rdb_load_ctx *ctx = priv;
    srv *s = ctx->s;
    size_t klen = kstr_len(key);
    if (s->config.key_load_delay)
        rdb_debug_delay(s->config.key_load_delay);
    if (dbid < 0 || dbid >= s->dbnum) {
        kstr_free(key);
        obj_free(val);
        return rdb_reader_fail(ctx->r, "key in db %d but only %d databases are configured", dbid, s->dbnum);
    }
    /* A master drops keys that expired while it was down; a replica keeps
     * them and waits for its master's DEL, as Redis does. */
    if (expire_ms >= 0 && !s->is_replica && expire_ms < ctx->now_ms) {
        ctx->expired++;
        kstr_free(key);
        obj_free(val);
        return 0;
    }
    kvdb *db = &s->dbs[dbid];
    dict_entry *existing = NULL;
    dict_entry *e = dict_add_kstr(db->keys, key, &existing);
    if (!e) {
        int rc = rdb_reader_fail(ctx->r, "duplicated key '%.*s' in db %d", (int)(klen > 64 ? 64 : klen),
                                 key, dbid);
        kstr_free(key);
        obj_free(val);
        return rc;
    }
    rdb_load_stamp(s, val);
    e->v.ptr = val;
    if (expire_ms >= 0) {
        dict_entry *x = dict_add(db->expires, key, klen, &existing);
        (x ? x : existing)->v.i64 = expire_ms;
    }
    ctx->loaded++;
    return 0;
}

/* A function library of the file: loaded, replacing one of the same name
 * (DEBUG RELOAD reloads what is already there). */
static int rdb_load_function(void *priv, kstr code)
{
    rdb_load_ctx *ctx = priv;
    kstr err = NULL;
    int rc = function_load_code(ctx->s, code, kstr_len(code), 1, &err);
    kstr_free(code);
    if (rc != 0) {
        rdb_reader_fail(ctx->r, "function library refused: %s", err);
        kstr_free(err);
        return -1;
    }
    return 0;
}

static void rdb_load_resize(void *priv, int dbid, uint64_t keys, uint64_t expires)
{
    rdb_load_ctx *ctx = priv;
    if (dbid < 0 || dbid >= ctx->s->dbnum)
        return;
    /* The counts come from the file: a corrupt or hostile one may claim
     * any size. They are only a hint, so a table that cannot be had is
     * skipped and the dicts grow as the keys arrive. */
    if (dict_try_expand(ctx->s->dbs[dbid].keys, (size_t)keys) != 0 ||
        (expires && dict_try_expand(ctx->s->dbs[dbid].expires, (size_t)expires) != 0))
        log_msg(LOG_VERBOSE, "RESIZEDB hint of %llu keys (%llu with expiry) for db %d ignored",
                (unsigned long long)keys, (unsigned long long)expires, dbid);
}

static void rdb_load_progress(void *priv, uint64_t offset)
{
    rdb_load_ctx *ctx = priv;
    int64_t now = util_ms_now();
    if (now - ctx->last_log_ms < RDB_PROGRESS_LOG_MS)
        return;
    ctx->last_log_ms = now;
    log_msg(LOG_NOTICE, "Loading RDB: %llu of %llu MB read (%.0f%%), %lld keys loaded",
            (unsigned long long)(offset >> 20), (unsigned long long)(ctx->total >> 20),
            ctx->total ? 100.0 * (double)offset / (double)ctx->total : 0.0, ctx->loaded);
}

int rdb_load_file(srv *s, const char *path, char *err, size_t errlen)
{
    return rdb_load_file_ex(s, path, NULL, err, errlen);
}

int rdb_load_file_ex(srv *s, const char *path, uint64_t *end_offset, char *err, size_t errlen)
{
    rdb_state *st = rdb_st(s);
    struct stat sb;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, errlen, "Fatal error loading the DB (%s): %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "Fatal error loading the DB (%s): %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    int64_t start = util_mono_us();
    rdb_reader r;
    rdb_load_ctx ctx = {0};
    rdb_reader_init(&r, rdb_fd_read, &fd);
    r.size_hint = (uint64_t)sb.st_size;
    r.max_dbs = s->dbnum;
    r.on_key = rdb_load_key;
    r.on_resize = rdb_load_resize;
    r.on_function = rdb_load_function;
    r.on_progress = rdb_load_progress;
    r.progress_every = 8u << 20;
    r.next_progress = r.progress_every;
    r.cb_priv = &ctx;
    ctx.s = s;
    ctx.r = &r;
    ctx.now_ms = util_ms_now();
    ctx.last_log_ms = ctx.now_ms;
    ctx.total = (uint64_t)sb.st_size;
    s->loading = 1;
    int rc = rdb_read_all(&r);
    s->loading = 0;
    close(fd);
    if (end_offset)
        *end_offset = rdb_reader_offset(&r);
    if (rc != 0) {
        snprintf(err, errlen, "Fatal error loading the DB file %s (%llu bytes): %s. "
                 "The file was left untouched; fix or move it away (redis-check-rdb can help) and restart.",
                 path, (unsigned long long)sb.st_size, r.err);
        rdb_reader_release(&r);
        return -1;
    }
    if (r.meta.redis_ver[0])
        log_msg(LOG_NOTICE, "Loading RDB produced by version %s", r.meta.redis_ver);
    if (r.meta.ctime)
        log_msg(LOG_NOTICE, "RDB age %lld seconds", (long long)(time(NULL) - r.meta.ctime));
    log_msg(LOG_NOTICE, "RDB memory usage when created %.2f Mb", (double)r.meta.used_mem / (1024 * 1024));
    if (r.functions_skipped)
        log_msg(LOG_WARNING, "The RDB file holds %llu function libraries; functions are not supported and were skipped",
                (unsigned long long)r.functions_skipped);
    if (r.module_aux_skipped)
        log_msg(LOG_WARNING, "Skipped %llu module AUX records (modules are not supported)",
                (unsigned long long)r.module_aux_skipped);
    if (r.empty_keys_skipped)
        log_msg(LOG_NOTICE, "Done loading RDB, keys loaded: %lld, keys expired: %lld, empty keys skipped: %llu.",
                ctx.loaded, ctx.expired, (unsigned long long)r.empty_keys_skipped);
    else
        log_msg(LOG_NOTICE, "Done loading RDB, keys loaded: %lld, keys expired: %lld.", ctx.loaded, ctx.expired);
    log_msg(LOG_NOTICE, "DB loaded from disk: %.3f seconds", (double)(util_mono_us() - start) / 1e6);
    if (st) {
        st->load_keys_loaded = ctx.loaded;
        st->load_keys_expired = ctx.expired;
    }
    rdb_reader_release(&r);
    /* A replica's full sync (or DEBUG RELOAD) replaced the data set. */
    aof_dataset_replaced(s);
    return 0;
}

int rdb_debug_reload(srv *s, char *err, size_t errlen)
{
    if (rdb_save_now(s, err, errlen) != 0)
        return -1;
    for (int i = 0; i < s->dbnum; i++)
        db_flush(&s->dbs[i]);
    if (rdb_load_file(s, s->config.dbfilename, err, errlen) != 0) {
        log_msg(LOG_WARNING, "%s", err);
        return -1;
    }
    log_msg(LOG_NOTICE, "DB reloaded by DEBUG RELOAD");
    return 0;
}

/* ---- INFO ------------------------------------------------------------ */

static kstr rdb_info(srv *s, void *priv, const char *section, kstr o)
{
    rdb_state *st = priv;
    (void)section;
    long long cur = st->child_pid > 0 ? (util_ms_now() - st->child_start_ms) / 1000 : -1;
    o = kstr_catfmt(o,
        "# Persistence\r\n"
        "loading:%d\r\n"
        "async_loading:0\r\n"
        "current_cow_peak:0\r\n"
        "current_cow_size:0\r\n"
        "current_cow_size_age:0\r\n"
        "current_fork_perc:0.00\r\n"
        "current_save_keys_processed:0\r\n"
        "current_save_keys_total:0\r\n"
        "rdb_changes_since_last_save:%lld\r\n"
        "rdb_bgsave_in_progress:%d\r\n"
        "rdb_last_save_time:%lld\r\n"
        "rdb_last_bgsave_status:%s\r\n"
        "rdb_last_bgsave_time_sec:%lld\r\n"
        "rdb_current_bgsave_time_sec:%lld\r\n"
        "rdb_saves:%lld\r\n"
        "rdb_last_cow_size:%zu\r\n"
        "rdb_last_load_keys_expired:%lld\r\n"
        "rdb_last_load_keys_loaded:%lld\r\n",
        s->loading, s->dirty, st->child_pid > 0, (long long)st->lastsave,
        st->last_bgsave_ok ? "ok" : "err", st->last_bgsave_secs, cur, st->saves,
        st->last_cow_size, st->load_keys_expired, st->load_keys_loaded);
    /* 7.0 prints the AOF fields right after the RDB ones. */
    return aof_info(s, o);
}

/* ---- commands -------------------------------------------------------- */

static void cmd_save(client *c)
{
    char err[1024];
    if (rdb_bgsave_in_progress(c->srv)) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    if (rdb_save_foreground(c->srv, err, sizeof(err)) != 0) {
        reply_error(c, "ERR");
        return;
    }
    reply_ok(c);
}

static void cmd_bgsave(client *c)
{
    srv *s = c->srv;
    rdb_state *st = rdb_st(s);
    char err[512];
    if (c->argc > 1) {
        if (c->argc != 2 || util_strcasecmp_len(c->argv[1].ptr, c->argv[1].len, "schedule") != 0) {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (st->child_pid > 0) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    /* An AOF rewrite child is running: 7.0 schedules on request only. */
    if (aof_rewrite_in_progress(s) && c->argc == 1 && !(c->flags & CLIENT_IN_EXEC)) {
        reply_error(c, "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
                       "SCHEDULE in order to schedule a BGSAVE whenever possible.");
        return;
    }
    /* Inside EXEC the fork waits for the cron, as in Redis. */
    if ((c->flags & CLIENT_IN_EXEC) || aof_rewrite_in_progress(s)) {
        st->bgsave_scheduled = 1;
        reply_simple(c, "Background saving scheduled");
        return;
    }
    if (rdb_bgsave_start(s, NULL, err, sizeof(err)) != 0) {
        reply_error(c, "ERR");   /* Redis' reply when the fork fails */
        return;
    }
    reply_simple(c, "Background saving started");
}

static void cmd_lastsave(client *c)
{
    reply_int(c, (long long)rdb_st(c->srv)->lastsave);
}

const cmd_def rdb_commands[] = {
    {"save", cmd_save, 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, 0, 0, 0, "@admin @slow @dangerous"},
    {"bgsave", cmd_bgsave, -1, CMD_ADMIN | CMD_NOSCRIPT, 0, 0, 0, "@admin @slow @dangerous"},
    {"lastsave", cmd_lastsave, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@admin @fast @dangerous"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

/* ---- MISCONF guard --------------------------------------------------- */

/* Redis refuses writes (and, as it happens, PING) while the last BGSAVE
 * failed with save points configured and stop-writes-on-bgsave-error on.
 * EXEC counts as a write when its queue holds one. The dispatcher skips
 * guards for our master's stream. */
static const char *rdb_misconf_guard(client *c, const cmd_def *cmd, void *priv)
{
    (void)priv;
    if (!rdb_writes_refused(c->srv))
        return NULL;
    int is_write = (cmd->flags & CMD_WRITE) != 0 || strcmp(cmd->name, "ping") == 0;
    if (!is_write && strcmp(cmd->name, "exec") == 0 && (c->flags & CLIENT_MULTI)) {
        for (int i = 0; i < c->mstate.count; i++)
            if (c->mstate.cmds[i].cmd->flags & CMD_WRITE)
                is_write = 1;
    }
    return is_write ? RDB_MISCONF_ERR : NULL;
}

/* ---- life cycle ------------------------------------------------------ */

static int rdb_persist_save(srv *s, char *err, size_t errlen)
{
    return rdb_save_now(s, err, errlen);
}

int rdb_module_init(srv *s, char *err, size_t errlen)
{
    rdb_state *st = mem_calloc(sizeof(*st));
    st->child_pid = -1;
    st->cow_pipe = -1;
    st->lastsave = time(NULL);
    st->last_bgsave_ok = 1;
    st->last_bgsave_secs = -1;
    s->rdb = st;
    s->persist_save = rdb_persist_save;
    s->persist_has_save_points = rdb_has_save_points;
    s->persist_reload = rdb_debug_reload;
    srv_add_cron(s, rdb_cron, st);
    srv_add_info(s, "persistence", rdb_info, st);
    /* Guards live for the process (the table is global); this one looks at
     * c->srv, so one registration serves every server a test creates. */
    static int guard_added;
    if (!guard_added) {
        cmd_add_guard(rdb_misconf_guard, NULL);
        guard_added = 1;
    }

    /* With appendonly yes the AOF is the data set (as in 7.0, even when
     * there is no AOF yet): dump.rdb is not loaded. */
    if (s->config.appendonly)
        return 0;
    const char *path = s->config.dbfilename;
    struct stat sb;
    if (!path || stat(path, &sb) != 0) {
        if (path && errno != ENOENT) {
            snprintf(err, errlen, "Fatal error loading the DB (%s): %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    return rdb_load_file(s, path, err, errlen);
}

void rdb_module_release(srv *s)
{
    rdb_state *st = rdb_st(s);
    if (!st)
        return;
    rdb_kill_child(s);
    s->persist_save = NULL;
    s->persist_has_save_points = NULL;
    s->persist_reload = NULL;
    mem_free(st);
    s->rdb = NULL;
}
