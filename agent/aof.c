/* aof: the running side of append-only persistence (see aof.h).
 *
 * Writes: srv_propagate hands every propagated command to aof_feed, which
 * encodes it in RESP (with a SELECT when the db changes, as Redis writes
 * it) into a buffer. The buffer is written once per event-loop iteration,
 * from the networking seam that runs before any reply is sent, so:
 *   - appendfsync always: write + fdatasync happen before the replies of
 *     the commands they hold leave; an acknowledged write is on disk.
 *   - everysec: the write happens there, the fdatasync in a background
 *     thread at most once a second, so the loop never waits for the disk.
 *   - no: the kernel decides.
 *
 * Rewrites (7.0's protocol): at the start a new incr file is opened and
 * recorded in the manifest, so everything written from then on is in a
 * file the new base does not cover. A forked child writes the new base
 * (an RDB with aof-use-rdb-preamble, else commands) from its copy-on-write
 * view. When it succeeds the manifest switches to the new base + the new
 * incr; the old base and incr files become history and are deleted. A
 * failed rewrite leaves the old base and both incr files in the manifest,
 * which still replays to the same dataset.
 *
 * Enabling at run time (CONFIG SET appendonly yes) is a rewrite whose new
 * incr file is a temp file, renamed in only when the base exists: until
 * then the manifest keeps describing the previous (history) state. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include "aof.h"
#include "function.h"
#include "aof_manifest.h"
#include "client.h"
#include "command.h"
#include "dict.h"
#include "log.h"
#include "mem.h"
#include "rdb.h"
#include "reply.h"
#include "server.h"
#include "util.h"

enum { AOF_OFF = 0, AOF_ON = 1, AOF_WAIT_REWRITE = 2 };
enum { FSYNC_EVERYSEC = 0, FSYNC_ALWAYS = 1, FSYNC_NO = 2 };

/* After repeated rewrite failures the automatic trigger backs off. */
#define AOF_REWRITE_RETRY_SECS 60
/* Keep the encode buffer from pinning a huge allocation after a big write. */
#define AOF_BUF_SHRINK (4 * 1024 * 1024)
#define AOF_FSYNC_JOBS 8

typedef struct aof_fsync_job {
    int fd;
    int close_after;
} aof_fsync_job;

/* The background fsync thread: Redis' bio AOF job, reduced to what we use. */
typedef struct aof_bio {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    aof_fsync_job jobs[AOF_FSYNC_JOBS];
    int count;
    int busy;                   /* a job is running */
    int stop;
    int started;
    int last_err;               /* errno of the last failed fsync, 0 = ok */
} aof_bio;

typedef struct aof_state {
    srv *s;
    int status;
    int fsync_policy;
    aof_manifest am;
    int fd;                     /* the incr file being appended to, -1 none */
    kstr buf;                   /* encoded, not yet written */
    int selected_db;            /* -1: next write starts with SELECT */
    long long current_size;     /* base + incr bytes, as INFO reports */
    long long base_size;        /* the size after the last rewrite/load */
    long long last_incr_size;
    long long fsync_offset;     /* current_size at the last fsync */
    time_t last_fsync;
    int last_write_ok;
    int last_write_errno;
    aof_bio bio;
    /* rewrite */
    pid_t child_pid;
    int cow_pipe;
    int64_t child_start_ms;
    int rewrite_scheduled;
    long long last_rewrite_secs;
    int last_bgrewrite_ok;
    long long rewrites;
    long long consecutive_failures;
    time_t next_auto_rewrite;   /* back-off after failures */
    size_t last_cow_size;
    int loading;                /* our own start-up load is running */
} aof_state;

static aof_state *aof_st(srv *s)
{
    return s->aof;
}

static int aof_policy_of(const char *name)
{
    if (name && !strcasecmp(name, "always"))
        return FSYNC_ALWAYS;
    if (name && !strcasecmp(name, "no"))
        return FSYNC_NO;
    return FSYNC_EVERYSEC;
}

static const char *aof_dir(aof_state *st)
{
    return st->s->config.appenddirname;
}

static void aof_path(aof_state *st, char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", aof_dir(st), name);
}

/* ---- background fsync ------------------------------------------------ */

static void *aof_bio_main(void *arg)
{
    aof_bio *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (b->count == 0 && !b->stop)
            pthread_cond_wait(&b->cv, &b->mu);
        if (b->count == 0 && b->stop)
            break;
        aof_fsync_job job = b->jobs[0];
        memmove(b->jobs, b->jobs + 1, sizeof(b->jobs[0]) * (size_t)(b->count - 1));
        b->count--;
        b->busy = 1;
        pthread_mutex_unlock(&b->mu);
        int rc = fdatasync(job.fd);
        int e = rc == 0 ? 0 : errno;
        if (job.close_after)
            close(job.fd);
        pthread_mutex_lock(&b->mu);
        /* EBADF/EINVAL: the fd does not support syncing (a pipe in tests). */
        b->last_err = (e == EINVAL || e == EBADF) ? 0 : e;
        b->busy = 0;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static int aof_bio_start(aof_bio *b)
{
    if (b->started)
        return 0;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->count = b->busy = b->stop = 0;
    if (pthread_create(&b->thread, NULL, aof_bio_main, b) != 0) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cv);
        return -1;
    }
    b->started = 1;
    return 0;
}

/* Queue an fsync (and maybe a close). With the queue full the caller does
 * it itself: rare, and correctness matters more than the stall. */
