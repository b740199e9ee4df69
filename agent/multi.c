/* multi: transactions (MULTI / EXEC / DISCARD) and optimistic locking
 * (WATCH / UNWATCH), with Redis 7.0.15's semantics.
 *
 * Queued commands are copied into one allocation each, since the client's
 * argv points into its input buffer, which moves. WATCH is two indexes of
 * the same facts: each db's `watched` dict maps a key to the clients
 * watching it (in WATCH order), and each client's mstate.watched lists the
 * (db, key) pairs it watches, so a write finds its watchers in O(1) and a
 * client can drop all its watches without scanning the keyspace.
 *
 * Expiry follows 7.0: a key that is already expired when WATCHed is
 * remembered as such (multi_watched.expired); its later deletion is not a
 * change, but anything else is. A key alive at WATCH time that has expired
 * by EXEC aborts the transaction even if nobody deleted it yet. */
#include <string.h>
#include "multi.h"
#include "client.h"
#include "server.h"
#include "command.h"
#include "reply.h"
#include "db.h"
#include "dict.h"
#include "mem.h"
#include "acl.h"

/* ---- argument copies ------------------------------------------------- */

resp_arg *multi_copy_argv(int argc, const resp_arg *argv)
{
    size_t bytes = sizeof(resp_arg) * (size_t)(argc > 0 ? argc : 1);
    for (int i = 0; i < argc; i++)
        bytes += argv[i].len + 1;
    resp_arg *copy = mem_alloc(bytes);
    char *p = (char *)(copy + (argc > 0 ? argc : 1));
    for (int i = 0; i < argc; i++) {
        if (argv[i].len)
            memcpy(p, argv[i].ptr, argv[i].len);
        p[argv[i].len] = '\0';
        copy[i].ptr = p;
        copy[i].len = argv[i].len;
        p += argv[i].len + 1;
    }
    return copy;
}

/* ---- watchers of one key ---------------------------------------------- */

/* One entry of a key's watcher list: the client and the index of the
 * matching pair in its mstate.watched (stable: that array only grows until
 * the client unwatches everything at once). */
typedef struct multi_watcher {
    client *c;
    int idx;
} multi_watcher;

typedef struct multi_watchers {
    multi_watcher *v;
    size_t len;
    size_t cap;
} multi_watchers;

static void multi_watchers_free(void *p)
{
    multi_watchers *w = p;
    if (!w)
        return;
    mem_free(w->v);
    mem_free(w);
}

static const dict_type multi_watched_type = { multi_watchers_free };

static void multi_watchers_push(multi_watchers *w, client *c, int idx)
{
    if (w->len == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 2;
        w->v = mem_realloc(w->v, sizeof(*w->v) * w->cap);
    }
    w->v[w->len].c = c;
    w->v[w->len].idx = idx;
    w->len++;
}

/* Remove c keeping the others in WATCH order. */
static void multi_watchers_remove(multi_watchers *w, const client *c)
{
    for (size_t i = 0; i < w->len; i++) {
        if (w->v[i].c == c) {
            memmove(&w->v[i], &w->v[i + 1], sizeof(*w->v) * (w->len - i - 1));
            w->len--;
            return;
        }
    }
}

static multi_watched *multi_watch_slot(const multi_watcher *wr)
{
    return &wr->c->mstate.watched[wr->idx];
}

/* ---- WATCH bookkeeping -------------------------------------------------- */

static int multi_is_watching(const client *c, int dbid, const char *key, size_t len)
{
    for (int i = 0; i < c->mstate.watched_count; i++) {
        const multi_watched *w = &c->mstate.watched[i];
        if (w->dbid == dbid && kstr_eq_buf(w->key, key, len))
            return 1;
    }
    return 0;
}

static void multi_watch_key(client *c, const char *key, size_t len)
{
    kvdb *db = c->db;
    multi_state *ms = &c->mstate;
    if (multi_is_watching(c, db->id, key, len))
        return;
    if (!db->watched)
        db->watched = dict_create(&multi_watched_type);
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(db->watched, key, len, &existing);
    if (e)
        e->v.ptr = mem_calloc(sizeof(multi_watchers));
    else
        e = existing;
    if (ms->watched_count == ms->watched_cap) {
        ms->watched_cap = ms->watched_cap ? ms->watched_cap * 2 : 4;
        ms->watched = mem_realloc(ms->watched, sizeof(*ms->watched) * (size_t)ms->watched_cap);
    }
    multi_watched *w = &ms->watched[ms->watched_count];
    w->dbid = db->id;
    w->key = kstr_new(key, len);
    w->expired = db_key_is_expired(db, key, len);
    multi_watchers_push(e->v.ptr, c, ms->watched_count);
    if (ms->watched_count == 0)
        c->srv->watching_clients++;
    ms->watched_count++;
}

