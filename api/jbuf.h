/* jbuf.h - a tiny append-only JSON text writer for the hot read paths.
 *
 * GET /api/v1/clusters/{name} is the most frequent call (clients look up
 * topology); building a jansson tree and dumping it costs several times
 * more than writing the text directly. Strings are always escaped. An
 * allocation failure is sticky: jb_finish() then returns NULL. */
#ifndef KVFLEET_API_JBUF_H
#define KVFLEET_API_JBUF_H

#include <stddef.h>
#include <stdint.h>

struct jbuf {
    char *buf;
    size_t len, cap;
    int failed;
};

void jb_init(struct jbuf *b, size_t hint);
void jb_raw(struct jbuf *b, const char *s);
void jb_str(struct jbuf *b, const char *s);      /* quoted + escaped; NULL -> null */
void jb_key(struct jbuf *b, const char *k);      /* "k": (k must not need escaping) */
void jb_int(struct jbuf *b, int64_t v);
void jb_int_or_null(struct jbuf *b, int64_t v);  /* negative -> null */
void jb_double(struct jbuf *b, double v);
void jb_bool(struct jbuf *b, int v);
void jb_time(struct jbuf *b, int64_t ms);        /* ISO 8601 or null */
/* Hand over the text (malloc'd) or NULL on failure; resets b. */
char *jb_finish(struct jbuf *b);
void jb_free(struct jbuf *b);

#endif
