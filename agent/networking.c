/* networking: accepting connections, reading and parsing input, and writing
 * the output chain, on libuv. Reads land in one shared buffer and are parsed
 * in place; only an incomplete trailing command is copied into the client's
 * own buffer, so idle clients hold no input memory. Output is flushed once
 * per loop iteration (uv_check), first with uv_try_write, the rest with an
 * asynchronous uv_write. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "client.h"
#include "server.h"
#include "command.h"
#include "fence.h"
#include "reply.h"
#include "mem.h"
#include "log.h"
#include "util.h"
#include "multi.h"
#include "blocking.h"
#include "pubsub.h"
#include "monitor.h"
#include "pause.h"
#include "acl.h"
#include "tracking.h"

#define NET_SHARED_BUF (64 * 1024)
#define NET_MAX_IOV 64

static char net_shared_buf[NET_SHARED_BUF];
static int net_shared_busy;

static void client_link(srv *s, client *c)
{
    c->prev = NULL;
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->client_count++;
}

static void client_unlink(srv *s, client *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (s->clients == c)
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->client_count--;
}

/* Clients' parsers allocate through mem.h, so their argument arrays count
 * in used_memory as they did before the parser moved to common/. */
static const resp_allocator client_parser_alloc = { mem_realloc, mem_free };

static client *client_alloc(srv *s)
{
    client *c = mem_calloc(sizeof(*c));
    c->srv = s;
    c->id = ++s->next_client_id;
    c->fd = -1;
    c->db = &s->dbs[0];
    c->resp_version = 2;
    c->ctime_ms = c->last_interaction_ms = s->mstime;
    resp_parser_init_with(&c->parser, (size_t)cmd_string_limit(c), &client_parser_alloc);
    c->tcp.data = c;
    return c;
}

client *client_create(srv *s)
{
    client *c = client_alloc(s);
    c->flags |= CLIENT_FAKE;
    if (!(s->config.requirepass && s->config.requirepass[0]))
        c->flags |= CLIENT_AUTHENTICATED;
    snprintf(c->addr, sizeof(c->addr), "fake");
    return c;
}

/* Everything was written: keep one standard block for the next replies so
 * a busy client does not allocate per command (the cron frees it once the
 * client goes idle). */
static void client_recycle_output(client *c)
{
    reply_block *keep = NULL;
    reply_block *b = c->reply_head;
    while (b) {
        reply_block *next = b->next;
        if (!keep && b->size == CLIENT_REPLY_BLOCK_SIZE)
            keep = b;
        else
            mem_free(b);
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    c->reply_head = c->reply_tail = keep;
    c->reply_bytes = 0;
    c->head_sent = 0;
}

void client_release_spare_output(client *c)
{
    if (c->reply_head && c->reply_head == c->reply_tail && c->reply_head->used == 0 &&
        !c->write_in_flight) {
        mem_free(c->reply_head);
        c->reply_head = c->reply_tail = NULL;
    }
}

static void client_release_output(client *c)
{
    reply_block *b = c->reply_head;
    while (b) {
        reply_block *next = b->next;
        mem_free(b);
        b = next;
    }
    c->reply_head = c->reply_tail = NULL;
    c->reply_bytes = 0;
    c->head_sent = 0;
}

static void client_detach_features(client *c)
{
    srv *s = c->srv;
    if (c->repl && s->on_client_free)
        s->on_client_free(s, c);
    monitor_remove(c);
    if (c->flags & CLIENT_BLOCKED)
        blocking_unblock(c, 0);
    if (c->flags & CLIENT_MULTI || c->mstate.count)
        multi_discard(c);
    multi_unwatch_all(c);
    pubsub_unsubscribe_all(c, 0);
    tracking_client_gone(c);
    if (s->pending_writes) {
        client **pp = &s->pending_writes;
        while (*pp) {
            if (*pp == c) {
                *pp = c->pending_next;
                break;
            }
            pp = &(*pp)->pending_next;
        }
    }
    c->pending_write = 0;
    if (s->current_client == c)
        s->current_client = NULL;
}

static void client_destroy(client *c)
{
    client_release_output(c);
    resp_parser_free(&c->parser);
    mem_free(c->qbuf);
    kstr_free(c->name);
    mem_free(c);
}

void client_free(client *c)
{
    client_detach_features(c);
    client_destroy(c);
}

static void client_on_closed(uv_handle_t *h)
{
    client *c = h->data;
    client_destroy(c);
}

static void client_close_now(client *c)
{
    if (c->flags & CLIENT_CLOSING)
        return;
    c->flags |= CLIENT_CLOSING;
    client_detach_features(c);
    client_unlink(c->srv, c);
    uv_close((uv_handle_t *)&c->tcp, client_on_closed);
}

void client_close(client *c)
{
    if (c->flags & CLIENT_FAKE) {
        client_free(c);
        return;
    }
    if (c->flags & CLIENT_EXECUTING) {
        c->flags |= CLIENT_CLOSE_ASAP;
        return;
    }
    client_close_now(c);
}

void client_close_async(client *c)
{
    if (c->flags & CLIENT_FAKE)
        return;
    c->flags |= CLIENT_CLOSE_ASAP;
    client_schedule_write(c);
}

int client_select_db(client *c, int id)
{
    if (id < 0 || id >= c->srv->dbnum)
        return -1;
    c->db = &c->srv->dbs[id];
    return 0;
}

void client_set_argv(client *c, int argc, const resp_arg *argv)
{
    c->argc = argc;
    c->argv = (resp_arg *)argv;
}

size_t client_output_bytes(const client *c)
{
    return c->reply_bytes + c->inflight_bytes;
}

/* ---- output ---------------------------------------------------------- */

void client_schedule_write(client *c)
{
    if (c->pending_write || (c->flags & (CLIENT_FAKE | CLIENT_CLOSING)))
        return;
    c->pending_write = 1;
    c->pending_next = c->srv->pending_writes;
    c->srv->pending_writes = c;
}

/* Drop n bytes from the head of the chain (they reached the socket). */
static void client_consume_output(client *c, size_t n)
{
    while (n > 0 && c->reply_head) {
        reply_block *b = c->reply_head;
        size_t left = b->used - c->head_sent;
        if (n < left) {
            c->head_sent += n;
            return;
        }
        n -= left;
        c->head_sent = 0;
        if (!b->next && b->size == CLIENT_REPLY_BLOCK_SIZE) {
            /* The last block: reuse it rather than free and allocate. */
            b->used = 0;
            return;
        }
        c->reply_head = b->next;
        if (!c->reply_head)
            c->reply_tail = NULL;
        mem_free(b);
    }
}

static int client_collect_iov(client *c, uv_buf_t *iov, size_t *total)
{
    int n = 0;
    size_t bytes = 0;
    size_t offset = c->head_sent;
    for (reply_block *b = c->reply_head; b && n < NET_MAX_IOV; b = b->next) {
        if (b->used > offset) {
            iov[n].base = b->buf + offset;
            iov[n].len = b->used - offset;
            bytes += iov[n].len;
            n++;
        }
        offset = 0;
    }
    *total = bytes;
    return n;
}

static void client_write(client *c);

static void client_on_write(uv_write_t *req, int status)
{
    client *c = req->data;
    c->write_in_flight = 0;
    if (status < 0) {
        c->inflight_bytes = 0;
        if (!(c->flags & CLIENT_CLOSING))
            client_close(c);
        return;
    }
    c->srv->stats.net_output_bytes += (long long)c->inflight_bytes;
    client_consume_output(c, c->inflight_bytes);
    c->inflight_bytes = 0;
    client_write(c);
}

static void client_after_output_drained(client *c)
{
    if (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP)) {
        client_close(c);
        return;
    }
    if (c->on_drained)
        c->on_drained(c);
}