void multi_unwatch_all(client *c)
{
    multi_state *ms = &c->mstate;
    if (ms->watched_count == 0) {
        mem_free(ms->watched);
        ms->watched = NULL;
        ms->watched_cap = 0;
        return;
    }
    srv *s = c->srv;
    for (int i = 0; i < ms->watched_count; i++) {
        multi_watched *w = &ms->watched[i];
        kvdb *db = &s->dbs[w->dbid];
        dict_entry *e = db->watched ? dict_find(db->watched, w->key, kstr_len(w->key)) : NULL;
        if (e) {
            multi_watchers *list = e->v.ptr;
            multi_watchers_remove(list, c);
            if (list->len == 0)
                dict_delete(db->watched, w->key, kstr_len(w->key));
        }
        kstr_free(w->key);
    }
    mem_free(ms->watched);
    ms->watched = NULL;
    ms->watched_count = 0;
    ms->watched_cap = 0;
    if (s->watching_clients > 0)
        s->watching_clients--;
}

/* At EXEC: a key alive at WATCH time that is now logically expired counts
 * as changed, whether or not something deleted it yet. */
static int multi_watched_key_expired(client *c)
{
    multi_state *ms = &c->mstate;
    for (int i = 0; i < ms->watched_count; i++) {
        multi_watched *w = &ms->watched[i];
        if (w->expired)
            continue;
        kvdb *db = &c->srv->dbs[w->dbid];
        if (db_key_is_expired(db, w->key, kstr_len(w->key)))
            return 1;
    }
    return 0;
}

/* ---- touching ----------------------------------------------------------- */

/* Clients to invalidate, collected first: invalidating unwatches, which
 * edits the very lists and dicts being walked. */
typedef struct multi_victims {
    client **v;
    size_t len;
    size_t cap;
    client *local[16];
} multi_victims;

static void multi_victims_init(multi_victims *vs)
{
    vs->v = vs->local;
    vs->len = 0;
    vs->cap = sizeof(vs->local) / sizeof(vs->local[0]);
}

static void multi_victims_add(multi_victims *vs, client *c)
{
    if (c->flags & CLIENT_DIRTY_CAS)
        return;   /* already collected */
    c->flags |= CLIENT_DIRTY_CAS;
    if (vs->len == vs->cap) {
        size_t cap = vs->cap * 2;
        client **nv = mem_alloc(sizeof(*nv) * cap);
        memcpy(nv, vs->v, sizeof(*nv) * vs->len);
        if (vs->v != vs->local)
            mem_free(vs->v);
        vs->v = nv;
        vs->cap = cap;
    }
    vs->v[vs->len++] = c;
}

/* A dirty client's watches are useless until EXEC/DISCARD/UNWATCH; drop
 * them now so later writes do not pay for them. */
static void multi_victims_finish(multi_victims *vs)
{
    for (size_t i = 0; i < vs->len; i++)
        multi_unwatch_all(vs->v[i]);
    if (vs->v != vs->local)
        mem_free(vs->v);
}

/* Redis 7.0 walks the key's watchers in WATCH order. A watcher that saw
 * the key already expired is not invalidated by the key's deletion (its
 * flag is cleared instead); when the key still exists, 7.0 stops the walk
 * at that watcher, leaving it and the ones after it untouched. */
void multi_touch_key(kvdb *db, const char *key, size_t len)
{
    if (!db->watched || dict_size(db->watched) == 0)
        return;
    dict_entry *e = dict_find(db->watched, key, len);
    if (!e)
        return;
    multi_watchers *list = e->v.ptr;
    int present = dict_find(db->keys, key, len) != NULL;
    multi_victims vs;
    multi_victims_init(&vs);
    for (size_t i = 0; i < list->len; i++) {
        multi_watched *w = multi_watch_slot(&list->v[i]);
        if (w->expired) {
            if (!present) {
                w->expired = 0;
                continue;
            }
            break;
        }
        multi_victims_add(&vs, list->v[i].c);
    }
    multi_victims_finish(&vs);
}

static void multi_touch_db(kvdb *emptied, kvdb *replaced_with, multi_victims *vs)
{
    if (!emptied->watched || dict_size(emptied->watched) == 0)
        return;
    dict_iter it;
    dict_iter_init(emptied->watched, &it, 1);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        size_t klen = kstr_len(e->key);
        int in_emptied = dict_find(emptied->keys, e->key, klen) != NULL;
        int in_other = replaced_with && dict_find(replaced_with->keys, e->key, klen) != NULL;
        if (!in_emptied && !in_other)
            continue;
        multi_watchers *list = e->v.ptr;
        for (size_t i = 0; i < list->len; i++) {
            multi_watched *w = multi_watch_slot(&list->v[i]);
            if (w->expired) {
                if (!in_other) {
                    w->expired = 0;   /* an expired key deleted: no change */
                    continue;
                }
                if (db_key_is_expired(replaced_with, e->key, klen))
                    continue;         /* still (another) expired key */
            } else if (!in_emptied && db_key_is_expired(replaced_with, e->key, klen)) {
                w->expired = 1;       /* absent key replaced by an expired one */
                continue;
            }
            multi_victims_add(vs, list->v[i].c);
        }
    }
    dict_iter_release(&it);
}

