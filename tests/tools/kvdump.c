/* kvdump: print the whole content of a Redis-compatible server in a
 * canonical, sorted text form, so two servers (redis-server and
 * kvfleet-agent) can be compared with diff. For every non-empty db it SCANs
 * all keys, sorts them bytewise, and prints per key one header line
 *     db<N> <key> <type> ttl=<none | abs:<unix ms> | ~<seconds>>
 * followed by the value: a string's bytes; a list's elements in order; a
 * set's members sorted; a hash's field=value pairs sorted by field; a
 * sorted set's member=score pairs in rank order. Bytes outside printable
 * ASCII are written as \xHH. The absolute expiry (PEXPIRETIME) is used when
 * the server has it, so TTLs compare exactly across servers; otherwise the
 * remaining TTL rounded to 10 seconds.
 *
 * Usage: kvdump [-h host] [-p port] [-n databases]   (exit 0, or 1 on error) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis.h>

typedef struct bytes {
    char *p;
    size_t len;
} bytes;

static int bytes_cmp(const void *a, const void *b)
{
    const bytes *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->p, y->p, n) : 0;
    if (c)
        return c;
    return x->len < y->len ? -1 : (x->len > y->len);
}

static void put_escaped(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c > 32 && c < 127 && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
}

static redisReply *cmd(redisContext *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    va_end(ap);
    if (!r) {
        fprintf(stderr, "kvdump: connection error: %s\n", ctx->errstr);
        exit(1);
    }
    return r;
}

static redisReply *cmd_ok(redisContext *ctx, redisReply *r, const char *what)
{
    (void)ctx;
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "kvdump: %s: %s\n", what, r->str);
        exit(1);
    }
    return r;
}

/* Print the elements of an array reply in pairs (a=b), or singly. */
static void print_pairs(redisReply *r, int sort)
{
    size_t n = r->elements / 2;
    bytes *pairs = calloc(n + 1, sizeof(bytes) * 2);
    for (size_t i = 0; i < n; i++) {
        pairs[2 * i] = (bytes){r->element[2 * i]->str, r->element[2 * i]->len};
        pairs[2 * i + 1] = (bytes){r->element[2 * i + 1]->str, r->element[2 * i + 1]->len};
    }
    if (sort && n)
        qsort(pairs, n, sizeof(bytes) * 2, bytes_cmp);
    for (size_t i = 0; i < n; i++) {
        printf("  ");
        put_escaped(pairs[2 * i].p, pairs[2 * i].len);
        putchar('=');
        put_escaped(pairs[2 * i + 1].p, pairs[2 * i + 1].len);
        putchar('\n');
    }
    free(pairs);
}

static void print_items(redisReply *r, int sort)
{
    bytes *items = calloc(r->elements + 1, sizeof(bytes));
    for (size_t i = 0; i < r->elements; i++)
        items[i] = (bytes){r->element[i]->str, r->element[i]->len};
    if (sort && r->elements)
        qsort(items, r->elements, sizeof(bytes), bytes_cmp);
    for (size_t i = 0; i < r->elements; i++) {
        printf("  ");
        put_escaped(items[i].p, items[i].len);
        putchar('\n');
    }
    free(items);
}

static int have_pexpiretime = 1;

static void print_ttl(redisContext *ctx, const bytes *k)
{
    redisReply *r;
    if (have_pexpiretime) {
        r = cmd(ctx, "PEXPIRETIME %b", k->p, k->len);
        if (r->type == REDIS_REPLY_INTEGER) {
            if (r->integer < 0)
                printf(" ttl=none");
            else
                printf(" ttl=abs:%lld", r->integer);
            freeReplyObject(r);
            return;
        }
        have_pexpiretime = 0;
        freeReplyObject(r);
    }
    r = cmd(ctx, "PTTL %b", k->p, k->len);
    if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0)
        printf(" ttl=~%lld", (r->integer + 5000) / 10000 * 10);
    else
        printf(" ttl=none");
    freeReplyObject(r);
}

static void dump_key(redisContext *ctx, int db, const bytes *k)
{
    redisReply *t = cmd_ok(ctx, cmd(ctx, "TYPE %b", k->p, k->len), "TYPE");
    printf("db%d ", db);
    put_escaped(k->p, k->len);
    printf(" %s", t->str);
    print_ttl(ctx, k);
    putchar('\n');
    redisReply *v = NULL;
    if (!strcmp(t->str, "string")) {
        v = cmd_ok(ctx, cmd(ctx, "GET %b", k->p, k->len), "GET");
        printf("  ");
        if (v->type == REDIS_REPLY_STRING)
            put_escaped(v->str, v->len);
        putchar('\n');
    } else if (!strcmp(t->str, "list")) {
        v = cmd_ok(ctx, cmd(ctx, "LRANGE %b 0 -1", k->p, k->len), "LRANGE");
        print_items(v, 0);
    } else if (!strcmp(t->str, "set")) {
        v = cmd_ok(ctx, cmd(ctx, "SMEMBERS %b", k->p, k->len), "SMEMBERS");
        print_items(v, 1);
    } else if (!strcmp(t->str, "hash")) {
        v = cmd_ok(ctx, cmd(ctx, "HGETALL %b", k->p, k->len), "HGETALL");
        print_pairs(v, 1);
    } else if (!strcmp(t->str, "zset")) {
        v = cmd_ok(ctx, cmd(ctx, "ZRANGE %b 0 -1 WITHSCORES", k->p, k->len), "ZRANGE");
        print_pairs(v, 0);
    } else if (strcmp(t->str, "none") != 0) {
        printf("  (type not compared)\n");
    }
    if (v)
        freeReplyObject(v);
    freeReplyObject(t);
}

static void dump_db(redisContext *ctx, int db)
{
    redisReply *r = cmd(ctx, "SELECT %d", db);
    int ok = r->type != REDIS_REPLY_ERROR;
    freeReplyObject(r);
    if (!ok)
        return;
    bytes *keys = NULL;
    size_t n = 0, cap = 0;
    char cursor[32] = "0";
    do {
        r = cmd_ok(ctx, cmd(ctx, "SCAN %s COUNT 1000", cursor), "SCAN");
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        redisReply *ks = r->element[1];
        for (size_t i = 0; i < ks->elements; i++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                keys = realloc(keys, cap * sizeof(bytes));
            }
            keys[n].p = malloc(ks->element[i]->len + 1);
            memcpy(keys[n].p, ks->element[i]->str, ks->element[i]->len);
            keys[n].len = ks->element[i]->len;
            n++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    if (n)
        qsort(keys, n, sizeof(bytes), bytes_cmp);
    for (size_t i = 0; i < n; i++) {
        /* SCAN may return a key twice across a rehash. */
        if (i > 0 && bytes_cmp(&keys[i], &keys[i - 1]) == 0)
            continue;
        dump_key(ctx, db, &keys[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(keys[i].p);
    free(keys);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 6379, dbs = 16;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-h"))
            host = argv[i + 1];
        else if (!strcmp(argv[i], "-p"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-n"))
            dbs = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: kvdump [-h host] [-p port] [-n databases]\n");
            return 1;
        }
    }
    redisContext *ctx = redisConnect(host, port);
    if (!ctx || ctx->err) {
        fprintf(stderr, "kvdump: cannot connect to %s:%d: %s\n", host, port, ctx ? ctx->errstr : "oom");
        return 1;
    }
    for (int db = 0; db < dbs; db++)
        dump_db(ctx, db);
    redisFree(ctx);
    return fflush(stdout) == 0 ? 0 : 1;
}