static void client_write(client *c)
{
    if (c->flags & CLIENT_CLOSING)
        return;
    /* Before the in-flight test: a reader that stopped reading keeps its
     * write in flight forever, and the close is what cancels it. */
    if (c->flags & CLIENT_CLOSE_ASAP) {
        client_close(c);
        return;
    }
    if (c->write_in_flight)
        return;
    /* Durability seam: the AOF reaches the disk before these replies do. */
    if (c->srv->before_reply_write)
        c->srv->before_reply_write(c->srv);
    for (int rounds = 0; rounds < 16; rounds++) {
        uv_buf_t iov[NET_MAX_IOV];
        size_t total = 0;
        int n = client_collect_iov(c, iov, &total);
        if (n == 0) {
            client_recycle_output(c);
            client_after_output_drained(c);
            return;
        }
        int w = uv_try_write((uv_stream_t *)&c->tcp, iov, (unsigned)n);
        if (w == UV_EAGAIN || w == UV_ENOSYS)
            w = 0;
        if (w < 0) {
            client_close(c);
            return;
        }
        c->srv->stats.net_output_bytes += w;
        c->reply_bytes -= (size_t)w <= c->reply_bytes ? (size_t)w : c->reply_bytes;
        client_consume_output(c, (size_t)w);
        if ((size_t)w < total)
            break;
    }
    uv_buf_t iov[NET_MAX_IOV];
    size_t total = 0;
    int n = client_collect_iov(c, iov, &total);
    if (n == 0) {
        client_after_output_drained(c);
        return;
    }
    /* The socket is full: hand the rest to libuv and account it as in flight. */
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, iov, (unsigned)n, client_on_write) != 0) {
        client_close(c);
        return;
    }
    c->write_in_flight = 1;
    c->inflight_bytes = total;
    c->reply_bytes -= total <= c->reply_bytes ? total : c->reply_bytes;
}

void client_flush_pending(srv *s)
{
    while (s->pending_writes) {
        client *c = s->pending_writes;
        s->pending_writes = c->pending_next;
        c->pending_next = NULL;
        c->pending_write = 0;
        client_write(c);
    }
}

/* ---- output limits -------------------------------------------------- */

/* The reply blocks that a pending uv_write still points at: the first ones
 * of the chain, from head_sent on, covering inflight_bytes. Returns the last
 * of them (NULL when no write is in flight). */