static void aof_bio_submit(aof_bio *b, int fd, int close_after)
{
    if (b->started) {
        pthread_mutex_lock(&b->mu);
        if (b->count < AOF_FSYNC_JOBS) {
            b->jobs[b->count].fd = fd;
            b->jobs[b->count].close_after = close_after;
            b->count++;
            pthread_cond_signal(&b->cv);
            pthread_mutex_unlock(&b->mu);
            return;
        }
        pthread_mutex_unlock(&b->mu);
    }
    if (fdatasync(fd) != 0 && errno != EINVAL)
        log_msg(LOG_WARNING, "Can't fsync the append only file: %s", strerror(errno));
    if (close_after)
        close(fd);
}

static int aof_bio_pending(aof_bio *b)
{
    if (!b->started)
        return 0;
    pthread_mutex_lock(&b->mu);
    int n = b->count + b->busy;
    pthread_mutex_unlock(&b->mu);
    return n;
}

/* Wait until every queued job ran (shutdown, appendonly no). */
static void aof_bio_drain(aof_bio *b)
{
    if (!b->started)
        return;
    pthread_mutex_lock(&b->mu);
    while (b->count > 0 || b->busy)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void aof_bio_stop(aof_bio *b)
{
    if (!b->started)
        return;
    pthread_mutex_lock(&b->mu);
    b->stop = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    b->started = 0;
}

/* ---- files and the manifest on disk ----------------------------------- */

static int aof_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc == 0 || e == EINVAL ? 0 : -1;
}

static int aof_write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* temp file + fsync + rename + fsync of the directory: the manifest on disk
 * is always either the old one or the new one. */
