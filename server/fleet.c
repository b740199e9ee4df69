/* fleet.c - in-memory topology with write-through to the store (see fleet.h). */
#include "fleet.h"
#include "log.h"
#include "clock.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

static void seterr(struct fleet_err *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(struct fleet_err *e, int status, const char *fmt, ...)
{
    if (e == NULL)
        return;
    e->status = status;
    e->node[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

/* Translate a store failure inside a mutation. */
static int store_fail(struct fleet *f, int rc, struct fleet_err *e)
{
    if (rc == STORE_ECONSTRAINT)
        seterr(e, 409, "conflict: %s", store_errmsg(f->st));
    else if (rc == STORE_ENOTFOUND)
        seterr(e, 404, "not found");
    else
        seterr(e, 503, "database cannot be written: %s", store_errmsg(f->st));
    ctl_log_warning("store: %s", e != NULL ? e->msg : store_errmsg(f->st));
    return -1;
}

void fleet_rdlock(struct fleet *f) { pthread_rwlock_rdlock(&f->lock); }
void fleet_wrlock(struct fleet *f) { pthread_rwlock_wrlock(&f->lock); }
void fleet_unlock(struct fleet *f) { pthread_rwlock_unlock(&f->lock); }


static struct fleet_node *node_new(const struct store_node *n)
{
    struct fleet_node *fn = calloc(1, sizeof(*fn));
    if (fn == NULL)
        return NULL;
    fn->tags = strdup(n->tags != NULL ? n->tags : "[]");
    if (fn->tags == NULL) {
        free(fn);
        return NULL;
    }
    fn->id = n->id;
    snprintf(fn->name, sizeof(fn->name), "%s", n->name);
    snprintf(fn->host, sizeof(fn->host), "%s", n->host);
    fn->port = n->port;
    fn->priority = n->priority;
    fn->maintenance = n->maintenance;
    fn->cluster_id = n->cluster_id;
    fn->first_seen = n->first_seen;
    fn->last_seen = n->last_seen;
    return fn;
}

static void node_free(struct fleet_node *n)
{
    if (n != NULL)
        free(n->tags);
    free(n);
}

static int node_append(struct fleet *f, struct fleet_node *n)
{
    if (f->nnodes == f->ncap) {
        size_t cap = f->ncap ? f->ncap * 2 : 64;
        struct fleet_node **p = realloc(f->nodes, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        f->nodes = p;
        f->ncap = cap;
    }
    f->nodes[f->nnodes++] = n;
    return 0;
}

static int cluster_append(struct fleet *f, struct fleet_cluster *c)
{
    if (f->nclusters == f->ccap) {
        size_t cap = f->ccap ? f->ccap * 2 : 32;
        struct fleet_cluster **p = realloc(f->clusters, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        f->clusters = p;
        f->ccap = cap;
    }
    f->clusters[f->nclusters++] = c;
    return 0;
}

/* Reserve room so that appends after COMMIT cannot fail. */
static int reserve(struct fleet *f, size_t more_nodes, size_t more_clusters)
{
    while (f->nnodes + more_nodes > f->ncap) {
        size_t cap = f->ncap ? f->ncap * 2 : 64;
        struct fleet_node **p = realloc(f->nodes, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        f->nodes = p;
        f->ncap = cap;
    }
    while (f->nclusters + more_clusters > f->ccap) {
        size_t cap = f->ccap ? f->ccap * 2 : 32;
        struct fleet_cluster **p = realloc(f->clusters, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        f->clusters = p;
        f->ccap = cap;
    }
    return 0;
}

static int load_node(void *arg, const struct store_node *n)
{
    struct fleet *f = arg;
    struct fleet_node *fn = node_new(n);
    if (fn == NULL || node_append(f, fn) != 0) {
        node_free(fn);
        return STORE_EUNAVAIL;
    }
    return 0;
}

static int load_cluster(void *arg, const struct store_cluster *c)
{
    struct fleet *f = arg;
    struct fleet_cluster *fc = calloc(1, sizeof(*fc));
    if (fc == NULL)
        return STORE_EUNAVAIL;
    fc->id = c->id;
    snprintf(fc->name, sizeof(fc->name), "%s", c->name);
    fc->master_id = c->master_id;
    fc->settings = c->settings;
    fc->created_at = c->created_at;
    if (cluster_append(f, fc) != 0) {
        free(fc);
        return STORE_EUNAVAIL;
    }
    return 0;
}

int fleet_init(struct fleet *f, struct store *st, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    f->st = st;
    if (pthread_rwlock_init(&f->lock, NULL) != 0) {
        snprintf(err, errlen, "rwlock init failed");
        return -1;
    }
    int rc = store_load(st, load_node, load_cluster, NULL, f);
    if (rc != STORE_OK) {
        snprintf(err, errlen, "cannot load topology: %s", store_errmsg(st));
        fleet_destroy(f);
        return -1;
    }
    return 0;
}

void fleet_destroy(struct fleet *f)
{
    for (size_t i = 0; i < f->nnodes; i++)
        node_free(f->nodes[i]);
    for (size_t i = 0; i < f->nclusters; i++)
        free(f->clusters[i]);
    free(f->nodes);
    free(f->clusters);
    pthread_rwlock_destroy(&f->lock);
    memset(f, 0, sizeof(*f));
}

struct fleet_node *fleet_node_by_name(struct fleet *f, const char *name)
{
    for (size_t i = 0; i < f->nnodes; i++)
        if (strcmp(f->nodes[i]->name, name) == 0)
            return f->nodes[i];
    return NULL;
}

struct fleet_node *fleet_node_by_id(struct fleet *f, int64_t id)
{
    for (size_t i = 0; i < f->nnodes; i++)
        if (f->nodes[i]->id == id)
            return f->nodes[i];
    return NULL;
}

struct fleet_node *fleet_node_by_addr(struct fleet *f, const char *host, int port)
{
    for (size_t i = 0; i < f->nnodes; i++)
        if (f->nodes[i]->port == port && strcmp(f->nodes[i]->host, host) == 0)
            return f->nodes[i];
    return NULL;
}

struct fleet_cluster *fleet_cluster_by_name(struct fleet *f, const char *name)
{
    for (size_t i = 0; i < f->nclusters; i++)
        if (strcmp(f->clusters[i]->name, name) == 0)
            return f->clusters[i];
    return NULL;
}

struct fleet_cluster *fleet_cluster_by_id(struct fleet *f, int64_t id)
{
    for (size_t i = 0; i < f->nclusters; i++)
        if (f->clusters[i]->id == id)
            return f->clusters[i];
    return NULL;
}

/* A name may start with an IPv6 address in brackets, the form of a default
 * name ("[::1]:6379"); brackets anywhere else are refused. */
static int brackets_ok(const char *s)
{
    const char *close = strchr(s, ']');
    if (s[0] != '[')
        return strchr(s, '[') == NULL && close == NULL;
    return close != NULL && strchr(s + 1, '[') == NULL && strchr(close + 1, ']') == NULL;
}

int fleet_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FLEET_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-' && ch != ':' && ch != '[' &&
            ch != ']')
            return 0;
    }
    return brackets_ok(s);
}

/* The 422 message of an invalid name; what names it: "name", "cluster name". */
static void name_error(struct fleet_err *e, const char *what, const char *name)
{
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        seterr(e, 422, "%s '%s' is refused: clients remove '.' and '..' from URLs, so it could "
               "not be managed", what, name);
    else
        seterr(e, 422, "%s must be 1-64 characters of letters, digits, '.', '_', '-' or ':' "
               "(an IPv6 address may lead in brackets: [::1]:6379)", what);
}

int fleet_host_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FLEET_HOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '.' && ch != '-' && ch != ':' && ch != '_')
            return 0;
    }
    return 1;
}

void fleet_addr_format(char *buf, size_t len, const char *host, int port)
{
    snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d", host, port);
}

/* A node's address as fleet_addr_format writes it, for messages. */
static const char *addr_of(const struct fleet_node *n, char *buf, size_t len)
{
    fleet_addr_format(buf, len, n->host, n->port);
    return buf;
}

/* ---- node identity -------------------------------------------------------- */

/* Add one resolved address (IPv4 as IPv4-mapped IPv6, so that
 * "::ffff:127.0.0.1" and "127.0.0.1" compare equal), once. */
static void ident_add(struct fleet_ident *id, const struct sockaddr *sa)
{
    unsigned char a[16];
    if (sa->sa_family == AF_INET) {
        memset(a, 0, 10);
        a[10] = a[11] = 0xff;
        memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else {
        return;
    }
    for (int i = 0; i < id->naddrs; i++)
        if (memcmp(id->addrs[i], a, 16) == 0)
            return;
    if (id->naddrs < FLEET_IDENT_MAX)
        memcpy(id->addrs[id->naddrs++], a, 16);
}

/* One getaddrinfo call; numeric_only: no name lookup at all. */
static int resolve_now(const char *host, int numeric_only, struct fleet_ident *out)
{
    struct addrinfo hints, *res = NULL;
    memset(out, 0, sizeof(*out));
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = numeric_only ? AI_NUMERICHOST : 0;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return -1;
    for (const struct addrinfo *p = res; p != NULL; p = p->ai_next)
        ident_add(out, p->ai_addr);
    freeaddrinfo(res);
    out->resolved = out->naddrs > 0;
    return out->resolved ? 0 : -1;
}

/* A name lookup on its own thread, so that the caller waits a bounded time
 * (getaddrinfo has no timeout of its own). The job is freed by whichever
 * of the two lets go of it last. */
struct resolve_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs, done, rc;
    char host[FLEET_HOST_MAX + 1];
    struct fleet_ident out;
};

static void job_put(struct resolve_job *j)
{
    pthread_mutex_lock(&j->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&j->mu);
    if (left > 0)
        return;
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

static void *resolve_main(void *arg)
{
    struct resolve_job *j = arg;
    struct fleet_ident id;
    int rc = resolve_now(j->host, 0, &id);
    pthread_mutex_lock(&j->mu);
    j->out = id;
    j->rc = rc;
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    job_put(j);
    return NULL;
}

static struct resolve_job *job_new(const char *host)
{
    struct resolve_job *j = calloc(1, sizeof(*j));
    pthread_condattr_t ca;
    if (j == NULL)
        return NULL;
    if (pthread_condattr_init(&ca) != 0) {
        free(j);
        return NULL;
    }
    int ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&j->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok || pthread_mutex_init(&j->mu, NULL) != 0) {
        if (ok)
            pthread_cond_destroy(&j->cv);
        free(j);
        return NULL;
    }
    snprintf(j->host, sizeof(j->host), "%s", host);
    j->refs = 2;
    return j;
}

/* Wait for the job until timeout_ms; 1 when it finished. */
static int job_wait(struct resolve_job *j, int timeout_ms)
{
    struct timespec until;
    if (clock_gettime(CLOCK_MONOTONIC, &until) != 0)
        return 0;
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->mu);
    while (!j->done)
        if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT)
            break;
    int done = j->done;
    pthread_mutex_unlock(&j->mu);
    return done;
}

