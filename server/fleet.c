/* fleet.c - in-memory topology with write-through to the store (see fleet.h). */
#include "fleet.h"
#include "log.h"
#include "clock.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void seterr(struct fleet_err *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(struct fleet_err *e, int status, const char *fmt, ...)
{
    if (e == NULL)
        return;
    e->status = status;
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

int fleet_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FLEET_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-' && ch != ':')
            return 0;
    }
    return 1;
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

int fleet_node_register(struct fleet *f, const struct fleet_node_spec *spec, const char *actor,
                        int *created, char *out_name, size_t out_len, struct fleet_err *e)
{
    char defname[FLEET_HOST_MAX + 16];
    *created = 0;
    if (!fleet_host_valid(spec->host))
        return seterr(e, 422, "host must be 1-255 characters of letters, digits, '.', '-', ':' or '_'"), -1;
    if (spec->port < 1 || spec->port > 65535)
        return seterr(e, 422, "port %d is out of range 1-65535", spec->port), -1;
    const char *name = spec->name;
    if (name == NULL) {
        snprintf(defname, sizeof(defname), "%s:%d", spec->host, spec->port);
        name = defname;
    }
    if (!fleet_name_valid(name))
        return seterr(e, 422, "name must be 1-64 characters of letters, digits, '.', '_', '-' or ':'"), -1;
    if (spec->tags != NULL && strlen(spec->tags) > FLEET_TAGS_MAX)
        return seterr(e, 422, "tags are limited to %d bytes of JSON", FLEET_TAGS_MAX), -1;

    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_node *byname = fleet_node_by_name(f, name);
    struct fleet_node *byaddr = fleet_node_by_addr(f, spec->host, spec->port);
    if (byname != NULL && byname == byaddr) {
        snprintf(out_name, out_len, "%s", byname->name);
        mut_end(f);
        return 0;                       /* same registration again */
    }
    if (byname == NULL && byaddr != NULL && spec->name == NULL) {
        snprintf(out_name, out_len, "%s", byaddr->name);
        mut_end(f);
        return 0;
    }
    if (byname != NULL) {
        seterr(e, 409, "node name '%s' is already registered at %s:%d", name, byname->host,
               byname->port);
        mut_end(f);
        return -1;
    }
    if (byaddr != NULL) {
        seterr(e, 409, "%s:%d is already registered as node '%s'", spec->host, spec->port,
               byaddr->name);
        mut_end(f);
        return -1;
    }
    struct store_node sn = {
        .name = name, .host = spec->host, .port = spec->port, .priority = spec->priority,
        .tags = spec->tags != NULL ? spec->tags : "[]", .first_seen = store_now_ms(),
    };
    struct fleet_node *fn = node_new(&sn);
    if (fn == NULL || reserve(f, 1, 0) != 0) {
        node_free(fn);
        seterr(e, 503, "out of memory");
        mut_end(f);
        return -1;
    }
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    rc = store_node_insert(f->st, &sn, &fn->id);
    if (rc == STORE_OK)
        rc = add_event(f, NULL, name, EV_NODE_REGISTERED, actor, "node registered at %s:%d",
                       spec->host, spec->port);
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        node_free(fn);
        store_fail(f, rc, e);
        mut_end(f);
        return -1;
    }
    (void)node_append(f, fn);           /* room reserved above */
    f->version++;
    snprintf(out_name, out_len, "%s", fn->name);
    *created = 1;
    mut_end(f);
    changed(f);
    return 0;
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
        rc = add_event(f, NULL, name, EV_NODE_DELETED, actor, "node %s:%d unregistered",
                       n->host, n->port);
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
        return seterr(e, 422, "cluster name must be 1-64 characters of letters, digits, '.', '_', '-' or ':'"), -1;
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

int fleet_adopt(struct fleet *f, const char *cluster, const struct fleet_addr *addrs, size_t n,
                const struct cluster_settings *s, const char *actor, struct fleet_err *e)
{
    if (n == 0)
        return seterr(e, 422, "nothing to adopt"), -1;
    if (!fleet_name_valid(cluster))
        return seterr(e, 422, "cluster name must be 1-64 characters of letters, digits, '.', '_', '-' or ':'"), -1;
    if (mut_begin(f, e) != 0)
        return -1;
    struct fleet_node **members = calloc(n, sizeof(*members));
    struct fleet_node **fresh = calloc(n, sizeof(*fresh));
    struct fleet_cluster *fc = calloc(1, sizeof(*fc));
    size_t nfresh = 0;
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
        struct fleet_node *ex = fleet_node_by_addr(f, addrs[i].host, addrs[i].port);
        if (ex != NULL) {
            if (ex->cluster_id != 0) {
                struct fleet_cluster *o = fleet_cluster_by_id(f, ex->cluster_id);
                seterr(e, 422, "node '%s' (%s:%d) already belongs to cluster '%s'", ex->name,
                       ex->host, ex->port, o ? o->name : "?");
                goto fail;
            }
            members[i] = ex;
            continue;
        }
        char name[FLEET_HOST_MAX + 16];
        snprintf(name, sizeof(name), "%s:%d", addrs[i].host, addrs[i].port);
        if (!fleet_name_valid(name) || fleet_node_by_name(f, name) != NULL) {
            seterr(e, 409, "cannot name discovered node %s: name taken or invalid", name);
            goto fail;
        }
        struct store_node sn = { .name = name, .host = addrs[i].host, .port = addrs[i].port,
                                 .priority = 100, .tags = "[]", .first_seen = now };
        if ((fresh[nfresh] = node_new(&sn)) == NULL) {
            seterr(e, 503, "out of memory");
            goto fail;
        }
        members[i] = fresh[nfresh++];
    }
    snprintf(fc->name, sizeof(fc->name), "%s", cluster);
    fc->settings = *s;
    fc->created_at = now;
    /* The store transaction is already open (mut_begin). */
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < nfresh; i++) {
        struct store_node sn = to_store(fresh[i]);
        rc = store_node_insert(f->st, &sn, &fresh[i]->id);
        if (rc == STORE_OK)
            rc = add_event(f, NULL, fresh[i]->name, EV_NODE_REGISTERED, actor,
                           "node registered at %s:%d by discovery", fresh[i]->host,
                           fresh[i]->port);
    }
    if (rc == STORE_OK) {
        fc->master_id = members[0]->id;
        struct store_cluster sc = cluster_to_store(fc);
        rc = store_cluster_insert(f->st, &sc, &fc->id);
    }
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        struct store_node sn = to_store(members[i]);
        sn.cluster_id = fc->id;
        rc = store_node_update(f->st, &sn);
    }
    if (rc == STORE_OK)
        rc = add_event(f, cluster, members[0]->name, EV_CLUSTER_DISCOVERED, actor,
                       "adopted running deployment: master %s with %zu replica(s)",
                       members[0]->name, n - 1);
    if (rc == STORE_OK)
        rc = store_commit(f->st);
    else
        store_rollback(f->st);
    if (rc != STORE_OK) {
        store_fail(f, rc, e);
        goto fail;
    }
    for (size_t i = 0; i < nfresh; i++)
        (void)node_append(f, fresh[i]);
    for (size_t i = 0; i < n; i++)
        members[i]->cluster_id = fc->id;
    (void)cluster_append(f, fc);
    f->version++;
    free(members);
    free(fresh);
    mut_end(f);
    changed(f);
    return 0;
fail:
    for (size_t i = 0; fresh != NULL && i < nfresh; i++)
        node_free(fresh[i]);
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
