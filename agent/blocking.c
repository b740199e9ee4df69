/* blocking: clients waiting in BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP.
 *
 * Data structures:
 * - per db, db->blocking maps a key to a waiter queue (an array of clients
 *   in the order they blocked); a client waits once per distinct key;
 * - srv->ready_keys points at this module's state: the (db, key) pairs that
 *   received elements during the current command (only keys somebody
 *   waits on are recorded) and the list of blocked clients, oldest first,
 *   which the timeout cron walks (fake clients are in no server list). The
 *   state is allocated on first use and freed when nothing is pending;
 * - the client keeps a private copy of its command in c->bstate.
 *
 * Serving: after every command (and after EXEC) the dispatcher calls
 * blocking_handle_ready. For each ready key, waiters are tried first come
 * first served by re-running their command with CLIENT_UNBLOCKED set: the
 * handler pops, replies and propagates exactly as a non-blocking call
 * would. A waiter that still finds nothing re-arms (blocking_block during
 * a re-run) and keeps its place. Serving may push elsewhere (BLMOVE), which
 * records new ready keys; the loop runs until no key is ready. Only then
 * are served clients resumed (their pending pipeline is processed), so a
 * resumed client's commands never run in the middle of serving.
 *
 * Resuming goes through one FIFO queue per server, like Redis' list of
 * unblocked clients: a resumed pipeline that wakes further waiters appends
 * them behind the clients already waiting to resume instead of running
 * them first (the outermost call drains the queue). A queued client is
 * marked CLIENT_EXECUTING so that a CLIENT KILL from another resumed
 * pipeline only flags it (CLOSE_ASAP) instead of freeing it under us. */
#include <limits.h>
#include <string.h>
#include "blocking.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "dict.h"
#include "mem.h"
#include "reply.h"
#include "server.h"
#include "util.h"

/* The clients waiting on one key, oldest first. */
typedef struct block_waiters {
    client **v;
    size_t len;
    size_t cap;
} block_waiters;

/* A growable array of clients. */
typedef struct client_vec {
    client **v;
    size_t len;
    size_t cap;
} client_vec;

/* Keys that became ready during the current command. */
typedef struct block_ready {
    int *dbids;
    kstr *keys;
    size_t len;
    size_t cap;
} block_ready;

/* The module state behind srv->ready_keys. */
typedef struct block_module {
    block_ready ready;
    client_vec blocked;    /* every blocked client, in blocking order */
    client_vec resume;     /* served clients waiting to resume, FIFO */
    int resuming;          /* the resume queue is being drained */
} block_module;

static void client_vec_push(client_vec *cv, client *c)
{
    if (cv->len == cv->cap) {
        cv->cap = cv->cap ? cv->cap * 2 : 8;
        cv->v = mem_realloc(cv->v, cv->cap * sizeof(client *));
    }
    cv->v[cv->len++] = c;
}

static void client_vec_remove(client_vec *cv, client *c)
{
    for (size_t i = 0; i < cv->len; i++) {
        if (cv->v[i] == c) {
            memmove(&cv->v[i], &cv->v[i + 1], (cv->len - i - 1) * sizeof(client *));
            cv->len--;
            return;
        }
    }
}

static block_module *module_get(srv *s)
{
    if (!s->ready_keys)
        s->ready_keys = mem_calloc(sizeof(block_module));
    return s->ready_keys;
}

static void ready_release(block_ready *r)
{
    for (size_t i = 0; i < r->len; i++)
        kstr_free(r->keys[i]);
    mem_free(r->dbids);
    mem_free(r->keys);
    memset(r, 0, sizeof(*r));
}

/* Free the state once nothing is blocked or pending, so a server that
 * never blocks (or a test) holds no memory here. */
static void module_maybe_free(srv *s)
{
    block_module *m = s->ready_keys;
    if (!m || m->blocked.len || m->ready.len || m->resume.len || m->resuming)
        return;
    ready_release(&m->ready);
    mem_free(m->blocked.v);
    mem_free(m->resume.v);
    mem_free(m);
    s->ready_keys = NULL;
}

/* ---- waiter queues ------------------------------------------------------ */

static void waiters_free(block_waiters *w)
{
    mem_free(w->v);
    mem_free(w);
}