static int resolve_bounded(const char *host, int timeout_ms, struct fleet_ident *out)
{
    memset(out, 0, sizeof(*out));
    struct resolve_job *j = job_new(host);
    pthread_t th;
    if (j == NULL)
        return -1;
    if (pthread_create(&th, NULL, resolve_main, j) != 0) {
        j->refs = 1;
        job_put(j);
        return -1;
    }
    int done = job_wait(j, timeout_ms);
    int rc = done ? j->rc : -1;
    if (done)
        *out = j->out;
    job_put(j);
    /* A finished lookup is joined (nothing outlives the caller); a slow one
     * is left to end on its own. */
    int jrc = done ? pthread_join(th, NULL) : pthread_detach(th);
    if (jrc != 0)
        ctl_log_warning("fleet: cannot %s a name lookup thread", done ? "join" : "detach");
    if (!done)
        ctl_log_warning("fleet: looking up '%s' took more than %d ms; compared by name only",
                        host, timeout_ms);
    return rc;
}

int fleet_ident_resolve(const char *host, int timeout_ms, struct fleet_ident *out)
{
    if (resolve_now(host, 1, out) == 0)
        return 0;                     /* numeric: no lookup, no thread */
    return resolve_bounded(host, timeout_ms > 0 ? timeout_ms : 1000, out);
}

