/* respdiff: replays a command script against one Redis-compatible server and
 * prints every command with the exact reply bytes, escaped so that \r\n and
 * binary bytes are visible. Running the same script against redis-server and
 * kvfleet-agent and diffing the two outputs is the compatibility suite
 * (tests/e2e/test_engine_compat.sh); the tool is also used by other e2e
 * scripts for raw-protocol checks (partial writes, inline commands, source
 * address binding for protected mode).
 *
 * Usage: respdiff [-h host] [-p port] [-t timeout_ms] [-s source_addr]
 *                 [-m max_timeouts] [-3] script
 *        ("-" reads the script from stdin)
 *
 * RESP3 mode (-3, or RESPDIFF_PROTO=3 in the environment): every connection
 * the script opens first sends HELLO 3 and consumes its reply unprinted, so
 * the same script replays in RESP3 (the @waitblocked probe stays RESP2). A
 * HELLO 3 the server refuses is printed as "<HELLO 3 refused> -ERR..." and
 * the connection goes on in RESP2.
 *
 * Script syntax, one item per line:
 *   # comment                 ignored (blank lines too)
 *   SET "a b" c\x00d          a command, split like redis-cli does (double
 *                             quotes with \n \r \t \b \a \\ \" \xHH escapes,
 *                             single quotes with \'), sent as RESP multibulk;
 *                             exactly one reply is read and printed
 *   @conn N                   switch to connection N (0..15, opened lazily)
 *   @sleep MS                 pause
 *   @send CMD...              send a command without reading its reply
 *   @read                     read and print one reply (blocking pops, pub/sub)
 *   @readmon                  like @read, for a MONITOR line: its time and
 *                             the client's port are printed as ?
 *   @noreply MS               print whether any bytes arrive within MS ms
 *   @inline TEXT              send TEXT\r\n as an inline command, read a reply
 *   @raw "BYTES"              send the unescaped bytes, read one reply
 *   @rawsend "BYTES"          send the unescaped bytes only
 *   @slow MS "BYTES"          send the bytes one at a time, MS ms apart
 *   @eof                      print <closed> once the server closes the
 *                             connection, <open> if it is still open after
 *                             the timeout
 *   @close                    close the current connection
 *   @sorted CMD...            like CMD but the top-level array elements are
 *                             printed sorted (for replies in hash order);
 *                             a RESP3 map's key-value pairs are sorted
 *   @maskint CMD...           integers in the reply printed as :?
 *   @type CMD...              only the reply type (and array length)
 *   @echo TEXT                print TEXT (section markers in the output)
 *   @waitblocked N            poll INFO clients on a private connection until
 *                             blocked_clients is N, so that a push from
 *                             another connection surely comes after a
 *                             blocking command sent with @send
 *
 * Reply parsing understands RESP2 and RESP3 framing, so it always knows
 * where a reply ends; a reply that does not complete within the timeout is
 * printed as <timeout> and that connection is closed. Exit status: 0 when
 * the script ran (whatever the replies), 2 on usage or script errors, 3 when
 * the server cannot be reached, 4 after max_timeouts (default 5) replies
 * timed out. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 16
#define PROBE_CONN MAX_CONNS /* private connection for @waitblocked */
#define MAX_ARGS 1024
#define MAX_DEPTH 64

typedef struct conn {
    int fd;            /* -1 when not connected */
    char *buf;         /* bytes received and not yet consumed */
    size_t len, cap;
} conn;

typedef struct arg {
    char *ptr;
    size_t len;
} arg;

static const char *opt_host = "127.0.0.1";
static const char *opt_port = "6379";
static const char *opt_src = NULL;
static int opt_timeout_ms = 3000;
static int opt_max_timeouts = 5;
static int opt_resp3 = 0;
static int timeouts = 0;
static conn conns[MAX_CONNS + 1];
static int cur = 0;
static int lineno = 0;

