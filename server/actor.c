/* actor.c - per-node command connections with deadlines (see actor.h).
 *
 * Lifetimes, the careful part: a queued command (struct acmd) is referenced
 * by hiredis until its reply callback runs (hiredis always runs it, with a
 * NULL reply when the connection is freed or lost) and by its deadline timer
 * until the timer's close callback runs. It is freed when both are released.
 * `done` makes the user's callback run exactly once, whichever of reply,
 * timeout or disconnect comes first. A node's `ac` is owned by the node:
 * whoever drops it sets it to NULL before freeing, so a NULL-reply callback
 * during that free never frees it again. */
#include "actor.h"
#include "clock.h"
#include "log.h"
#include "redis_uv.h"

#include <hiredis/async.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct anode {
    struct actor *a;
    int64_t id;
    char host[256];
    int port;
    redisAsyncContext *ac;
    struct anode *next;
};

struct actor {
    uv_loop_t *loop;
    char *auth;
    char *user;                /* node-user, or NULL */
    struct anode *nodes;
    uint64_t sent, failed;
};

struct acmd {
    struct anode *n;
    redisAsyncContext *ac;     /* the connection it was sent on */
    act_cb cb;
    void *arg;
    uv_timer_t timer;
    int refs;
    int done;
    int64_t start_ms;
};

static void acmd_release(struct acmd *c)
{
    if (--c->refs == 0)
        free(c);
}

static void timer_closed(uv_handle_t *h)
{
    acmd_release(h->data);
}

static void acmd_finish(struct acmd *c, const struct act_result *r)
{
    if (c->done)
        return;
    c->done = 1;
    uv_timer_stop(&c->timer);
    if (!r->ok)
        c->n->a->failed++;
    if (c->cb != NULL)
        c->cb(c->arg, r);
    uv_close((uv_handle_t *)&c->timer, timer_closed);
}

static void fail_result(struct act_result *r, struct acmd *c, int timed_out, const char *why)
{
    memset(r, 0, sizeof(*r));
    r->timed_out = timed_out;
    r->elapsed_ms = clock_mono_ms() - c->start_ms;
    snprintf(r->err, sizeof(r->err), "%s", why);
}

static void drop_conn(struct anode *n)
{
    redisAsyncContext *ac = n->ac;
    n->ac = NULL;
    if (ac != NULL)
        redisAsyncFree(ac);
}

static void on_reply(redisAsyncContext *ac, void *rp, void *priv)
{
    struct acmd *c = priv;
    redisReply *reply = rp;
    struct act_result r;
    if (reply == NULL) {
        struct anode *n = c->n;
        if (n->ac == ac)
            n->ac = NULL;          /* hiredis is freeing it */
        fail_result(&r, c, 0, ac->errstr[0] ? ac->errstr : "connection lost");
    } else {
        memset(&r, 0, sizeof(r));
        r.reply = reply;
        r.ok = reply->type != REDIS_REPLY_ERROR;
        r.elapsed_ms = clock_mono_ms() - c->start_ms;
        if (!r.ok)
            snprintf(r.err, sizeof(r.err), "%s", reply->str);
    }
    acmd_finish(c, &r);
    acmd_release(c);
}

static void on_deadline(uv_timer_t *t)
{
    struct acmd *c = t->data;
    struct act_result r;
    char why[64];
    snprintf(why, sizeof(why), "no reply within %lld ms", (long long)(clock_mono_ms() - c->start_ms));
    fail_result(&r, c, 1, why);
    struct anode *n = c->n;
    acmd_finish(c, &r);
    /* A node that does not answer one command will not answer the next
     * one either: start afresh. */
    if (n->ac == c->ac)
        drop_conn(n);
}

static void on_auth(redisAsyncContext *ac, void *rp, void *priv)
{
    struct anode *n = priv;
    redisReply *reply = rp;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
        ctl_log_warning("act: AUTH to %s:%d failed: %s", n->host, n->port, reply->str);
    (void)ac;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct anode *n = ac->data;
    if (status != REDIS_OK && n != NULL && n->ac == ac)
        n->ac = NULL;              /* hiredis frees it after this callback */
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct anode *n = ac->data;
    if (n != NULL && n->ac == ac)
        n->ac = NULL;
}