void fleet_ident_addr(const struct fleet_ident *id, int i, char *buf, size_t len)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    buf[0] = '\0';
    if (i < 0 || i >= id->naddrs || len == 0)
        return;
    int v4 = memcmp(id->addrs[i], mapped, 12) == 0;
    if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? id->addrs[i] + 12 : id->addrs[i], buf,
                  (socklen_t)len) == NULL)
        buf[0] = '\0';
}

/* The first address two identities share, or -1. */
static int ident_common(const struct fleet_ident *a, const struct fleet_ident *b)
{
    for (int i = 0; i < a->naddrs; i++)
        for (int k = 0; k < b->naddrs; k++)
            if (memcmp(a->addrs[i], b->addrs[k], 16) == 0)
                return i;
    return -1;
}

/* Registered nodes whose host has not been resolved yet, at the ports a
 * registration may collide with: resolved outside every lock, then stored
 * back (by id: the node may have gone meanwhile). */
struct ident_batch {
    size_t n;
    struct ident_item {
        int64_t id;
        char host[FLEET_HOST_MAX + 1];
        struct fleet_ident ident;
    } *items;
};

static int port_in(int port, const int *ports, size_t nports)
{
    for (size_t i = 0; i < nports; i++)
        if (ports[i] == port)
            return 1;
    return 0;
}

static int batch_collect(struct fleet *f, const int *ports, size_t nports, struct ident_batch *b)
{
    b->n = 0;
    b->items = NULL;
    fleet_rdlock(f);
    size_t want = 0;
    for (size_t i = 0; i < f->nnodes; i++)
        want += !f->nodes[i]->ident.resolved && port_in(f->nodes[i]->port, ports, nports);
    if (want > 0 && (b->items = calloc(want, sizeof(*b->items))) == NULL) {
        fleet_unlock(f);
        return -1;
    }
    for (size_t i = 0; i < f->nnodes && b->n < want; i++) {
        const struct fleet_node *n = f->nodes[i];
        if (n->ident.resolved || !port_in(n->port, ports, nports))
            continue;
        b->items[b->n].id = n->id;
        snprintf(b->items[b->n++].host, FLEET_HOST_MAX + 1, "%s", n->host);
    }
    fleet_unlock(f);
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Resolve host if time is left until `until` (monotonic ms); out of time,
 * a numeric host still resolves (no lookup). The outcome is
 * out->resolved: unresolved hosts are compared by name only. */
static void resolve_until(const char *host, int64_t until, struct fleet_ident *out)
{
    int64_t left = until - mono_ms();
    if (left > 0)
        (void)fleet_ident_resolve(host, (int)left, out);
    else
        (void)resolve_now(host, 1, out);
}

/* The whole batch shares one time budget: a dead resolver costs one
 * timeout, not one per node. What is left unresolved is retried later. */
static void batch_resolve(struct ident_batch *b, int64_t until)
{
    for (size_t i = 0; i < b->n; i++)
        resolve_until(b->items[i].host, until, &b->items[i].ident);
}

/* Caller holds the write lock. */
static void batch_apply(struct fleet *f, struct ident_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct fleet_node *n = fleet_node_by_id(f, b->items[i].id);
        if (n != NULL && b->items[i].ident.resolved)
            n->ident = b->items[i].ident;
    }
    free(b->items);
    b->items = NULL;
    b->n = 0;
}

/* A registered node that is the server at host:port (resolving to id): the
 * same port and a host that differs only in case or shares an address.
 * *why says how it was recognised. Caller holds the lock. */
static struct fleet_node *same_address(struct fleet *f, const char *host, int port,
                                       const struct fleet_ident *id, char *why, size_t whylen)
{
    for (size_t i = 0; i < f->nnodes; i++) {
        struct fleet_node *n = f->nodes[i];
        if (n->port != port)
            continue;
        if (strcasecmp(n->host, host) == 0) {
            snprintf(why, whylen, "host names differ only in case");
            return n;
        }
        int k = ident_common(id, &n->ident);
        if (k >= 0) {
            char a[INET6_ADDRSTRLEN];
            fleet_ident_addr(id, k, a, sizeof(a));
            snprintf(why, whylen, "both reach %s port %d", a, port);
            return n;
        }
    }
    return NULL;
}

/* A registered node the monitor has seen answer with this run id: the same
 * server process, whatever address reaches it. Caller holds the fleet
 * lock; takes the state lock after it (lock order fleet -> state). */
static struct fleet_node *same_run_id(struct fleet *f, struct state *observed, const char *run_id)
{
    struct fleet_node *found = NULL;
    if (observed == NULL || run_id == NULL || run_id[0] == '\0')
        return NULL;
    state_rdlock(observed);
    for (size_t i = 0; i < f->nnodes && found == NULL; i++) {
        const struct node_obs *o = state_obs(observed, f->nodes[i]->id);
        if (o != NULL && strcmp(o->run_id, run_id) == 0)
            found = f->nodes[i];
    }
    state_unlock(observed);
    return found;
}

static struct store_node to_store(const struct fleet_node *n)
{
    struct store_node sn = {
        .id = n->id, .name = n->name, .host = n->host, .port = n->port,
        .priority = n->priority, .maintenance = n->maintenance, .tags = n->tags,
        .cluster_id = n->cluster_id, .first_seen = n->first_seen, .last_seen = n->last_seen,
    };
    return sn;
}

static struct store_cluster cluster_to_store(const struct fleet_cluster *c)
{
    struct store_cluster sc = {
        .id = c->id, .name = c->name, .master_id = c->master_id, .settings = c->settings,
        .created_at = c->created_at,
    };
    return sc;
}

/* Events a mutation journals inside its transaction, announced to the
 * subscribers once it committed. Per thread: mutations run on API threads
 * and on the loop, each between its own mut_begin and changed(). */