void multi_touch_all(kvdb *db)
{
    multi_victims vs;
    multi_victims_init(&vs);
    multi_touch_db(db, NULL, &vs);
    multi_victims_finish(&vs);
}

void multi_touch_swapdb(kvdb *a, kvdb *b)
{
    multi_victims vs;
    multi_victims_init(&vs);
    multi_touch_db(a, b, &vs);
    multi_touch_db(b, a, &vs);
    multi_victims_finish(&vs);
}

/* ---- queueing ----------------------------------------------------------- */

static void multi_free_cmds(multi_state *ms)
{
    for (int i = 0; i < ms->count; i++)
        mem_free(ms->cmds[i].argv);
    mem_free(ms->cmds);
    ms->cmds = NULL;
    ms->count = 0;
    ms->cap = 0;
}

void multi_queue(client *c, const cmd_def *cmd)
{
    multi_state *ms = &c->mstate;
    /* A doomed transaction keeps nothing (7.0 saves the memory too). */
    if (!(c->flags & (CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC))) {
        if (ms->count == ms->cap) {
            ms->cap = ms->cap ? ms->cap * 2 : 2;
            ms->cmds = mem_realloc(ms->cmds, sizeof(*ms->cmds) * (size_t)ms->cap);
        }
        multi_cmd *mc = &ms->cmds[ms->count++];
        mc->cmd = cmd;
        mc->argc = c->argc;
        mc->argv = multi_copy_argv(c->argc, c->argv);
    }
    reply_simple(c, "QUEUED");
}

void multi_discard(client *c)
{
    multi_free_cmds(&c->mstate);
    c->flags &= ~(uint32_t)(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
    multi_unwatch_all(c);
}

void multi_exec_abort(client *c, const char *err)
{
    multi_discard(c);
    if (strncmp(err, "ERR ", 4) == 0)
        err += 4;
    reply_errorf(c, "EXECABORT Transaction discarded because of: %s", err);
}

/* ---- propagation of a transaction --------------------------------------- */

/* While EXEC runs, everything its commands propagate (their own argv,
 * rewrites, lazy-expiry DELs) is captured here. Afterwards it is fed to the
 * real hook, wrapped in MULTI ... EXEC when there is more than one command,
 * which is what 7.0 sends: one write alone is atomic already. */
typedef struct multi_prop_op {
    int dbid;
    int argc;
    resp_arg *argv;
} multi_prop_op;

typedef struct multi_prop {
    srv_propagate_fn *hook;
    multi_prop_op *ops;
    int count;
    int cap;
    struct client *saved_current;  /* multi_capture_begin: restored at the end */
} multi_prop;

static void multi_prop_capture(srv *s, int dbid, int argc, const resp_arg *argv)
{
    client *c = s->current_client;
    multi_prop *p = c ? c->mstate.prop : NULL;
    if (!p)
        return;
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4;
        p->ops = mem_realloc(p->ops, sizeof(*p->ops) * (size_t)p->cap);
    }
    p->ops[p->count].dbid = dbid;
    p->ops[p->count].argc = argc;
    p->ops[p->count].argv = multi_copy_argv(argc, argv);
    p->count++;
}

static void multi_prop_flush(srv *s, multi_prop *p)
{
    static const resp_arg multi_arg[1] = { { "MULTI", 5 } };
    static const resp_arg exec_arg[1] = { { "EXEC", 4 } };
    int wrap = p->count > 1;
    if (wrap)
        srv_propagate(s, p->ops[0].dbid, 1, multi_arg);
    for (int i = 0; i < p->count; i++)
        srv_propagate(s, p->ops[i].dbid, p->ops[i].argc, p->ops[i].argv);
    /* The last op's db: EXEC must not cause a SELECT. */
    if (wrap)
        srv_propagate(s, p->ops[p->count - 1].dbid, 1, exec_arg);
    for (int i = 0; i < p->count; i++)
        mem_free(p->ops[i].argv);
    mem_free(p->ops);
}

/* The same capture for a script's effects (script.c): what the commands
 * run through c propagate is held until multi_capture_end, then fed to the
 * hook, wrapped in MULTI ... EXEC when more than one, as 7.0 replicates a
 * script. Inside an EXEC (already capturing) or with nothing to feed, it
 * does nothing and the effects go where they would have gone. */