static void die(int code, const char *msg) {
    fprintf(stderr, "respdiff: line %d: %s\n", lineno, msg);
    exit(code);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------ output */

/* Print bytes visibly: printable ASCII as is (backslash doubled), \r \n \t
 * as escapes, anything else as \xHH; a real newline after each \n so that
 * multi-element replies diff line by line. */
static void print_escaped(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\\') fputs("\\\\", stdout);
        else if (ch == '\r') fputs("\\r", stdout);
        else if (ch == '\n') fputs("\\n\n", stdout);
        else if (ch == '\t') fputs("\\t", stdout);
        else if (ch >= 32 && ch < 127) putchar(ch);
        else printf("\\x%02x", ch);
    }
    if (n == 0 || p[n - 1] != '\n') putchar('\n');
}

/* ------------------------------------------------------------ arguments */

static int hexval(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

static void arg_push(arg *a, size_t *cap, char ch) {
    if (a->len + 1 >= *cap) {
        *cap = *cap ? *cap * 2 : 32;
        char *np = realloc(a->ptr, *cap);
        if (!np) die(2, "out of memory");
        a->ptr = np;
    }
    a->ptr[a->len++] = ch;
}

/* Split a line the way redis-cli (sdssplitargs) does. Returns the number of
 * arguments, or -1 on unbalanced quotes. Arguments are malloc'd. */
static int split_args(const char *p, arg *out, int max) {
    int n = 0;
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) return n;
        if (n == max) return -1;
        arg a = {NULL, 0};
        size_t cap = 0;
        int inq = 0, insq = 0, done = 0;
        arg_push(&a, &cap, 0);
        a.len = 0;
        while (!done) {
            if (inq) {
                if (!*p) goto unbalanced;
                if (p[0] == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                    arg_push(&a, &cap, (char)(hexval(p[2]) * 16 + hexval(p[3])));
                    p += 3;
                } else if (p[0] == '\\' && p[1]) {
                    char c;
                    p++;
                    switch (*p) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *p; break;
                    }
                    arg_push(&a, &cap, c);
                } else if (*p == '"') {
                    if (p[1] && !isspace((unsigned char)p[1])) goto unbalanced;
                    done = 1;
                } else {
                    arg_push(&a, &cap, *p);
                }
            } else if (insq) {
                if (!*p) goto unbalanced;
                if (p[0] == '\\' && p[1] == '\'') {
                    p++;
                    arg_push(&a, &cap, '\'');
                } else if (*p == '\'') {
                    if (p[1] && !isspace((unsigned char)p[1])) goto unbalanced;
                    done = 1;
                } else {
                    arg_push(&a, &cap, *p);
                }
            } else {
                switch (*p) {
                case ' ': case '\n': case '\r': case '\t': case '\0':
                    done = 1;
                    break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: arg_push(&a, &cap, *p); break;
                }
            }
            if (*p) p++;
        }
        out[n++] = a;
        continue;
    unbalanced:
        free(a.ptr);
        for (int i = 0; i < n; i++) free(out[i].ptr);
        return -1;
    }
}

static void free_args(arg *a, int n) {
    for (int i = 0; i < n; i++) free(a[i].ptr);
}

/* ------------------------------------------------------------ connections */

static int conn_open(conn *c) {
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(opt_host, opt_port, &hints, &res) != 0) return -1;
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (opt_src) {
            struct sockaddr_in sa;
            memset(&sa, 0, sizeof(sa));
            sa.sin_family = AF_INET;
            if (inet_pton(AF_INET, opt_src, &sa.sin_addr) != 1 ||
                bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
                close(fd);
                fd = -1;
                continue;
            }
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->len = 0;
    return 0;
}

