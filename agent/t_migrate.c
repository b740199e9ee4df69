/* t_migrate: MIGRATE host port key|"" db timeout [COPY] [REPLACE]
 * [AUTH pw] [AUTH2 user pw] [KEYS key ...], as Redis 7.0 runs it: the
 * keys' DUMP payloads sent to the target as RESTORE commands over a
 * blocking connection (each step bounded by the timeout, the server
 * waits, as redis-server does), then deleted here unless COPY; the command
 * then propagates as DEL of the keys the target acknowledged.
 *
 * Connections are cached per host:port (at most 64, closed after 10 s
 * unused) with the db last selected on them, so a run of MIGRATEs to one
 * target pays one connect and no SELECT. A failure on a cached connection
 * before anything was acknowledged is retried once on a fresh one, unless
 * it was a timeout. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "t_migrate.h"
#include "command.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "db.h"
#include "rdb.h"
#include "notify.h"
#include "kstr.h"
#include "mem.h"
#include "util.h"

#define MIGRATE_CACHE_ITEMS 64
#define MIGRATE_CACHE_TTL_S 10

typedef struct migrate_sock {
    char name[300];      /* "host:port" */
    int fd;              /* -1: free slot */
    long long last_dbid; /* -1: SELECT before the next RESTORE */
    time_t last_use;
} migrate_sock;

static migrate_sock migrate_cache[MIGRATE_CACHE_ITEMS];
static int migrate_cache_ready;
static srv *migrate_cron_srv;

static void migrate_cache_init(void)
{
    if (migrate_cache_ready)
        return;
    for (int i = 0; i < MIGRATE_CACHE_ITEMS; i++)
        migrate_cache[i].fd = -1;
    migrate_cache_ready = 1;
}

static void migrate_sock_close(migrate_sock *ms)
{
    if (ms->fd >= 0)
        close(ms->fd);
    ms->fd = -1;
}

size_t migrate_cached_sockets(void)
{
    size_t n = 0;
    for (int i = 0; migrate_cache_ready && i < MIGRATE_CACHE_ITEMS; i++)
        n += migrate_cache[i].fd >= 0;
    return n;
}

static void migrate_cron(srv *s, void *priv)
{
    (void)s;
    (void)priv;
    time_t now = time(NULL);
    for (int i = 0; migrate_cache_ready && i < MIGRATE_CACHE_ITEMS; i++)
        if (migrate_cache[i].fd >= 0 && now - migrate_cache[i].last_use > MIGRATE_CACHE_TTL_S)
            migrate_sock_close(&migrate_cache[i]);
}