static int aof_persist_manifest(aof_state *st, const aof_manifest *m)
{
    char name[1024], path[4096], tmp[4096];
    aof_manifest_name(name, sizeof(name), st->s->config.appendfilename);
    aof_path(st, path, sizeof(path), name);
    snprintf(tmp, sizeof(tmp), "%s/temp-%s", aof_dir(st), name);
    kstr text = aof_manifest_format(m, kstr_empty(256));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = -1;
    if (fd < 0) {
        log_msg(LOG_WARNING, "Can't open the AOF manifest file temp-%s: %s", name, strerror(errno));
        goto out;
    }
    if (aof_write_all(fd, text, kstr_len(text)) != 0) {
        log_msg(LOG_WARNING, "Error trying to write the temporary AOF manifest file temp-%s: %s", name,
                strerror(errno));
        goto out;
    }
    if (fsync(fd) != 0) {
        log_msg(LOG_WARNING, "Fail to fsync the temp AOF file temp-%s: %s.", name, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        log_msg(LOG_WARNING, "Error trying to rename the temporary AOF manifest file temp-%s into %s: %s",
                name, name, strerror(errno));
        goto out;
    }
    if (aof_fsync_dir(aof_dir(st)) != 0) {
        log_msg(LOG_WARNING, "Fail to fsync AOF directory %s: %s.", aof_dir(st), strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    kstr_free(text);
    return rc;
}

static int aof_mkdir(aof_state *st)
{
    if (mkdir(aof_dir(st), 0755) != 0 && errno != EEXIST) {
        log_msg(LOG_WARNING, "Can't open or create append-only dir %s: %s", aof_dir(st), strerror(errno));
        return -1;
    }
    return 0;
}

static long long aof_file_size(aof_state *st, const char *name)
{
    char path[4096];
    struct stat sb;
    aof_path(st, path, sizeof(path), name);
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* Delete history files (aof-disable-auto-gc no) and record that. */
static void aof_delete_history(aof_state *st)
{
    char path[4096];
    if (st->s->config.aof_disable_auto_gc || st->am.hist_count == 0)
        return;
    for (int i = 0; i < st->am.hist_count; i++) {
        log_msg(LOG_NOTICE, "Removing the history file %s in the background", st->am.hist[i].name);
        aof_path(st, path, sizeof(path), st->am.hist[i].name);
        if (unlink(path) != 0 && errno != ENOENT)
            log_msg(LOG_WARNING, "Can't remove the history file %s: %s", st->am.hist[i].name, strerror(errno));
    }
    aof_manifest_clear_history(&st->am);
    aof_persist_manifest(st, &st->am);
}

/* ---- the feed --------------------------------------------------------- */

static kstr aof_cat_bulk(kstr out, const char *p, size_t len)
{
    char hdr[RESP_LEN_HEADER_MAX];
    size_t n = resp_len_header(hdr, '$', (long long)len);
    out = kstr_cat(out, hdr, n);
    out = kstr_cat(out, p, len);
    return kstr_cat(out, "\r\n", 2);
}

static kstr aof_cat_command(kstr out, int argc, const resp_arg *argv)
{
    char hdr[RESP_LEN_HEADER_MAX];
    size_t n = resp_len_header(hdr, '*', argc);
    out = kstr_cat(out, hdr, n);
    for (int i = 0; i < argc; i++)
        out = aof_cat_bulk(out, argv[i].ptr, argv[i].len);
    return out;
}

static kstr aof_cat_select(kstr out, int dbid)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%d", dbid);
    resp_arg argv[2] = { { "SELECT", 6 }, { num, (size_t)n } };
    return aof_cat_command(out, 2, argv);
}

/* EXEC's capture (multi.c) re-feeds the commands wrapped in MULTI/EXEC
 * through srv_propagate once it ends: what arrives while it captures is
 * the unwrapped form, which the AOF must not see twice. */
static int aof_exec_capturing(srv *s)
{
    client *c = s->current_client;
    return c && c->mstate.prop != NULL;
}

void aof_feed(srv *s, int dbid, int argc, const resp_arg *argv)
{
    aof_state *st = aof_st(s);
    if (!st || st->status == AOF_OFF || aof_exec_capturing(s))
        return;
    /* Waiting for the first rewrite: the child's snapshot will hold these
     * writes, so only what comes after its fork is recorded. */
    if (st->status == AOF_WAIT_REWRITE && st->child_pid <= 0)
        return;
    if (dbid != st->selected_db) {
        st->buf = aof_cat_select(st->buf, dbid);
        st->selected_db = dbid;
    }
    st->buf = aof_cat_command(st->buf, argc, argv);
}

/* ---- writing ---------------------------------------------------------- */

static void aof_write_failed(aof_state *st, int e)
{
    if (st->fsync_policy == FSYNC_ALWAYS) {
        /* The client would be told "OK" for a write that is not on disk. */
        log_msg(LOG_WARNING, "Can't recover from AOF write error when the AOF fsync policy is 'always'. "
                "Exiting...");
        _exit(1);
    }
    if (st->last_write_ok)
        log_msg(LOG_WARNING, "Error writing to the AOF file: %s", strerror(e));
    st->last_write_ok = 0;
    st->last_write_errno = e;
}

static void aof_fsync_now(aof_state *st)
{
    if (fdatasync(st->fd) != 0 && errno != EINVAL) {
        log_msg(LOG_WARNING, "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. "
                "Exiting...", strerror(errno));
        _exit(1);
    }
    st->fsync_offset = st->current_size;
    st->last_fsync = time(NULL);
}

/* Write what is buffered; fsync per the policy. force: fsync everysec data
 * too (shutdown). */
static void aof_flush(aof_state *st, int force)
{
    size_t len = kstr_len(st->buf);
    if (st->fd < 0)
        return;
    if (len > 0) {
        size_t done = 0;
        while (done < len) {
            ssize_t n = write(st->fd, st->buf + done, len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                aof_write_failed(st, errno);
                break;
            }
            done += (size_t)n;
        }
        st->current_size += (long long)done;
        st->last_incr_size += (long long)done;
        if (done == len) {
            if (!st->last_write_ok)
                log_msg(LOG_WARNING, "AOF write error looks solved, Redis can write again.");
            st->last_write_ok = 1;
            if (kstr_cap(st->buf) > AOF_BUF_SHRINK) {
                kstr_free(st->buf);
                st->buf = kstr_empty(4096);
            } else {
                kstr_set_len(st->buf, 0);
            }
        } else {
            /* Keep the unwritten tail for the next attempt. */
            memmove(st->buf, st->buf + done, len - done);
            kstr_set_len(st->buf, len - done);
        }
    }
    if (st->fsync_offset == st->current_size)
        return;
    if (st->fsync_policy == FSYNC_ALWAYS || force) {
        aof_fsync_now(st);
    } else if (st->fsync_policy == FSYNC_EVERYSEC) {
        time_t now = time(NULL);
        if (now > st->last_fsync && aof_bio_pending(&st->bio) == 0) {
            aof_bio_submit(&st->bio, st->fd, 0);
            st->fsync_offset = st->current_size;
            st->last_fsync = now;
        }
    }
}

void aof_before_write(srv *s)
{
    aof_state *st = aof_st(s);
    if (st && st->fd >= 0 && kstr_len(st->buf) > 0)
        aof_flush(st, 0);
}

void aof_flush_for_shutdown(srv *s)
{
    aof_state *st = aof_st(s);
    if (!st || st->fd < 0)
        return;
    log_msg(LOG_NOTICE, "Calling fsync() on the AOF file.");
    aof_flush(st, 1);
    aof_bio_drain(&st->bio);
}

/* Writes are refused while the AOF cannot be written, as Redis does. */
static const char *aof_write_guard(client *c, const cmd_def *cmd, void *priv)
{
    (void)priv;
    aof_state *st = aof_st(c->srv);
    if (!st || st->status == AOF_OFF || st->last_write_ok)
        return NULL;
    if (!(cmd->flags & CMD_WRITE) && strcmp(cmd->name, "ping") != 0)
        return NULL;
    static char msg[256];
    snprintf(msg, sizeof(msg), "MISCONF Errors writing to the AOF file: %s", strerror(st->last_write_errno));
    return msg;
}

/* ---- opening incr files ---------------------------------------------- */

/* Close the current incr fd after its data is durable (in the background
 * for everysec: it is fine for its fsync to lag a little). */
static void aof_retire_fd(aof_state *st)
{
    if (st->fd < 0)
        return;
    if (st->fsync_policy == FSYNC_ALWAYS || !st->bio.started) {
        if (fdatasync(st->fd) != 0 && errno != EINVAL)
            log_msg(LOG_WARNING, "Can't fsync the AOF file: %s", strerror(errno));
        close(st->fd);
    } else {
        aof_bio_submit(&st->bio, st->fd, 1);
    }
    st->fd = -1;
}

static void aof_temp_incr_name(aof_state *st, char *buf, size_t len)
{
    snprintf(buf, len, "temp-%s.incr", st->s->config.appendfilename);
}

/* Rewrite start: a fresh incr file. ON: recorded in the manifest at once.
 * WAIT_REWRITE: a temp file, renamed in when the base exists. */
static int aof_open_new_incr(aof_state *st)
{
    char path[4096], name[1024];
    aof_manifest next;
    int have_next = 0;
    if (st->status == AOF_OFF)
        return 0;   /* BGREWRITEAOF with the AOF off: only a new base */
    if (st->status == AOF_WAIT_REWRITE) {
        aof_temp_incr_name(st, name, sizeof(name));
    } else {
        aof_manifest_copy(&next, &st->am);
        have_next = 1;
        snprintf(name, sizeof(name), "%s", aof_manifest_new_incr(&next, st->s->config.appendfilename));
    }
    aof_path(st, path, sizeof(path), name);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_msg(LOG_WARNING, "Can't open the append-only file %s: %s", name, strerror(errno));
        if (have_next)
            aof_manifest_release(&next);
        return -1;
    }
    if (have_next && aof_persist_manifest(st, &next) != 0) {
        close(fd);
        aof_manifest_release(&next);
        return -1;
    }
    log_msg(LOG_NOTICE, "Creating AOF incr file %s on background rewrite", name);
    aof_retire_fd(st);
    st->fd = fd;
    st->last_incr_size = 0;
    if (have_next) {
        aof_manifest_release(&st->am);
        st->am = next;
    }
    return 0;
}

/* ---- the rewrite child ------------------------------------------------ */

/* A DUMP payload (value, RDB version, CRC-64) for the command-form base. */
static kstr aof_dump_payload(const srv *s, const obj *val, char *err, size_t errlen)
{
    kstr out = rdb_serialize_value(s, val, 0);
    if (out == NULL) {
        snprintf(err, errlen, "cannot serialize a value");
        return NULL;
    }
    return rdb_dump_footer_append(out);
}

/* FUNCTION LOAD <code> for one library (the command base starts with
 * them, as 7.0's rewrite does). */
static int aof_cat_function(void *priv, const char *code, size_t len)
{
    kstr *out = priv;
    resp_arg argv[3] = { { "FUNCTION", 8 }, { "LOAD", 4 }, { code, len } };
    *out = aof_cat_command(*out, 3, argv);
    return 0;
}

/* The base as commands (aof-use-rdb-preamble no): the function libraries,
 * then SELECT per db and one RESTORE ... ABSTTL per key, which any 7.0
 * server replays. */
static int aof_write_command_base(srv *s, int fd, char *err, size_t errlen)
{
    kstr out = kstr_empty(64 * 1024);
    int rc = 0;
    function_each_library(s, aof_cat_function, &out);
    for (int i = 0; i < s->dbnum && rc == 0; i++) {
        kvdb *db = &s->dbs[i];
        if (dict_size(db->keys) == 0)
            continue;
        out = aof_cat_select(out, i);
        dict_iter it;
        dict_entry *e;
        dict_iter_init(db->keys, &it, 0);
        while (rc == 0 && (e = dict_iter_next(&it)) != NULL) {
            size_t klen = kstr_len(e->key);
            long long exp = 0;
            dict_entry *x = dict_size(db->expires) ? dict_find(db->expires, e->key, klen) : NULL;
            if (x)
                exp = x->v.i64;
            kstr payload = aof_dump_payload(s, e->v.ptr, err, errlen);
            if (!payload) {
                rc = -1;
                break;
            }
            char ttl[24];
            int tl = snprintf(ttl, sizeof(ttl), "%lld", exp);
            resp_arg argv[5] = { { "RESTORE", 7 }, { e->key, klen }, { ttl, (size_t)tl },
                                 { payload, kstr_len(payload) }, { "ABSTTL", 6 } };
            out = aof_cat_command(out, x ? 5 : 4, argv);
            kstr_free(payload);
            if (kstr_len(out) >= 64 * 1024) {
                if (aof_write_all(fd, out, kstr_len(out)) != 0) {
                    snprintf(err, errlen, "%s", strerror(errno));
                    rc = -1;
                }
                kstr_set_len(out, 0);
            }
        }
        dict_iter_release(&it);
    }
    if (rc == 0 && aof_write_all(fd, out, kstr_len(out)) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        rc = -1;
    }
    kstr_free(out);
    return rc;
}

static int aof_write_rdb_base(srv *s, int fd, char *err, size_t errlen)
{
    rdb_meta meta;
    rdb_writer w;
    memset(&meta, 0, sizeof(meta));
    snprintf(meta.redis_ver, sizeof(meta.redis_ver), "%s", RDB_REDIS_VER);
    meta.redis_bits = (int)(sizeof(void *) * 8);
    meta.ctime = (int64_t)time(NULL);
    meta.used_mem = (long long)srv_used_memory(s);
    meta.repl_stream_db = -1;
    meta.aof_base = 1;
    rdb_writer_init(&w, rdb_fd_write, &fd, s->config.rdbcompression, s->config.rdbchecksum);
    int rc = rdb_write_snapshot(&w, s, &meta);
    if (rc != 0)
        snprintf(err, errlen, "%s", w.err);
    rdb_writer_release(&w);
    return rc;
}

/* Write a base file to path (child, or synchronously at start-up). */
static int aof_write_base(srv *s, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s",
                 strerror(errno));
        return -1;
    }
    int rc = s->config.aof_use_rdb_preamble ? aof_write_rdb_base(s, fd, err, errlen)
                                            : aof_write_command_base(s, fd, err, errlen);
    if (rc == 0 && fsync(fd) != 0) {
        snprintf(err, errlen, "fsync: %s", strerror(errno));
        rc = -1;
    }
    close(fd);
    if (rc != 0)
        unlink(path);
    return rc;
}

