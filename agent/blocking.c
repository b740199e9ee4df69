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
 * unblocked clients, drained once the event loop has run this iteration's
 * input callbacks (a libuv check handle; Redis does it in beforeSleep), so
 * the pipeline of the client whose push served the waiters runs to its
 * end first. A resumed pipeline that wakes further waiters appends them
 * behind the clients already queued. Outside a network client's command
 * (tests, cron) the queue is drained at once.
 * Queue entries remember the client id and are checked against the
 * server's client list before use, since a queued client may disconnect
 * in between. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <uv.h>
#include "blocking.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "dict.h"
#include "mem.h"
#include "reply.h"
#include "server.h"
#include "util.h"

/* A growable array of clients (also the waiters of one key, oldest
 * first). */
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
    struct resume_entry *resume;   /* clients waiting to resume, FIFO */
    size_t resume_len;
    size_t resume_cap;
    int resuming;          /* the resume queue is being drained */
    uv_check_t *resume_check;      /* drains the queue after I/O, lazily made */
} block_module;

typedef struct resume_entry {
    client *c;
    uint64_t id;
    int fake;              /* fake clients are in no list: trust them */
} resume_entry;

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
    if (!m || m->blocked.len || m->ready.len || m->resume_len || m->resuming)
        return;
    /* the libuv handle lives as long as the loop (closed by srv_release),
     * so the state holding it stays too */
    if (m->resume_check)
        return;
    ready_release(&m->ready);
    mem_free(m->blocked.v);
    mem_free(m->resume);
    mem_free(m);
    s->ready_keys = NULL;
}

void blocking_release(srv *s)
{
    block_module *m = s->ready_keys;
    if (!m)
        return;
    /* srv_release closed the check handle with the loop; its memory and
     * whatever is still queued go now. Clients are already freed. */
    mem_free(m->resume_check);
    m->resume_check = NULL;
    m->blocked.len = m->resume_len = 0;
    m->resuming = 0;
    ready_release(&m->ready);
    module_maybe_free(s);
}

/* ---- waiter queues ------------------------------------------------------ */

static void waiters_free(client_vec *w)
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
    client_vec *w;
    if (e) {
        w = mem_calloc(sizeof(*w));
        e->v.ptr = w;
    } else {
        w = existing->v.ptr;
        for (size_t i = 0; i < w->len; i++)
            if (w->v[i] == c)
                return 0;
    }
    client_vec_push(w, c);
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
    client_vec *w = e->v.ptr;
    client_vec_remove(w, c);
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
    /* XREAD and XREADGROUP: woken by entries added to a stream */
    if (bs->cmd && bs->cmd->acl_categories && strstr(bs->cmd->acl_categories, "@stream"))
        bs->wait_type = OBJ_STREAM;
    bs->wake_on_gone = bs->cmd != NULL && strcmp(bs->cmd->name, "xreadgroup") == 0;
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
    client_vec *w = e->v.ptr;
    size_t n = w->len;
    client **snap = mem_alloc(n * sizeof(client *));
    memcpy(snap, w->v, n * sizeof(client *));
    for (size_t i = 0; i < n; i++) {
        client *c = snap[i];
        if (!(c->flags & CLIENT_BLOCKED) || c->bstate.dbid != dbid)
            continue;
        obj *o = db_lookup_write(db, key, len);
        /* XREADGROUP is also answered when its stream went away; everybody
         * else waits for the key to hold their type */
        int gone = c->bstate.wake_on_gone && (o == NULL || o->type != OBJ_STREAM);
        if (!gone && (o == NULL || o->type != c->bstate.wait_type))
            continue;
        if (rerun_blocked(c, key, len)) {
            blocking_unblock(c, 0);
            client_vec_push(served, c);
        }
    }
    mem_free(snap);
}

/* Is c (queued with id) still connected? Fake clients are trusted. */
static int resume_entry_alive(srv *s, const resume_entry *e)
{
    if (e->fake)
        return 1;
    for (client *x = s->clients; x; x = x->next)
        if (x == e->c)
            return x->id == e->id;
    return 0;
}