static reply_block *client_last_inflight_block(client *c)
{
    if (!c->write_in_flight || c->inflight_bytes == 0)
        return NULL;
    size_t left = c->inflight_bytes;
    size_t offset = c->head_sent;
    reply_block *b = c->reply_head;
    for (; b; b = b->next) {
        size_t here = b->used > offset ? b->used - offset : 0;
        if (here >= left || !b->next)
            return b;
        left -= here;
        offset = 0;
    }
    return NULL;
}

/* Free the output nobody will see: everything not handed to the socket.
 * Blocks an in-flight uv_write reads from stay until libuv lets go of them
 * (the close that follows cancels that write). */
static void client_drop_unsent_output(client *c)
{
    reply_block *keep = client_last_inflight_block(c);
    reply_block *b = keep ? keep->next : c->reply_head;
    while (b) {
        reply_block *next = b->next;
        mem_free(b);
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        c->reply_tail = keep;
    } else {
        c->reply_head = c->reply_tail = NULL;
        c->head_sent = 0;
    }
    c->reply_bytes = 0;
}

/* Close c for a limit. Inside a command, CLIENT_CLOSE_ASAP makes every
 * further reply_* a no-op and the command loop stop; the close itself waits
 * for the command to return (client_after_run). Outside one (a PUBLISH to a
 * subscriber, the cron), the close happens when pending output is flushed,
 * so callers walking client lists never see c vanish. */
static void client_close_for_limit(client *c)
{
    client_drop_unsent_output(c);
    c->flags |= CLIENT_CLOSE_ASAP;
    if (!(c->flags & CLIENT_EXECUTING))
        client_close_async(c);
}

/* client-output-buffer-limit class: 0 normal, 1 replica, 2 pubsub. */
static int client_obuf_class(const client *c)
{
    return (c->flags & CLIENT_REPLICA) ? 1 : (c->flags & CLIENT_PUBSUB) ? 2 : 0;
}

/* The hard limit disconnects at once, the soft one once it has been
 * exceeded continuously for more than soft_seconds (Redis' comparison).
 * The clock is read afresh, not the command's cached time: a single reply
 * that stays over the soft limit for longer must be stopped as it runs.
 * 1 when c is over one of them. */
static int client_over_obuf_limit(client *c, size_t used)
{
    const cfg_obuf_limit *lim = &c->srv->config.obuf_limits[client_obuf_class(c)];
    if (lim->hard && used >= lim->hard)
        return 1;
    if (!lim->soft || used < lim->soft) {
        c->obuf_soft_since_ms = 0;
        return 0;
    }
    int64_t now_ms = util_us_now() / 1000;
    if (c->obuf_soft_since_ms == 0) {
        c->obuf_soft_since_ms = now_ms;
        return 0;
    }
    return now_ms - c->obuf_soft_since_ms > lim->soft_seconds * 1000;
}

/* Below this much pending output a reply is never stopped for maxmemory:
 * a GET of an ordinary value on a cache kept at its limit (the usual state
 * of an allkeys-lru cache) must be served as Redis serves it. */
#define CLIENT_MAXMEM_REPLY_FLOOR (1024 * 1024)

/* maxmemory: a reply whose output takes used memory past maxmemory (and is
 * itself more than CLIENT_MAXMEM_REPLY_FLOOR) is the cause, not a victim:
 * keys cannot be evicted in the middle of a command to make room for it,
 * and without a limit it would grow until the kernel kills the process.
 * Replication links are left to their own limit (the replica class). */
static int client_over_maxmemory(client *c, size_t output)
{
    srv *s = c->srv;
    if (!s->config.maxmemory || output < CLIENT_MAXMEM_REPLY_FLOOR ||
        (c->flags & (CLIENT_MASTER | CLIENT_REPLICA)))
        return 0;
    return srv_used_memory(s) > s->config.maxmemory;
}

/* Looking at every client costs a pass over the list: do it once c grew by
 * a step (a 64th of the limit, at least one output block) since c last did. */
static int client_grew_enough_to_look(client *c, size_t limit)
{
    size_t mem = client_memory_usage(c);
    size_t step = limit / 64 > CLIENT_REPLY_BLOCK_SIZE ? limit / 64 : CLIENT_REPLY_BLOCK_SIZE;
    if (mem < c->mem_at_last_check) {
        c->mem_at_last_check = mem;     /* drained: measure growth from here */
        return 0;
    }
    if (mem - c->mem_at_last_check < step)
        return 0;
    c->mem_at_last_check = mem;
    return 1;
}

void client_check_output_limits(client *c)
{
    if (c->flags & (CLIENT_FAKE | CLIENT_CLOSE_ASAP | CLIENT_CLOSING))
        return;
    srv *s = c->srv;
    size_t output = client_output_bytes(c);
    if (client_over_obuf_limit(c, output)) {
        log_msg(LOG_WARNING,
                "Client id=%llu addr=%s omem=%zu scheduled to be closed ASAP for overcoming of output buffer limits.",
                (unsigned long long)c->id, c->addr, output);
        s->stats.client_obuf_limit_disconnections++;
        client_close_for_limit(c);
        return;
    }
    if (client_over_maxmemory(c, output)) {
        log_msg(LOG_WARNING,
                "Client id=%llu addr=%s omem=%zu scheduled to be closed ASAP: its output took used memory (%zu) past maxmemory (%llu).",
                (unsigned long long)c->id, c->addr, output, srv_used_memory(s),
                s->config.maxmemory);
        s->stats.client_maxmemory_disconnections++;
        client_close_for_limit(c);
        return;
    }
    size_t limit = client_eviction_limit(s);
    if (limit && client_grew_enough_to_look(c, limit))
        client_evict_if_needed(s);
}