static void conn_close(conn *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static int write_all(conn *c, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static char *probe_read(conn *c);

/* RESP3 mode: switch a fresh script connection with HELLO 3. Its reply
 * (ids, versions) is not printed; a refusal is, so that a server that does
 * not speak RESP3 cannot pass by replaying the script in RESP2. */
static void conn_hello3(conn *c) {
    static const char q[] = "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";
    if (write_all(c, q, sizeof(q) - 1) != 0) {
        puts("<HELLO 3 write failed>");
        conn_close(c);
        return;
    }
    char *r = probe_read(c);
    if (!r) {
        puts("<HELLO 3 unanswered>");
        conn_close(c);
        return;
    }
    if (r[0] != '%') {
        printf("<HELLO 3 refused> ");
        print_escaped(r, strlen(r));
    }
    free(r);
}

static conn *conn_cur(void) {
    conn *c = &conns[cur];
    if (c->fd < 0) {
        if (conn_open(c) != 0) {
            fprintf(stderr, "respdiff: cannot connect to %s:%s: %s\n", opt_host, opt_port, strerror(errno));
            exit(3);
        }
        if (opt_resp3) conn_hello3(c);
        if (c->fd < 0) die(3, "connection lost during HELLO 3");
    }
    return c;
}

/* Read more bytes into the buffer, waiting at most until deadline.
 * Returns >0 bytes read, 0 on EOF, -1 on error, -2 on timeout. */
static ssize_t conn_fill(conn *c, long long deadline) {
    long long left = deadline - now_ms();
    if (left < 0) left = 0;
    struct pollfd pfd = {c->fd, POLLIN, 0};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0) return errno == EINTR ? conn_fill(c, deadline) : -1;
    if (r == 0) return -2;
    if (c->cap - c->len < 65536) {
        size_t ncap = c->cap ? c->cap * 2 : 131072;
        while (ncap - c->len < 65536) ncap *= 2;
        char *nb = realloc(c->buf, ncap);
        if (!nb) die(2, "out of memory");
        c->buf = nb;
        c->cap = ncap;
    }
    ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (n > 0) c->len += (size_t)n;
    return n;
}

/* ------------------------------------------------------------ RESP framing */

/* Find the end of the element starting at off. Returns the offset just past
 * it, 0 when more bytes are needed, (size_t)-1 on a framing error. */
static size_t resp_elem_end(const char *b, size_t len, size_t off, int depth) {
    if (depth > MAX_DEPTH) return (size_t)-1;
    if (off >= len) return 0;
    const char *crlf = memchr(b + off, '\r', len - off);
    if (!crlf || (size_t)(crlf - b) + 1 >= len) return 0;
    if (crlf[1] != '\n') return (size_t)-1;
    size_t line_end = (size_t)(crlf - b) + 2;
    char type = b[off];
    long long n = 0;
    switch (type) {
    case '+': case '-': case ':': case '_': case '#': case ',': case '(':
        return line_end;
    case '$': case '!': case '=':
        n = strtoll(b + off + 1, NULL, 10);
        if (n < 0) return line_end;
        if (len < line_end + (size_t)n + 2) return 0;
        return line_end + (size_t)n + 2;
    case '*': case '~': case '>': case '%': case '|': {
        n = strtoll(b + off + 1, NULL, 10);
        if (type == '%' || type == '|') n *= 2;
        size_t pos = line_end;
        for (long long i = 0; i < n; i++) {
            size_t e = resp_elem_end(b, len, pos, depth + 1);
            if (e == 0 || e == (size_t)-1) return e;
            pos = e;
        }
        /* An attribute precedes the real reply. */
        if (type == '|') return resp_elem_end(b, len, pos, depth + 1);
        return pos;
    }
    default:
        return (size_t)-1;
    }
}

enum { MODE_PLAIN, MODE_SORTED, MODE_MASKINT, MODE_TYPE, MODE_MONITOR };

typedef struct span {
    const char *p;
    size_t n;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int r = memcmp(x->p, y->p, m);
    if (r) return r;
    return (x->n > y->n) - (x->n < y->n);
}

/* Print the top-level array's (or set's) elements in sorted order; a map's
 * key-value pairs are sorted as units, so each key stays with its value. */
static void print_sorted(const char *b, size_t n) {
    if (b[0] != '*' && b[0] != '~' && b[0] != '%') {
        print_escaped(b, n);
        return;
    }
    const char *crlf = memchr(b, '\n', n);
    size_t hdr = (size_t)(crlf - b) + 1;
    long long cnt = strtoll(b + 1, NULL, 10);
    int per_unit = b[0] == '%' ? 2 : 1;
    if (cnt <= 0) {
        print_escaped(b, n);
        return;
    }
    span *s = calloc((size_t)cnt, sizeof(*s));
    if (!s) die(2, "out of memory");
    size_t pos = hdr;
    for (long long i = 0; i < cnt; i++) {
        size_t e = pos;
        for (int k = 0; k < per_unit; k++) e = resp_elem_end(b, n, e, 1);
        s[i].p = b + pos;
        s[i].n = e - pos;
        pos = e;
    }
    qsort(s, (size_t)cnt, sizeof(*s), span_cmp);
    print_escaped(b, hdr);
    for (long long i = 0; i < cnt; i++) print_escaped(s[i].p, s[i].n);
    free(s);
}

/* Print the reply with every integer replaced by "?". */
static void print_maskint(const char *b, size_t n) {
    size_t pos = 0;
    while (pos < n) {
        const char *nl = memchr(b + pos, '\n', n - pos);
        size_t line_end = nl ? (size_t)(nl - b) + 1 : n;
        if (b[pos] == ':') {
            print_escaped(":?\r\n", 4);
            pos = line_end;
        } else if ((b[pos] == '$' || b[pos] == '=' || b[pos] == '!') && b[pos + 1] != '-') {
            /* A string's body is not parsed (it may hold lines like ":1"). */
            size_t e = resp_elem_end(b, n, pos, 1);
            print_escaped(b + pos, e - pos);
            pos = e;
        } else {
            print_escaped(b + pos, line_end - pos);
            pos = line_end;
        }
    }
}

/* A MONITOR line, "+<sec>.<usec> [<db> <ip>:<port>] args", printed with
 * the time and the port as "?" (they differ between two servers); a "lua"
 * or "unix:" address and everything else are kept. Other replies print as
 * they are. */
static void print_monitor(const char *b, size_t n) {
    size_t i = 1;
    while (i < n && (isdigit((unsigned char)b[i]) || b[i] == '.')) i++;
    if (b[0] != '+' || i == 1 || i + 1 >= n || b[i] != ' ' || b[i + 1] != '[') {
        print_escaped(b, n);
        return;
    }
    const char *close = memchr(b + i, ']', n - i);
    const char *space = memchr(b + i + 2, ' ', n - i - 2);
    if (!close || !space || space > close) {
        print_escaped(b, n);
        return;
    }
    const char *colon = NULL;
    for (const char *p = space; p < close; p++)
        if (*p == ':') colon = p;
    char *out = malloc(n + 8);
    if (!out) die(2, "out of memory");
    size_t o = 0;
    memcpy(out, "+? ", 3);
    o = 3;
    if (colon && strncmp(space + 1, "unix:", 5) != 0) {
        size_t head = (size_t)(colon + 1 - (b + i + 1));
        memcpy(out + o, b + i + 1, head);
        o += head;
        out[o++] = '?';
        memcpy(out + o, close, n - (size_t)(close - b));
        o += n - (size_t)(close - b);
    } else {
        memcpy(out + o, b + i + 1, n - i - 1);
        o += n - i - 1;
    }
    print_escaped(out, o);
    free(out);
}

static void print_reply(const char *b, size_t n, int mode) {
    switch (mode) {
    case MODE_MONITOR: print_monitor(b, n); break;
    case MODE_SORTED: print_sorted(b, n); break;
    case MODE_MASKINT: print_maskint(b, n); break;
    case MODE_TYPE:
        if (strchr("*~>%|", b[0])) printf("%c%lld (type only)\n", b[0], strtoll(b + 1, NULL, 10));
        else printf("%c (type only)\n", b[0]);
        break;
    default: print_escaped(b, n); break;
    }
}

/* Read one complete reply on the current connection and print it. */
static void read_reply(int mode) {
    conn *c = conn_cur();
    long long deadline = now_ms() + opt_timeout_ms;
    for (;;) {
        size_t e = resp_elem_end(c->buf, c->len, 0, 0);
        if (e == (size_t)-1) {
            printf("<protocol error in reply> ");
            print_escaped(c->buf, c->len);
            conn_close(c);
            return;
        }
        if (e > 0) {
            print_reply(c->buf, e, mode);
            memmove(c->buf, c->buf + e, c->len - e);
            c->len -= e;
            return;
        }
        ssize_t r = conn_fill(c, deadline);
        if (r == -2 || r == 0 || r < 0) {
            if (c->len) {
                printf("<partial reply> ");
                print_escaped(c->buf, c->len);
            }
            puts(r == -2 ? "<timeout>" : "<closed>");
            conn_close(c);
            /* A server that answers nothing would otherwise cost one
             * timeout per remaining line. */
            if (r == -2 && ++timeouts >= opt_max_timeouts) {
                puts("<aborted: too many timeouts>");
                exit(4);
            }
            return;
        }
    }
}

/* ------------------------------------------------------------ commands */

static void send_bytes(const char *p, size_t n) {
    conn *c = conn_cur();
    if (write_all(c, p, n) != 0) {
        puts("<write failed>");
        conn_close(c);
    }
}

static void send_command(arg *a, int n) {
    size_t cap = 64, len = 0;
    for (int i = 0; i < n; i++) cap += a[i].len + 32;
    char *buf = malloc(cap);
    if (!buf) die(2, "out of memory");
    len += (size_t)snprintf(buf + len, cap - len, "*%d\r\n", n);
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "$%zu\r\n", a[i].len);
        memcpy(buf + len, a[i].ptr, a[i].len);
        len += a[i].len;
        buf[len++] = '\r';
        buf[len++] = '\n';
    }
    send_bytes(buf, len);
    free(buf);
}