/* Append c to key's queue; returns 0 if c already waits on this key. */
static int waiters_add(kvdb *db, const char *key, size_t len, client *c)
{
    if (!db->blocking)
        db->blocking = dict_create(&dict_type_plain);
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(db->blocking, key, len, &existing);
    block_waiters *w;
    if (e) {
        w = mem_calloc(sizeof(*w));
        e->v.ptr = w;
    } else {
        w = existing->v.ptr;
        for (size_t i = 0; i < w->len; i++)
            if (w->v[i] == c)
                return 0;
    }
    if (w->len == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4;
        w->v = mem_realloc(w->v, w->cap * sizeof(client *));
    }
    w->v[w->len++] = c;
    return 1;
}

/* Remove c from key's queue, dropping the queue when it empties. The value
 * is freed here, not by the dict type, so any type the db was created with
 * works. */
static void waiters_remove(kvdb *db, const char *key, size_t len, client *c)
{
    if (!db->blocking)
        return;
    dict_entry *e = dict_find(db->blocking, key, len);
    if (!e)
        return;
    block_waiters *w = e->v.ptr;
    for (size_t i = 0; i < w->len; i++) {
        if (w->v[i] == c) {
            memmove(&w->v[i], &w->v[i + 1], (w->len - i - 1) * sizeof(client *));
            w->len--;
            break;
        }
    }
    if (w->len == 0) {
        dict_entry *u = dict_unlink(db->blocking, key, len);
        waiters_free(w);
        if (u) {
            u->v.ptr = NULL;
            dict_free_unlinked(db->blocking, u);
        }
    }
}

/* ---- block / unblock ---------------------------------------------------- */

/* One allocation holding the argv array and the argument bytes, so the
 * copy survives the client's input buffer being reused. */
static resp_arg *argv_copy(int argc, const resp_arg *argv)
{
    size_t bytes = (size_t)argc * sizeof(resp_arg);
    for (int i = 0; i < argc; i++)
        bytes += argv[i].len + 1;
    resp_arg *out = mem_alloc(bytes);
    char *p = (char *)(out + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        p[argv[i].len] = '\0';
        out[i].ptr = p;
        out[i].len = argv[i].len;
        p += argv[i].len + 1;
    }
    return out;
}

void blocking_block(client *c, int nkeys, const resp_arg *keys, int64_t timeout_ms)
{
    block_state *bs = &c->bstate;
    if (c->flags & CLIENT_BLOCKED) {
        /* a re-run found nothing: stay where we are in every queue */
        bs->still_blocked = 1;
        return;
    }
    kvdb *db = c->db;
    bs->dbid = db->id;
    bs->timeout_ms = timeout_ms;
    bs->argc = c->argc;
    bs->argv = argv_copy(c->argc, c->argv);
    bs->cmd = c->cmd ? c->cmd : cmd_lookup(c->argv[0].ptr, c->argv[0].len);
    bs->wait_type = OBJ_LIST;
    if (bs->cmd && bs->cmd->acl_categories && strstr(bs->cmd->acl_categories, "@sortedset"))
        bs->wait_type = OBJ_ZSET;
    bs->keys = mem_alloc((size_t)(nkeys > 0 ? nkeys : 1) * sizeof(kstr));
    bs->nkeys = 0;
    bs->serve_key = NULL;
    bs->serve_keylen = 0;
    bs->still_blocked = 0;
    for (int i = 0; i < nkeys; i++) {
        if (waiters_add(db, keys[i].ptr, keys[i].len, c))
            bs->keys[bs->nkeys++] = kstr_new(keys[i].ptr, keys[i].len);
    }
    c->flags |= CLIENT_BLOCKED;
    c->srv->blocked_clients++;
    client_vec_push(&module_get(c->srv)->blocked, c);
}