static void aof_child_main(srv *s, int cow_fd)
{
    char err[512], tmp[64];
    srv_fork_child_setup(s);
    snprintf(tmp, sizeof(tmp), "temp-rewriteaof-bg-%d.aof", (int)getpid());
    if (aof_write_base(s, tmp, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "Error writing the AOF base file: %s", err);
        _exit(1);
    }
    log_msg(LOG_NOTICE, "Successfully created the temporary AOF base file %s", tmp);
    size_t cow = util_private_dirty_bytes();
    log_msg(LOG_NOTICE, "Fork CoW for AOF rewrite: current %zu MB, peak %zu MB, average %zu MB",
            cow >> 20, cow >> 20, cow >> 20);
    uint64_t v = cow;
    if (write(cow_fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
        v = 0;
    close(cow_fd);
    _exit(0);
}

/* ---- rewrite: start and finish ---------------------------------------- */

static int aof_rewrite_start(aof_state *st)
{
    srv *s = st->s;
    int pfd[2];
    if (aof_mkdir(st) != 0)
        return -1;
    /* Everything before the fork goes to the old incr file. */
    aof_flush(st, 0);
    if (aof_open_new_incr(st) != 0)
        return -1;
    st->selected_db = -1;
    if (pipe(pfd) != 0) {
        log_msg(LOG_WARNING, "Can't rewrite append only file in background: pipe: %s", strerror(errno));
        return -1;
    }
    st->rewrites++;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        st->last_bgrewrite_ok = 0;
        st->consecutive_failures++;
        log_msg(LOG_WARNING, "Can't rewrite append only file in background: fork: %s", strerror(e));
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        aof_child_main(s, pfd[1]);
    }
    close(pfd[1]);
    if (fcntl(pfd[0], F_SETFL, O_NONBLOCK) != 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) != 0)
        log_msg(LOG_VERBOSE, "fcntl on the CoW pipe: %s", strerror(errno));
    st->cow_pipe = pfd[0];
    st->child_pid = pid;
    st->child_start_ms = util_ms_now();
    st->rewrite_scheduled = 0;
    log_msg(LOG_NOTICE, "Background append only file rewriting started by pid %ld", (long)pid);
    return 0;
}