/* ---- client eviction (maxmemory-clients) ------------------------------ */

/* Redis refuses to let a tiny maxmemory-clients cut every connection,
 * including the one that could raise it again: the limit is at least this. */
#define CLIENT_EVICTION_MIN_LIMIT (128 * 1024)

size_t client_eviction_limit(const srv *s)
{
    long long v = s->config.maxmemory_clients;
    unsigned long long limit;
    if (v == 0)
        return 0;
    if (v < 0)      /* a percentage of maxmemory */
        limit = s->config.maxmemory / 100 * (unsigned long long)(-v) +
                s->config.maxmemory % 100 * (unsigned long long)(-v) / 100;
    else
        limit = (unsigned long long)v;
    if (limit == 0)
        return 0;
    if (limit < CLIENT_EVICTION_MIN_LIMIT)
        limit = CLIENT_EVICTION_MIN_LIMIT;
    return limit > SIZE_MAX ? SIZE_MAX : (size_t)limit;
}

static size_t client_parser_args_memory(const client *c);

size_t client_memory_usage(const client *c)
{
    return sizeof(*c) + c->qbuf_cap + client_parser_args_memory(c) + c->parser.scratch_cap +
           client_output_bytes(c);
}

static int client_evictable(const client *c)
{
    return !(c->flags & (CLIENT_MASTER | CLIENT_REPLICA | CLIENT_NO_EVICT | CLIENT_FAKE |
                         CLIENT_CLOSING | CLIENT_CLOSE_ASAP));
}

/* The evictable client holding most memory, NULL when none. */
static client *client_biggest_evictable(srv *s, size_t *mem)
{
    client *best = NULL;
    size_t best_mem = 0;
    for (client *c = s->clients; c; c = c->next) {
        if (!client_evictable(c))
            continue;
        size_t m = client_memory_usage(c);
        if (!best || m > best_mem) {
            best = c;
            best_mem = m;
        }
    }
    *mem = best_mem;
    return best;
}

/* Clients already on their way out still hold their (in-flight) memory, but
 * it is going: count only the living. */
static size_t client_total_memory(srv *s)
{
    size_t total = 0;
    for (client *c = s->clients; c; c = c->next)
        if (!(c->flags & (CLIENT_CLOSING | CLIENT_CLOSE_ASAP | CLIENT_FAKE)))
            total += client_memory_usage(c);
    return total;
}

/* Biggest first, as Redis 7.0 does: the fewest clients go. Each pass is one
 * walk of the list; the number of passes is bounded by the client count. */
int client_evict_if_needed(srv *s)
{
    size_t limit = client_eviction_limit(s);
    if (!limit)
        return 0;
    size_t total = client_total_memory(s);
    int evicted = 0;
    while (total > limit) {
        size_t mem;
        client *victim = client_biggest_evictable(s, &mem);
        if (!victim)
            break;
        log_msg(LOG_NOTICE, "Evicting client: id=%llu addr=%s name=%s tot-mem=%zu (clients hold %zu bytes, maxmemory-clients is %zu)",
                (unsigned long long)victim->id, victim->addr, victim->name ? victim->name : "",
                mem, total, limit);
        s->stats.evicted_clients++;
        client_close_for_limit(victim);
        total -= mem <= total ? mem : total;
        evicted++;
    }
    return evicted;
}

/* ---- input ----------------------------------------------------------- */

/* Past this, a reservation is for one big argument whose length the
 * parser already knows: take exactly that (as Redis does), not the next
 * power of two, which would count up to twice the argument against
 * maxmemory-clients. */
#define CLIENT_QBUF_BIG_ARG (32 * 1024)

static void client_qbuf_reserve(client *c, size_t extra)
{
    size_t want = c->qbuf_len + extra;
    if (want <= c->qbuf_cap)
        return;
    size_t cap = c->qbuf_cap ? c->qbuf_cap : 16 * 1024;
    if (extra > CLIENT_QBUF_BIG_ARG)
        cap = want;
    while (cap < want)
        cap *= 2;
    c->qbuf = mem_realloc(c->qbuf, cap);
    c->qbuf_cap = cap;
}

static void client_protocol_error(client *c)
{
    log_msg(LOG_VERBOSE, "Protocol error (%s) from client: id=%llu addr=%s",
            c->parser.errstr, (unsigned long long)c->id, c->addr);
    reply_error(c, c->parser.errstr);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* CLIENT REPLY SKIP mutes exactly the command after it. */
static void client_begin_skip(client *c)
{
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
        c->flags |= CLIENT_REPLY_SKIP | CLIENT_NO_REPLY;
    }
}

