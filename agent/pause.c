/* pause: CLIENT PAUSE (see pause.h). One pause per process, as one server
 * runs per process; the timer that ends it runs on that server's loop. */
#include <string.h>
#include "pause.h"
#include "client.h"
#include "command.h"
#include "server.h"
#include "log.h"
#include "util.h"

static struct {
    int type;
    int64_t end_ms;
    struct srv *srv;
    uv_timer_t timer;
    int timer_ready;
} pause_state;

static void pause_timer_cb(uv_timer_t *t)
{
    pause_end(t->data);
}

static void pause_arm_timer(srv *s, int64_t end_ms)
{
    if (!pause_state.timer_ready || pause_state.srv != s) {
        if (uv_timer_init(s->loop, &pause_state.timer) != 0)
            return;    /* the lazy check in pause_type() still ends it */
        pause_state.timer.data = s;
        pause_state.timer_ready = 1;
        /* A timer must not keep the loop alive at shutdown. */
        uv_unref((uv_handle_t *)&pause_state.timer);
    }
    int64_t left = end_ms - util_ms_now();
    if (uv_timer_start(&pause_state.timer, pause_timer_cb, left > 0 ? (uint64_t)left : 0, 0) != 0)
        log_msg(LOG_WARNING, "CLIENT PAUSE: cannot arm the end timer");
}

void pause_start(srv *s, int type, int64_t end_ms)
{
    if (type > pause_state.type)
        pause_state.type = type;
    if (end_ms > pause_state.end_ms || pause_state.srv != s)
        pause_state.end_ms = end_ms;
    pause_state.srv = s;
    pause_arm_timer(s, pause_state.end_ms);
}

void pause_end(srv *s)
{
    if (pause_state.srv != s)
        return;
    pause_state.type = PAUSE_OFF;
    pause_state.end_ms = 0;
    if (pause_state.timer_ready)
        uv_timer_stop(&pause_state.timer);
    /* Resume in connection order; a resumed client may close or be
     * paused again by what it runs, so the next one is taken first. */
    client *c = s->clients;
    while (c) {
        client *next = c->next;
        if (c->flags & CLIENT_PAUSED_READ) {
            c->flags &= ~(uint32_t)CLIENT_PAUSED_READ;
            if (!(c->flags & (CLIENT_CLOSING | CLIENT_CLOSE_ASAP)) && client_start_reading(c) == 0)
                client_process_input(c);
        }
        c = next;
    }
}

int pause_type(srv *s)
{
    if (pause_state.srv != s || pause_state.type == PAUSE_OFF)
        return PAUSE_OFF;
    return pause_state.type;
}

static int pause_is_may_replicate(const client *c, const cmd_def *cmd)
{
    if (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))
        return 1;
    if (strcmp(cmd->name, "exec") == 0 && (c->flags & CLIENT_MULTI)) {
        for (int i = 0; i < c->mstate.count; i++)
            if (c->mstate.cmds[i].cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))
                return 1;
    }
    return 0;
}

int pause_postpones(client *c, int argc, const resp_arg *argv)
{
    int type = pause_type(c->srv);
    if (type == PAUSE_OFF || argc == 0)
        return 0;
    if (c->flags & (CLIENT_MASTER | CLIENT_REPLICA | CLIENT_FAKE))
        return 0;
    const cmd_def *cmd = cmd_lookup(argv[0].ptr, argv[0].len);
    /* What cmd_process refuses at once (unknown, arity, NOAUTH) is
     * refused during a pause too: Redis checks those first. */
    if (!cmd || (cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity))
        return 0;
    const char *pass = c->srv->config.requirepass;
    if (pass && pass[0] && !(c->flags & CLIENT_AUTHENTICATED) && !(cmd->flags & CMD_NO_AUTH))
        return 0;
    return type == PAUSE_ALL || pause_is_may_replicate(c, cmd);
}

void pause_hold_client(client *c)
{
    c->flags |= CLIENT_PAUSED_READ;
    if (!(c->flags & CLIENT_FAKE))
        uv_read_stop((uv_stream_t *)&c->tcp);
}