#define MAX_PENDING 16
static __thread struct ev tls_pending[MAX_PENDING];
static __thread int tls_npending;

static int add_event(struct fleet *f, const char *cluster, const char *node, enum ev_kind kind,
                     const char *actor, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int add_event(struct fleet *f, const char *cluster, const char *node, enum ev_kind kind,
                     const char *actor, const char *fmt, ...)
{
    struct ev tmp, *e = tls_npending < MAX_PENDING ? &tls_pending[tls_npending++] : &tmp;
    ev_init(e, kind, cluster, node, actor);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    struct store_event sev = { .ts = e->ts_ms, .cluster = cluster, .node = node,
                               .kind = ev_kind_name(kind), .message = e->msg, .actor = actor };
    return store_event_add(f->st, &sev);
}

/* After a committed mutation: tell the subscribers what it journalled,
 * then wake whoever watches the topology. */
static void changed(struct fleet *f)
{
    for (int i = 0; i < tls_npending; i++)
        if (f->events != NULL)
            events_notify(f->events, &tls_pending[i]);
    tls_npending = 0;
    if (f->on_change != NULL)
        f->on_change(f->on_change_arg);
}

/* A mutation opens the store transaction first (it may wait for the SQLite
 * write lock up to the busy timeout) and only then takes the fleet write
 * lock, so readers and the monitor never queue behind a busy database. Lock
 * order is therefore store -> fleet; nobody takes them the other way round. */
static int mut_begin(struct fleet *f, struct fleet_err *e)
{
    tls_npending = 0;
    int rc = store_begin(f->st);
    if (rc != STORE_OK)
        return store_fail(f, rc, e);
    fleet_wrlock(f);
    return 0;
}

/* End a mutation: roll back a transaction still open (validation failed),
 * release the fleet lock. */
static void mut_end(struct fleet *f)
{
    if (store_in_txn(f->st))
        store_rollback(f->st);
    fleet_unlock(f);
}

/* Checks of a registration that need no lock; name receives the name to
 * register (spec's, or the default "host:port" written to defname). */
static int register_validate(const struct fleet_node_spec *spec, char *defname, size_t deflen,
                             const char **name, struct fleet_err *e)
{
    if (!fleet_host_valid(spec->host))
        return seterr(e, 422, "host must be 1-255 characters of letters, digits, '.', '-', ':' or '_'"), -1;
    if (spec->port < 1 || spec->port > 65535)
        return seterr(e, 422, "port %d is out of range 1-65535", spec->port), -1;
    *name = spec->name;
    if (*name == NULL) {
        fleet_addr_format(defname, deflen, spec->host, spec->port);
        *name = defname;
    }
    if (!fleet_name_valid(*name))
        return name_error(e, "name", *name), -1;
    if (spec->tags != NULL && strlen(spec->tags) > FLEET_TAGS_MAX)
        return seterr(e, 422, "tags are limited to %d bytes of JSON", FLEET_TAGS_MAX), -1;
    return 0;
}

/* Resolve the registration's host and the registered hosts it could
 * collide with (same port), before any write lock is taken. */
static int register_resolve(struct fleet *f, const struct fleet_node_spec *spec,
                            struct fleet_ident *ident, struct ident_batch *batch,
                            struct fleet_err *e)
{
    int ms = spec->resolve_ms > 0 ? spec->resolve_ms : 1000;
    if (spec->ident != NULL)
        *ident = *spec->ident;
    else
        (void)fleet_ident_resolve(spec->host, ms, ident);   /* unresolved: by name only */
    if (batch_collect(f, &spec->port, 1, batch) != 0)
        return seterr(e, 503, "out of memory"), -1;
    batch_resolve(batch, mono_ms() + ms);
    return 0;
}

/* Compare a registration with the registered nodes (write lock held).
 * 1: it is an existing node again (out_name set, nothing to do); 0: new;
 * -1: a conflict (e set). */
static int register_existing(struct fleet *f, const struct fleet_node_spec *spec,
                             const char *name, const struct fleet_ident *ident, char *out_name,
                             size_t out_len, struct fleet_err *e)
{
    char addr[FLEET_HOST_MAX + 16], at[FLEET_HOST_MAX + 16], why[96];
    struct fleet_node *byname = fleet_node_by_name(f, name);
    struct fleet_node *byaddr = fleet_node_by_addr(f, spec->host, spec->port);
    fleet_addr_format(addr, sizeof(addr), spec->host, spec->port);
    if ((byname != NULL && byname == byaddr) || (byname == NULL && byaddr != NULL && spec->name == NULL)) {
        snprintf(out_name, out_len, "%s", byaddr->name);
        return 1;                       /* the same registration again */
    }
    struct fleet_node *same = byname != NULL ? byname : byaddr;
    if (same == NULL)
        same = same_address(f, spec->host, spec->port, ident, why, sizeof(why));
    if (same == NULL && (same = same_run_id(f, spec->observed, spec->run_id)) != NULL)
        snprintf(why, sizeof(why), "the same server: run id %.12s...", spec->run_id);
    if (same == NULL)
        return 0;
    fleet_addr_format(at, sizeof(at), same->host, same->port);
    if (same == byname)
        seterr(e, 409, "node name '%s' is already registered at %s", name, at);
    else if (same == byaddr)
        seterr(e, 409, "%s is already registered as node '%s'", addr, same->name);
    else
        seterr(e, 409, "%s is already registered as node '%s' at %s (%s)", addr, same->name, at,
               why);
    snprintf(e->node, sizeof(e->node), "%s", same->name);
    return -1;
}

/* Insert the new node (write lock and store transaction held). */
static int register_insert(struct fleet *f, const struct fleet_node_spec *spec, const char *name,
                           const struct fleet_ident *ident, const char *actor, char *out_name,
                           size_t out_len, struct fleet_err *e)
{
    char addr[FLEET_HOST_MAX + 16];
    struct store_node sn = {
        .name = name, .host = spec->host, .port = spec->port, .priority = spec->priority,
        .tags = spec->tags != NULL ? spec->tags : "[]", .first_seen = store_now_ms(),
    };
    struct fleet_node *fn = node_new(&sn);
    if (fn == NULL || reserve(f, 1, 0) != 0) {
        node_free(fn);
        return seterr(e, 503, "out of memory"), -1;
    }
    fn->ident = *ident;
    fleet_addr_format(addr, sizeof(addr), spec->host, spec->port);
    int rc = store_node_insert(f->st, &sn, &fn->id);
    if (rc == STORE_OK)
        rc = add_event(f, NULL, name, EV_NODE_REGISTERED, actor, "node registered at %s", addr);
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        node_free(fn);
        return store_fail(f, rc, e);
    }
    (void)node_append(f, fn);           /* room reserved above */
    f->version++;
    snprintf(out_name, out_len, "%s", fn->name);
    return 0;
}