void blocking_process_unblocked(srv *s)
{
    block_module *m = s->ready_keys;
    if (!m || m->resuming)
        return;
    m->resuming = 1;
    while (m->resume_len) {
        resume_entry e = m->resume[0];
        memmove(&m->resume[0], &m->resume[1], (m->resume_len - 1) * sizeof(resume_entry));
        m->resume_len--;
        if (!resume_entry_alive(s, &e) || (e.c->flags & CLIENT_BLOCKED))
            continue;
        client_schedule_write(e.c);
        /* may free e.c or block it again; it is not touched afterwards */
        client_process_input(e.c);
    }
    m->resuming = 0;
    module_maybe_free(s);
}

static void resume_queue_push(srv *s, client *c)
{
    block_module *m = module_get(s);
    if (m->resume_len == m->resume_cap) {
        m->resume_cap = m->resume_cap ? m->resume_cap * 2 : 8;
        m->resume = mem_realloc(m->resume, m->resume_cap * sizeof(resume_entry));
    }
    resume_entry *e = &m->resume[m->resume_len++];
    e->c = c;
    e->id = c->id;
    e->fake = (c->flags & CLIENT_FAKE) != 0;
    /* the reply is ready now, whatever happens to the pipeline */
    client_schedule_write(c);
}

static void resume_check_cb(uv_check_t *h)
{
    uv_check_stop(h);
    blocking_process_unblocked(h->data);
}

/* Inside a network client's command the queue waits until the event loop
 * has run the input callbacks of this iteration: a check handle (started
 * after the server's own, so libuv runs it first, before output is
 * flushed). Outside (tests, cron) it is drained at once. */
static void resume_queue_maybe_drain(srv *s)
{
    client *cur = s->current_client;
    block_module *m = s->ready_keys;
    if (!m || m->resume_len == 0 || m->resuming)
        return;
    if (!cur || (cur->flags & CLIENT_FAKE) || !s->loop) {
        blocking_process_unblocked(s);
        return;
    }
    if (!m->resume_check) {
        m->resume_check = mem_alloc(sizeof(uv_check_t));
        if (uv_check_init(s->loop, m->resume_check) != 0) {
            mem_free(m->resume_check);
            m->resume_check = NULL;
            blocking_process_unblocked(s);
            return;
        }
        m->resume_check->data = s;
        /* never keeps the loop alive on its own */
        uv_unref((uv_handle_t *)m->resume_check);
    }
    if (uv_check_start(m->resume_check, resume_check_cb) != 0)
        blocking_process_unblocked(s);
}

void blocking_handle_ready(srv *s)
{
    client_vec served = {0};
    block_module *m;
    /* A ready key is looked up at the time it is served, not at the cached
     * time of the command that made it ready: a key whose TTL ran out during
     * that command (MULTI ... PEXPIRE ... DEBUG SLEEP ... EXEC) is expired
     * and serves nobody, as in Redis. */
    m = s->ready_keys;
    if (m != NULL && m->ready.len)
        srv_update_time(s);
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
    resume_queue_maybe_drain(s);
    module_maybe_free(s);
}

/* ---- timeouts ----------------------------------------------------------- */

void blocking_cron(srv *s)
{
    block_module *m = s->ready_keys;
    if (!m)
        return;
    client_vec expired = {0};
    for (size_t i = 0; i < m->blocked.len; i++) {
        client *c = m->blocked.v[i];
        if (c->bstate.timeout_ms != 0 && c->bstate.timeout_ms <= s->mstime)
            client_vec_push(&expired, c);
    }
    for (size_t i = 0; i < expired.len; i++) {
        blocking_unblock(expired.v[i], 1);
        resume_queue_push(s, expired.v[i]);
    }
    mem_free(expired.v);
    /* the cron is outside any command: drain (also a fallback for a
     * server loop that does not call blocking_process_unblocked) */
    blocking_process_unblocked(s);
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
    /* resumed after the CLIENT UNBLOCK command that called us, not in the
     * middle of it */
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
    /* Every waited key: serve_key tells a key that now holds what its
     * waiters want from one whose stream went away (XREADGROUP's -UNBLOCKED)
     * and from one that is of no interest. */
    while ((e = dict_iter_next(&it)) != NULL)
        blocking_signal_ready(db, e->key, kstr_len(e->key));
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
        tval = (long long)ceill(ms);   /* Redis rounds up: 1e-3 s is 1 ms, not 0 (forever) */
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