static void client_end_skip(client *c)
{
    if (c->flags & CLIENT_REPLY_SKIP)
        c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_NO_REPLY);
}

/* A pipelined batch: warm the cache for the keys of the commands ahead so
 * their lookups miss in parallel rather than one after another. Windows of
 * NET_PEEK_WINDOW commands are warmed one window before they run, so the
 * loads have a whole window's work to arrive in. */
#define NET_PEEK_WINDOW 16
typedef struct prefetch_cursor {
    size_t pos;      /* where the next look-ahead starts in the buffer */
    size_t warmed;   /* commands from the current one up to pos */
    int done;        /* nothing more to look at in this buffer */
} prefetch_cursor;

static void client_prefetch_ahead(client *c, const char *buf, size_t len, size_t at,
                                  prefetch_cursor *pc)
{
    if (pc->pos < at) {     /* a command read differently than peeked */
        pc->pos = at;
        pc->warmed = 0;
    }
    while (!pc->done && pc->warmed <= NET_PEEK_WINDOW) {
        resp_peek frames[NET_PEEK_WINDOW];
        size_t n = resp_peek_frames(buf + pc->pos, len - pc->pos, frames, NET_PEEK_WINDOW);
        if (n < NET_PEEK_WINDOW)
            pc->done = 1;
        if (n == 0 || (n == 1 && pc->warmed == 0))
            return;     /* a lone command: nothing to overlap */
        cmd_prefetch_keys(c, frames, n);
        pc->pos += frames[n - 1].end;
        pc->warmed += n;
    }
}

/* The containers of the COMMAND INFO table (CLIENT, CONFIG, OBJECT...),
 * found once: a command's full name is "container|sub" only for them. */
static const cmd_def *net_containers[32];
static int net_container_count = -1;

static void net_find_containers(void)
{
    net_container_count = 0;
    for (size_t i = 0; i < cmd_info_table_len; i++) {
        const char *bar = strchr(cmd_info_table[i].fullname, '|');
        if (!bar)
            continue;
        const cmd_def *d = cmd_lookup(cmd_info_table[i].fullname, (size_t)(bar - cmd_info_table[i].fullname));
        int known = d == NULL;
        for (int j = 0; j < net_container_count && !known; j++)
            known = net_containers[j] == d;
        if (!known && net_container_count < (int)(sizeof(net_containers) / sizeof(net_containers[0])))
            net_containers[net_container_count++] = d;
    }
}

static int net_is_container(const cmd_def *d)
{
    if (net_container_count < 0)
        net_find_containers();
    for (int j = 0; j < net_container_count; j++)
        if (net_containers[j] == d)
            return 1;
    return 0;
}

/* The full name of a subcommand as COMMAND INFO spells it ("client|list"),
 * a static string, or NULL for a plain command or an unknown subcommand. */
static const char *client_subcommand_fullname(const cmd_def *d, int argc, const resp_arg *argv)
{
    if (!d || argc < 2 || d->arity < -2 || d->arity > 0 || !net_is_container(d))
        return NULL;
    char full[96];
    size_t nlen = strlen(d->name);
    if (nlen + 1 + argv[1].len >= sizeof(full))
        return NULL;
    memcpy(full, d->name, nlen);
    full[nlen] = '|';
    memcpy(full + nlen + 1, argv[1].ptr, argv[1].len);
    const cmd_info_entry *e = cmd_info_lookup(full, nlen + 1 + argv[1].len);
    return e ? e->fullname : NULL;
}

static void client_note_last_command(client *c)
{
    c->last_cmd_fullname = client_subcommand_fullname(c->last_cmd, c->argc, c->argv);
}

