/* harness: run commands against a real server context without a network,
 * for unit tests of command modules. A fake client's replies accumulate in
 * its output chain; h_run returns them as one NUL-terminated string (the
 * exact RESP bytes) and empties the chain.
 *
 *   srv *s = h_srv_new();
 *   client *c = h_client_new(s);
 *   char *r = h_run(c, "SET k v");  assert_string_equal(r, "+OK\r\n"); free(r);
 *   h_client_free(c); h_srv_free(s);
 */
#ifndef KV_TEST_HARNESS_H
#define KV_TEST_HARNESS_H
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "server.h"
#include "client.h"
#include "command.h"
#include "resp.h"
#include "mem.h"

#define H_UNUSED __attribute__((unused))

static int h_time_frozen;

static H_UNUSED srv *h_srv_new_with(const char *config_text)
{
    srv *s = calloc(1, sizeof(*s));
    char err[1024];
    cfg_init(&s->config);
    if (config_text && cfg_load_string(&s->config, config_text, "test.conf", err, sizeof(err)) != 0) {
        fprintf(stderr, "harness config: %s\n", err);
        abort();
    }
    if (srv_init(s, err, sizeof(err)) != 0) {
        fprintf(stderr, "harness srv_init: %s\n", err);
        abort();
    }
    h_time_frozen = 0;
    return s;
}

static H_UNUSED srv *h_srv_new(void)
{
    return h_srv_new_with(NULL);
}

static H_UNUSED void h_srv_free(srv *s)
{
    srv_release(s);
    free(s);
}

static H_UNUSED client *h_client_new(srv *s)
{
    return client_create(s);
}

static H_UNUSED void h_client_free(client *c)
{
    client_free(c);
}

/* Freeze the server clock at ms (unix ms) so TTL tests are deterministic. */
static H_UNUSED void h_set_time(srv *s, int64_t ms)
{
    h_time_frozen = 1;
    s->mstime = ms;
    s->ustime = ms * 1000;
    s->lru_clock = (uint32_t)(ms / 1000);
}

/* Take everything the client has been sent so far. */
static H_UNUSED char *h_output(client *c)
{
    size_t total = 0;
    for (reply_block *b = c->reply_head; b; b = b->next)
        total += b->used;
    char *out = malloc(total + 1);
    size_t pos = 0;
    reply_block *b = c->reply_head;
    while (b) {
        reply_block *next = b->next;
        memcpy(out + pos, b->buf, b->used);
        pos += b->used;
        mem_free(b);
        b = next;
    }
    out[pos] = '\0';
    c->reply_head = c->reply_tail = NULL;
    c->reply_bytes = 0;
    c->head_sent = 0;
    return out;
}

static H_UNUSED char *h_runv(client *c, int argc, const resp_arg *argv)
{
    if (!h_time_frozen)
        srv_update_time(c->srv);
    client_set_argv(c, argc, argv);
    c->srv->current_client = c;
    cmd_process(c);
    c->srv->current_client = NULL;
    c->argc = 0;
    c->argv = NULL;
    return h_output(c);
}

/* Run one command written as redis-cli would take it (quotes allowed). */
static H_UNUSED char *h_run(client *c, const char *line)
{
    size_t len = strlen(line);
    char *scratch = malloc(len + 1);
    resp_arg argv[256];
    int argc = resp_split_inline(line, len, scratch, argv, 256);
    if (argc <= 0) {
        free(scratch);
        return strdup("");
    }
    char *out = h_runv(c, argc, argv);
    free(scratch);
    return out;
}

/* Run and compare in one go; returns 1 when the reply matches exactly. */
static H_UNUSED int h_expect(client *c, const char *line, const char *expected)
{
    char *got = h_run(c, line);
    int ok = strcmp(got, expected) == 0;
    if (!ok)
        fprintf(stderr, "  %s\n    expected: %s\n    got:      %s\n", line, expected, got);
    free(got);
    return ok;
}

/* A cmocka fixture: one server and one client, clock frozen at a fixed
 * instant so TTL replies are exact (also under valgrind). */
typedef struct h_fixture {
    srv *s;
    client *c;
} h_fixture;

static H_UNUSED int h_fixture_setup(void **state)
{
    h_fixture *f = malloc(sizeof(*f));
    f->s = h_srv_new();
    f->c = h_client_new(f->s);
    h_set_time(f->s, 1700000000000LL);
    *state = f;
    return 0;
}

static H_UNUSED int h_fixture_teardown(void **state)
{
    h_fixture *f = *state;
    h_client_free(f->c);
    h_srv_free(f->s);
    free(f);
    return 0;
}

#endif