/* Parse the rest of a directive line as exactly one quoted byte string. */
static arg one_arg(const char *rest) {
    arg a[MAX_ARGS];
    int n = split_args(rest, a, MAX_ARGS);
    if (n != 1) {
        if (n > 0) free_args(a, n);
        die(2, "expected exactly one (quoted) argument");
    }
    return a[0];
}

static void cmd_eof(void) {
    conn *c = conn_cur();
    long long deadline = now_ms() + opt_timeout_ms;
    for (;;) {
        ssize_t r = conn_fill(c, deadline);
        if (r == 0 || r == -1) {
            if (c->len) {
                printf("<unread bytes> ");
                print_escaped(c->buf, c->len);
            }
            puts("<closed>");
            conn_close(c);
            return;
        }
        if (r == -2) {
            puts("<open>");
            return;
        }
    }
}

static void cmd_noreply(long ms) {
    conn *c = conn_cur();
    if (c->len == 0) {
        ssize_t r = conn_fill(c, now_ms() + ms);
        if (r == 0 || r == -1) {
            puts("<closed>");
            conn_close(c);
            return;
        }
        if (r == -2) {
            puts("<no reply>");
            return;
        }
    }
    printf("<unexpected bytes> ");
    print_escaped(c->buf, c->len);
    c->len = 0;
}