/* Parse and run every complete command in buf. Returns bytes consumed. */
static size_t client_run_buffer(client *c, const char *buf, size_t len)
{
    srv *s = c->srv;
    size_t pos = 0;
    prefetch_cursor ahead = {0, 0, 0};
    c->flags |= CLIENT_EXECUTING;
    while (pos < len) {
        if (c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED_READ | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP |
                        CLIENT_CLOSING))
            break;
        client_prefetch_ahead(c, buf, len, pos, &ahead);
        if (ahead.warmed > 0)
            ahead.warmed--;
        c->parser.auth_required = s->config.requirepass && s->config.requirepass[0] &&
                                  !(c->flags & CLIENT_AUTHENTICATED);
        /* Read per command, as Redis reads proto-max-bulk-len: a CONFIG SET
         * applies to connected clients at once. Capped at what a kstr holds,
         * so no argument can reach the kstr limit's abort(). */
        c->parser.max_bulk_len = (size_t)cmd_string_limit(c);
        resp_arg *argv = NULL;
        int argc = 0;
        size_t consumed = 0;
        int r = resp_parse(&c->parser, buf + pos, len - pos, &argv, &argc, &consumed);
        if (r == RESP_PARSE_MORE)
            break;
        if (r == RESP_PARSE_ERROR) {
            client_protocol_error(c);
            resp_parser_reset(&c->parser);
            pos = len;
            break;
        }
        if (r == RESP_PARSE_DONE && pause_postpones(c, argc, argv)) {
            /* Left unconsumed: parsed again when the pause ends. */
            resp_parser_reset(&c->parser);
            pause_hold_client(c);
            break;
        }
        if (r == RESP_PARSE_DONE) {
            c->argc = argc;
            c->argv = argv;
            s->current_client = c;
            srv_update_time(s);
            /* The cron notices a stall only between loop iterations, but
             * after a SIGSTOP/SIGCONT the commands of an I/O callback (the
             * rest of a pipeline the stop cut in two, input read in the
             * same epoll batch) run first: check before each one. Free
             * without `controller`; otherwise one rdtsc, and a system call
             * only once the cron is overdue (fence.h). */
            if (fence_stall_due(&s->fence))
                fence_check_stall(s);
            c->last_interaction_ms = s->mstime;
            client_begin_skip(c);
            c->exec_qbuf = len;
            cmd_process(c);
            c->exec_qbuf = 0;
            client_note_last_command(c);
            client_end_skip(c);
            if (!(c->flags & CLIENT_MASTER))
                s->client_commands++;
            s->current_client = NULL;
            c->argc = 0;
            c->argv = NULL;
        }
        resp_parser_reset(&c->parser);
        if ((c->flags & CLIENT_MASTER) && s->on_master_stream)
            s->on_master_stream(s, c, buf + pos, consumed);
        pos += consumed;
    }
    c->flags &= ~CLIENT_EXECUTING;
    return pos;
}

static void client_after_run(client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP) {
        client_release_output(c);
        client_close(c);
        return;
    }
    if (c->reply_head)
        client_schedule_write(c);
}

void client_process_input(client *c)
{
    if (c->flags & (CLIENT_FAKE | CLIENT_CLOSING))
        return;
    size_t used = client_run_buffer(c, c->qbuf + c->qbuf_pos, c->qbuf_len - c->qbuf_pos);
    c->qbuf_pos += used;
    if (c->qbuf_pos == c->qbuf_len) {
        c->qbuf_pos = c->qbuf_len = 0;
    }
    client_after_run(c);
}

static void client_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    client *c = h->data;
    if (c->qbuf_len == c->qbuf_pos && !net_shared_busy) {
        net_shared_busy = 1;
        buf->base = net_shared_buf;
        buf->len = sizeof(net_shared_buf);
        return;
    }
    /* Compact, then make room: at least what the parser says it needs. */
    if (c->qbuf_pos > 0) {
        memmove(c->qbuf, c->qbuf + c->qbuf_pos, c->qbuf_len - c->qbuf_pos);
        c->qbuf_len -= c->qbuf_pos;
        c->qbuf_pos = 0;
    }
    size_t need = resp_parser_needed(&c->parser);
    size_t extra = 16 * 1024;
    if (need > c->qbuf_len && need - c->qbuf_len > extra)
        extra = need - c->qbuf_len;
    client_qbuf_reserve(c, extra);
    buf->base = c->qbuf + c->qbuf_len;
    buf->len = c->qbuf_cap - c->qbuf_len;
}

static void client_stash_rest(client *c, const char *p, size_t n)
{
    client_qbuf_reserve(c, n);
    memcpy(c->qbuf + c->qbuf_len, p, n);
    c->qbuf_len += n;
}

/* What the parser holds for the arguments of the command being read. */
static size_t client_parser_args_memory(const client *c)
{
    const resp_parser *p = &c->parser;
    return (size_t)(p->argv_cap > 0 ? p->argv_cap : 0) *
           (sizeof(*p->offs) + sizeof(*p->lens) + sizeof(*p->argv));
}

/* client-query-buffer-limit. Our query buffer keeps a whole incomplete
 * command (Redis' keeps only its unparsed tail), and the parser's argument
 * arrays are counted with it: a multibulk announcing 2^31-1 tiny arguments
 * costs 32 bytes of arrays per 7 bytes sent, and would otherwise grow to
 * several times the limit before the buffer itself reached it. */
static void client_check_qbuf_limit(client *c)
{
    size_t pending = c->qbuf_len - c->qbuf_pos;
    if (pending > c->qbuf_peak)
        c->qbuf_peak = pending;
    size_t held = pending + (pending ? client_parser_args_memory(c) : 0);
    if (held >= c->srv->config.client_query_buffer_limit) {
        log_msg(LOG_WARNING, "Closing client that reached max query buffer length: id=%llu addr=%s (qbuf size=%zu, argv-mem=%zu)",
                (unsigned long long)c->id, c->addr, pending, held - pending);
        c->srv->stats.client_qbuf_limit_disconnections++;
        client_close(c);
    }
}