int multi_capture_begin(client *c)
{
    srv *s = c->srv;
    if (s->propagate == NULL || s->propagate == multi_prop_capture)
        return 0;
    multi_prop *p = mem_calloc(sizeof(*p));
    p->hook = s->propagate;
    p->saved_current = s->current_client;
    c->mstate.prop = p;
    s->current_client = c;
    s->propagate = multi_prop_capture;
    return 1;
}

void multi_capture_end(client *c, int started)
{
    if (!started)
        return;
    srv *s = c->srv;
    multi_prop *p = c->mstate.prop;
    if (s->propagate == multi_prop_capture)
        s->propagate = p->hook;
    s->current_client = p->saved_current;
    c->mstate.prop = NULL;
    multi_prop_flush(s, p);
    mem_free(p);
}

/* ---- commands ----------------------------------------------------------- */

static void multi_cmd_multi(client *c)
{
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    reply_ok(c);
}

static void multi_cmd_discard(client *c)
{
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    reply_ok(c);
}

/* Run the queued commands as cmd_call would from the network: each sees
 * its own argv in c->argv, and the client's own argv is put back after.
 * Each is checked against the user's rules again, as 7.0 does: an ACL
 * SETUSER between queueing and EXEC turns it into a -NOPERM reply. */
static void multi_run_queued(client *c)
{
    multi_state *ms = &c->mstate;
    int saved_argc = c->argc;
    resp_arg *saved_argv = c->argv;
    const cmd_def *saved_cmd = c->cmd;
    reply_array(c, ms->count);
    for (int i = 0; i < ms->count; i++) {
        c->argc = ms->cmds[i].argc;
        c->argv = ms->cmds[i].argv;
        c->cmd = ms->cmds[i].cmd;
        const char *refusal = acl_exec_refusal(c, c->cmd);
        if (refusal)
            reply_error(c, refusal);
        else
            cmd_call(c, ms->cmds[i].cmd);
    }
    c->argc = saved_argc;
    c->argv = saved_argv;
    c->cmd = saved_cmd;
}

static void multi_cmd_exec(client *c)
{
    srv *s = c->srv;
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    if (multi_watched_key_expired(c))
        c->flags |= CLIENT_DIRTY_CAS;
    if (c->flags & (CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC)) {
        if (c->flags & CLIENT_DIRTY_EXEC)
            reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        else
            reply_null_array(c);
        multi_discard(c);
        return;
    }
    multi_unwatch_all(c);   /* our own writes must not matter any more */

    multi_prop prop;
    memset(&prop, 0, sizeof(prop));
    client *saved_current = s->current_client;
    int capture = s->propagate != NULL;
    if (capture) {
        prop.hook = s->propagate;
        c->mstate.prop = &prop;
        s->current_client = c;
        s->propagate = multi_prop_capture;
    }
    uint32_t had_in_exec = c->flags & CLIENT_IN_EXEC;
    c->flags |= CLIENT_IN_EXEC;
    multi_run_queued(c);
    if (!had_in_exec)
        c->flags &= ~(uint32_t)CLIENT_IN_EXEC;
    if (capture) {
        /* A command of the block (REPLICAOF) may have swapped the hook:
         * then the new one stays and receives what was captured. */
        if (s->propagate == multi_prop_capture)
            s->propagate = prop.hook;
        s->current_client = saved_current;
        c->mstate.prop = NULL;
        multi_prop_flush(s, &prop);
    }
    multi_discard(c);
}

static void multi_cmd_watch(client *c)
{
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    /* Already doomed: watching more cannot change the outcome. */
    if (!(c->flags & CLIENT_DIRTY_CAS)) {
        for (int i = 1; i < c->argc; i++)
            multi_watch_key(c, c->argv[i].ptr, c->argv[i].len);
    }
    reply_ok(c);
}

static void multi_cmd_unwatch(client *c)
{
    multi_unwatch_all(c);
    c->flags &= ~(uint32_t)CLIENT_DIRTY_CAS;
    reply_ok(c);
}

const cmd_def multi_commands[] = {
    {"multi", multi_cmd_multi, 1,
     CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     0, 0, 0, "@fast @transaction"},
    {"exec", multi_cmd_exec, 1,
     CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG,
     0, 0, 0, "@slow @transaction"},
    {"discard", multi_cmd_discard, 1,
     CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     0, 0, 0, "@fast @transaction"},
    {"watch", multi_cmd_watch, -2,
     CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     1, -1, 1, "@fast @transaction"},
    {"unwatch", multi_cmd_unwatch, 1,
     CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     0, 0, 0, "@fast @transaction"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