static void aof_rewrite_cleanup_temp(pid_t pid)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-rewriteaof-bg-%d.aof", (int)pid);
    unlink(tmp);
}

/* The child's base is complete: make it the manifest's base. */
static int aof_rewrite_install(aof_state *st, pid_t pid)
{
    char tmp[64], path[4096], base_name[1024], incr_name[1024], temp_incr[1024], tpath[4096];
    const char *fn = st->s->config.appendfilename;
    aof_manifest next;
    aof_manifest_copy(&next, &st->am);
    snprintf(base_name, sizeof(base_name), "%s",
             aof_manifest_new_base(&next, fn, st->s->config.aof_use_rdb_preamble));
    snprintf(tmp, sizeof(tmp), "temp-rewriteaof-bg-%d.aof", (int)pid);
    aof_path(st, path, sizeof(path), base_name);
    if (rename(tmp, path) != 0) {
        log_msg(LOG_WARNING, "Error trying to rename the temporary AOF base file %s into %s: %s", tmp,
                base_name, strerror(errno));
        aof_manifest_release(&next);
        return -1;
    }
    log_msg(LOG_NOTICE, "Successfully renamed the temporary AOF base file %s into %s", tmp, base_name);
    if (st->status == AOF_WAIT_REWRITE) {
        aof_temp_incr_name(st, temp_incr, sizeof(temp_incr));
        snprintf(incr_name, sizeof(incr_name), "%s", aof_manifest_new_incr(&next, fn));
        aof_path(st, tpath, sizeof(tpath), temp_incr);
        aof_path(st, path, sizeof(path), incr_name);
        if (rename(tpath, path) != 0) {
            log_msg(LOG_WARNING, "Error trying to rename the temporary AOF incr file %s into %s: %s",
                    temp_incr, incr_name, strerror(errno));
            aof_manifest_release(&next);
            return -1;
        }
        log_msg(LOG_NOTICE, "Successfully renamed the temporary AOF incr file %s into %s", temp_incr,
                incr_name);
    }
    /* Everything but the incr file opened at the rewrite start is now in
     * the base. */
    aof_manifest_incr_to_history(&next, st->fd >= 0 ? 1 : 0);
    if (aof_persist_manifest(st, &next) != 0) {
        aof_manifest_release(&next);
        return -1;
    }
    aof_manifest_release(&st->am);
    st->am = next;
    if (st->status == AOF_WAIT_REWRITE) {
        st->status = AOF_ON;
        log_msg(LOG_NOTICE, "AOF rewrite done, AOF enabled");
    }
    long long base = aof_file_size(st, base_name);
    st->current_size = base + st->last_incr_size;
    st->base_size = st->current_size;
    st->fsync_offset = st->current_size;
    aof_delete_history(st);
    return 0;
}

static void aof_rewrite_failed_wait(aof_state *st)
{
    char name[1024], path[4096];
    if (st->status != AOF_WAIT_REWRITE)
        return;
    /* The temp incr file is useless without its base: start over. */
    aof_temp_incr_name(st, name, sizeof(name));
    aof_path(st, path, sizeof(path), name);
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
    unlink(path);
    kstr_set_len(st->buf, 0);
    st->rewrite_scheduled = 1;
}

static void aof_rewrite_done(aof_state *st, int status)
{
    uint64_t cow = 0;
    pid_t pid = st->child_pid;
    if (st->cow_pipe >= 0) {
        if (read(st->cow_pipe, &cow, sizeof(cow)) != (ssize_t)sizeof(cow))
            cow = 0;
        close(st->cow_pipe);
        st->cow_pipe = -1;
    }
    st->child_pid = -1;
    st->last_rewrite_secs = (util_ms_now() - st->child_start_ms) / 1000;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok) {
        log_msg(LOG_NOTICE, "Background AOF rewrite terminated with success");
        aof_flush(st, 0);
        ok = aof_rewrite_install(st, pid) == 0;
    } else if (WIFSIGNALED(status)) {
        log_msg(LOG_WARNING, "Background AOF rewrite terminated by signal %d", WTERMSIG(status));
    } else {
        log_msg(LOG_WARNING, "Background AOF rewrite terminated with error");
    }
    aof_rewrite_cleanup_temp(pid);
    if (ok) {
        st->last_bgrewrite_ok = 1;
        st->consecutive_failures = 0;
        st->last_cow_size = (size_t)cow;
        st->next_auto_rewrite = 0;
        log_msg(LOG_NOTICE, "Background AOF rewrite finished successfully");
        return;
    }
    st->last_bgrewrite_ok = 0;
    st->consecutive_failures++;
    st->next_auto_rewrite = time(NULL) + AOF_REWRITE_RETRY_SECS;
    aof_rewrite_failed_wait(st);
}

