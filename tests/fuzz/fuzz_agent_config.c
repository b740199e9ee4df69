/* fuzz_agent_config: the agent's redis.conf parser (agent/config.c:
 * cfg_load_string, the code behind cfg_load for a file's text; CONFIG GET's
 * cfg_get; CONFIG SET's cfg_set).
 *
 * The input is a config file's text. After a successful load, every value
 * CONFIG GET shows must be accepted back by CONFIG SET for a mutable
 * directive (what `redis-cli CONFIG GET x` then `CONFIG SET x <that>` does,
 * and what CONFIG REWRITE relies on). Inputs naming `include` are skipped:
 * it opens files, and the fuzzer would find /dev/zero. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "log.h"

#define FUZZ_MAX_INPUT (64 * 1024)

typedef struct pair {
    char *name, *value;
} pair;

typedef struct pairs {
    pair *v;
    size_t n, cap;
} pairs;

static void collect(void *priv, const char *name, const char *value)
{
    pairs *ps = priv;
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 64;
        ps->v = realloc(ps->v, ps->cap * sizeof(*ps->v));
    }
    ps->v[ps->n].name = strdup(name);
    ps->v[ps->n].value = strdup(value);
    ps->n++;
}

/* CONFIG GET joins a multi-word directive's words with single spaces, as
 * Redis does, and CONFIG SET splits at every space: a word that held
 * blanks or control bytes in quotes (bind '  ' x) cannot come back the
 * same way, in Redis either. Such values are left out of the check (and a
 * "too many bind addresses" for a value with a blank, below). */
static int representable(const char *v)
{
    size_t n = strlen(v);
    if (n && (v[0] == ' ' || v[n - 1] == ' '))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (v[i] == ' ' && v[i + 1] == ' '))
            return 0;
    return 1;
}

static void check_get_set(cfg *c)
{
    pairs ps = { NULL, 0, 0 };
    char err[1024];
    cfg_get(c, "*", 1, collect, &ps);
    for (size_t i = 0; i < ps.n; i++) {
        /* 1: mutable (2 is immutable); protected ones need a flag */
        if (cfg_is_mutable(ps.v[i].name) == 1 && representable(ps.v[i].value) &&
            cfg_set(c, ps.v[i].name, ps.v[i].value, strlen(ps.v[i].value), err, sizeof(err)) != 0 &&
            strstr(err, "protected config") == NULL &&
            /* a quoted address holding a blank is one word in the file,
             * several for CONFIG SET: past 16 of them, too many (Redis too) */
            !(strstr(err, "Too many bind addresses") && strchr(ps.v[i].value, ' '))) {
            fprintf(stderr, "fuzz_agent_config: CONFIG SET %s '%s' refused what CONFIG GET showed: %s\n",
                    ps.v[i].name, ps.v[i].value, err);
            abort();
        }
    }
    for (size_t i = 0; i < ps.n; i++) {
        free(ps.v[i].name);
        free(ps.v[i].value);
    }
    free(ps.v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_set_level(LOG_WARNING);
        log_set_file("/dev/null");
        quiet = 1;
    }
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    for (size_t i = 0; i < size; i++)   /* any case of "include" */
        if ((text[i] | 0x20) == 'i' && strncasecmp(text + i, "include", 7) == 0) {
            free(text);
            return 0;
        }
    cfg c;
    char err[2048];
    cfg_init(&c);
    if (cfg_load_string(&c, text, "fuzz.conf", err, sizeof(err)) == 0)
        check_get_set(&c);
    cfg_free(&c);
    free(text);
    return 0;
}