static struct anode *node_get(struct actor *a, int64_t id, const char *host, int port)
{
    struct anode *n;
    for (n = a->nodes; n != NULL; n = n->next) {
        if (n->id != id)
            continue;
        if (n->port != port || strcmp(n->host, host) != 0) {
            drop_conn(n);          /* the node moved */
            snprintf(n->host, sizeof(n->host), "%s", host);
            n->port = port;
        }
        return n;
    }
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->a = a;
    n->id = id;
    snprintf(n->host, sizeof(n->host), "%s", host);
    n->port = port;
    n->next = a->nodes;
    a->nodes = n;
    return n;
}

static int ensure_conn(struct anode *n, char *err, size_t errlen)
{
    if (n->ac != NULL)
        return 0;
    struct actor *a = n->a;
    redisAsyncContext *ac = redis_uv_connect(a->loop, n->host, n->port, n, on_connect,
                                             on_disconnect, err, errlen);
    if (ac == NULL)
        return -1;
    n->ac = ac;
    if (a->auth != NULL && redis_uv_auth(ac, a->user, a->auth, on_auth, n) != REDIS_OK) {
        snprintf(err, errlen, "cannot queue AUTH");
        drop_conn(n);
        return -1;
    }
    return 0;
}

struct actor *actor_new(uv_loop_t *loop, const char *user, const char *auth)
{
    struct actor *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->loop = loop;
    if ((auth != NULL && (a->auth = strdup(auth)) == NULL) ||
        (user != NULL && (a->user = strdup(user)) == NULL)) {
        free(a->auth);
        free(a);
        return NULL;
    }
    return a;
}

void actor_free(struct actor *a)
{
    if (a == NULL)
        return;
    struct anode *n = a->nodes;
    while (n != NULL) {
        struct anode *next = n->next;
        drop_conn(n);
        free(n);
        n = next;
    }
    free(a->auth);
    free(a->user);
    free(a);
}

void actor_forget(struct actor *a, int64_t node_id)
{
    for (struct anode **pp = &a->nodes; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->id == node_id) {
            struct anode *n = *pp;
            *pp = n->next;
            drop_conn(n);
            free(n);
            return;
        }
    }
}

int actor_cmd_argv(struct actor *a, int64_t node_id, const char *host, int port, int timeout_ms,
                   act_cb cb, void *arg, int argc, const char **argv)
{
    struct anode *n = node_get(a, node_id, host, port);
    char err[256];
    if (n == NULL)
        return -1;
    if (ensure_conn(n, err, sizeof(err)) != 0) {
        ctl_log_verbose("act: %s:%d: %s", host, port, err);
        return -1;
    }
    struct acmd *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    c->n = n;
    c->ac = n->ac;
    c->cb = cb;
    c->arg = arg;
    c->start_ms = clock_mono_ms();
    if (uv_timer_init(a->loop, &c->timer) != 0) {
        free(c);
        return -1;
    }
    c->timer.data = c;
    c->refs = 1;               /* the timer handle */
    if (redisAsyncCommandArgv(n->ac, on_reply, c, argc, argv, NULL) != REDIS_OK) {
        c->done = 1;
        uv_close((uv_handle_t *)&c->timer, timer_closed);
        return -1;
    }
    c->refs++;                 /* hiredis' pending reply */
    a->sent++;
    (void)uv_timer_start(&c->timer, on_deadline, (uint64_t)(timeout_ms > 0 ? timeout_ms : 1000), 0);
    return 0;
}

int actor_cmd(struct actor *a, int64_t node_id, const char *host, int port, int timeout_ms,
              act_cb cb, void *arg, const char *fmt, ...)
{
    /* Split on spaces: every command we format has simple arguments
     * (addresses, numbers, config names); values with spaces go through
     * actor_cmd_argv. */
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof(buf))
        return -1;
    const char *argv[32];
    int argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok != NULL && argc < 32;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    if (argc == 0)
        return -1;
    return actor_cmd_argv(a, node_id, host, port, timeout_ms, cb, arg, argc, argv);
}

uint64_t actor_sent(const struct actor *a) { return a->sent; }
uint64_t actor_failed(const struct actor *a) { return a->failed; }