/* Read one bulk reply on c into a malloc'd NUL-terminated string. */
static char *probe_read(conn *c) {
    long long deadline = now_ms() + opt_timeout_ms;
    for (;;) {
        size_t e = resp_elem_end(c->buf, c->len, 0, 0);
        if (e == (size_t)-1) return NULL;
        if (e > 0) {
            char *s = malloc(e + 1);
            if (!s) die(2, "out of memory");
            memcpy(s, c->buf, e);
            s[e] = 0;
            memmove(c->buf, c->buf + e, c->len - e);
            c->len -= e;
            return s;
        }
        if (conn_fill(c, deadline) <= 0) return NULL;
    }
}

/* @waitblocked N: poll INFO clients until blocked_clients:N. */
static void cmd_waitblocked(long n) {
    static const char q[] = "*2\r\n$4\r\nINFO\r\n$7\r\nclients\r\n";
    char want[64];
    snprintf(want, sizeof(want), "blocked_clients:%ld\r\n", n);
    conn *c = &conns[PROBE_CONN];
    long long deadline = now_ms() + opt_timeout_ms;
    while (now_ms() < deadline) {
        if (c->fd < 0 && conn_open(c) != 0) break;
        if (write_all(c, q, sizeof(q) - 1) != 0) break;
        char *r = probe_read(c);
        if (!r) break;
        int ok = strstr(r, want) != NULL;
        free(r);
        if (ok) return;
        sleep_ms(5);
    }
    conn_close(c);
    puts("<waitblocked: condition not reached>");
}

/* Send a command line (already stripped of any directive) and print. */
static void run_command(const char *line, int mode, int read) {
    arg a[MAX_ARGS];
    int n = split_args(line, a, MAX_ARGS);
    if (n < 0) die(2, "unbalanced quotes");
    if (n == 0) die(2, "empty command");
    send_command(a, n);
    free_args(a, n);
    if (read && conns[cur].fd >= 0) read_reply(mode);
}