static void aof_kill_child(aof_state *st)
{
    if (st->child_pid <= 0)
        return;
    int status;
    log_msg(LOG_NOTICE, "Killing running AOF rewrite child: %ld", (long)st->child_pid);
    kill(st->child_pid, SIGUSR1);
    while (waitpid(st->child_pid, &status, 0) < 0 && errno == EINTR)
        ;
    aof_rewrite_cleanup_temp(st->child_pid);
    if (st->cow_pipe >= 0) {
        close(st->cow_pipe);
        st->cow_pipe = -1;
    }
    st->child_pid = -1;
}

int aof_rewrite_in_progress(srv *s)
{
    aof_state *st = aof_st(s);
    return st && st->child_pid > 0;
}

/* Another fork (BGSAVE, a replica's sync) is running: wait for it. */
static int aof_other_child_running(srv *s)
{
    return rdb_bgsave_in_progress(s);
}

/* ---- enabling and disabling ------------------------------------------- */

static int aof_start(aof_state *st)
{
    st->status = AOF_WAIT_REWRITE;
    st->selected_db = -1;
    if (aof_bio_start(&st->bio) != 0)
        log_msg(LOG_WARNING, "Can't start the AOF fsync thread: fsyncs will run in the main thread");
    if (aof_other_child_running(st->s)) {
        st->rewrite_scheduled = 1;
        log_msg(LOG_WARNING, "AOF was enabled but there is already another background operation. An AOF "
                "background was scheduled to start when possible.");
        return 0;
    }
    aof_kill_child(st);
    if (aof_rewrite_start(st) != 0) {
        st->status = AOF_OFF;
        log_msg(LOG_WARNING, "Redis needs to enable the AOF but can't trigger a background AOF rewrite "
                "operation. Check the above logs for more info about the error.");
        return -1;
    }
    st->last_fsync = time(NULL);
    return 0;
}

static void aof_stop(aof_state *st)
{
    aof_flush(st, 1);
    aof_bio_drain(&st->bio);
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
    if (st->child_pid > 0) {
        aof_kill_child(st);
        if (st->status == AOF_WAIT_REWRITE) {
            char name[1024], path[4096];
            aof_temp_incr_name(st, name, sizeof(name));
            aof_path(st, path, sizeof(path), name);
            unlink(path);
        }
    }
    kstr_set_len(st->buf, 0);
    st->status = AOF_OFF;
    st->rewrite_scheduled = 0;
}

/* A replica replaced its dataset with its master's RDB: the AOF no longer
 * describes it, so it is rebuilt from the new data (7.0 does the same). */
void aof_dataset_replaced(srv *s)
{
    aof_state *st = aof_st(s);
    if (!st || st->loading || st->status == AOF_OFF)
        return;
    log_msg(LOG_NOTICE, "Restarting the AOF after the dataset was replaced");
    aof_stop(st);
    if (aof_start(st) != 0)
        log_msg(LOG_WARNING, "Failed enabling the AOF after successful master synchronization! "
                "Trying it again in one second.");
}

static int aof_config_apply(srv *s, void *priv, const char *name, char *err, size_t errlen)
{
    aof_state *st = priv;
    (void)s;
    if (!strcasecmp(name, "appendfsync")) {
        st->fsync_policy = aof_policy_of(st->s->config.appendfsync);
        return 0;
    }
    if (strcasecmp(name, "appendonly") != 0)
        return 0;
    if (st->s->config.appendonly && st->status == AOF_OFF) {
        if (aof_start(st) != 0) {
            st->s->config.appendonly = 0;
            snprintf(err, errlen, "Unable to turn on AOF. Check server logs.");
            return -1;
        }
    } else if (!st->s->config.appendonly && st->status != AOF_OFF) {
        aof_stop(st);
    }
    return 0;
}

/* ---- cron ------------------------------------------------------------- */

static void aof_maybe_auto_rewrite(aof_state *st)
{
    cfg *c = &st->s->config;
    if (st->status != AOF_ON || c->auto_aof_rewrite_percentage <= 0 ||
        st->current_size <= c->auto_aof_rewrite_min_size)
        return;
    if (st->next_auto_rewrite && time(NULL) < st->next_auto_rewrite)
        return;
    long long base = st->base_size ? st->base_size : 1;
    long long growth = (st->current_size * 100 / base) - 100;
    if (growth < c->auto_aof_rewrite_percentage)
        return;
    log_msg(LOG_NOTICE, "Starting automatic rewriting of AOF on %lld%% growth", growth);
    if (aof_rewrite_start(st) != 0) {
        st->last_bgrewrite_ok = 0;
        st->consecutive_failures++;
        st->next_auto_rewrite = time(NULL) + AOF_REWRITE_RETRY_SECS;
    }
}

static void aof_cron(srv *s, void *priv)
{
    aof_state *st = priv;
    (void)s;
    if (st->child_pid > 0) {
        int status;
        pid_t r = waitpid(st->child_pid, &status, WNOHANG);
        if (r == st->child_pid)
            aof_rewrite_done(st, status);
        else if (r < 0 && errno == ECHILD)
            st->child_pid = -1;
    }
    if (st->status == AOF_OFF)
        return;
    if (st->child_pid <= 0 && st->rewrite_scheduled && !aof_other_child_running(st->s)) {
        if (aof_rewrite_start(st) != 0 && st->status == AOF_WAIT_REWRITE)
            st->rewrite_scheduled = 1;
    }
    if (st->child_pid <= 0 && !aof_other_child_running(st->s))
        aof_maybe_auto_rewrite(st);
    /* everysec: data written but not yet synced gets its fsync even when
     * no new write comes to trigger it. */
    aof_flush(st, 0);
}

