/* resp: the RESP2 request parser, a pure state machine. Feed it the bytes of
 * a client's input buffer starting at the current command; it answers "need
 * more", "here is a command" or "protocol error" with Redis' exact text.
 * No I/O, no allocation per argument: arguments point into the buffer
 * (or into the parser's scratch space for inline arguments).
 *
 * Both request forms are accepted: multibulk (*N\r\n$len\r\n...) and inline
 * ("SET a b\r\n", as telnet users type), inline quoting as redis-cli does.
 *
 * Shared (common/) by kvfleet-agent's clients and replication link and by
 * kvfleetd's Sentinel-compatible port. The few allocations it makes (its
 * argument arrays, grown rarely and kept between commands) go through a
 * caller-chosen allocator, so the agent counts them in used_memory while the
 * controller uses plain malloc and survives its failure. */
#ifndef KV_RESP_H
#define KV_RESP_H
#include <stddef.h>

/* realloc/free pair for the parser's arrays. realloc_fn may return NULL (the
 * parse then fails with "ERR Protocol error: out of memory" and the parser
 * stays usable) or abort, as the agent's mem_realloc does. */
typedef struct resp_allocator {
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} resp_allocator;

typedef struct resp_arg {
    const char *ptr;
    size_t len;
} resp_arg;

enum {
    RESP_PARSE_MORE = 0,   /* incomplete: call again with more bytes */
    RESP_PARSE_DONE = 1,   /* a command is ready */
    RESP_PARSE_EMPTY = 2,  /* an empty inline line or *0 / *-1: consumed, no command */
    RESP_PARSE_ERROR = -1  /* protocol error: errstr holds the reply text */
};

#define RESP_INLINE_MAX (64 * 1024)

typedef struct resp_parser {
    /* settings */
    size_t max_bulk_len;      /* proto-max-bulk-len, default 512MB */
    int auth_required;        /* limits multibulk/bulk sizes as Redis 7.0 does */
    const resp_allocator *alloc;
    /* state, private */
    int kind;                 /* 0 none yet, 1 multibulk, 2 inline */
    long long mbulk_left;
    long long bulk_len;       /* -1 when not inside a bulk */
    size_t pos;               /* bytes of the current command parsed so far */
    size_t need;              /* bytes from command start needed to progress */
    size_t scan;              /* where the search for the current line's end resumes */
    int line_nul;             /* a NUL precedes the line end: Redis' strchr never
                               * finds it, so only the size limit can end the wait */
    int argc;
    int argv_cap;
    size_t *offs;
    size_t *lens;
    resp_arg *argv;
    char *scratch;            /* inline arguments, quotes and escapes resolved */
    size_t scratch_cap;
    char errstr[160];         /* "ERR Protocol error: ..." without '-' and CRLF */
} resp_parser;

/* With malloc's realloc/free. */
void resp_parser_init(resp_parser *p, size_t max_bulk_len);
/* With the given allocator, which must outlive the parser. */
void resp_parser_init_with(resp_parser *p, size_t max_bulk_len, const resp_allocator *alloc);
void resp_parser_free(resp_parser *p);
/* Bytes of heap the parser holds now (its arrays and inline scratch), for a
 * caller that bounds a client's memory (query buffer plus parser, as Redis
 * counts querybuf plus argv) or reports it. */
size_t resp_parser_mem(const resp_parser *p);
/* Forget the current command, to restart. The parser also resets itself
 * after DONE, EMPTY and ERROR, so calling this then is harmless (it keeps the
 * argv of a DONE valid). */
void resp_parser_reset(resp_parser *p);

/* buf/len: the bytes from the start of the current command. The caller must
 * keep those bytes at the start of what it passes next time (it may move the
 * buffer between calls: the parser keeps offsets, never pointers, and resumes
 * where it stopped instead of rescanning). On DONE, *argv and *argc are valid
 * until the next resp_parse call (multibulk arguments point into buf, inline
 * ones into the parser's scratch) and *consumed is the command's size in
 * bytes; on EMPTY only *consumed is set.
 * A master's stream is not limited by proto-max-bulk-len: pass SIZE_MAX as
 * max_bulk_len (or set p->max_bulk_len) for it. */
int resp_parse(resp_parser *p, const char *buf, size_t len,
               resp_arg **argv, int *argc, size_t *consumed);
/* Hint: how many bytes from the command start the parser needs (0 unknown).
 * Lets the caller allocate a large bulk once instead of growing by doubling. */
size_t resp_parser_needed(const resp_parser *p);

/* Split an inline line into arguments as redis-cli / sdssplitargs does.
 * Returns argc, -1 on unbalanced quotes, or -2 when the line holds more than
 * max_args arguments (len/2+1 is always enough). out is filled with pointers
 * into scratch (size at least len+1); every argument is NUL-terminated there.
 * A NUL byte in line ends it, as it ends the C string sdssplitargs reads. */
int resp_split_inline(const char *line, size_t len, char *scratch,
                      resp_arg *out, int max_args);

/* Writes a length header, "<prefix><n>\r\n" ("*3\r\n", "$5\r\n"), into buf
 * of at least RESP_LEN_HEADER_MAX bytes (not NUL-terminated); returns its
 * length. */
#define RESP_LEN_HEADER_MAX 24
size_t resp_len_header(char *buf, char prefix, long long n);

/* Look-ahead over a pipelined batch, so the server can warm the cache for
 * the keys of the next commands before running them. Only complete,
 * well-formed multibulk frames are read (at most max of them, from the
 * start of buf); the first incomplete, inline or odd frame ends the walk, as
 * the real parser will judge it. Each peeked frame records its argument
 * count and its first RESP_PEEK_ARGS arguments (pointers into buf). Nothing
 * is consumed: resp_parse still reads every byte. Returns frames filled. */
#define RESP_PEEK_ARGS 24
typedef struct resp_peek {
    int argc;                        /* the frame's full argument count */
    int nargs;                       /* how many of them arg[] holds */
    size_t end;                      /* offset in buf just past the frame */
    resp_arg arg[RESP_PEEK_ARGS];
} resp_peek;
size_t resp_peek_frames(const char *buf, size_t len, resp_peek *out, size_t max);

#endif