int fleet_node_register(struct fleet *f, const struct fleet_node_spec *spec, const char *actor,
                        int *created, char *out_name, size_t out_len, struct fleet_err *e)
{
    char defname[FLEET_HOST_MAX + 16];
    const char *name;
    struct fleet_ident ident;
    struct ident_batch batch;
    *created = 0;
    if (register_validate(spec, defname, sizeof(defname), &name, e) != 0 ||
        register_resolve(f, spec, &ident, &batch, e) != 0)
        return -1;
    if (mut_begin(f, e) != 0) {
        free(batch.items);
        return -1;
    }
    batch_apply(f, &batch);
    int rc = register_existing(f, spec, name, &ident, out_name, out_len, e);
    if (rc == 0)
        rc = register_insert(f, spec, name, &ident, actor, out_name, out_len, e) == 0 ? 2 : -1;
    mut_end(f);
    if (rc == 2) {
        *created = 1;
        changed(f);
    }
    return rc < 0 ? -1 : 0;
}

int fleet_node_patch(struct fleet *f, const char *name, const int *priority, const int *maintenance,
                     const char *actor, struct fleet_err *e)
{
    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_node *n = fleet_node_by_name(f, name);
    if (n == NULL) {
        seterr(e, 404, "node '%s' not found", name);
        mut_end(f);
        return -1;
    }
    struct fleet_node copy = *n;
    if (priority != NULL)
        copy.priority = *priority;
    if (maintenance != NULL)
        copy.maintenance = *maintenance ? 1 : 0;
    struct fleet_cluster *c = fleet_cluster_by_id(f, n->cluster_id);
    struct store_node sn = to_store(&copy);
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    rc = store_node_update(f->st, &sn);
    if (rc == STORE_OK && maintenance != NULL && copy.maintenance != n->maintenance)
        rc = add_event(f, c ? c->name : NULL, name,
                       copy.maintenance ? EV_NODE_MAINTENANCE_ON : EV_NODE_MAINTENANCE_OFF, actor,
                       "maintenance %s", copy.maintenance ? "enabled" : "disabled");
    if (rc == STORE_OK && priority != NULL && copy.priority != n->priority)
        rc = add_event(f, c ? c->name : NULL, name, EV_NODE_PRIORITY, actor,
                       "priority changed from %d to %d", n->priority, copy.priority);
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        mut_end(f);
        return -1;
    }
    n->priority = copy.priority;
    n->maintenance = copy.maintenance;
    f->version++;
    mut_end(f);
    changed(f);
    return 0;
}

int fleet_node_delete(struct fleet *f, const char *name, const char *actor, struct fleet_err *e)
{
    char addr[FLEET_HOST_MAX + 16];
    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_node *n = fleet_node_by_name(f, name);
    if (n == NULL) {
        seterr(e, 404, "node '%s' not found", name);
        mut_end(f);
        return -1;
    }
    struct fleet_cluster *c = fleet_cluster_by_id(f, n->cluster_id);
    if (c != NULL) {
        seterr(e, 409, "node '%s' is a member of cluster '%s'; remove it from the cluster first",
               name, c->name);
        mut_end(f);
        return -1;
    }
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    rc = store_node_delete(f->st, n->id);
    if (rc == STORE_OK)
        rc = add_event(f, NULL, name, EV_NODE_DELETED, actor, "node %s unregistered",
                       addr_of(n, addr, sizeof(addr)));
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        mut_end(f);
        return -1;
    }
    for (size_t i = 0; i < f->nnodes; i++) {
        if (f->nodes[i] == n) {
            f->nodes[i] = f->nodes[--f->nnodes];
            break;
        }
    }
    node_free(n);
    f->version++;
    mut_end(f);
    changed(f);
    return 0;
}

static int settings_valid(const struct cluster_settings *s, struct fleet_err *e)
{
    if (s->max_lag_on_failover < 0)
        return seterr(e, 422, "settings.max_lag_on_failover must be >= 0"), 0;
    if (s->min_replicas_to_write < 0 || s->min_replicas_to_write > 1000)
        return seterr(e, 422, "settings.min_replicas_to_write must be between 0 and 1000"), 0;
    if (s->lag_threshold_bytes < 0)
        return seterr(e, 422, "settings.lag_threshold_bytes must be >= 0"), 0;
    if (s->lag_threshold_ms < 0)
        return seterr(e, 422, "settings.lag_threshold_ms must be >= 0"), 0;
    if (s->down_after_ms < 100 || s->down_after_ms > 3600000)
        return seterr(e, 422, "settings.down_after_ms must be between 100 and 3600000"), 0;
    if (s->auto_failover != 0 && s->auto_failover != 1)
        return seterr(e, 422, "settings.auto_failover must be true or false"), 0;
    if (s->failover_cooldown_ms < 0 || s->failover_cooldown_ms > 86400000)
        return seterr(e, 422, "settings.failover_cooldown_ms must be between 0 and 86400000"), 0;
    return 1;
}

/* Check that `name` names a registered node free to join cluster `cid`. */
static struct fleet_node *member_check(struct fleet *f, const char *name, int64_t cid,
                                       struct fleet_err *e)
{
    struct fleet_node *n = fleet_node_by_name(f, name);
    if (n == NULL) {
        seterr(e, 422, "node '%s' is not registered", name);
        return NULL;
    }
    if (n->cluster_id != 0 && n->cluster_id != cid) {
        struct fleet_cluster *other = fleet_cluster_by_id(f, n->cluster_id);
        seterr(e, 422, "node '%s' already belongs to cluster '%s'; a node can be in one cluster only",
               name, other ? other->name : "?");
        return NULL;
    }
    return n;
}