/* poll for one event within timeout_ms; 1 ready, 0 timed out, -1 error. */
static int migrate_wait(int fd, short events, long timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int64_t deadline = util_mono_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        int64_t left = (deadline - util_mono_us()) / 1000;
        if (left < 0)
            left = 0;
        int r = poll(&p, 1, (int)(left > 0x7fffffff ? 0x7fffffff : left));
        if (r > 0)
            return 1;
        if (r == 0) {
            errno = ETIMEDOUT;
            return 0;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* A non-blocking TCP connection to host:port within timeout_ms, or -1. */
static int migrate_connect(const char *host, const char *port, long timeout_ms)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        /* Writable in time counts as connected, as for redis-server: a
         * refused connection then fails at the first write ("writing"),
         * only one that does not answer at all is "connecting". */
        if (rc != 0 && errno == EINPROGRESS && migrate_wait(fd, POLLOUT, timeout_ms) == 1)
            rc = 0;
        if (rc != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* The cached connection to host:port, or a new one (evicting one at
 * random when the cache is full); NULL after replying the error. */
static migrate_sock *migrate_get_sock(client *c, const resp_arg *host, const resp_arg *port, long timeout_ms)
{
    migrate_cache_init();
    if (migrate_cron_srv != c->srv) {
        srv_add_cron(c->srv, migrate_cron, NULL);
        migrate_cron_srv = c->srv;
    }
    char name[300];
    snprintf(name, sizeof(name), "%.*s:%.*s", (int)(host->len > 255 ? 255 : host->len), host->ptr,
             (int)(port->len > 32 ? 32 : port->len), port->ptr);
    migrate_sock *free_slot = NULL;
    for (int i = 0; i < MIGRATE_CACHE_ITEMS; i++) {
        migrate_sock *ms = &migrate_cache[i];
        if (ms->fd >= 0 && strcmp(ms->name, name) == 0) {
            ms->last_use = time(NULL);
            return ms;
        }
        if (ms->fd < 0 && !free_slot)
            free_slot = ms;
    }
    if (!free_slot) {
        free_slot = &migrate_cache[(unsigned)rand() % MIGRATE_CACHE_ITEMS];
        migrate_sock_close(free_slot);
    }
    char hostz[256], portz[33];
    snprintf(hostz, sizeof(hostz), "%.*s", (int)(host->len > 255 ? 255 : host->len), host->ptr);
    snprintf(portz, sizeof(portz), "%.*s", (int)(port->len > 32 ? 32 : port->len), port->ptr);
    int fd = migrate_connect(hostz, portz, timeout_ms);
    if (fd < 0) {
        reply_error(c, "IOERR error or timeout connecting to the client");
        return NULL;
    }
    snprintf(free_slot->name, sizeof(free_slot->name), "%s", name);
    free_slot->fd = fd;
    free_slot->last_dbid = -1;
    free_slot->last_use = time(NULL);
    return free_slot;
}

static int migrate_write_all(int fd, const char *p, size_t len, long timeout_ms)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (migrate_wait(fd, POLLOUT, timeout_ms) != 1)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* One reply line (without CRLF) into buf; -1 on error or timeout. */
static int migrate_read_line(int fd, char *buf, size_t size, long timeout_ms)
{
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r == 1) {
            if (ch == '\n') {
                if (n > 0 && buf[n - 1] == '\r')
                    n--;
                buf[n] = '\0';
                return 0;
            }
            if (n + 1 < size)
                buf[n++] = ch;
        } else if (r == 0) {
            errno = ECONNRESET;
            return -1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (migrate_wait(fd, POLLIN, timeout_ms) != 1)
                return -1;
        } else {
            return -1;
        }
    }
}

static kstr migrate_cat_bulk(kstr out, const char *p, size_t len)
{
    out = kstr_catfmt(out, "$%zu\r\n", len);
    out = kstr_cat(out, p, len);
    return kstr_cat(out, "\r\n", 2);
}

static int migrate_arg_is(const resp_arg *a, const char *word)
{
    return util_strcasecmp_len(a->ptr, a->len, word) == 0;
}

typedef struct migrate_args {
    int copy, replace;
    const resp_arg *user, *pass;
    int first_key, num_keys;
    long long timeout, dbid;
} migrate_args;

/* Options after the fifth argument, in Redis' order of checks; 0 or -1
 * after replying the error. */
static int migrate_parse(client *c, migrate_args *a)
{
    memset(a, 0, sizeof(*a));
    a->first_key = 3;
    a->num_keys = 1;
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (migrate_arg_is(&c->argv[j], "copy")) {
            a->copy = 1;
        } else if (migrate_arg_is(&c->argv[j], "replace")) {
            a->replace = 1;
        } else if (migrate_arg_is(&c->argv[j], "auth") && more >= 1) {
            a->pass = &c->argv[++j];
        } else if (migrate_arg_is(&c->argv[j], "auth2") && more >= 2) {
            a->user = &c->argv[++j];
            a->pass = &c->argv[++j];
        } else if (migrate_arg_is(&c->argv[j], "keys")) {
            if (c->argv[3].len != 0) {
                reply_error(c, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return -1;
            }
            a->first_key = j + 1;
            a->num_keys = c->argc - j - 1;
            break;
        } else {
            reply_error(c, "ERR syntax error");
            return -1;
        }
    }
    if (!util_str_to_ll(c->argv[5].ptr, c->argv[5].len, &a->timeout) ||
        !util_str_to_ll(c->argv[4].ptr, c->argv[4].len, &a->dbid)) {
        reply_error(c, "ERR value is not an integer or out of range");
        return -1;
    }
    if (a->timeout <= 0)
        a->timeout = 1000;
    return 0;
}

/* AUTH, SELECT and one RESTORE per key still alive, as one buffer. The
 * keys sent are compacted to the front of keys[]; *sent says how many. */
static kstr migrate_build(client *c, const migrate_args *a, migrate_sock *ms, const resp_arg **keys,
                          int nkeys, int *sent, int *selecting)
{
    kstr out = kstr_empty(256);
    if (a->pass) {
        out = kstr_catfmt(out, "*%d\r\n", a->user ? 3 : 2);
        out = migrate_cat_bulk(out, "AUTH", 4);
        if (a->user)
            out = migrate_cat_bulk(out, a->user->ptr, a->user->len);
        out = migrate_cat_bulk(out, a->pass->ptr, a->pass->len);
    }
    *selecting = ms->last_dbid != a->dbid;
    if (*selecting) {
        char num[32];
        int n = util_ll_to_str(num, sizeof(num), a->dbid);
        out = kstr_cat(out, "*2\r\n", 4);
        out = migrate_cat_bulk(out, "SELECT", 6);
        out = migrate_cat_bulk(out, num, (size_t)n);
    }
    *sent = 0;
    for (int j = 0; j < nkeys; j++) {
        obj *o = db_lookup_quiet(c->db, keys[j]->ptr, keys[j]->len);
        if (!o)
            continue;
        long long ttl = 0;
        int64_t at = db_expire_get(c->db, keys[j]->ptr, keys[j]->len);
        if (at >= 0) {
            ttl = (long long)at - util_ms_now();
            if (ttl < 0)
                continue;   /* expired since it was looked up */
            if (ttl < 1)
                ttl = 1;
        }
        kstr payload = rdb_serialize_value(c->srv, o, c->srv->config.rdbcompression);
        if (!payload)
            continue;
        payload = rdb_dump_footer_append(payload);
        char num[32];
        int n = util_ll_to_str(num, sizeof(num), ttl);
        out = kstr_catfmt(out, "*%d\r\n", a->replace ? 5 : 4);
        out = migrate_cat_bulk(out, "RESTORE", 7);
        out = migrate_cat_bulk(out, keys[j]->ptr, keys[j]->len);
        out = migrate_cat_bulk(out, num, (size_t)n);
        out = migrate_cat_bulk(out, payload, kstr_len(payload));
        if (a->replace)
            out = migrate_cat_bulk(out, "REPLACE", 7);
        kstr_free(payload);
        keys[(*sent)++] = keys[j];
    }
    return out;
}

/* The transfer. Returns 1 when done (a reply sent), 0 to retry on a fresh
 * connection (nothing was acknowledged and it was not a timeout). */
static int migrate_try(client *c, const migrate_args *a, const resp_arg **keys, int nkeys, int may_retry)
{
    migrate_sock *ms = migrate_get_sock(c, &c->argv[1], &c->argv[2], (long)a->timeout);
    if (!ms)
        return 1;
    int sent, selecting;
    kstr buf = migrate_build(c, a, ms, keys, nkeys, &sent, &selecting);
    int write_error = migrate_write_all(ms->fd, buf, kstr_len(buf), (long)a->timeout) != 0;
    kstr_free(buf);
    char auth_line[1024] = "", select_line[1024] = "", line[1024];
    int io_error = write_error;
    if (!io_error && a->pass && migrate_read_line(ms->fd, auth_line, sizeof(auth_line), (long)a->timeout) != 0)
        io_error = 1;
    if (!io_error && selecting && migrate_read_line(ms->fd, select_line, sizeof(select_line), (long)a->timeout) != 0)
        io_error = 1;
    int target_error = 0, acked = 0, j = 0;
    resp_arg *del = a->copy ? NULL : mem_alloc(sizeof(resp_arg) * (size_t)(sent + 1));
    for (j = 0; !io_error && j < sent; j++) {
        if (migrate_read_line(ms->fd, line, sizeof(line), (long)a->timeout) != 0) {
            io_error = 1;
            break;
        }
        const char *err = a->pass && auth_line[0] == '-' ? auth_line
                          : selecting && select_line[0] == '-' ? select_line
                          : line[0] == '-' ? line : NULL;
        if (err) {
            if (!target_error) {
                ms->last_dbid = -1;
                target_error = 1;
                reply_errorf(c, "ERR Target instance replied with error: %s", err + 1);
            }
            continue;
        }
        if (!a->copy) {
            db_delete(c->db, keys[j]->ptr, keys[j]->len);
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", keys[j]->ptr, keys[j]->len);
            c->srv->dirty++;
            del[1 + acked] = *keys[j];
        }
        acked++;
    }
    int timed_out = errno == ETIMEDOUT;
    if (io_error && !target_error && j == 0 && may_retry && !timed_out) {
        migrate_sock_close(ms);
        mem_free(del);
        return 0;
    }
    if (io_error)
        migrate_sock_close(ms);
    if (!a->copy && acked > 0) {
        del[0].ptr = "DEL";
        del[0].len = 3;
        cmd_rewrite_argv(c, 1 + acked, del);
    }
    mem_free(del);
    if (target_error)
        return 1;
    if (io_error) {
        reply_errorf(c, "IOERR error or timeout %s to target instance", write_error ? "writing" : "reading");
        return 1;
    }
    ms->last_dbid = a->dbid;
    ms->last_use = time(NULL);
    reply_ok(c);
    return 1;
}

static void cmd_migrate(client *c)
{
    migrate_args a;
    if (migrate_parse(c, &a) != 0)
        return;
    const resp_arg **keys = mem_alloc(sizeof(*keys) * (size_t)(a.num_keys + 1));
    int n = 0;
    for (int j = 0; j < a.num_keys; j++) {
        const resp_arg *k = &c->argv[a.first_key + j];
        if (db_lookup_read(c->db, k->ptr, k->len))
            keys[n++] = k;
    }
    if (n == 0) {
        reply_simple(c, "NOKEY");
    } else if (!migrate_try(c, &a, keys, n, 1)) {
        /* the retry rebuilds the list from the keys still here */
        int m = 0;
        for (int j = 0; j < a.num_keys; j++) {
            const resp_arg *k = &c->argv[a.first_key + j];
            if (db_lookup_quiet(c->db, k->ptr, k->len))
                keys[m++] = k;
        }
        migrate_try(c, &a, keys, m, 0);
    }
    mem_free(keys);
}

const cmd_def t_migrate_commands[] = {
    {"migrate", cmd_migrate, -6, CMD_WRITE, 3, 3, 1, "@keyspace @write @slow @dangerous"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