static void client_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    client *c = stream->data;
    int shared = buf->base == net_shared_buf;
    /* The shared buffer stays reserved while the commands read into it run:
     * a busy script (script.c) serves other clients from inside a command,
     * and their reads must not overwrite the running command's arguments. */
    if (shared && (nread <= 0 || (c->flags & CLIENT_CLOSING)))
        net_shared_busy = 0;
    if (nread < 0) {
        if (nread != UV_EOF)
            log_msg(LOG_VERBOSE, "Reading from client: %s", uv_strerror((int)nread));
        client_close(c);
        return;
    }
    if (nread == 0 || (c->flags & CLIENT_CLOSING))
        return;
    c->srv->stats.net_input_bytes += nread;
    if (shared) {
        size_t used = 0;
        if (!(c->flags & CLIENT_BLOCKED))
            used = client_run_buffer(c, buf->base, (size_t)nread);
        if (used < (size_t)nread && !(c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSING | CLIENT_CLOSE_ASAP)))
            client_stash_rest(c, buf->base + used, (size_t)nread - used);
        net_shared_busy = 0;
    } else {
        c->qbuf_len += (size_t)nread;
        if (!(c->flags & CLIENT_BLOCKED)) {
            size_t used = client_run_buffer(c, c->qbuf + c->qbuf_pos, c->qbuf_len - c->qbuf_pos);
            c->qbuf_pos += used;
        }
        if (c->qbuf_pos == c->qbuf_len)
            c->qbuf_pos = c->qbuf_len = 0;
    }
    if (c->flags & CLIENT_CLOSING)
        return;
    client_check_qbuf_limit(c);
    if (c->flags & CLIENT_CLOSING)
        return;
    /* A query buffer counts towards maxmemory-clients as output does. */
    size_t evict_limit = client_eviction_limit(c->srv);
    if (evict_limit && client_grew_enough_to_look(c, evict_limit))
        client_evict_if_needed(c->srv);
    /* Release a large idle buffer so thousands of clients stay cheap. */
    if (c->qbuf_len == 0 && c->qbuf_cap > 64 * 1024) {
        mem_free(c->qbuf);
        c->qbuf = NULL;
        c->qbuf_cap = 0;
    }
    client_after_run(c);
}

/* ---- outgoing connections ---------------------------------------------- */


client *client_new_outgoing(srv *s)
{
    client *c = client_alloc(s);
    if (uv_tcp_init(s->loop, &c->tcp) != 0) {
        client_destroy(c);
        return NULL;
    }
    c->tcp.data = c;
    c->flags |= CLIENT_AUTHENTICATED;
    client_link(s, c);
    return c;
}

int client_start_reading(client *c)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
        c->fd = fd;
    return uv_read_start((uv_stream_t *)&c->tcp, client_alloc_cb, client_read_cb);
}

/* ---- accept ---------------------------------------------------------- */

static void net_format_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        port = ntohs(in->sin_port);
        snprintf(out, len, "%s:%d", ip, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
        snprintf(out, len, "%s:%d", ip, port);
    } else {
        snprintf(out, len, "?:0");
    }
}

/* Protected mode treats only 127.0.0.1 and ::1 as local, as Redis does. */
static int net_peer_is_local(const char *addr)
{
    return strncmp(addr, "127.0.0.1:", 10) == 0 || strncmp(addr, "::1:", 4) == 0;
}

static const char net_denied_msg[] =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. "
    "In this mode connections are only accepted from the loopback interface. "
    "If you want to connect from external computers to Redis you may adopt one of the following solutions: "
    "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. "
    "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. "
    "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. "
    "4) Setup a an authentication password for the default user. "
    "NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

static void net_reject(client *c, const char *msg)
{
    /* Best effort: the socket is fresh, a short message fits its buffer. */
    uv_buf_t b = uv_buf_init((char *)msg, (unsigned)strlen(msg));
    (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    client_close_now(c);
}

static void net_on_connection(uv_stream_t *server, int status)
{
    srv_listener *l = server->data;
    srv *s = l->srv;
    if (status < 0) {
        log_msg(LOG_WARNING, "Accepting client connection: %s", uv_strerror(status));
        return;
    }
    srv_update_time(s);
    client *c = client_alloc(s);
    if (uv_tcp_init(s->loop, &c->tcp) != 0) {
        client_destroy(c);
        return;
    }
    c->tcp.data = c;
    client_link(s, c);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        client_close_now(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (s->config.tcp_keepalive > 0)
        uv_tcp_keepalive(&c->tcp, 1, (unsigned)s->config.tcp_keepalive);
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
        c->fd = fd;
    client_update_addrs(c);
    s->stats.total_connections_received++;
    if (!(s->config.requirepass && s->config.requirepass[0]))
        c->flags |= CLIENT_AUTHENTICATED;

    /* maxclients counts connected clients, as Redis does. */
    if ((long long)s->client_count > s->config.maxclients) {
        s->stats.rejected_connections++;
        net_reject(c, "-ERR max number of clients reached\r\n");
        return;
    }
    if (s->config.protected_mode && !(s->config.requirepass && s->config.requirepass[0]) &&
        !net_peer_is_local(c->addr)) {
        s->stats.rejected_connections++;
        net_reject(c, net_denied_msg);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, client_alloc_cb, client_read_cb) != 0)
        client_close_now(c);
}

void client_update_addrs(client *c)
{
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0)
        net_format_addr(&ss, c->addr, sizeof(c->addr));
    sl = sizeof(ss);
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &sl) == 0)
        net_format_addr(&ss, c->laddr, sizeof(c->laddr));
}