int fleet_cluster_create(struct fleet *f, const char *name, const char *master,
                         const char *const *replicas, size_t nreplicas,
                         const struct cluster_settings *s, const char *actor, struct fleet_err *e)
{
    if (!fleet_name_valid(name))
        return name_error(e, "cluster name", name), -1;
    if (!settings_valid(s, e))
        return -1;
    for (size_t i = 0; i < nreplicas; i++) {
        if (strcmp(replicas[i], master) == 0)
            return seterr(e, 422, "node '%s' cannot be both master and replica", master), -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(replicas[i], replicas[j]) == 0)
                return seterr(e, 422, "replica '%s' is listed twice", replicas[i]), -1;
    }

    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_node **members = NULL;
    struct fleet_cluster *fc = NULL;
    if (fleet_cluster_by_name(f, name) != NULL) {
        seterr(e, 409, "cluster '%s' already exists", name);
        goto fail;
    }
    members = calloc(nreplicas + 1, sizeof(*members));
    fc = calloc(1, sizeof(*fc));
    if (members == NULL || fc == NULL || reserve(f, 0, 1) != 0) {
        seterr(e, 503, "out of memory");
        goto fail;
    }
    if ((members[0] = member_check(f, master, 0, e)) == NULL)
        goto fail;
    for (size_t i = 0; i < nreplicas; i++)
        if ((members[i + 1] = member_check(f, replicas[i], 0, e)) == NULL)
            goto fail;

    snprintf(fc->name, sizeof(fc->name), "%s", name);
    fc->master_id = members[0]->id;
    fc->settings = *s;
    fc->created_at = store_now_ms();
    struct store_cluster sc = cluster_to_store(fc);
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    rc = store_cluster_insert(f->st, &sc, &fc->id);
    for (size_t i = 0; rc == STORE_OK && i <= nreplicas; i++) {
        struct store_node sn = to_store(members[i]);
        sn.cluster_id = fc->id;
        rc = store_node_update(f->st, &sn);
    }
    if (rc == STORE_OK)
        rc = add_event(f, name, master, EV_CLUSTER_CREATED, actor,
                       "cluster created with master %s and %zu replica(s)", master, nreplicas);
    for (size_t i = 0; rc == STORE_OK && i < nreplicas; i++)
        rc = add_event(f, name, replicas[i], EV_REPLICA_ADDED, actor,
                       "%s added as replica of %s", replicas[i], master);
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        goto fail;
    }
    for (size_t i = 0; i <= nreplicas; i++)
        members[i]->cluster_id = fc->id;
    (void)cluster_append(f, fc);
    f->version++;
    free(members);
    mut_end(f);
    changed(f);
    return 0;
fail:
    free(members);
    free(fc);
    mut_end(f);
    return -1;
}

int fleet_cluster_add_replica(struct fleet *f, const char *cluster, const char *node,
                              const char *actor, struct fleet_err *e)
{
    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_cluster *c = fleet_cluster_by_name(f, cluster);
    if (c == NULL) {
        seterr(e, 404, "cluster '%s' not found", cluster);
        goto fail;
    }
    struct fleet_node *n = member_check(f, node, c->id, e);
    if (n == NULL)
        goto fail;
    if (n->id == c->master_id) {
        seterr(e, 422, "node '%s' is the master of cluster '%s'; it cannot also be a replica",
               node, cluster);
        goto fail;
    }
    if (n->cluster_id == c->id) {
        mut_end(f);          /* already a replica: idempotent for retrying agents */
        return 0;
    }
    struct fleet_node *m = fleet_node_by_id(f, c->master_id);
    struct store_node sn = to_store(n);
    sn.cluster_id = c->id;
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    rc = store_node_update(f->st, &sn);
    if (rc == STORE_OK)
        rc = add_event(f, cluster, node, EV_REPLICA_ADDED, actor, "%s added as replica of %s",
                       node, m ? m->name : "(no master)");
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        goto fail;
    }
    n->cluster_id = c->id;
    f->version++;
    mut_end(f);
    changed(f);
    return 0;
fail:
    mut_end(f);
    return -1;
}

int fleet_cluster_remove_replica(struct fleet *f, const char *cluster, const char *node,
                                 const char *actor, char *host, size_t hostlen, int *port,
                                 struct fleet_err *e)
{
    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_cluster *c = fleet_cluster_by_name(f, cluster);
    if (c == NULL) {
        seterr(e, 404, "cluster '%s' not found", cluster);
        goto fail;
    }
    struct fleet_node *n = fleet_node_by_name(f, node);
    if (n == NULL || n->cluster_id != c->id) {
        seterr(e, 404, "node '%s' is not a member of cluster '%s'", node, cluster);
        goto fail;
    }
    if (n->id == c->master_id) {
        seterr(e, 422, "node '%s' is the master of cluster '%s'; it cannot be removed as a replica",
               node, cluster);
        goto fail;
    }
    struct store_node sn = to_store(n);
    sn.cluster_id = 0;
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    rc = store_node_update(f->st, &sn);
    if (rc == STORE_OK)
        rc = add_event(f, cluster, node, EV_REPLICA_REMOVED, actor, "%s removed from cluster",
                       node);
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        goto fail;
    }
    n->cluster_id = 0;
    snprintf(host, hostlen, "%s", n->host);
    *port = n->port;
    f->version++;
    mut_end(f);
    changed(f);
    return 0;
fail:
    mut_end(f);
    return -1;
}