static const char *after(const char *line, const char *word) {
    size_t n = strlen(word);
    if (strncasecmp(line, word, n) != 0) return NULL;
    if (line[n] && !isspace((unsigned char)line[n])) return NULL;
    line += n;
    while (isspace((unsigned char)*line)) line++;
    return line;
}

static void run_directive(const char *line) {
    const char *r;
    if ((r = after(line, "@conn"))) {
        int n = atoi(r);
        if (n < 0 || n >= MAX_CONNS) die(2, "@conn out of range");
        cur = n;
    } else if ((r = after(line, "@sleep"))) {
        sleep_ms(atol(r));
    } else if ((r = after(line, "@send"))) {
        run_command(r, MODE_PLAIN, 0);
    } else if ((r = after(line, "@read"))) {
        read_reply(MODE_PLAIN);
    } else if ((r = after(line, "@readmon"))) {
        read_reply(MODE_MONITOR);
    } else if ((r = after(line, "@noreply"))) {
        cmd_noreply(atol(r));
    } else if ((r = after(line, "@inline"))) {
        size_t n = strlen(r);
        char *b = malloc(n + 2);
        if (!b) die(2, "out of memory");
        memcpy(b, r, n);
        memcpy(b + n, "\r\n", 2);
        send_bytes(b, n + 2);
        free(b);
        if (conns[cur].fd >= 0) read_reply(MODE_PLAIN);
    } else if ((r = after(line, "@raw")) || (r = after(line, "@rawsend"))) {
        arg a = one_arg(r);
        send_bytes(a.ptr, a.len);
        free(a.ptr);
        if (after(line, "@raw") && conns[cur].fd >= 0) read_reply(MODE_PLAIN);
    } else if ((r = after(line, "@slow"))) {
        char *end;
        long ms = strtol(r, &end, 10);
        arg a = one_arg(end);
        conn_cur();
        for (size_t i = 0; i < a.len && conns[cur].fd >= 0; i++) {
            send_bytes(a.ptr + i, 1);
            sleep_ms(ms);
        }
        free(a.ptr);
    } else if (after(line, "@eof")) {
        cmd_eof();
    } else if (after(line, "@close")) {
        conn_close(&conns[cur]);
    } else if ((r = after(line, "@sorted"))) {
        run_command(r, MODE_SORTED, 1);
    } else if ((r = after(line, "@maskint"))) {
        run_command(r, MODE_MASKINT, 1);
    } else if ((r = after(line, "@type"))) {
        run_command(r, MODE_TYPE, 1);
    } else if ((r = after(line, "@waitblocked"))) {
        cmd_waitblocked(atol(r));
    } else if ((r = after(line, "@echo"))) {
        /* printed by the caller */
    } else {
        die(2, "unknown directive");
    }
}

static void run_line(char *line) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    while (*line && isspace((unsigned char)*line)) line++;
    if (!*line || *line == '#') return;
    printf("> %s\n", line);
    if (*line == '@') run_directive(line);
    else run_command(line, MODE_PLAIN, 1);
    fflush(stdout);
}

static void usage(void) {
    fprintf(stderr, "usage: respdiff [-h host] [-p port] [-t timeout_ms] [-s source_addr] [-m max_timeouts] [-3] script|-\n");
    exit(2);
}

int main(int argc, char **argv) {
    int opt;
    const char *proto = getenv("RESPDIFF_PROTO");
    if (proto && strcmp(proto, "3") == 0) opt_resp3 = 1;
    while ((opt = getopt(argc, argv, "h:p:t:s:m:3")) != -1) {
        switch (opt) {
        case 'h': opt_host = optarg; break;
        case 'p': opt_port = optarg; break;
        case 't': opt_timeout_ms = atoi(optarg); break;
        case 's': opt_src = optarg; break;
        case 'm': opt_max_timeouts = atoi(optarg); break;
        case '3': opt_resp3 = 1; break;
        default: usage();
        }
    }
    if (optind != argc - 1) usage();
    for (int i = 0; i <= MAX_CONNS; i++) conns[i].fd = -1;
    FILE *f = strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "r");
    if (!f) {
        perror(argv[optind]);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        run_line(line);
    }
    free(line);
    if (f != stdin) fclose(f);
    for (int i = 0; i <= MAX_CONNS; i++) {
        conn_close(&conns[i]);
        free(conns[i].buf);
    }
    return 0;
}