static void net_listener_freed(uv_handle_t *h)
{
    mem_free(h->data);
}

void net_listener_close(srv_listener *l)
{
    if (l && !uv_is_closing((uv_handle_t *)&l->tcp))
        uv_close((uv_handle_t *)&l->tcp, net_listener_freed);
}

srv_listener *net_listen(srv *s, const char *addr, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    int r;
    if (strchr(addr, ':'))
        r = uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss);
    else
        r = uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss);
    if (r != 0) {
        snprintf(err, errlen, "Invalid bind address '%s'", addr);
        return NULL;
    }
    srv_listener *l = mem_calloc(sizeof(*l));
    l->srv = s;
    snprintf(l->addr, sizeof(l->addr), "%s", addr);
    if ((r = uv_tcp_init(s->loop, &l->tcp)) != 0) {
        snprintf(err, errlen, "uv_tcp_init: %s", uv_strerror(r));
        mem_free(l);
        return NULL;
    }
    l->tcp.data = l;
    unsigned flags = strchr(addr, ':') ? UV_TCP_IPV6ONLY : 0;
    r = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, flags);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&l->tcp, s->config.tcp_backlog, net_on_connection);
    if (r != 0) {
        snprintf(err, errlen, "Could not create server TCP listening socket %s:%d: %s",
                 addr, port, uv_strerror(r));
        net_listener_close(l);
        return NULL;
    }
    return l;
}

/* ---- CLIENT LIST line -------------------------------------------------- */

static void client_flags_str(const client *c, char *out)
{
    char *p = out;
    if (c->flags & CLIENT_MONITOR) *p++ = 'O';
    if (c->flags & CLIENT_REPLICA) *p++ = 'S';
    if (c->flags & CLIENT_MASTER) *p++ = 'M';
    if (c->flags & CLIENT_PUBSUB) *p++ = 'P';
    if (c->flags & CLIENT_MULTI) *p++ = 'x';
    /* A command postponed by CLIENT PAUSE is a blocked client in Redis. */
    if (c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED_READ)) *p++ = 'b';
    p = tracking_client_flags(c, p);
    if (c->flags & CLIENT_DIRTY_CAS) *p++ = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *p++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP) *p++ = 'A';
    if (c->flags & CLIENT_NO_EVICT) *p++ = 'e';
    if (p == out) *p++ = 'N';
    *p = '\0';
}

/* argv-mem as Redis shows it: the bytes of the arguments of the command
 * being run (only the client asking has one). */
static size_t client_argv_bytes(const client *c)
{
    size_t n = 0;
    for (int i = 0; c->argv && i < c->argc; i++)
        n += c->argv[i].len;
    return n;
}

kstr client_info_line(client *c, kstr out)
{
    srv *s = c->srv;
    char flags[16];
    client_flags_str(c, flags);
    /* Redis' shape: obl the bytes waiting in its fixed reply buffer (our
     * first block), oll the further reply nodes holding data. */
    size_t obl = 0, oll = 0;
    if (c->reply_head && c->reply_head->used > c->head_sent)
        obl = c->reply_head->used - c->head_sent;
    for (reply_block *b = c->reply_head ? c->reply_head->next : NULL; b; b = b->next)
        oll += b->used > 0;
    size_t rbs = c->reply_head ? c->reply_head->size : CLIENT_REPLY_BLOCK_SIZE;
    size_t rbp = c->reply_head ? c->reply_head->used : 0;
    /* While a command runs, Redis' query buffer still holds it (it is
     * trimmed after the command): qbuf counts from the command on. */
    size_t qbuf = c->exec_qbuf ? c->exec_qbuf : c->qbuf_len - c->qbuf_pos;
    const char *cmdname = c->last_cmd ? c->last_cmd->name : "NULL";
    if (c->last_cmd_fullname)
        cmdname = c->last_cmd_fullname;
    if (c->cmd && (c->flags & CLIENT_EXECUTING)) {
        const char *full = client_subcommand_fullname(c->cmd, c->argc, c->argv);
        cmdname = full ? full : c->cmd->name;
    }
    return kstr_catfmt(out,
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%zu psub=%zu ssub=%zu multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%zu tot-mem=%zu events=r cmd=%s user=%s redir=-1 resp=%d",
        (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
        (long long)((s->mstime - c->ctime_ms) / 1000),
        (long long)((s->mstime - c->last_interaction_ms) / 1000),
        flags, c->db->id,
        c->pubsub.channels ? dict_size(c->pubsub.channels) : (size_t)0,
        c->pubsub.patterns ? dict_size(c->pubsub.patterns) : (size_t)0,
        c->pubsub.shard_channels ? dict_size(c->pubsub.shard_channels) : (size_t)0,
        (c->flags & CLIENT_MULTI) ? c->mstate.count : -1,
        qbuf, c->qbuf_cap - c->qbuf_len, client_argv_bytes(c),
        rbs, rbp, obl, oll, client_output_bytes(c),
        client_memory_usage(c), cmdname, acl_client_user_name(c), c->resp_version);
}