int fleet_cluster_set_settings(struct fleet *f, const char *cluster,
                               const struct cluster_settings *s, const char *actor,
                               struct fleet_err *e)
{
    if (!settings_valid(s, e))
        return -1;
    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_cluster *c = fleet_cluster_by_name(f, cluster);
    if (c == NULL) {
        seterr(e, 404, "cluster '%s' not found", cluster);
        mut_end(f);
        return -1;
    }
    struct fleet_cluster copy = *c;
    copy.settings = *s;
    struct store_cluster sc = cluster_to_store(&copy);
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    rc = store_cluster_update(f->st, &sc);
    if (rc == STORE_OK)
        rc = add_event(f, cluster, NULL, EV_CLUSTER_SETTINGS, actor,
                       "settings: max_lag_on_failover=%lld min_replicas_to_write=%lld"
                       " lag_threshold_bytes=%lld lag_threshold_ms=%lld down_after_ms=%lld"
                       " auto_failover=%s failover_cooldown_ms=%lld",
                       (long long)s->max_lag_on_failover, (long long)s->min_replicas_to_write,
                       (long long)s->lag_threshold_bytes, (long long)s->lag_threshold_ms,
                       (long long)s->down_after_ms, s->auto_failover ? "true" : "false",
                       (long long)s->failover_cooldown_ms);
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        mut_end(f);
        return -1;
    }
    c->settings = *s;
    f->version++;
    mut_end(f);
    changed(f);
    return 0;
}

int fleet_cluster_delete(struct fleet *f, const char *cluster, const char *actor,
                         struct fleet_err *e)
{
    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_cluster *c = fleet_cluster_by_name(f, cluster);
    if (c == NULL) {
        seterr(e, 404, "cluster '%s' not found", cluster);
        mut_end(f);
        return -1;
    }
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    rc = store_cluster_delete(f->st, c->id);
    if (rc == STORE_OK)
        rc = add_event(f, cluster, NULL, EV_CLUSTER_DELETED, actor,
                       "cluster deleted; its nodes stay registered and keep replicating");
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        mut_end(f);
        return -1;
    }
    for (size_t i = 0; i < f->nnodes; i++)
        if (f->nodes[i]->cluster_id == c->id)
            f->nodes[i]->cluster_id = 0;
    for (size_t i = 0; i < f->nclusters; i++) {
        if (f->clusters[i] == c) {
            f->clusters[i] = f->clusters[--f->nclusters];
            break;
        }
    }
    free(c);
    f->version++;
    mut_end(f);
    changed(f);
    return 0;
}

/* Bound of all the name lookups of one adoption (discovered addresses
 * are numeric unless a node announces a host name). */
#define ADOPT_RESOLVE_MS 2000

/* Resolve the discovered addresses and the registered hosts at their
 * ports, before the write lock is taken. */
static int adopt_resolve(struct fleet *f, const struct fleet_addr *addrs, size_t n,
                         struct fleet_ident *ids, struct ident_batch *b)
{
    int64_t until = mono_ms() + ADOPT_RESOLVE_MS;
    int *ports = calloc(n, sizeof(*ports));
    if (ports == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        resolve_until(addrs[i].host, until, &ids[i]);
        ports[i] = addrs[i].port;
    }
    int rc = batch_collect(f, ports, n, b);
    free(ports);
    if (rc == 0)
        batch_resolve(b, until);
    return rc;
}

/* 1 when one of the first m members is the server at a (the crawl can
 * reach one server under two spellings of its address). */
static int adopt_seen(struct fleet_node *const *members, size_t m, const struct fleet_addr *a,
                      const struct fleet_ident *id)
{
    for (size_t k = 0; k < m; k++)
        if (members[k]->port == a->port &&
            (strcasecmp(members[k]->host, a->host) == 0 || ident_common(id, &members[k]->ident) >= 0))
            return 1;
    return 0;
}

/* The node an adopted address stands for: the registered one (spelled
 * alike or the same server), else a new one, not stored yet (*is_new).
 * NULL with e set when it cannot join. Caller holds the write lock. */
static struct fleet_node *adopt_member(struct fleet *f, const struct fleet_addr *a,
                                       const struct fleet_ident *id, int64_t now, int *is_new,
                                       struct fleet_err *e)
{
    char why[96], name[FLEET_HOST_MAX + 16];
    *is_new = 0;
    struct fleet_node *ex = fleet_node_by_addr(f, a->host, a->port);
    if (ex == NULL)
        ex = same_address(f, a->host, a->port, id, why, sizeof(why));
    if (ex != NULL && ex->cluster_id != 0) {
        struct fleet_cluster *o = fleet_cluster_by_id(f, ex->cluster_id);
        fleet_addr_format(name, sizeof(name), ex->host, ex->port);
        seterr(e, 422, "node '%s' (%s) already belongs to cluster '%s'", ex->name, name,
               o ? o->name : "?");
        return NULL;
    }
    if (ex != NULL)
        return ex;
    fleet_addr_format(name, sizeof(name), a->host, a->port);
    if (!fleet_name_valid(name) || fleet_node_by_name(f, name) != NULL) {
        seterr(e, 409, "cannot name discovered node %s: name taken or invalid", name);
        return NULL;
    }
    struct store_node sn = { .name = name, .host = a->host, .port = a->port, .priority = 100,
                             .tags = "[]", .first_seen = now };
    struct fleet_node *fn = node_new(&sn);
    if (fn == NULL) {
        seterr(e, 503, "out of memory");
        return NULL;
    }
    fn->ident = *id;
    *is_new = 1;
    return fn;
}

/* Store the new nodes, the cluster and every membership (transaction open). */
static int adopt_store(struct fleet *f, struct fleet_cluster *fc, struct fleet_node **members,
                       size_t m, struct fleet_node **fresh, size_t nfresh, const char *actor)
{
    char addr[FLEET_HOST_MAX + 16];
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < nfresh; i++) {
        struct store_node sn = to_store(fresh[i]);
        fleet_addr_format(addr, sizeof(addr), fresh[i]->host, fresh[i]->port);
        rc = store_node_insert(f->st, &sn, &fresh[i]->id);
        if (rc == STORE_OK)
            rc = add_event(f, NULL, fresh[i]->name, EV_NODE_REGISTERED, actor,
                           "node registered at %s by discovery", addr);
    }
    if (rc == STORE_OK) {
        fc->master_id = members[0]->id;
        struct store_cluster sc = cluster_to_store(fc);
        rc = store_cluster_insert(f->st, &sc, &fc->id);
    }
    for (size_t i = 0; rc == STORE_OK && i < m; i++) {
        struct store_node sn = to_store(members[i]);
        sn.cluster_id = fc->id;
        rc = store_node_update(f->st, &sn);
    }
    if (rc == STORE_OK)
        rc = add_event(f, fc->name, members[0]->name, EV_CLUSTER_DISCOVERED, actor,
                       "adopted running deployment: master %s with %zu replica(s)",
                       members[0]->name, m - 1);
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    return rc;
}