void blocking_unblock(client *c, int send_timeout_reply)
{
    block_state *bs = &c->bstate;
    block_module *m = c->srv->ready_keys;
    /* a client freed while waiting to resume must leave the queue too */
    if (m && !(c->flags & CLIENT_BLOCKED) && m->resume.len) {
        client_vec_remove(&m->resume, c);
        module_maybe_free(c->srv);
    }
    if (!(c->flags & CLIENT_BLOCKED))
        return;
    kvdb *db = &c->srv->dbs[bs->dbid];
    for (int i = 0; i < bs->nkeys; i++) {
        waiters_remove(db, bs->keys[i], kstr_len(bs->keys[i]), c);
        kstr_free(bs->keys[i]);
    }
    mem_free(bs->keys);
    mem_free(bs->argv);
    memset(bs, 0, sizeof(*bs));
    c->flags &= ~(uint32_t)CLIENT_BLOCKED;
    if (c->srv->blocked_clients > 0)
        c->srv->blocked_clients--;
    if (c->srv->ready_keys)
        client_vec_remove(&((block_module *)c->srv->ready_keys)->blocked, c);
    module_maybe_free(c->srv);
    if (send_timeout_reply)
        reply_null_array(c);
}

/* ---- ready keys --------------------------------------------------------- */

void blocking_signal_ready(kvdb *db, const char *key, size_t len)
{
    if (!db->blocking || !dict_find(db->blocking, key, len))
        return;
    block_ready *r = &module_get(db->srv)->ready;
    for (size_t i = 0; i < r->len; i++)
        if (r->dbids[i] == db->id && kstr_eq_buf(r->keys[i], key, len))
            return;
    if (r->len == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->dbids = mem_realloc(r->dbids, r->cap * sizeof(int));
        r->keys = mem_realloc(r->keys, r->cap * sizeof(kstr));
    }
    r->dbids[r->len] = db->id;
    r->keys[r->len] = kstr_new(key, len);
    r->len++;
}

/* Re-run c's saved command against the ready key. Returns 1 when the
 * command answered (served, or failed with an error), 0 when it re-armed. */
static int rerun_blocked(client *c, const char *key, size_t len)
{
    block_state *bs = &c->bstate;
    srv *s = c->srv;
    int saved_argc = c->argc;
    resp_arg *saved_argv = c->argv;
    const struct cmd_def *saved_cmd = c->cmd;
    kvdb *saved_db = c->db;
    client *saved_current = s->current_client;

    c->argc = bs->argc;
    c->argv = bs->argv;
    c->cmd = bs->cmd;
    c->db = &s->dbs[bs->dbid];
    bs->serve_key = key;
    bs->serve_keylen = len;
    bs->still_blocked = 0;
    c->flags |= CLIENT_UNBLOCKED;
    s->current_client = c;

    cmd_call(c, bs->cmd);

    s->current_client = saved_current;
    c->flags &= ~(uint32_t)CLIENT_UNBLOCKED;
    c->argc = saved_argc;
    c->argv = saved_argv;
    c->cmd = saved_cmd;
    c->db = saved_db;
    bs->serve_key = NULL;
    bs->serve_keylen = 0;
    return !bs->still_blocked;
}

/* Serve the waiters of one ready key while it holds what they wait for. */
static void serve_key(srv *s, int dbid, const kstr key, client_vec *served)
{
    kvdb *db = &s->dbs[dbid];
    size_t len = kstr_len(key);
    if (!db->blocking)
        return;
    dict_entry *e = dict_find(db->blocking, key, len);
    if (!e)
        return;
    /* snapshot: serving removes clients from the queue being walked */
    block_waiters *w = e->v.ptr;
    size_t n = w->len;
    client **snap = mem_alloc(n * sizeof(client *));
    memcpy(snap, w->v, n * sizeof(client *));
    for (size_t i = 0; i < n; i++) {
        client *c = snap[i];
        if (!(c->flags & CLIENT_BLOCKED) || c->bstate.dbid != dbid)
            continue;
        obj *o = db_lookup_write(db, key, len);
        if (!o)
            break;
        if (o->type != c->bstate.wait_type)
            continue;
        if (rerun_blocked(c, key, len)) {
            blocking_unblock(c, 0);
            client_vec_push(served, c);
        }
    }
    mem_free(snap);
}

/* Resume served clients in the order they were served. Only the outermost
 * caller drains the queue; nested calls (from a resumed pipeline) just
 * leave their clients queued. */
