/* redis_uv.c - hiredis <-> libuv glue (see redis_uv.h). */
#include "redis_uv.h"

#include <stdio.h>
#include <stdlib.h>

struct uvredis {
    redisAsyncContext *ac;    /* NULL once hiredis cleaned up */
    uv_poll_t poll;
    int events;
};

static void uvredis_on_poll(uv_poll_t *h, int status, int events)
{
    struct uvredis *u = h->data;
    if (status < 0)
        events = UV_READABLE | UV_WRITABLE;
    if (u->ac != NULL && (events & UV_READABLE))
        redisAsyncHandleRead(u->ac);
    /* The read may have freed the context (cleanup sets u->ac = NULL). */
    if (u->ac != NULL && (events & UV_WRITABLE))
        redisAsyncHandleWrite(u->ac);
}

static void uvredis_update(struct uvredis *u)
{
    if (u->events != 0)
        (void)uv_poll_start(&u->poll, u->events, uvredis_on_poll);
    else
        (void)uv_poll_stop(&u->poll);
}

static void uvredis_add_read(void *p)
{
    struct uvredis *u = p;
    u->events |= UV_READABLE;
    uvredis_update(u);
}

static void uvredis_del_read(void *p)
{
    struct uvredis *u = p;
    u->events &= ~UV_READABLE;
    uvredis_update(u);
}

static void uvredis_add_write(void *p)
{
    struct uvredis *u = p;
    u->events |= UV_WRITABLE;
    uvredis_update(u);
}

static void uvredis_del_write(void *p)
{
    struct uvredis *u = p;
    u->events &= ~UV_WRITABLE;
    uvredis_update(u);
}

static void uvredis_closed(uv_handle_t *h)
{
    free(h->data);
}

static void uvredis_cleanup(void *p)
{
    struct uvredis *u = p;
    u->ac = NULL;
    uv_close((uv_handle_t *)&u->poll, uvredis_closed);
}

int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (ac->ev.data != NULL)
        return REDIS_ERR;
    struct uvredis *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return REDIS_ERR;
    if (uv_poll_init(loop, &u->poll, ac->c.fd) != 0) {
        free(u);
        return REDIS_ERR;
    }
    u->ac = ac;
    u->poll.data = u;
    ac->ev.data = u;
    ac->ev.addRead = uvredis_add_read;
    ac->ev.delRead = uvredis_del_read;
    ac->ev.addWrite = uvredis_add_write;
    ac->ev.delWrite = uvredis_del_write;
    ac->ev.cleanup = uvredis_cleanup;
    return REDIS_OK;
}

redisAsyncContext *redis_uv_connect(uv_loop_t *loop, const char *host, int port, void *data,
                                    redisConnectCallback *on_connect,
                                    redisDisconnectCallback *on_disconnect, char *err,
                                    size_t errlen)
{
    redisAsyncContext *ac = redisAsyncConnect(host, port);
    if (ac == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (ac->err) {
        snprintf(err, errlen, "connect: %s", ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = data;
    if (redis_uv_attach(ac, loop) != REDIS_OK) {
        snprintf(err, errlen, "cannot attach to the event loop");
        redisAsyncFree(ac);
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

int redis_uv_auth(redisAsyncContext *ac, const char *user, const char *pass,
                  redisCallbackFn *fn, void *priv)
{
    /* Argv form: a password with spaces or '%' must reach the node intact. */
    const char *argv[3] = { "AUTH", user != NULL ? user : pass, pass };
    return redisAsyncCommandArgv(ac, fn, priv, user != NULL ? 3 : 2, argv, NULL);
}