int fleet_adopt(struct fleet *f, const char *cluster, const struct fleet_addr *addrs, size_t n,
                const struct cluster_settings *s, const char *actor, struct fleet_err *e)
{
    if (n == 0)
        return seterr(e, 422, "nothing to adopt"), -1;
    if (!fleet_name_valid(cluster))
        return name_error(e, "cluster name", cluster), -1;
    struct fleet_ident *ids = calloc(n, sizeof(*ids));
    struct ident_batch batch = { 0, NULL };
    if (ids == NULL || adopt_resolve(f, addrs, n, ids, &batch) != 0) {
        free(ids);
        return seterr(e, 503, "out of memory"), -1;
    }
    if (mut_begin(f, e) != 0) {
        free(ids);
        free(batch.items);
        return -1;
    }
    batch_apply(f, &batch);
    struct fleet_node **members = calloc(n, sizeof(*members));
    struct fleet_node **fresh = calloc(n, sizeof(*fresh));
    struct fleet_cluster *fc = calloc(1, sizeof(*fc));
    size_t nfresh = 0, m = 0;
    if (members == NULL || fresh == NULL || fc == NULL || reserve(f, n, 1) != 0) {
        seterr(e, 503, "out of memory");
        goto fail;
    }
    if (fleet_cluster_by_name(f, cluster) != NULL) {
        seterr(e, 409, "cluster '%s' already exists", cluster);
        goto fail;
    }
    int64_t now = store_now_ms();
    for (size_t i = 0; i < n; i++) {
        int is_new;
        if (adopt_seen(members, m, &addrs[i], &ids[i]))
            continue;                   /* one server, a second spelling */
        if ((members[m] = adopt_member(f, &addrs[i], &ids[i], now, &is_new, e)) == NULL)
            goto fail;
        if (is_new)
            fresh[nfresh++] = members[m];
        m++;
    }
    snprintf(fc->name, sizeof(fc->name), "%s", cluster);
    fc->settings = *s;
    fc->created_at = now;
    /* The store transaction is already open (mut_begin). */
    int rc = adopt_store(f, fc, members, m, fresh, nfresh, actor);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        goto fail;
    }
    for (size_t i = 0; i < nfresh; i++)
        (void)node_append(f, fresh[i]);
    for (size_t i = 0; i < m; i++)
        members[i]->cluster_id = fc->id;
    (void)cluster_append(f, fc);
    f->version++;
    free(ids);
    free(members);
    free(fresh);
    mut_end(f);
    changed(f);
    return 0;
fail:
    for (size_t i = 0; fresh != NULL && i < nfresh; i++)
        node_free(fresh[i]);
    free(ids);
    free(members);
    free(fresh);
    free(fc);
    mut_end(f);
    return -1;
}

size_t fleet_cluster_members(struct fleet *f, struct state *st, const struct fleet_cluster *c,
                             struct health_member *master_out, int *has_master,
                             struct health_member *replicas, struct fleet_node **replica_nodes,
                             size_t cap)
{
    size_t n = 0;
    *has_master = 0;
    for (size_t i = 0; i < f->nnodes; i++) {
        struct fleet_node *fn = f->nodes[i];
        if (fn->cluster_id != c->id)
            continue;
        const struct node_obs *o = state_obs(st, fn->id);
        struct health_member hm = { .name = fn->name, .host = fn->host, .port = fn->port,
                                    .maintenance = fn->maintenance,
                                    .obs = o != NULL ? o : health_obs_unobserved() };
        if (fn->id == c->master_id) {
            *master_out = hm;
            *has_master = 1;
        } else if (n < cap) {
            if (replica_nodes != NULL)
                replica_nodes[n] = fn;
            replicas[n++] = hm;
        }
    }
    return n;
}

int fleet_cluster_set_master(struct fleet *f, const char *cluster, const char *node,
                             const char *actor, const char *why, struct fleet_err *e)
{
    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_cluster *c = fleet_cluster_by_name(f, cluster);
    struct fleet_node *n = fleet_node_by_name(f, node);
    if (c == NULL || n == NULL || n->cluster_id != c->id) {
        seterr(e, c == NULL ? 404 : 422, c == NULL ? "cluster '%s' not found"
                                                   : "node is not a member of cluster '%s'",
               cluster);
        mut_end(f);
        return -1;
    }
    if (c->master_id == n->id) {
        mut_end(f);
        return 0;
    }
    struct fleet_node *old = fleet_node_by_id(f, c->master_id);
    struct fleet_cluster copy = *c;
    copy.master_id = n->id;
    struct store_cluster sc = cluster_to_store(&copy);
    int rc = store_cluster_update(f->st, &sc);
    if (rc == STORE_OK) {
        struct ev *slot = tls_npending < MAX_PENDING ? &tls_pending[tls_npending] : NULL;
        rc = add_event(f, cluster, node, EV_CLUSTER_MASTER, actor, "master is now %s (was %s): %s",
                       node, old != NULL ? old->name : "none", why);
        if (slot != NULL) {
            /* Subscribers (the Sentinel port's +switch-master) need both
             * addresses. */
            snprintf(slot->old_host, sizeof(slot->old_host), "%s", old != NULL ? old->host : "");
            slot->old_port = old != NULL ? old->port : 0;
            snprintf(slot->new_host, sizeof(slot->new_host), "%s", n->host);
            slot->new_port = n->port;
        }
    }
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        mut_end(f);
        return -1;
    }
    c->master_id = n->id;
    f->version++;
    mut_end(f);
    changed(f);
    return 0;
}