static void resume_queue_drain(srv *s)
{
    block_module *m = s->ready_keys;
    if (!m || m->resuming)
        return;
    m->resuming = 1;
    while (m->resume.len) {
        client *c = m->resume.v[0];
        memmove(&m->resume.v[0], &m->resume.v[1], (m->resume.len - 1) * sizeof(client *));
        m->resume.len--;
        c->flags &= ~(uint32_t)CLIENT_EXECUTING;
        client_schedule_write(c);
        /* may free c (CLOSE_ASAP), may block it again */
        client_process_input(c);
    }
    m->resuming = 0;
    module_maybe_free(s);
}

static void resume_queue_push(srv *s, client *c)
{
    c->flags |= CLIENT_EXECUTING;
    client_vec_push(&module_get(s)->resume, c);
}

void blocking_handle_ready(srv *s)
{
    client_vec served = {0};
    block_module *m;
    while ((m = s->ready_keys) != NULL && m->ready.len) {
        /* signals raised while serving (BLMOVE pushes) go to a fresh set */
        block_ready r = m->ready;
        memset(&m->ready, 0, sizeof(m->ready));
        for (size_t i = 0; i < r.len; i++)
            serve_key(s, r.dbids[i], r.keys[i], &served);
        ready_release(&r);
    }
    for (size_t i = 0; i < served.len; i++)
        resume_queue_push(s, served.v[i]);
    mem_free(served.v);
    resume_queue_drain(s);
    module_maybe_free(s);
}

/* ---- timeouts ----------------------------------------------------------- */

void blocking_cron(srv *s)
{
    block_module *m = s->ready_keys;
    if (!m || m->blocked.len == 0)
        return;
    client_vec expired = {0};
    for (size_t i = 0; i < m->blocked.len; i++) {
        client *c = m->blocked.v[i];
        if (c->bstate.timeout_ms != 0 && c->bstate.timeout_ms <= s->mstime)
            client_vec_push(&expired, c);
    }
    /* m may be freed by the last unblock: do not touch it below */
    for (size_t i = 0; i < expired.len; i++) {
        blocking_unblock(expired.v[i], 1);
        resume_queue_push(s, expired.v[i]);
    }
    mem_free(expired.v);
    resume_queue_drain(s);
}

int blocking_client_unblock(client *c, int with_error)
{
    if (!(c->flags & CLIENT_BLOCKED))
        return 0;
    if (with_error) {
        blocking_unblock(c, 0);
        reply_error(c, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    } else {
        blocking_unblock(c, 1);
    }
    /* resumed by blocking_handle_ready once the CLIENT UNBLOCK command that
     * called us has finished, not in the middle of it */
    resume_queue_push(c->srv, c);
    return 1;
}

void blocking_scan_ready(kvdb *db)
{
    if (!db->blocking || dict_size(db->blocking) == 0)
        return;
    dict_iter it;
    dict_entry *e;
    dict_iter_init(db->blocking, &it, 0);
    while ((e = dict_iter_next(&it)) != NULL) {
        obj *o = db_lookup_quiet(db, e->key, kstr_len(e->key));
        if (o && (o->type == OBJ_LIST || o->type == OBJ_ZSET))
            blocking_signal_ready(db, e->key, kstr_len(e->key));
    }
    dict_iter_release(&it);
}

/* Redis 7.0 converts seconds * 1000 to long long with a plain cast; on
 * x86-64 an out-of-range value (1e20, inf) becomes LLONG_MIN, which is why
 * Redis answers "timeout is negative" for those. The comparison below
 * reproduces that without undefined behaviour. */
int blocking_parse_timeout(client *c, const resp_arg *arg, int64_t *abs_ms)
{
    long double secs;
    if (!util_str_to_ldouble(arg->ptr, arg->len, &secs)) {
        reply_error(c, ERR_TIMEOUT_INVALID);
        return -1;
    }
    long double ms = secs * 1000.0L;
    long long tval;
    if (ms >= 9223372036854775807.0L || ms < -9223372036854775807.0L)
        tval = LLONG_MIN;
    else
        tval = (long long)ms;
    if (tval < 0) {
        reply_error(c, ERR_TIMEOUT_NEGATIVE);
        return -1;
    }
    if (tval == 0) {
        *abs_ms = 0;
        return 0;
    }
    int64_t now = c->srv->mstime;
    *abs_ms = tval > INT64_MAX - now ? INT64_MAX : now + tval;
    return 0;
}
