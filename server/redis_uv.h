/* redis_uv.h - drive a hiredis async context from a libuv loop.
 *
 * Our own adapter rather than hiredis' adapters/libuv.h: when the socket is
 * in error (connection refused, reset), libuv reports the poll with a
 * negative status and no events, and that adapter then does nothing, so a
 * refused connect would only fail at the caller's deadline. Here an error
 * status is handed to hiredis as "readable and writable": it then reads the
 * socket error and disconnects at once.
 *
 * redis_uv_connect() also does the common set-up: connect, attach, connect
 * and disconnect callbacks, and AUTH when a password is given. hiredis 0.14
 * has no async timeouts: callers arm their own timers. */
#ifndef KVFLEET_CTL_REDIS_UV_H
#define KVFLEET_CTL_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

/* Connect to host:port on loop; on failure returns NULL with a reason in
 * err. data is stored in ac->data. */
redisAsyncContext *redis_uv_connect(uv_loop_t *loop, const char *host, int port, void *data,
                                    redisConnectCallback *on_connect,
                                    redisDisconnectCallback *on_disconnect, char *err,
                                    size_t errlen);

/* Queue node-auth's AUTH on ac: "AUTH <user> <pass>" when node-user names
 * an ACL user, else "AUTH <pass>" (the default user). Returns REDIS_OK or
 * REDIS_ERR as redisAsyncCommand does. */
int redis_uv_auth(redisAsyncContext *ac, const char *user, const char *pass,
                  redisCallbackFn *fn, void *priv);

#endif
