/* register: the agent's side of controller registration. A small thread
 * POSTs /api/v1/nodes, then joins the named cluster (creating it with this
 * node as master when it does not exist yet), retrying with backoff from
 * 1 s up to 30 s. Secrets (the token) are never logged. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "register.h"
#include "mem.h"
#include "log.h"

typedef struct reg_ctx {
    char *base;        /* http://host:port without trailing slash */
    char *token;
    char *host;
    int port;
    char *name;
    char *cluster;
} reg_ctx;

static pthread_t reg_thread;
static int reg_running;
static int reg_stop_flag;        /* written under reg_lock; read atomically */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;

/* JSON string escaping for the few values we send. */
static void reg_json_escape(char *out, size_t cap, const char *in)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
}

char *register_node_body(const char *host, int port, const char *name)
{
    char h[512], n[512];
    reg_json_escape(h, sizeof(h), host);
    reg_json_escape(n, sizeof(n), name);
    char *out = mem_alloc(1200);
    snprintf(out, 1200, "{\"host\":\"%s\",\"port\":%d,\"name\":\"%s\"}", h, port, n);
    return out;
}

char *register_join_body(const char *name)
{
    char n[512];
    reg_json_escape(n, sizeof(n), name);
    char *out = mem_alloc(600);
    snprintf(out, 600, "{\"node\":\"%s\"}", n);
    return out;
}

char *register_cluster_body(const char *cluster, const char *name)
{
    char c[512], n[512];
    reg_json_escape(c, sizeof(c), cluster);
    reg_json_escape(n, sizeof(n), name);
    char *out = mem_alloc(1200);
    snprintf(out, 1200, "{\"name\":\"%s\",\"master\":\"%s\",\"replicas\":[]}", c, n);
    return out;
}

static size_t reg_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* Returns the HTTP status, or -1 when the controller could not be reached. */
static long reg_post(const reg_ctx *r, const char *path, const char *body)
{
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", r->base, path);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (r->token && r->token[0]) {
        char auth[1024];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reg_discard);
    long status = -1;
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return status;
}

static int reg_ok(long status)
{
    /* 409: already registered / already a member, which is what we want. */
    return (status >= 200 && status < 300) || status == 409;
}

/* One full attempt: register the node, then join (or create) the cluster. */
static int reg_attempt(const reg_ctx *r)
{
    char *body = register_node_body(r->host, r->port, r->name);
    long st = reg_post(r, "/api/v1/nodes", body);
    mem_free(body);
    if (!reg_ok(st)) {
        log_msg(LOG_VERBOSE, "Controller registration failed (HTTP %ld), will retry", st);
        return -1;
    }
    if (!r->cluster || !r->cluster[0])
        return 0;
    char path[600];
    snprintf(path, sizeof(path), "/api/v1/clusters/%s/replicas", r->cluster);
    body = register_join_body(r->name);
    st = reg_post(r, path, body);
    mem_free(body);
    if (st == 404) {
        body = register_cluster_body(r->cluster, r->name);
        st = reg_post(r, "/api/v1/clusters", body);
        mem_free(body);
    }
    if (!reg_ok(st)) {
        log_msg(LOG_VERBOSE, "Joining cluster %s failed (HTTP %ld), will retry", r->cluster, st);
        return -1;
    }
    return 0;
}

static void reg_free(reg_ctx *r)
{
    mem_free(r->base);
    mem_free(r->token);
    mem_free(r->host);
    mem_free(r->name);
    mem_free(r->cluster);
    mem_free(r);
}

/* Sleeps up to ms; returns 1 if asked to stop meanwhile. */
static int reg_wait(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&reg_lock);
    while (!reg_stop_flag) {
        if (pthread_cond_timedwait(&reg_cond, &reg_lock, &ts) != 0)
            break;
    }
    int stop = reg_stop_flag;
    pthread_mutex_unlock(&reg_lock);
    return stop;
}

static void *reg_main(void *arg)
{
    reg_ctx *r = arg;
    int delay = 1000;
    while (!__atomic_load_n(&reg_stop_flag, __ATOMIC_ACQUIRE)) {
        if (reg_attempt(r) == 0) {
            log_msg(LOG_NOTICE, "Registered with controller %s as node '%s'%s%s", r->base, r->name,
                    r->cluster ? " in cluster " : "", r->cluster ? r->cluster : "");
            break;
        }
        if (reg_wait(delay))
            break;
        delay = delay * 2 > 30000 ? 30000 : delay * 2;
    }
    reg_free(r);
    return NULL;
}

static char *reg_dup(const char *s)
{
    return s ? mem_strdup(s) : NULL;
}

int register_start(const cfg *c)
{
    if (!c->controller || !c->controller[0])
        return 0;
    reg_ctx *r = mem_calloc(sizeof(*r));
    size_t bl = strlen(c->controller);
    while (bl > 0 && c->controller[bl - 1] == '/')
        bl--;
    r->base = mem_alloc(bl + 1);
    memcpy(r->base, c->controller, bl);
    r->base[bl] = '\0';
    r->token = reg_dup(c->controller_token);
    const char *host = "127.0.0.1";
    if (c->replica_announce_ip && c->replica_announce_ip[0])
        host = c->replica_announce_ip;
    else if (c->bind_count > 0 && strcmp(c->bind[0], "*") && strcmp(c->bind[0], "0.0.0.0"))
        host = c->bind[0][0] == '-' ? c->bind[0] + 1 : c->bind[0];
    r->host = mem_strdup(host);
    r->port = c->port;
    if (c->node_name && c->node_name[0]) {
        r->name = mem_strdup(c->node_name);
    } else {
        char n[300];
        snprintf(n, sizeof(n), "%s-%d", host, c->port);
        r->name = mem_strdup(n);
    }
    r->cluster = reg_dup(c->cluster && c->cluster[0] ? c->cluster : NULL);
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
            reg_free(r);
            return -1;
        }
        curl_ready = 1;
    }
    reg_stop_flag = 0;
    if (pthread_create(&reg_thread, NULL, reg_main, r) != 0) {
        reg_free(r);
        return -1;
    }
    reg_running = 1;
    return 0;
}

void register_stop(void)
{
    if (!reg_running)
        return;
    pthread_mutex_lock(&reg_lock);
    __atomic_store_n(&reg_stop_flag, 1, __ATOMIC_RELEASE);
    pthread_cond_signal(&reg_cond);
    pthread_mutex_unlock(&reg_lock);
    pthread_join(reg_thread, NULL);
    reg_running = 0;
}