/* ---- BGREWRITEAOF ------------------------------------------------------ */

static void cmd_bgrewriteaof(client *c)
{
    aof_state *st = aof_st(c->srv);
    if (st->child_pid > 0) {
        reply_error(c, "ERR Background append only file rewriting already in progress");
        return;
    }
    if (aof_other_child_running(c->srv) || (c->flags & CLIENT_IN_EXEC)) {
        st->rewrite_scheduled = 1;
        st->consecutive_failures = 0;
        reply_simple(c, "Background append only file rewriting scheduled");
        return;
    }
    /* With the AOF off a rewrite still writes a base (7.0 allows it). */
    if (aof_rewrite_start(st) != 0) {
        reply_error(c, "ERR Can't execute an AOF background rewriting. Please check the server logs for "
                       "more information.");
        return;
    }
    reply_simple(c, "Background append only file rewriting started");
}

const cmd_def aof_commands[] = {
    {"bgrewriteaof", cmd_bgrewriteaof, 1, CMD_ADMIN | CMD_NOSCRIPT, 0, 0, 0, "@admin @slow @dangerous"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

/* ---- INFO -------------------------------------------------------------- */

kstr aof_info(srv *s, kstr o)
{
    aof_state *st = aof_st(s);
    if (!st)
        return kstr_cat_cstr(o,
            "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n"
            "aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n"
            "aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\n"
            "aof_last_write_status:ok\r\naof_last_cow_size:0\r\n"
            "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
    long long cur = st->child_pid > 0 ? (util_ms_now() - st->child_start_ms) / 1000 : -1;
    o = kstr_catfmt(o,
        "aof_enabled:%d\r\n"
        "aof_rewrite_in_progress:%d\r\n"
        "aof_rewrite_scheduled:%d\r\n"
        "aof_last_rewrite_time_sec:%lld\r\n"
        "aof_current_rewrite_time_sec:%lld\r\n"
        "aof_last_bgrewrite_status:%s\r\n"
        "aof_rewrites:%lld\r\n"
        "aof_rewrites_consecutive_failures:%lld\r\n"
        "aof_last_write_status:%s\r\n"
        "aof_last_cow_size:%zu\r\n"
        "module_fork_in_progress:0\r\n"
        "module_fork_last_cow_size:0\r\n",
        st->status != AOF_OFF, st->child_pid > 0, st->rewrite_scheduled, st->last_rewrite_secs, cur,
        st->last_bgrewrite_ok ? "ok" : "err", st->rewrites, st->consecutive_failures,
        st->last_write_ok ? "ok" : "err", st->last_cow_size);
    if (s->config.appendonly)
        o = kstr_catfmt(o,
            "aof_current_size:%lld\r\n"
            "aof_base_size:%lld\r\n"
            "aof_pending_rewrite:%d\r\n"
            "aof_buffer_length:%zu\r\n"
            "aof_pending_bio_fsync:%d\r\n"
            "aof_delayed_fsync:0\r\n",
            st->current_size, st->base_size, st->rewrite_scheduled, kstr_len(st->buf),
            aof_bio_pending(&st->bio));
    return o;
}

/* ---- start-up ---------------------------------------------------------- */

/* 7.0's aofOpenIfNeededOnServerStart: an empty start writes a base at
 * once; then the last incr file (or a new one) is opened for appending. */
static int aof_open_on_start(aof_state *st, char *err, size_t errlen)
{
    char path[4096], name[1024];
    const char *fn = st->s->config.appendfilename;
    if (aof_mkdir(st) != 0) {
        snprintf(err, errlen, "Can't open or create append-only dir %s: %s", aof_dir(st), strerror(errno));
        return -1;
    }
    int had_incr = st->am.incr_count > 0;
    if (!st->am.base && !had_incr) {
        const char *base = aof_manifest_new_base(&st->am, fn, st->s->config.aof_use_rdb_preamble);
        aof_path(st, path, sizeof(path), base);
        if (aof_write_base(st->s, path, err, errlen) != 0)
            return -1;
        log_msg(LOG_NOTICE, "Creating AOF base file %s on server start", base);
    }
    if (!had_incr)
        aof_manifest_new_incr(&st->am, fn);
    snprintf(name, sizeof(name), "%s", st->am.incr[st->am.incr_count - 1].name);
    aof_path(st, path, sizeof(path), name);
    st->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (st->fd < 0) {
        snprintf(err, errlen, "Can't open the append-only file %s: %s", name, strerror(errno));
        return -1;
    }
    if (aof_persist_manifest(st, &st->am) != 0) {
        snprintf(err, errlen, "Can't persist the AOF manifest in %s", aof_dir(st));
        return -1;
    }
    st->last_incr_size = aof_file_size(st, name);
    log_msg(LOG_NOTICE, "%s AOF incr file %s on server start", had_incr ? "Opening" : "Creating", name);
    return 0;
}

/* With appendonly no the manifest is still read, so enabling the AOF later
 * continues its sequence numbers; a broken one is then just ignored. */
static void aof_read_manifest_only(aof_state *st)
{
    char name[1024], path[4096], err[512];
    aof_manifest_name(name, sizeof(name), st->s->config.appendfilename);
    aof_path(st, path, sizeof(path), name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    kstr text = kstr_empty(1024);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && kstr_len(text) < 16 * 1024 * 1024)
        text = kstr_cat(text, chunk, n);
    fclose(f);
    if (aof_manifest_parse(&st->am, text, kstr_len(text), err, sizeof(err)) != 0)
        log_msg(LOG_WARNING, "Ignoring the AOF manifest %s (%s)", path, err);
    kstr_free(text);
}

/* A pre-7.0 single-file AOF (<dir>/<appendfilename>, no manifest) becomes
 * the base of a new directory, as 7.0 migrates it: manifest first, then
 * the move, so a crash in between is retried at the next start. */
static int aof_upgrade_old_file(aof_state *st, char *err, size_t errlen)
{
    const char *fn = st->s->config.appendfilename;
    char name[1024], path[4096];
    struct stat sb;
    aof_manifest_name(name, sizeof(name), fn);
    aof_path(st, path, sizeof(path), name);
    if (stat(path, &sb) == 0 || stat(fn, &sb) != 0)
        return 0;
    if (aof_mkdir(st) != 0) {
        snprintf(err, errlen, "Can't open or create append-only dir %s: %s", aof_dir(st), strerror(errno));
        return -1;
    }
    aof_manifest m;
    aof_manifest_init(&m);
    m.base = mem_alloc(sizeof(*m.base));
    m.base->name = kstr_from_cstr(fn);
    m.base->seq = 1;
    m.base->type = AOF_FILE_BASE;
    m.base_seq = 1;
    int rc = aof_persist_manifest(st, &m);
    aof_manifest_release(&m);
    if (rc != 0) {
        snprintf(err, errlen, "Can't persist the AOF manifest in %s", aof_dir(st));
        return -1;
    }
    aof_path(st, path, sizeof(path), fn);
    if (rename(fn, path) != 0) {
        snprintf(err, errlen, "Error trying to move the old AOF file %s into dir %s: %s", fn, aof_dir(st),
                 strerror(errno));
        return -1;
    }
    log_msg(LOG_NOTICE, "Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", fn,
            aof_dir(st));
    return 0;
}

/* The manifest on disk and its files replayed into the (empty) data set;
 * *total is their size. Replayed writes are already persistent: no save
 * point should fire for them, so dirty is reset. */
static int aof_load_dataset(aof_state *st, long long *total, char *err, size_t errlen)
{
    int found = 0;
    st->loading = 1;
    int rc = aof_load_all(st->s, &st->am, &found, total, err, errlen);
    st->loading = 0;
    if (rc != 0)
        return -1;
    st->s->dirty = 0;
    return 0;
}

int aof_module_init(srv *s, char *err, size_t errlen)
{
    aof_state *st = mem_calloc(sizeof(*st));
    st->s = s;
    st->fd = -1;
    st->cow_pipe = -1;
    st->child_pid = -1;
    st->buf = kstr_empty(4096);
    st->selected_db = -1;
    st->last_write_ok = 1;
    st->last_bgrewrite_ok = 1;
    st->last_rewrite_secs = -1;
    st->fsync_policy = aof_policy_of(s->config.appendfsync);
    aof_manifest_init(&st->am);
    s->aof = st;
    s->before_reply_write = aof_before_write;
    srv_add_cron(s, aof_cron, st);
    srv_add_config_apply(s, aof_config_apply, st);
    static int guard_added;
    if (!guard_added) {
        cmd_add_guard(aof_write_guard, NULL);
        guard_added = 1;
    }
    if (!s->config.appendonly) {
        aof_read_manifest_only(st);
        return 0;
    }
    long long total = 0;
    if (aof_upgrade_old_file(st, err, errlen) != 0)
        return -1;
    if (aof_load_dataset(st, &total, err, errlen) != 0)
        return -1;
    st->current_size = total;
    st->base_size = total;
    st->fsync_offset = total;
    st->status = AOF_ON;
    if (aof_bio_start(&st->bio) != 0)
        log_msg(LOG_WARNING, "Can't start the AOF fsync thread: fsyncs will run in the main thread");
    if (aof_open_on_start(st, err, errlen) != 0)
        return -1;
    st->last_fsync = time(NULL);
    aof_delete_history(st);
    return 0;
}

/* DEBUG LOADAOF: the data set becomes what the AOF holds, as Redis' debug
 * command does it. A running rewrite is waited for first, so the manifest
 * on disk names the files the data is in (before it finishes, writes since
 * appendonly was switched on are only in the rewrite's incr file); then the
 * buffer is written and fsynced, every db emptied and the manifest's files
 * replayed. The replay feeds neither the AOF nor replicas (s->loading). */
int aof_debug_loadaof(srv *s, char *err, size_t errlen)
{
    aof_state *st = aof_st(s);
    if (!st) {
        snprintf(err, errlen, "the AOF module is not running");
        return -1;
    }
    if (st->child_pid > 0) {
        int status;
        pid_t r;
        while ((r = waitpid(st->child_pid, &status, 0)) < 0 && errno == EINTR)
            ;
        if (r == st->child_pid)
            aof_rewrite_done(st, status);
        else
            st->child_pid = -1;
    }
    if (st->status == AOF_ON && st->fd >= 0) {
        aof_flush(st, 1);
        aof_bio_drain(&st->bio);
    }
    for (int i = 0; i < s->dbnum; i++)
        db_flush(&s->dbs[i]);
    aof_manifest_release(&st->am);
    long long total = 0;
    if (aof_load_dataset(st, &total, err, errlen) != 0)
        return -1;
    log_msg(LOG_WARNING, "Append Only File loaded by DEBUG LOADAOF");
    return 0;
}

void aof_module_release(srv *s)
{
    aof_state *st = aof_st(s);
    if (!st)
        return;
    aof_kill_child(st);
    aof_flush_for_shutdown(s);
    aof_bio_stop(&st->bio);
    if (st->fd >= 0)
        close(st->fd);
    kstr_free(st->buf);
    aof_manifest_release(&st->am);
    mem_free(st);
    s->aof = NULL;
    s->before_reply_write = NULL;
}
