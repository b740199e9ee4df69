/* difffuzz: the differential command fuzzer.
 *
 * Generates random commands from a seeded generator for every command that
 * both kvfleet-agent and Debian's redis-server 7.0 implement, sends each one
 * to both servers side by side (pipelined, one connection each) and compares
 * the replies. Redis is the reference.
 *
 *  - Grammar: the argument trees of redis-server's COMMAND DOCS, restricted to
 *    COMMAND LIST of the agent (top-level names) and to the subcommands the
 *    agent documents; values come from pools chosen by argument name and
 *    type (keys from a small shared pool so commands collide and hit wrong
 *    types; boundary integers 0, -1, +-2^31, +-2^63, 2^64; floats with
 *    inf/nan/1e400; empty, binary and long strings), with wrong arities and
 *    MULTI/EXEC blocks mixed in.
 *  - Comparison: byte for byte, except for commands whose reply is not
 *    deterministic between two processes (compared as sets, by type, by
 *    length, or with a tolerance for TTLs; see the policy table).
 *  - State: after every batch a second connection per server reads back
 *    every key of every db (TYPE, PTTL, and its value), so a write that
 *    answers the same but stores something else is caught too.
 *  - Crashes and hangs: the agent dying or not answering within the timeout
 *    is a finding; the agent is restarted and the run goes on.
 *  - Every finding is printed with the seed, the command index and both
 *    replies, and a replay file (respdiff / tests/e2e/compat syntax) holding
 *    the commands since the last reset is written; `--minimize FILE` shrinks
 *    such a file to a minimal reproduction, `--replay FILE` runs one.
 *  - Known differences are accepted only through the allowlist file, each
 *    entry naming its finding (tests/difffuzz/allowlist.txt).
 *
 * Usage: see usage() below, tests/difffuzz/README.md and
 * tests/difffuzz/difffuzz.mk. Servers are started by this program on free
 * loopback ports (each in its own directory, killed by pid at exit and with
 * PR_SET_PDEATHSIG should this program die), or reached at given addresses. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ================================================================ utils */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

static char *xmemdup(const void *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_reserve(sbuf *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        while (nc < b->len + extra + 1)
            nc *= 2;
        b->p = xrealloc(b->p, nc);
        b->cap = nc;
    }
}

static void sb_add(sbuf *b, const void *p, size_t n)
{
    sb_reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_adds(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    sb_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void sb_free(sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ================================================================ rng */

static uint64_t rng_s[4];

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng_s[i] = splitmix(&x);
}

static uint64_t rnd64(void)
{
    uint64_t *s = rng_s;
    uint64_t r = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return r;
}

static uint32_t rnd(uint32_t n)
{
    return n ? (uint32_t)((rnd64() >> 32) % n) : 0;
}

static int chance(double p)
{
    return (double)(rnd64() >> 11) * 0x1.0p-53 < p;
}

#define PICK(arr) (arr[rnd(sizeof(arr) / sizeof(arr[0]))])

/* ================================================================ argv */

typedef struct cmdv {
    int n, cap;
    char **v;
    size_t *l;
} cmdv;

static void cv_push(cmdv *c, const void *p, size_t n)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->v = xrealloc(c->v, sizeof(char *) * (size_t)c->cap);
        c->l = xrealloc(c->l, sizeof(size_t) * (size_t)c->cap);
    }
    c->v[c->n] = xmemdup(p, n);
    c->l[c->n] = n;
    c->n++;
}

static void cv_pushs(cmdv *c, const char *s)
{
    cv_push(c, s, strlen(s));
}

static void cv_pushf(cmdv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cv_pushf(cmdv *c, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    cv_push(c, tmp, n < 0 ? 0 : (size_t)n);
}

static void cv_set(cmdv *c, int i, const void *p, size_t n)
{
    free(c->v[i]);
    c->v[i] = xmemdup(p, n);
    c->l[i] = n;
}

static void cv_remove(cmdv *c, int i)
{
    free(c->v[i]);
    memmove(c->v + i, c->v + i + 1, sizeof(char *) * (size_t)(c->n - i - 1));
    memmove(c->l + i, c->l + i + 1, sizeof(size_t) * (size_t)(c->n - i - 1));
    c->n--;
}

static void cv_insert(cmdv *c, int i, const void *p, size_t n)
{
    cv_push(c, p, n);
    char *v = c->v[c->n - 1];
    size_t l = c->l[c->n - 1];
    memmove(c->v + i + 1, c->v + i, sizeof(char *) * (size_t)(c->n - 1 - i));
    memmove(c->l + i + 1, c->l + i, sizeof(size_t) * (size_t)(c->n - 1 - i));
    c->v[i] = v;
    c->l[i] = l;
}

static void cv_free(cmdv *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    free(c->l);
    memset(c, 0, sizeof(*c));
}

static int cv_is(const cmdv *c, int i, const char *s)
{
    return i < c->n && strlen(s) == c->l[i] && strncasecmp(c->v[i], s, c->l[i]) == 0;
}

static void cv_encode(sbuf *out, const cmdv *c)
{
    sb_printf(out, "*%d\r\n", c->n);
    for (int i = 0; i < c->n; i++) {
        sb_printf(out, "$%zu\r\n", c->l[i]);
        sb_add(out, c->v[i], c->l[i]);
        sb_add(out, "\r\n", 2);
    }
}

/* ================================================================ escaping */

/* Bytes as printable text: backslash, CR and LF escaped, other
 * non-printable bytes as \xNN. In a quoted argument (quoted_arg) '"' and
 * TAB are escaped too, as the compat scripts read them; reply text keeps
 * the form the allowlist's reply globs are written against. */
static void esc_bytes(sbuf *b, const char *p, size_t n, int quoted_arg)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\\')
            sb_add(b, "\\\\", 2);
        else if (ch == '\n')
            sb_add(b, "\\n", 2);
        else if (ch == '\r')
            sb_add(b, "\\r", 2);
        else if (quoted_arg && ch == '"')
            sb_add(b, "\\\"", 2);
        else if (quoted_arg && ch == '\t')
            sb_add(b, "\\t", 2);
        else if (ch >= 32 && ch < 127)
            sb_add(b, &ch, 1);
        else
            sb_printf(b, "\\x%02x", ch);
    }
}

/* One argument the way respdiff's split_args (redis-cli) reads it back. */
static void esc_arg(sbuf *b, const char *p, size_t n)
{
    int plain = n > 0 && n < 200;
    for (size_t i = 0; plain && i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch <= 32 || ch >= 127 || ch == '"' || ch == '\'' || ch == '\\')
            plain = 0;
    }
    if (plain && p[0] == '@')
        plain = 0;
    if (plain && p[0] == '#')
        plain = 0;
    if (plain) {
        sb_add(b, p, n);
        return;
    }
    sb_add(b, "\"", 1);
    esc_bytes(b, p, n, 1);
    sb_add(b, "\"", 1);
}

static void esc_line(sbuf *b, const cmdv *c)
{
    for (int i = 0; i < c->n; i++) {
        if (i)
            sb_add(b, " ", 1);
        esc_arg(b, c->v[i], c->l[i]);
    }
}

/* Reply bytes for a diagnostic line: \r\n visible, capped. */
static void esc_reply(sbuf *b, const char *p, size_t n, size_t max)
{
    size_t lim = n > max ? max : n;
    esc_bytes(b, p, lim, 0);
    if (lim < n)
        sb_printf(b, "...(%zu bytes)", n);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Split a line like respdiff / redis-cli. Returns 0 on success, -1 on
 * unbalanced quotes. */
static int split_line(const char *p, cmdv *out)
{
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return 0;
        sbuf a = {0};
        sb_reserve(&a, 0);
        int inq = 0, insq = 0, done = 0;
        while (!done) {
            if (inq) {
                if (!*p)
                    goto bad;
                if (p[0] == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                    char ch = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                    sb_add(&a, &ch, 1);
                    p += 3;
                }
                else if (p[0] == '\\' && p[1]) {
                    char ch;
                    p++;
                    switch (*p) {
                    case 'n': ch = '\n'; break;
                    case 'r': ch = '\r'; break;
                    case 't': ch = '\t'; break;
                    case 'b': ch = '\b'; break;
                    case 'a': ch = '\a'; break;
                    default: ch = *p; break;
                    }
                    sb_add(&a, &ch, 1);
                }
                else if (*p == '"') {
                    if (p[1] && !isspace((unsigned char)p[1]))
                        goto bad;
                    done = 1;
                }
                else
                    sb_add(&a, p, 1);
            }
            else if (insq) {
                if (!*p)
                    goto bad;
                if (p[0] == '\\' && p[1] == '\'') {
                    p++;
                    sb_add(&a, "'", 1);
                }
                else if (*p == '\'') {
                    if (p[1] && !isspace((unsigned char)p[1]))
                        goto bad;
                    done = 1;
                }
                else
                    sb_add(&a, p, 1);
            }
            else {
                switch (*p) {
                case ' ': case '\n': case '\r': case '\t': case '\0': done = 1; break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: sb_add(&a, p, 1); break;
                }
            }
            if (*p)
                p++;
        }
        cv_push(out, a.p, a.len);
        sb_free(&a);
        continue;
    bad:
        sb_free(&a);
        return -1;
    }
}

/* ================================================================ RESP */

/* End offset of the reply starting at off; 0 when incomplete; -1 on a
 * protocol error. RESP2 only (the fuzzer never switches to RESP3). */
static long resp_end(const char *b, size_t len, size_t off, int depth)
{
    if (off >= len)
        return 0;
    if (depth > 64)
        return -1;
    const char *nl = memchr(b + off, '\n', len - off);
    if (!nl)
        return 0;
    size_t line_end = (size_t)(nl - b) + 1;
    if (line_end - off < 3 || b[line_end - 2] != '\r')
        return -1;
    char t = b[off];
    switch (t) {
    case '+': case '-': case ':':
        return (long)line_end;
    case '$': {
        long long n = strtoll(b + off + 1, NULL, 10);
        if (n < 0)
            return (long)line_end;
        if (line_end + (size_t)n + 2 > len)
            return 0;
        if (b[line_end + n] != '\r' || b[line_end + n + 1] != '\n')
            return -1;
        return (long)(line_end + (size_t)n + 2);
    }
    case '*': {
        long long n = strtoll(b + off + 1, NULL, 10);
        size_t p = line_end;
        for (long long i = 0; i < n; i++) {
            long e = resp_end(b, len, p, depth + 1);
            if (e <= 0)
                return e;
            p = (size_t)e;
        }
        return (long)p;
    }
    default:
        return -1;
    }
}

typedef struct span {
    const char *p;
    size_t n;
} span;

/* Array elements of reply s: returns the count (-1 for a null array, -2 when
 * s is not an array); *out is malloc'd. */
static long arr_elems(span s, span **out)
{
    *out = NULL;
    if (s.n < 3 || s.p[0] != '*')
        return -2;
    long long n = strtoll(s.p + 1, NULL, 10);
    if (n < 0)
        return -1;
    const char *nl = memchr(s.p, '\n', s.n);
    size_t off = (size_t)(nl - s.p) + 1;
    span *e = xcalloc((size_t)n + 1, sizeof(span));
    for (long long i = 0; i < n; i++) {
        long end = resp_end(s.p, s.n, off, 0);
        if (end <= 0) {
            free(e);
            return -2;
        }
        e[i].p = s.p + off;
        e[i].n = (size_t)end - off;
        off = (size_t)end;
    }
    *out = e;
    return (long)n;
}

static int span_eq(span a, span b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static int span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->p, b->p, n);
    if (c)
        return c;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* Bulk string payload of a reply span (NULL when not a non-null bulk). */
static const char *bulk_data(span s, size_t *len)
{
    if (s.n < 4 || s.p[0] != '$' || s.p[1] == '-')
        return NULL;
    const char *nl = memchr(s.p, '\n', s.n);
    *len = s.n - (size_t)(nl - s.p) - 3;
    return nl + 1;
}

/* ================================================================ servers */

typedef struct server {
    const char *name;          /* "agent" / "redis" */
    char host[64];
    int port;
    int fd;                    /* fuzzing connection */
    int cfd;                   /* checker connection */
    sbuf in;                   /* fuzzing connection input */
    sbuf cin;                  /* checker connection input */
    pid_t pid;                 /* 0 when not started by us */
    const char *bin;
    char dir[512];
    int restarts;
} server;

static server S_AGENT = {.name = "agent", .fd = -1, .cfd = -1};
static server S_REDIS = {.name = "redis", .fd = -1, .cfd = -1};
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* <dir>/server.pid holds the pid of a server this program started while
 * it may run (the e2e test checks that none is left behind). */
static void pidfile_write(const server *s)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/server.pid", s->dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%d\n", (int)s->pid);
        fclose(f);
    }
}

static void pidfile_remove(const server *s)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/server.pid", s->dir);
    unlink(path);
}

static void server_kill(server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            pidfile_remove(s);
            return;
        }
        sleep_ms(50);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    pidfile_remove(s);
}

static void stop_all(void)
{
    server_kill(&S_AGENT);
    server_kill(&S_REDIS);
}

__attribute__((noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "difffuzz: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    stop_all();
    exit(2);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        die("cannot find a free port: %s", strerror(errno));
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static int tcp_connect(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int server_alive(server *s)
{
    if (s->pid <= 0)
        return 1;
    int st;
    return waitpid(s->pid, &st, WNOHANG) == 0;
}

/* How a started server ended, for the report ("" while it runs). */
static char g_exit_desc[128];
static const char *server_reap(server *s)
{
    g_exit_desc[0] = 0;
    if (s->pid <= 0)
        return g_exit_desc;
    int st;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid) {
        if (WIFSIGNALED(st))
            snprintf(g_exit_desc, sizeof(g_exit_desc), "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
            snprintf(g_exit_desc, sizeof(g_exit_desc), "exited with status %d", WEXITSTATUS(st));
        s->pid = 0;
        pidfile_remove(s);
    }
    return g_exit_desc;
}

static void conn_close_all(server *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->cfd >= 0)
        close(s->cfd);
    s->fd = s->cfd = -1;
    s->in.len = s->cin.len = 0;
}

static int conn_open_all(server *s)
{
    conn_close_all(s);
    s->fd = tcp_connect(s->host, s->port);
    s->cfd = tcp_connect(s->host, s->port);
    return s->fd >= 0 && s->cfd >= 0;
}

static char *g_workdir;

static void server_start(server *s)
{
    if (!s->bin)
        die("%s: no binary to start", s->name);
    if (!s->port)
        s->port = free_port();
    snprintf(s->host, sizeof(s->host), "127.0.0.1");
    snprintf(s->dir, sizeof(s->dir), "%s/%s", g_workdir, s->name);
    mkdir(s->dir, 0755);
    char port[16], log[600];
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(log, sizeof(log), "%s/server.log", s->dir);
    pid_t ppid = getpid();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != ppid)
            _exit(1);
        if (chdir(s->dir) != 0)
            _exit(1);
        int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nf = open("/dev/null", O_RDONLY);
        if (lf >= 0) {
            dup2(lf, 1);
            dup2(lf, 2);
        }
        if (nf >= 0)
            dup2(nf, 0);
        /* SORT ALPHA uses strcoll(): the same collation for both */
        setenv("LC_ALL", "C", 1);
        /* The same settings for both: no persistence, DEBUG enabled (the
         * agent always has it), deep payload checks so that corrupt RESTORE
         * payloads cannot crash the reference. */
        execl(s->bin, s->bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              "--daemonize", "no", "--enable-debug-command", "yes", "--sanitize-dump-payload", "yes",
              "--hz", "10", "--databases", "16", (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    pidfile_write(s);
    long long deadline = now_ms() + 15000;
    while (now_ms() < deadline) {
        if (!server_alive(s))
            die("%s (%s) exited at start; see %s", s->name, s->bin, log);
        int fd = tcp_connect(s->host, s->port);
        if (fd >= 0) {
            const char ping[] = "*1\r\n$4\r\nPING\r\n";
            char buf[64];
            if (write(fd, ping, sizeof(ping) - 1) > 0) {
                struct pollfd pf = {fd, POLLIN, 0};
                if (poll(&pf, 1, 1000) > 0 && read(fd, buf, sizeof(buf)) > 0 && buf[0] == '+') {
                    close(fd);
                    return;
                }
            }
            close(fd);
        }
        sleep_ms(20);
    }
    die("%s did not answer PING within 15 s", s->name);
}

/* ================================================================ I/O */

static int g_timeout_ms = 5000;

/* Per-side result of one pipelined exchange. */
typedef struct side {
    server *s;
    int fd;
    sbuf *in;
    const char *out;
    size_t out_len, out_off;
    long nwant, ngot;
    size_t *ends;        /* end offsets of each reply in *in */
    size_t parse_off;
    int failed;          /* 1 closed, 2 timeout, 3 protocol error */
    long long deadline;
    int timeout;         /* ms without progress: the agent's is --timeout-ms,
                          * redis' six times that (a stall of the machine must
                          * not pass for a broken reference) */
} side;

static void side_init(side *d, server *s, int fd, sbuf *in, const char *out, size_t out_len, long n)
{
    memset(d, 0, sizeof(*d));
    d->s = s;
    d->fd = fd;
    d->in = in;
    d->in->len = 0;
    d->out = out;
    d->out_len = out_len;
    d->nwant = n;
    d->ends = xcalloc((size_t)n + 1, sizeof(size_t));
    d->timeout = s == &S_REDIS ? 6 * g_timeout_ms : g_timeout_ms;
    d->deadline = now_ms() + d->timeout;
    if (fd < 0)
        d->failed = 1;
}

static void side_parse(side *d)
{
    while (d->ngot < d->nwant) {
        long e = resp_end(d->in->p, d->in->len, d->parse_off, 0);
        if (e == 0)
            return;
        if (e < 0) {
            d->failed = 3;
            return;
        }
        d->ends[d->ngot++] = (size_t)e;
        d->parse_off = (size_t)e;
    }
}

static int side_done(side *d)
{
    return d->failed || d->ngot >= d->nwant;
}

/* Send both requests and read n replies from each, concurrently (b may be
 * NULL). */
static void exchange(side *a, side *b)
{
    side *sd[2] = {a, b};
    if (!b) {
        static side none;
        memset(&none, 0, sizeof(none));
        sd[1] = b = &none;
    }
    while (!side_done(a) || !side_done(b)) {
        struct pollfd pf[2];
        int np = 0;
        side *who[2];
        long long now = now_ms();
        long long wait = 1000;
        for (int i = 0; i < 2; i++) {
            side *d = sd[i];
            if (side_done(d))
                continue;
            if (now >= d->deadline) {
                d->failed = 2;
                continue;
            }
            if (d->deadline - now < wait)
                wait = d->deadline - now;
            pf[np].fd = d->fd;
            pf[np].events = POLLIN | (d->out_off < d->out_len ? POLLOUT : 0);
            pf[np].revents = 0;
            who[np++] = d;
        }
        if (!np)
            break;
        int r = poll(pf, (nfds_t)np, (int)(wait < 1 ? 1 : wait));
        if (r < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        for (int i = 0; i < np && r > 0; i++) {
            side *d = who[i];
            if (pf[i].revents & POLLOUT) {
                size_t chunk = d->out_len - d->out_off;
                if (chunk > 1 << 16)
                    chunk = 1 << 16;
                ssize_t w = send(d->fd, d->out + d->out_off, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (w > 0) {
                    d->out_off += (size_t)w;
                    d->deadline = now_ms() + d->timeout;
                }
                else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    d->failed = 1;
                    continue;
                }
            }
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                sb_reserve(d->in, 1 << 16);
                ssize_t rd = recv(d->fd, d->in->p + d->in->len, d->in->cap - d->in->len - 1, MSG_DONTWAIT);
                if (rd > 0) {
                    d->in->len += (size_t)rd;
                    d->deadline = now_ms() + d->timeout;
                    side_parse(d);
                }
                else if (rd == 0 || (errno != EAGAIN && errno != EINTR)) {
                    d->failed = 1;
                }
            }
        }
    }
}

static span side_reply(const side *d, long i)
{
    span s = {NULL, 0};
    if (i >= d->ngot)
        return s;
    size_t start = i ? d->ends[i - 1] : 0;
    s.p = d->in->p + start;
    s.n = d->ends[i] - start;
    return s;
}

/* One command on one connection, synchronously (set-up and checks). */
static sbuf g_tmp_in;
static int rt(server *s, int fd, const cmdv *c, span *out)
{
    sbuf req = {0};
    cv_encode(&req, c);
    side d;
    side_init(&d, s, fd, &g_tmp_in, req.p, req.len, 1);
    exchange(&d, NULL);
    sb_free(&req);
    int ok = !d.failed && d.ngot == 1;
    if (ok)
        *out = side_reply(&d, 0);
    free(d.ends);
    return ok ? 0 : -1;
}

static int rt_args(server *s, int fd, span *out, int n, ...)
{
    cmdv c = {0};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        cv_pushs(&c, va_arg(ap, const char *));
    va_end(ap);
    int r = rt(s, fd, &c, out);
    cv_free(&c);
    return r;
}

/* ================================================================ grammar */

enum { A_KEY, A_STRING, A_INTEGER, A_DOUBLE, A_PATTERN, A_UNIXTIME, A_TOKEN, A_ONEOF, A_BLOCK };

typedef struct garg {
    int t;
    char *name;
    char *token;
    int optional, multiple, multiple_token;
    int nsub;
    struct garg *sub;
} garg;

/* Compare modes. */
enum {
    M_EXACT, M_TYPE, M_LEN, M_SET, M_PAIRS, M_TTL_S, M_TTL_MS, M_SCAN_SET, M_SCAN_PAIRS, M_EXEC
};
static const char *mode_names[] = {"exact", "type", "len", "set", "pairs", "ttl-s", "ttl-ms", "scan-set", "scan-pairs", "exec"};

/* Command flags (policy). */
#define CF_NOMUTATE  0x01   /* never mutate (values could become dangerous) */
#define CF_NO_TX     0x02   /* not inside MULTI */
#define CF_BLOCKING  0x04
#define CF_CUSTOM    0x08   /* generated by hand, not from the docs */
#define CF_SPOP      0x10   /* random removal: the key is deleted right after */
#define CF_LCS       0x20   /* guarded: strings must be small */
#define CF_SORT      0x40   /* compare mode depends on BY */

typedef struct gcmd {
    char name[64];          /* "set", "client|setname" */
    char argv0[32], argv1[32];
    char group[24];
    int nargs;
    garg *args;
    int weight;
    int mode;
    int flags;
    long long sent;         /* how many were generated */
} gcmd;

static gcmd *G;
static int NG;
static long long G_wsum;

/* --- parsing COMMAND DOCS (RESP2: flat key/value arrays) --- */

static char *span_str(span s)
{
    size_t n;
    const char *p = bulk_data(s, &n);
    if (!p) {
        if (s.n > 1 && (s.p[0] == '+' || s.p[0] == ':'))
            return xmemdup(s.p + 1, s.n - 3);
        return xstrdup("");
    }
    return xmemdup(p, n);
}

static int span_streq(span s, const char *str)
{
    size_t n;
    const char *p = bulk_data(s, &n);
    if (!p && s.n > 1 && s.p[0] == '+') {
        p = s.p + 1;
        n = s.n - 3;
    }
    return p && n == strlen(str) && memcmp(p, str, n) == 0;
}

static void parse_arg(span s, garg *g)
{
    span *kv;
    long n = arr_elems(s, &kv);
    memset(g, 0, sizeof(*g));
    for (long i = 0; i + 1 < n; i += 2) {
        if (span_streq(kv[i], "name"))
            g->name = span_str(kv[i + 1]);
        else if (span_streq(kv[i], "token"))
            g->token = span_str(kv[i + 1]);
        else if (span_streq(kv[i], "type")) {
            char *t = span_str(kv[i + 1]);
            static const char *tn[] = {"key", "string", "integer", "double", "pattern", "unix-time", "pure-token", "oneof", "block"};
            g->t = A_STRING;
            for (int k = 0; k < 9; k++)
                if (strcmp(t, tn[k]) == 0)
                    g->t = k;
            free(t);
        }
        else if (span_streq(kv[i], "flags")) {
            span *fl;
            long nf = arr_elems(kv[i + 1], &fl);
            for (long k = 0; k < nf; k++) {
                if (span_streq(fl[k], "optional"))
                    g->optional = 1;
                else if (span_streq(fl[k], "multiple"))
                    g->multiple = 1;
                else if (span_streq(fl[k], "multiple_token"))
                    g->multiple_token = 1;
            }
            free(fl);
        }
        else if (span_streq(kv[i], "arguments")) {
            span *as;
            long na = arr_elems(kv[i + 1], &as);
            if (na > 0) {
                g->sub = xcalloc((size_t)na, sizeof(garg));
                g->nsub = (int)na;
                for (long k = 0; k < na; k++)
                    parse_arg(as[k], &g->sub[k]);
            }
            free(as);
        }
    }
    if (!g->name)
        g->name = xstrdup("");
    free(kv);
}

/* Policy: what the fuzzer sends and how it compares. Everything not listed
 * here gets weight 1000 and exact comparison. Weight 0: never generated
 * (disruptive, connection-changing, or replies that no two processes share;
 * see tests/difffuzz/README.md). */
typedef struct policy {
    const char *name;
    int weight;
    int mode;
    int flags;
} policy;

static const policy POLICY[] = {
    /* disruptive or connection-changing: never sent */
    {"shutdown", 0, 0, 0}, {"replicaof", 0, 0, 0}, {"slaveof", 0, 0, 0}, {"failover", 0, 0, 0},
    {"replconf", 0, 0, 0}, {"psync", 0, 0, 0}, {"sync", 0, 0, 0}, {"wait", 0, 0, 0},
    {"save", 0, 0, 0}, {"bgsave", 0, 0, 0}, {"quit", 0, 0, 0}, {"monitor", 0, 0, 0},
    {"bgrewriteaof", 0, 0, 0}, {"script|debug", 0, 0, 0},
    /* connects to whatever host the generator made up and blocks up to its
     * timeout: tested against real targets in test_engine_migrate.sh */
    {"migrate", 0, 0, 0},
    /* latency samples depend on timing: their shape only */
    {"latency|latest", 100, M_TYPE, 0}, {"latency|history", 100, M_TYPE, 0},
    {"latency|reset", 100, M_TYPE, 0}, {"latency|doctor", 50, M_TYPE, 0},
    {"latency|graph", 50, M_TYPE, 0}, {"latency|histogram", 100, M_TYPE, 0},
    /* LOLWUT VERSION 5 / 6 draw random art on redis-server (the agent
     * answers its version line): compared by type */
    {"lolwut", 50, M_TYPE, 0},
    /* a payload's LZF bytes differ between the two servers */
    {"function|dump", 100, M_TYPE, 0},
    {"subscribe", 0, 0, 0}, {"psubscribe", 0, 0, 0}, {"ssubscribe", 0, 0, 0},
    {"unsubscribe", 0, 0, 0}, {"punsubscribe", 0, 0, 0}, {"sunsubscribe", 0, 0, 0},
    /* transactions are driven by the generator itself */
    {"multi", 0, 0, 0}, {"exec", 0, 0, 0}, {"discard", 0, 0, 0},
    /* subcommands the agent implements (README "Commands"); the others of
     * these containers are not generated (KILL, REPLY, PAUSE: disruptive) */
    {"client|id", 200, M_TYPE, 0}, {"client|getname", 300, M_EXACT, 0}, {"client|setname", 300, M_EXACT, 0},
    {"client|info", 100, M_TYPE, 0}, {"client|list", 100, M_TYPE, 0}, {"client|no-evict", 200, M_EXACT, 0},
    {"client|unblock", 200, M_EXACT, 0}, {"client|help", 50, M_EXACT, 0},
    {"command|getkeys", 500, M_EXACT, CF_CUSTOM}, {"command|info", 200, M_EXACT, 0}, {"command|help", 50, M_EXACT, 0},
    {"command|count", 50, M_EXACT, 0}, {"command|list", 50, M_SET, 0}, {"command|docs", 50, M_EXACT, 0},
    {"config|get", 300, M_PAIRS, CF_CUSTOM}, {"config|set", 300, M_EXACT, CF_CUSTOM},
    {"config|resetstat", 50, M_EXACT, 0}, {"config|help", 50, M_EXACT, 0},
    {"memory|usage", 300, M_TYPE, 0},
    {"object|encoding", 600, M_EXACT, 0}, {"object|freq", 200, M_TYPE, 0}, {"object|idletime", 200, M_TYPE, 0},
    {"object|refcount", 300, M_EXACT, 0}, {"object|help", 50, M_EXACT, 0},
    {"pubsub|channels", 100, M_SET, 0}, {"pubsub|numsub", 100, M_EXACT, 0}, {"pubsub|numpat", 100, M_EXACT, 0},
    {"pubsub|shardchannels", 100, M_SET, 0}, {"pubsub|shardnumsub", 100, M_EXACT, 0}, {"pubsub|help", 50, M_EXACT, 0},
    {"slowlog|get", 100, M_TYPE, 0}, {"slowlog|len", 100, M_TYPE, 0}, {"slowlog|reset", 100, M_EXACT, 0},
    {"slowlog|help", 50, M_EXACT, 0},
    /* replies that differ between any two processes */
    {"info", 100, M_TYPE, 0}, {"time", 100, M_TYPE, 0}, {"lastsave", 100, M_TYPE, 0}, {"role", 100, M_TYPE, 0},
    {"hello", 300, M_TYPE, 0}, {"randomkey", 500, M_TYPE, 0}, {"dump", 700, M_TYPE, 0},
    {"debug", 400, M_EXACT, CF_CUSTOM | CF_NOMUTATE | CF_NO_TX},
    /* hash / set order */
    {"keys", 700, M_SET, 0}, {"smembers", 1000, M_SET, 0}, {"sinter", 1000, M_SET, 0}, {"sunion", 1000, M_SET, 0},
    {"sdiff", 1000, M_SET, 0}, {"hkeys", 1000, M_SET, 0}, {"hvals", 1000, M_SET, 0}, {"hgetall", 1000, M_PAIRS, 0},
    {"scan", 700, M_SCAN_SET, 0}, {"sscan", 700, M_SCAN_SET, 0}, {"hscan", 700, M_SCAN_PAIRS, 0}, {"zscan", 700, M_SCAN_PAIRS, 0},
    {"sort", 1000, M_EXACT, CF_SORT}, {"sort_ro", 700, M_EXACT, CF_SORT},
    /* random picks */
    {"srandmember", 1000, M_LEN, CF_NOMUTATE}, {"zrandmember", 1000, M_LEN, CF_NOMUTATE},
    {"hrandfield", 1000, M_LEN, CF_NOMUTATE}, {"spop", 800, M_LEN, CF_SPOP | CF_NO_TX},
    /* times */
    {"ttl", 700, M_TTL_S, 0}, {"expiretime", 700, M_TTL_S, 0}, {"pttl", 700, M_TTL_MS, 0}, {"pexpiretime", 700, M_TTL_MS, 0},
    /* values that could make redis-server itself allocate too much */
    {"setrange", 1000, M_EXACT, CF_NOMUTATE}, {"setbit", 1000, M_EXACT, CF_NOMUTATE}, {"getbit", 700, M_EXACT, CF_NOMUTATE},
    {"bitfield", 1000, M_EXACT, CF_NOMUTATE}, {"bitfield_ro", 500, M_EXACT, CF_NOMUTATE},
    {"lcs", 300, M_EXACT, CF_NOMUTATE | CF_LCS | CF_NO_TX},
    /* blocking: always short timeouts, rare (each wait holds the pipeline) */
    {"blpop", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE}, {"brpop", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE},
    {"brpoplpush", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE}, {"blmove", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE},
    {"blmpop", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE}, {"bzpopmin", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE},
    {"bzpopmax", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE}, {"bzmpop", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE},
    /* whole-keyspace commands: rarer, so that state can build up */
    {"flushall", 15, M_EXACT, 0}, {"flushdb", 20, M_EXACT, 0}, {"swapdb", 100, M_EXACT, 0},
    {"select", 200, M_EXACT, 0}, {"reset", 30, M_EXACT, 0}, {"move", 300, M_EXACT, 0},
    {"pfselftest", 1, M_EXACT, 0}, {"pfdebug", 200, M_EXACT, 0},
    {"auth", 100, M_EXACT, 0}, {"watch", 200, M_EXACT, CF_NOMUTATE | CF_NO_TX}, {"unwatch", 100, M_EXACT, CF_NOMUTATE},
    {"restore", 700, M_EXACT, 0}, {"dbsize", 200, M_EXACT, 0},
    /* streams. XREAD / XREADGROUP BLOCK get 1-10 ms (gen_stream_leaf), and
     * no mutation could make that 0; XADD '*' (the clock), XPENDING's
     * extended form and XINFO STREAM FULL (idle and delivery times) are
     * compared by type (fuzz()); XINFO CONSUMERS shows idle times */
    {"xread", 60, M_EXACT, CF_BLOCKING | CF_NOMUTATE}, {"xreadgroup", 200, M_EXACT, CF_BLOCKING | CF_NOMUTATE},
    {"xinfo|stream", 300, M_EXACT, 0}, {"xinfo|groups", 300, M_EXACT, 0}, {"xinfo|consumers", 200, M_TYPE, 0},
    {"xinfo|help", 20, M_EXACT, 0},
    {"xgroup|create", 500, M_EXACT, 0}, {"xgroup|setid", 200, M_EXACT, 0}, {"xgroup|destroy", 100, M_EXACT, 0},
    {"xgroup|createconsumer", 200, M_EXACT, 0}, {"xgroup|delconsumer", 150, M_EXACT, 0},
    {"xgroup|help", 20, M_EXACT, 0},
    {NULL, 0, 0, 0},
};

static const policy *policy_of(const char *name)
{
    for (const policy *p = POLICY; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static int is_container(const char *name)
{
    static const char *c[] = {"client", "command", "config", "memory", "object", "pubsub", "slowlog", "xinfo", "xgroup"};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (strcmp(c[i], name) == 0)
            return 1;
    return 0;
}

static void upper(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (char)toupper((unsigned char)src[i]);
    dst[i] = 0;
}

static void add_cmd(const char *name, const char *group, span args_span, int has_args)
{
    const policy *p = policy_of(name);
    if (p && p->weight == 0)
        return;
    if (strchr(name, '|') && !p)
        return;   /* a subcommand the agent does not document */
    G = xrealloc(G, sizeof(gcmd) * (size_t)(NG + 1));
    gcmd *g = &G[NG++];
    memset(g, 0, sizeof(*g));
    snprintf(g->name, sizeof(g->name), "%s", name);
    snprintf(g->group, sizeof(g->group), "%s", group);
    const char *bar = strchr(name, '|');
    if (bar) {
        char a0[32];
        snprintf(a0, sizeof(a0), "%.*s", (int)(bar - name), name);
        upper(g->argv0, a0, sizeof(g->argv0));
        upper(g->argv1, bar + 1, sizeof(g->argv1));
    }
    else
        upper(g->argv0, name, sizeof(g->argv0));
    g->weight = p ? p->weight : 1000;
    g->mode = p ? p->mode : M_EXACT;
    g->flags = p ? p->flags : 0;
    if (has_args) {
        span *as;
        long na = arr_elems(args_span, &as);
        if (na > 0) {
            g->args = xcalloc((size_t)na, sizeof(garg));
            g->nargs = (int)na;
            for (long i = 0; i < na; i++)
                parse_arg(as[i], &g->args[i]);
        }
        free(as);
    }
    G_wsum += g->weight;
}

static int name_in_list(const char *name, span *list, long n)
{
    for (long i = 0; i < n; i++)
        if (span_streq(list[i], name))
            return 1;
    return 0;
}

static int gcmd_cmp(const void *a, const void *b)
{
    return strcmp(((const gcmd *)a)->name, ((const gcmd *)b)->name);
}

static void load_grammar(void)
{
    span r, al;
    if (rt_args(&S_AGENT, S_AGENT.fd, &al, 2, "COMMAND", "LIST") != 0)
        die("agent: COMMAND LIST failed");
    /* Keep the agent's list: copy the bytes, the next rt reuses the buffer. */
    char *alist = xmemdup(al.p, al.n);
    span als = {alist, al.n};
    span *anames;
    long nan_ = arr_elems(als, &anames);
    if (nan_ <= 0)
        die("agent: COMMAND LIST: unexpected reply");
    if (rt_args(&S_REDIS, S_REDIS.fd, &r, 2, "COMMAND", "DOCS") != 0)
        die("redis: COMMAND DOCS failed");
    char *docs = xmemdup(r.p, r.n);
    span ds = {docs, r.n};
    span *kv;
    long n = arr_elems(ds, &kv);
    if (n <= 0)
        die("redis: COMMAND DOCS: unexpected reply");
    for (long i = 0; i + 1 < n; i += 2) {
        char *name = span_str(kv[i]);
        if (!name_in_list(name, anames, nan_)) {
            free(name);
            continue;
        }
        span *dm;
        long nd = arr_elems(kv[i + 1], &dm);
        char *group = NULL;
        span args = {NULL, 0}, subs = {NULL, 0};
        int has_args = 0, has_subs = 0;
        for (long k = 0; k + 1 < nd; k += 2) {
            if (span_streq(dm[k], "group"))
                group = span_str(dm[k + 1]);
            else if (span_streq(dm[k], "arguments")) {
                args = dm[k + 1];
                has_args = 1;
            }
            else if (span_streq(dm[k], "subcommands")) {
                subs = dm[k + 1];
                has_subs = 1;
            }
        }
        if (has_subs && is_container(name)) {
            span *skv;
            long ns = arr_elems(subs, &skv);
            for (long k = 0; k + 1 < ns; k += 2) {
                char *sname = span_str(skv[k]);
                span *sdm;
                long nsd = arr_elems(skv[k + 1], &sdm);
                span sargs = {NULL, 0};
                int shas = 0;
                for (long q = 0; q + 1 < nsd; q += 2)
                    if (span_streq(sdm[q], "arguments")) {
                        sargs = sdm[q + 1];
                        shas = 1;
                    }
                add_cmd(sname, group ? group : "", sargs, shas);
                free(sdm);
                free(sname);
            }
            free(skv);
        }
        else if (!has_subs)
            add_cmd(name, group ? group : "", args, has_args);
        free(group);
        free(dm);
        free(name);
    }
    free(kv);
    free(anames);
    free(alist);
    /* docs is referenced by nothing now (strings were copied) */
    free(docs);
    if (NG < 50)
        die("only %d commands in common: wrong servers?", NG);
    /* COMMAND DOCS comes in hash order: sort, so a seed means one sequence */
    qsort(G, (size_t)NG, sizeof(gcmd), gcmd_cmp);
}

/* ================================================================ value pools */

#define N_(a) (sizeof(a) / sizeof(a[0]))

static const char *INT_BOUND[] = {
    "0", "1", "-1", "2", "-2", "3", "7", "8", "10", "63", "64", "100", "127", "128", "255", "256", "1000",
    "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "99999999999999999999999",
    "abc", "", "1.5", "-0", "+1", "01", " 1", "1 ", "0x10", "1e3", "--1", "1-", "\xff",
};
static const char *DBL_SPECIAL[] = {
    "inf", "-inf", "+inf", "INF", "Infinity", "nan", "-nan", "NaN", "1e400", "-1e400", "1e-400", "4.9e-324",
    "1.7976931348623157e308", "-1.7976931348623157e308", "2.2250738585072014e-308", "0x10", "1,5", "", "abc",
    "1.5.5", "1e", "e1", " 1", "1 ", "+1.5", "-0", "-0.0", "0.0", ".5", "5.", "1e+2", "1E2", "(1",
    "9007199254740993", "123456789012345678901234567890", "0.1", "0.30000000000000004",
};
static const char *SMALL_MEMBERS[] = {"a", "b", "c", "d", "e", "1", "2", "3", "-1", "100", "x", "f1", "f2", "m1"};
static const char *COMMON_VALUES[] = {
    "v", "a", "b", "1", "2", "3", "0", "-1", "10", "100", "3.5", "-0", "1e3", "abc", "hello world",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "4294967296", " 1", "1.0", "0x10",
    "inf", "nan", "+1", "01", "00", "-",
};

static void gen_string_of(cmdv *c, size_t len, int alpha)
{
    char *b = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        b[i] = alpha ? (char)('a' + rnd(alpha)) : (char)rnd(256);
    cv_push(c, b, len);
    free(b);
}

static void gen_special_string(cmdv *c)
{
    switch (rnd(10)) {
    case 0: cv_push(c, "", 0); break;
    case 1: cv_push(c, "\0", 1); break;
    case 2: cv_push(c, "a\0b", 3); break;
    case 3: cv_pushs(c, "\r\n"); break;
    case 4: cv_pushs(c, "\xff\xfe\x80"); break;
    case 5: gen_string_of(c, 1 + rnd(20), 0); break;
    case 6: cv_pushs(c, "*?[]\\"); break;
    case 7: cv_pushs(c, "\"quoted\" 'x'"); break;
    case 8: cv_pushs(c, "a b\tc"); break;
    default: cv_pushs(c, PICK(INT_BOUND)); break;
    }
}

static void gen_value(cmdv *c)
{
    uint32_t r = rnd(1000);
    if (r < 600)
        cv_pushs(c, PICK(COMMON_VALUES));
    else if (r < 700)
        cv_pushs(c, PICK(INT_BOUND));
    else if (r < 760)
        cv_pushs(c, PICK(DBL_SPECIAL));
    else if (r < 860)
        gen_special_string(c);
    else if (r < 985)
        gen_string_of(c, 1 + rnd(130), 3);          /* around the 64-byte listpack value limit */
    else if (r < 998)
        gen_string_of(c, 1000 + rnd(8000), 26);
    else
        gen_string_of(c, 65536, 2);                 /* long: 64 KiB */
}

static void gen_member(cmdv *c)
{
    uint32_t r = rnd(100);
    if (r < 45)
        cv_pushs(c, PICK(SMALL_MEMBERS));
    else if (r < 75)
        cv_pushf(c, "m%u", rnd(200));
    else if (r < 88)
        cv_pushf(c, "%d", (int)rnd(700) - 50);       /* intsets, and past 512 entries */
    else
        gen_value(c);
}

static void gen_double(cmdv *c)
{
    uint32_t r = rnd(100);
    if (r < 55)
        cv_pushf(c, "%d", (int)rnd(9) - 3);
    else if (r < 70)
        cv_pushf(c, "%d.%d", (int)rnd(20) - 10, (int)rnd(10));
    else if (r < 85)
        cv_pushs(c, PICK(DBL_SPECIAL));
    else
        cv_pushs(c, PICK(INT_BOUND));
}

static void gen_int(cmdv *c)
{
    if (chance(0.6))
        cv_pushf(c, "%d", (int)rnd(25) - 5);
    else
        cv_pushs(c, PICK(INT_BOUND));
}

static void gen_index(cmdv *c)
{
    if (chance(0.75))
        cv_pushf(c, "%d", (int)rnd(16) - 5);
    else
        cv_pushs(c, PICK(INT_BOUND));
}

static void gen_count(cmdv *c, int safe_negative)
{
    static const char *small[] = {"0", "1", "2", "3", "5", "10", "100"};
    static const char *neg[] = {"-1", "-2", "-5", "-10", "-100", "-1000"};
    uint32_t r = rnd(100);
    if (r < 70)
        cv_pushs(c, PICK(small));
    else if (r < 82)
        cv_pushs(c, PICK(neg));
    else if (!safe_negative)
        cv_pushs(c, PICK(INT_BOUND));
    else {
        /* SRANDMEMBER-style counts: a huge negative count is a huge reply,
         * so only the ones redis rejects. */
        static const char *b[] = {"2147483647", "2147483648", "9223372036854775807", "-9223372036854775808",
                                  "9223372036854775808", "18446744073709551616", "abc", "", "1.5", "-0", "+1"};
        cv_pushs(c, PICK(b));
    }
}

/* Relative seconds / milliseconds: never small positives (two processes
 * would expire the key at different moments). */
static void gen_rel_time(cmdv *c, int ms)
{
    static const char *s[] = {"-1", "0", "-1000", "100000", "1000000", "31536000", "2147483647", "2147483648",
                              "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                              "9223372036854775", "9223372036854776", "922337203685477", "abc", "1.5", "",
                              "+100000", "0100000"};
    static const char *m[] = {"-1", "0", "-1000", "100000000", "1000000000", "2147483647", "9223372036854775807",
                              "-9223372036854775808", "9223372036854775808", "9223370000000000000",
                              "abc", "1.5", "", "1e9"};
    cv_pushs(c, ms ? PICK(m) : PICK(s));
}

static void gen_abs_time(cmdv *c, int ms)
{
    static const char *s[] = {"0", "1", "-1", "1000000000", "1700000000", "4102444800", "2147483647", "2147483648",
                              "9223372036854775807", "-9223372036854775808", "9223372036854775",
                              "92233720368547758", "abc", ""};
    static const char *m[] = {"0", "1", "-1", "1000000000000", "1700000000000", "4102444800000",
                              "9223372036854775807", "-9223372036854775808", "9223372036854775808", "abc", ""};
    cv_pushs(c, ms ? PICK(m) : PICK(s));
}

static void gen_timeout(cmdv *c)
{
    /* never 0, -0 or a big value: a timeout that blocks for long would
     * stall both servers (a server that blocks anyway is a hang finding) */
    static const char *t[] = {"0.01", "0.01", "0.005", "0.001", "0.002", "1e-10", "-1", "-0.5", "abc", "1e400",
                              "inf", "", "nan", "-inf", "0.01 "};
    cv_pushs(c, PICK(t));
}

static void gen_score_bound(cmdv *c)
{
    static const char *b[] = {"-inf", "+inf", "inf", "(1", "(0", "(-1", "(inf", "(-inf", "(", "((1", "nan",
                              "(nan", "1e400", "abc", "", "(1.5", "[1"};
    if (chance(0.6))
        cv_pushf(c, "%s%d", chance(0.3) ? "(" : "", (int)rnd(9) - 3);
    else
        cv_pushs(c, PICK(b));
}

static void gen_lex_bound(cmdv *c)
{
    static const char *b[] = {"-", "+", "[a", "(a", "[b", "(c", "[m1", "(m5", "[", "(", "a", "", "[\xff", "(\xff",
                              "[1", "(2", "-inf", "+inf", "[-", "(+"};
    cv_pushs(c, PICK(b));
}

static const char *KEYS_STR[] = {"s1", "s2", "s3", "n1"};
static const char *KEYS_LIST[] = {"l1", "l2", "l3"};
static const char *KEYS_HASH[] = {"h1", "h2", "h3"};
static const char *KEYS_SET[] = {"t1", "t2", "t3"};
static const char *KEYS_ZSET[] = {"z1", "z2", "z3"};
static const char *KEYS_GEO[] = {"g1", "g2", "z1"};
static const char *KEYS_HLL[] = {"p1", "p2", "s1"};
static const char *KEYS_STREAM[] = {"x1", "x2", "x3"};
static const char *KEYS_ALL[] = {"s1", "s2", "s3", "n1", "l1", "l2", "l3", "h1", "h2", "h3", "t1", "t2", "t3",
                                 "z1", "z2", "z3", "g1", "g2", "p1", "p2", "{t}x", "k:0", "x1"};

static void gen_key(cmdv *c, const gcmd *g)
{
    uint32_t r = rnd(100);
    if (r < 2) {
        cv_push(c, "", 0);
        return;
    }
    if (r < 3) {
        cv_push(c, "k\0\xff", 3);
        return;
    }
    if (r < 25) {
        cv_pushs(c, PICK(KEYS_ALL));
        return;
    }
    const char *gr = g->group;
    if (strcmp(gr, "string") == 0 || strcmp(gr, "bitmap") == 0)
        cv_pushs(c, PICK(KEYS_STR));
    else if (strcmp(gr, "list") == 0)
        cv_pushs(c, PICK(KEYS_LIST));
    else if (strcmp(gr, "hash") == 0)
        cv_pushs(c, PICK(KEYS_HASH));
    else if (strcmp(gr, "set") == 0)
        cv_pushs(c, PICK(KEYS_SET));
    else if (strcmp(gr, "sorted-set") == 0)
        cv_pushs(c, PICK(KEYS_ZSET));
    else if (strcmp(gr, "geo") == 0)
        cv_pushs(c, PICK(KEYS_GEO));
    else if (strcmp(gr, "hyperloglog") == 0)
        cv_pushs(c, PICK(KEYS_HLL));
    else if (strcmp(gr, "stream") == 0)
        cv_pushs(c, PICK(KEYS_STREAM));
    else
        cv_pushs(c, PICK(KEYS_ALL));
}

static void gen_glob(cmdv *c)
{
    static const char *p[] = {"*", "*", "s*", "?1", "[a-z]*", "[^s]*", "*1", "h?", "\\*", "[", "[a-", "*[", "",
                              "k*", "{t}*", "*\\", "[\\]]*", "?", "??", "*?*", "[!a]*", "[z-a]*", "\xff*", "m1*",
                              "*a*a*a*a*a*a*a*a*a*a*a*b"};
    cv_pushs(c, PICK(p));
}

static void gen_sort_pattern(cmdv *c)
{
    static const char *p[] = {"nosort", "w_*", "*", "s*", "h*->f1", "h*->a", "#", "*->x", "l*", "nosort", "n*",
                              "s*->f", "", "->", "*->"};
    cv_pushs(c, PICK(p));
}

static void gen_geo(cmdv *c, const char *name)
{
    static const char *lon[] = {"0", "13.361389", "15.087269", "-122.27652", "180", "-180", "180.0000001", "-180.1",
                                "1e400", "nan", "abc", "2.1", "13.5", "-0"};
    static const char *lat[] = {"0", "38.115556", "37.502669", "37.80574", "85.05112878", "-85.05112878",
                                "85.06", "90", "-90.1", "x", "38", "-0"};
    static const char *rad[] = {"0", "1", "100", "200", "1000", "100000", "5000000", "-1", "1e400", "inf", "abc",
                                "0.5", "40000000", "nan"};
    /* mostly random points near each other, so that members rarely share
     * a point (equal distances sort in no defined order) */
    if (strcmp(name, "longitude") == 0) {
        if (chance(0.75))
            cv_pushf(c, "%.6f", 13.0 + (double)rnd(2000000) / 1000000.0);
        else
            cv_pushs(c, chance(0.3) ? lon[1 + rnd(3)] : PICK(lon));
    }
    else if (strcmp(name, "latitude") == 0) {
        if (chance(0.75))
            cv_pushf(c, "%.6f", 37.0 + (double)rnd(2000000) / 1000000.0);
        else
            cv_pushs(c, chance(0.3) ? lat[1 + rnd(3)] : PICK(lat));
    }
    else
        cv_pushs(c, PICK(rad));
}

/* RESTORE payloads: DUMPs of sample values taken from redis at start, used
 * as they are or corrupted (with the checksum fixed, so that the body is
 * what gets checked). */
static cmdv DUMPS;
static int g_payload_corrupt;    /* the last payload generated was damaged */

static uint64_t crc64_jones(uint64_t crc, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
}

static void fix_crc(unsigned char *p, size_t n)
{
    if (n < 10)
        return;
    uint64_t crc = crc64_jones(0, p, n - 8);
    for (int i = 0; i < 8; i++)
        p[n - 8 + i] = (unsigned char)(crc >> (8 * i));
}

static void gen_payload(cmdv *c)
{
    if (!DUMPS.n) {
        cv_pushs(c, "bogus");
        return;
    }
    int i = (int)rnd((uint32_t)DUMPS.n);
    size_t n = DUMPS.l[i];
    g_payload_corrupt = 1;
    unsigned char *p = (unsigned char *)xmemdup(DUMPS.v[i], n);
    uint32_t r = rnd(100);
    if (r < 45 || n < 12) {
        g_payload_corrupt = 0;   /* as it is */
    }
    else if (r < 65) {
        p[rnd((uint32_t)(n - 10))] ^= (unsigned char)(1 + rnd(255));
        fix_crc(p, n);
    }
    else if (r < 73) {
        size_t cut = 1 + rnd((uint32_t)(n - 10));
        memmove(p + (n - 10 - cut), p + (n - 10), 10);
        n -= cut;
        fix_crc(p, n);
    }
    else if (r < 80) {
        p[rnd((uint32_t)n)] ^= 0x20;   /* checksum no longer matches */
    }
    else if (r < 85) {
        p[n - 10] = 11;                  /* RDB version 11 */
        fix_crc(p, n);
    }
    else if (r < 93) {
        p[0] = (unsigned char)rnd(22);   /* another type byte */
        fix_crc(p, n);
    }
    else if (r < 96) {
        n = 0;
    }
    else {
        unsigned char g[12];
        for (int k = 0; k < 12; k++)
            g[k] = (unsigned char)rnd(256);
        free(p);
        p = (unsigned char *)xmemdup(g, sizeof(g));
        n = sizeof(g);
    }
    cv_push(c, p, n);
    free(p);
}

static void load_dumps(void)
{
    static const char *setup[][40] = {
        {"SET", "__dfz", "hello"}, {"SET", "__dfz", "12345"}, {"SET", "__dfz", "-9223372036854775808"},
        {"RPUSH", "__dfz", "a", "b", "c", "1", "2", "3"},
        {"HSET", "__dfz", "f1", "v1", "f2", "2", "a", "b"},
        {"SADD", "__dfz", "1", "2", "3", "100", "-5"},
        {"SADD", "__dfz", "a", "b", "c", "1"},
        {"ZADD", "__dfz", "1", "a", "2", "b", "-1.5", "c", "inf", "d"},
        {"PFADD", "__dfz", "a", "b", "c", "d", "e"},
        {"SET", "__dfz", "v", "PX", "100000000"},
    };
    span r;
    for (size_t i = 0; i < N_(setup); i++) {
        cmdv c = {0};
        for (int k = 0; setup[i][k]; k++)
            cv_pushs(&c, setup[i][k]);
        rt(&S_REDIS, S_REDIS.fd, &c, &r);
        cv_free(&c);
        if (rt_args(&S_REDIS, S_REDIS.fd, &r, 2, "DUMP", "__dfz") == 0) {
            size_t n;
            const char *p = bulk_data(r, &n);
            if (p)
                cv_push(&DUMPS, p, n);
        }
        rt_args(&S_REDIS, S_REDIS.fd, &r, 2, "DEL", "__dfz");
    }
    /* big encodings: a long string, a 300-element list/hash/set/zset, a dense HLL */
    static const char *big[] = {"RPUSH", "HSET", "SADD", "ZADD", "SADDI", "PFADD", "SETLONG"};
    for (size_t b = 0; b < N_(big); b++) {
        cmdv c = {0};
        const char *cmd = big[b];
        if (strcmp(cmd, "SADDI") == 0)
            cmd = "SADD";
        if (strcmp(cmd, "SETLONG") == 0)
            cmd = "SET";
        cv_pushs(&c, cmd);
        cv_pushs(&c, "__dfz");
        if (strcmp(big[b], "SETLONG") == 0) {
            char s[3000];
            for (size_t k = 0; k < sizeof(s); k++)
                s[k] = "abcabcabc"[k % 9];
            cv_push(&c, s, sizeof(s));
        }
        else {
            int count = strcmp(big[b], "PFADD") == 0 ? 4000 : 300;
            for (int k = 0; k < count; k++) {
                if (strcmp(big[b], "ZADD") == 0)
                    cv_pushf(&c, "%d", k % 17);
                if (strcmp(big[b], "SADDI") == 0)
                    cv_pushf(&c, "%d", k * 3);
                else
                    cv_pushf(&c, "m%d", k);
                if (strcmp(big[b], "HSET") == 0)
                    cv_pushf(&c, "v%d", k);
            }
        }
        rt(&S_REDIS, S_REDIS.fd, &c, &r);
        cv_free(&c);
        if (rt_args(&S_REDIS, S_REDIS.fd, &r, 2, "DUMP", "__dfz") == 0) {
            size_t n;
            const char *p = bulk_data(r, &n);
            if (p)
                cv_push(&DUMPS, p, n);
        }
        rt_args(&S_REDIS, S_REDIS.fd, &r, 2, "DEL", "__dfz");
    }
}

/* Parameters both servers have and that cannot disturb the run. */
typedef struct cfgp {
    const char *name;
    const char *vals[12];
} cfgp;
static const cfgp CFG_SET[] = {
    {"hash-max-listpack-entries", {"0", "1", "2", "3", "10", "128", "512", "-1", "abc", "1k", NULL}},
    {"hash-max-listpack-value", {"0", "1", "8", "64", "100", "-1", "1kb", NULL}},
    {"hash-max-ziplist-entries", {"1", "4", "128", NULL}},
    {"set-max-intset-entries", {"0", "1", "2", "512", "1000", "-1", NULL}},
    {"zset-max-listpack-entries", {"0", "1", "2", "3", "128", "-1", NULL}},
    {"zset-max-listpack-value", {"0", "1", "8", "64", "-1", NULL}},
    {"zset-max-ziplist-entries", {"1", "128", NULL}},
    {"list-max-listpack-size", {"-5", "-4", "-3", "-2", "-1", "0", "1", "2", "4", "128", "-6", "x"}},
    {"list-max-ziplist-size", {"-2", "1", "3", NULL}},
    {"list-compress-depth", {"0", "1", "2", "-1", NULL}},
    {"hll-sparse-max-bytes", {"0", "100", "3000", "3001", "16000", "-1", "1kb", NULL}},
    {"proto-max-bulk-len", {"1mb", "512mb", "1048576", "1000", "-1", NULL}},
    {"slowlog-log-slower-than", {"-1", "0", "10000", NULL}},
    {"slowlog-max-len", {"0", "1", "128", NULL}},
    {"maxmemory-policy", {"noeviction", "allkeys-lru", "volatile-lru", "allkeys-random", "volatile-ttl", "allkeys-lfu",
                          "volatile-lfu", "bogus", NULL}},
    {"lfu-log-factor", {"0", "1", "10", "-1", NULL}},
    {"lfu-decay-time", {"0", "1", "10", "-1", NULL}},
    {"notify-keyspace-events", {"", "KEA", "Ex", "xyz", "Kg$lshzxetd", NULL}},
    {"activerehashing", {"yes", "no", "maybe", NULL}},
};
static const char *CFG_GET_EXTRA[] = {"maxmemory", "databases", "appendonly", "hz", "timeout", "save",
                                      "bogus-param", "HASH-MAX-LISTPACK-ENTRIES", "hash-max-*", "zset-*", "list-max*",
                                      "*max-listpack*", "set-max-*", "lfu-*", ""};
static const char *CFG_RESET[] = {
    "CONFIG", "SET", "hash-max-listpack-entries", "128", "hash-max-listpack-value", "64", "set-max-intset-entries",
    "512", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "64", "list-max-listpack-size", "-2",
    "list-compress-depth", "0", "hll-sparse-max-bytes", "3000", "proto-max-bulk-len", "536870912",
    "slowlog-log-slower-than", "10000", "slowlog-max-len", "128", "maxmemory-policy", "noeviction",
    "lfu-log-factor", "10", "lfu-decay-time", "1", "notify-keyspace-events", "", "activerehashing", "yes", NULL};

/* ================================================================ generator */

static const gcmd *g_cur;           /* command being generated */
static int g_numkeys_at;            /* argv index of a numkeys placeholder, or -1 */

static int cmd_is(const gcmd *g, const char *n)
{
    return strcmp(g->name, n) == 0;
}

/* ---- streams: IDs, group and consumer names, idle times --- */

enum { SID_PLAIN, SID_ADD, SID_READ, SID_RANGE };

/* Small explicit IDs most of the time, so that entries collide and
 * ordering and trimming matter; the forms each command knows (XADD ms-*,
 * XREAD $ and >, XRANGE - + and exclusive bounds); the limits and junk.
 * Never a bare '*' here: an ID from the clock differs between the two
 * servers (XADD's auto ID is generated in gen_one, rarely, and the key is
 * deleted right after, see fuzz()). */
static void gen_stream_id(cmdv *c, int kind)
{
    static const char *common[] = {
        "0-1", "1", "1-0", "1-1", "1-2", "1-3", "2", "2-0", "2-5", "3-1", "5", "5-5", "10-0", "100",
        "0", "0-0", "18446744073709551615-18446744073709551615", "18446744073709551615-0",
        "18446744073709551614-18446744073709551615", "18446744073709551616", "1-18446744073709551616",
        "-1", "abc", "1-x", "1-", "-1-1", "", "1.5", "0x10", "01-1", " 1"};
    static const char *add[] = {"1-*", "2-*", "5-*", "0-*", "18446744073709551615-*", "x-*", "-*"};
    static const char *read[] = {"$", ">", "0", "0-0", "+", "-"};
    static const char *range[] = {"-", "+", "-", "+", "(1-1", "(0", "(18446744073709551615-18446744073709551615",
                                  "(-", "(+", "((1", "(2"};
    static const char *plain[] = {"-", "+", "$"};
    /* XREADGROUP's new entries: '>' half of the time */
    if (kind == SID_READ && cmd_is(g_cur, "xreadgroup") && chance(0.5)) {
        cv_pushs(c, ">");
        return;
    }
    if (chance(0.2)) {
        switch (kind) {
        case SID_ADD: cv_pushs(c, PICK(add)); return;
        case SID_READ: cv_pushs(c, PICK(read)); return;
        case SID_RANGE: cv_pushs(c, PICK(range)); return;
        default: cv_pushs(c, PICK(plain)); return;
        }
    }
    /* the small valid ones first in the pool: pick among them more often */
    cv_pushs(c, chance(0.85) ? common[rnd(14)] : PICK(common));
}

static int repeat_count(void);

/* XREAD / XREADGROUP STREAMS: as many IDs as keys most of the time (the
 * grammar repeats the two lists independently, which Redis refuses). */
static void gen_streams_block(cmdv *c, const gcmd *g)
{
    int n = repeat_count();
    int m = chance(0.9) ? n : repeat_count();
    for (int i = 0; i < n; i++)
        gen_key(c, g);
    for (int i = 0; i < m; i++)
        gen_stream_id(c, SID_READ);
}

/* A stream command's argument by name; 0 when the generic pools do. */
static int gen_stream_leaf(cmdv *c, const gcmd *g, const garg *a)
{
    const char *n = a->name;
    if (strcmp(n, "group") == 0 || strcmp(n, "groupname") == 0) {
        static const char *gr[] = {"g1", "g1", "g1", "g2", "g3", "G1", ""};
        cv_pushs(c, PICK(gr));
    }
    else if (strcmp(n, "consumer") == 0 || strcmp(n, "consumername") == 0) {
        static const char *co[] = {"c1", "c1", "c2", "c3", ""};
        cv_pushs(c, PICK(co));
    }
    else if (strcmp(n, "min-idle-time") == 0) {
        /* an entry's idle time grows with the clock: only bounds that no
         * entry is near (0, or 1000 h, while IDLE never sets one close to
         * it) compare between two servers */
        static const char *mi[] = {"0", "0", "0", "3600000000", "-1", "x", ""};
        cv_pushs(c, PICK(mi));
    }
    else if (strcmp(n, "ms") == 0) {
        static const char *ms[] = {"0", "1", "1000", "86400000000", "-1", "x"};
        cv_pushs(c, PICK(ms));
    }
    else if (strcmp(n, "milliseconds") == 0) {
        /* XREAD / XREADGROUP BLOCK: short, never 0 (forever) */
        static const char *bl[] = {"1", "2", "5", "10", "-1", "x", ""};
        cv_pushs(c, PICK(bl));
    }
    else if (strcmp(n, "threshold") == 0) {
        /* MAXLEN's count or MINID's ID, by the token before it */
        int minid = 0;
        for (int k = c->n - 1; k >= 0 && k >= c->n - 2; k--)
            if (c->l[k] == 5 && strncasecmp(c->v[k], "MINID", 5) == 0)
                minid = 1;
        if (minid || chance(0.1))
            gen_stream_id(c, SID_PLAIN);
        else {
            static const char *th[] = {"0", "1", "2", "3", "5", "10", "100", "-1", "x", ""};
            cv_pushs(c, PICK(th));
        }
    }
    else if (strcmp(n, "start") == 0 || strcmp(n, "end") == 0)
        gen_stream_id(c, SID_RANGE);
    else if (strcmp(n, "id") == 0)
        gen_stream_id(c, cmd_is(g, "xread") || cmd_is(g, "xreadgroup") ? SID_READ : SID_PLAIN);
    else if (strcmp(n, "last-id") == 0 || strcmp(n, "max_deleted_entry_id") == 0)
        gen_stream_id(c, SID_PLAIN);
    else
        return 0;
    return 1;
}

static void gen_leaf(cmdv *c, const garg *a)
{
    const gcmd *g = g_cur;
    const char *n = a->name;
    if (strcmp(g->group, "stream") == 0 && a->t != A_KEY && gen_stream_leaf(c, g, a))
        return;
    switch (a->t) {
    case A_KEY:
        gen_key(c, g);
        return;
    case A_PATTERN:
        if (cmd_is(g, "sort") || cmd_is(g, "sort_ro"))
            gen_sort_pattern(c);
        else
            gen_glob(c);
        return;
    case A_UNIXTIME:
        gen_abs_time(c, strstr(n, "milli") != NULL);
        return;
    case A_INTEGER:
        if (strcmp(n, "seconds") == 0 && (cmd_is(g, "restore")))
            gen_int(c);                                          /* IDLETIME */
        else if (strcmp(n, "seconds") == 0)
            gen_rel_time(c, 0);
        else if (strcmp(n, "milliseconds") == 0)
            gen_rel_time(c, 1);
        else if (strcmp(n, "ttl") == 0) {
            static const char *t[] = {"0", "0", "-1", "-100", "100000000", "4102444800000", "9223372036854775807", "x", ""};
            cv_pushs(c, PICK(t));
        }
        else if (strcmp(n, "numkeys") == 0) {
            g_numkeys_at = c->n;
            cv_pushs(c, "1");
        }
        else if (strcmp(n, "count") == 0 || strcmp(n, "num-matches") == 0 || strcmp(n, "limit") == 0 ||
                 strcmp(n, "len") == 0)
            gen_count(c, cmd_is(g, "srandmember") || cmd_is(g, "zrandmember") || cmd_is(g, "hrandfield"));
        else if (strcmp(n, "offset") == 0 && cmd_is(g, "setrange")) {
            static const char *o[] = {"0", "1", "2", "3", "5", "10", "64", "100", "1000", "4096", "-1",
                                      "536870912", "4294967296", "9223372036854775807", "x", "1.5", ""};
            if (chance(0.003))
                cv_pushs(c, chance(0.3) ? "1048576" : "65536");
            else
                cv_pushs(c, PICK(o));
        }
        else if (strcmp(n, "offset") == 0 && (cmd_is(g, "setbit") || cmd_is(g, "getbit"))) {
            static const char *o[] = {"100", "1000", "8191", "-1", "4294967296", "9223372036854775807", "x", ""};
            if (chance(0.7))
                cv_pushf(c, "%u", rnd(70));
            else if (chance(0.01))
                cv_pushs(c, "524288");
            else if (cmd_is(g, "getbit") && chance(0.1))
                cv_pushs(c, "4294967295");
            else
                cv_pushs(c, PICK(o));
        }
        else if (strcmp(n, "offset") == 0 && (cmd_is(g, "bitfield") || cmd_is(g, "bitfield_ro"))) {
            static const char *o[] = {"0", "1", "3", "7", "8", "15", "31", "63", "64", "100", "1000", "#0", "#1",
                                      "#3", "#100", "-1", "#-1", "4294967296", "x", "#x", "", "#"};
            cv_pushs(c, PICK(o));
        }
        else if (strcmp(n, "value") == 0 && cmd_is(g, "setbit")) {
            static const char *v[] = {"0", "1", "1", "0", "2", "-1", "x", ""};
            cv_pushs(c, PICK(v));
        }
        else if (strcmp(n, "bit") == 0) {
            static const char *v[] = {"0", "1", "1", "0", "2", "-1", "x"};
            cv_pushs(c, PICK(v));
        }
        else if (strcmp(n, "value") == 0 || strcmp(n, "increment") == 0) {
            if (cmd_is(g, "zincrby"))
                gen_double(c);
            else if (cmd_is(g, "bitfield") && chance(0.3)) {
                /* keep clear of 2^23..2^32 even if shifted into an offset */
                static const char *v[] = {"127", "128", "-128", "-129", "255", "256", "32767", "-32768",
                                          "9223372036854775807", "-9223372036854775808", "9223372036854775808"};
                cv_pushs(c, PICK(v));
            }
            else if (cmd_is(g, "bitfield"))
                cv_pushf(c, "%d", (int)rnd(600) - 300);
            else
                gen_int(c);
        }
        else if (strcmp(n, "weight") == 0)
            gen_double(c);
        else if (strcmp(n, "db") == 0 || strcmp(n, "destination-db") == 0 || strcmp(n, "index") == 0 ||
                 strcmp(n, "index1") == 0 || strcmp(n, "index2") == 0) {
            if (strcmp(n, "index") == 0 && !cmd_is(g, "select")) {
                gen_index(c);
                return;
            }
            static const char *d[] = {"0", "0", "0", "1", "1", "2", "9", "15", "16", "-1", "2147483648", "x", ""};
            cv_pushs(c, PICK(d));
        }
        else if (strcmp(n, "cursor") == 0) {
            static const char *cu[] = {"0", "0", "0", "0", "0", "0", "1", "5", "17", "123456", "18446744073709551615",
                                       "18446744073709551616", "-1", "abc", "0x1", ""};
            cv_pushs(c, PICK(cu));
        }
        else if (strcmp(n, "client-id") == 0) {
            static const char *id[] = {"0", "1", "-1", "999999", "9223372036854775807", "x"};
            cv_pushs(c, PICK(id));
        }
        else if (strcmp(n, "protover") == 0) {
            static const char *pv[] = {"2", "2", "2", "1", "0", "4", "-1", "x", "02"};   /* never 3: RESP3 */
            cv_pushs(c, PICK(pv));
        }
        else if (strcmp(n, "frequency") == 0) {
            static const char *f[] = {"0", "1", "255", "256", "-1", "x"};
            cv_pushs(c, PICK(f));
        }
        else if (strcmp(n, "start") == 0 || strcmp(n, "end") == 0 || strcmp(n, "stop") == 0 ||
                 strcmp(n, "rank") == 0 || strcmp(n, "offset") == 0)
            gen_index(c);
        else
            gen_int(c);
        return;
    case A_DOUBLE:
        if (strcmp(n, "timeout") == 0)
            gen_timeout(c);
        else if (strcmp(n, "longitude") == 0 || strcmp(n, "latitude") == 0 || strcmp(n, "radius") == 0 ||
                 strcmp(n, "width") == 0 || strcmp(n, "height") == 0)
            gen_geo(c, n);
        else if (strcmp(n, "min") == 0 || strcmp(n, "max") == 0)
            gen_score_bound(c);
        else
            gen_double(c);
        return;
    case A_STRING:
        if ((strcmp(n, "min") == 0 || strcmp(n, "max") == 0) && strstr(g->name, "lex"))
            gen_lex_bound(c);
        else if (strcmp(n, "start") == 0 || strcmp(n, "stop") == 0 || strcmp(n, "min") == 0 || strcmp(n, "max") == 0) {
            uint32_t r = rnd(3);
            if (r == 0)
                gen_index(c);
            else if (r == 1)
                gen_score_bound(c);
            else
                gen_lex_bound(c);
        }
        else if (strcmp(n, "encoding") == 0) {
            static const char *e[] = {"i1", "i8", "u8", "i16", "u16", "i32", "u32", "i63", "u63", "i64", "u64",
                                      "i0", "u0", "i65", "x8", "I8", "8", "i", "u1", "i5", "u7"};
            cv_pushs(c, PICK(e));
        }
        else if (strcmp(n, "operation") == 0) {
            static const char *o[] = {"AND", "OR", "XOR", "NOT", "and", "bogus", "not"};
            cv_pushs(c, PICK(o));
        }
        else if (strcmp(n, "subcommand") == 0) {
            static const char *o[] = {"GETREG", "DECODE", "ENCODING", "TODENSE", "bogus", "getreg"};
            cv_pushs(c, PICK(o));
        }
        else if (strcmp(n, "serialized-value") == 0)
            gen_payload(c);
        else if (strcmp(n, "section") == 0) {
            static const char *s[] = {"server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                                      "commandstats", "keyspace", "errorstats", "all", "everything", "default",
                                      "bogus", ""};
            cv_pushs(c, PICK(s));
        }
        else if (strcmp(n, "command-name") == 0) {
            if (chance(0.1))
                cv_pushs(c, chance(0.5) ? "bogus" : "client|id");
            else
                cv_pushs(c, G[rnd((uint32_t)NG)].name);
        }
        else if (strcmp(n, "type") == 0) {
            static const char *t[] = {"string", "list", "set", "zset", "hash", "none", "bogus", "stream", "STRING", ""};
            cv_pushs(c, PICK(t));
        }
        else if (strcmp(n, "channel") == 0 || strcmp(n, "shardchannel") == 0) {
            static const char *ch[] = {"ch", "news.1", "", "*", "a b"};
            cv_pushs(c, PICK(ch));
        }
        else if (strcmp(n, "connection-name") == 0 || strcmp(n, "clientname") == 0) {
            static const char *cn[] = {"n1", "fuzzer", "", "a b", "x\n", "\xff", "n-2"};
            cv_pushs(c, PICK(cn));
        }
        else if (strcmp(n, "username") == 0) {
            static const char *u[] = {"default", "default", "bob", ""};
            cv_pushs(c, PICK(u));
        }
        else if (strcmp(n, "password") == 0) {
            static const char *p[] = {"x", "", "default", "nopass"};
            cv_pushs(c, PICK(p));
        }
        else if (strcmp(n, "pivot") == 0 || strcmp(n, "element") == 0 || strcmp(n, "member") == 0 ||
                 strcmp(n, "field") == 0 || strcmp(n, "member1") == 0 || strcmp(n, "member2") == 0)
            gen_member(c);
        else
            gen_value(c);
        return;
    default:
        return;
    }
}

static void gen_args(cmdv *c, const garg *a, int n);

static void gen_token(cmdv *c, const char *tok)
{
    if (chance(0.05)) {
        char t[64];
        snprintf(t, sizeof(t), "%s", tok);
        for (char *p = t; *p; p++)
            if (chance(0.5))
                *p = (char)tolower((unsigned char)*p);
        cv_pushs(c, t);
    }
    else
        cv_pushs(c, tok);
}

static void gen_one(cmdv *c, const garg *a, int with_token)
{
    if (a->t == A_TOKEN) {
        gen_token(c, a->token ? a->token : a->name);
        return;
    }
    if (with_token && a->token)
        gen_token(c, a->token);
    if (a->t == A_ONEOF && strcmp(a->name, "id_or_auto") == 0) {
        /* XADD: an explicit ID mostly; '*' takes the clock (see fuzz()) */
        if (chance(0.08))
            cv_pushs(c, "*");
        else
            gen_stream_id(c, SID_ADD);
    }
    else if (a->t == A_BLOCK && strcmp(a->name, "streams") == 0 && strcmp(g_cur->group, "stream") == 0)
        gen_streams_block(c, g_cur);
    else if (a->t == A_ONEOF) {
        if (a->nsub)
            gen_one(c, &a->sub[rnd((uint32_t)a->nsub)], 1);
    }
    else if (a->t == A_BLOCK)
        gen_args(c, a->sub, a->nsub);
    else
        gen_leaf(c, a);
}

static int repeat_count(void)
{
    if (chance(0.02))
        return 8 + (int)rnd(20);
    int n = 1;
    while (n < 6 && chance(0.45))
        n++;
    return n;
}

static void gen_args(cmdv *c, const garg *a, int n)
{
    for (int i = 0; i < n; i++) {
        const garg *x = &a[i];
        if (x->optional && !chance(0.45))
            continue;
        if (x->multiple) {
            int k = repeat_count();
            int before = c->n;
            for (int j = 0; j < k; j++)
                gen_one(c, x, j == 0 || x->multiple_token);
            /* numkeys: the count of the keys that follow, most of the time */
            if (x->t == A_KEY && g_numkeys_at >= 0) {
                if (chance(0.88)) {
                    char num[16];
                    int len = snprintf(num, sizeof(num), "%d", c->n - before);
                    cv_set(c, g_numkeys_at, num, (size_t)len);
                }
                else {
                    cmdv t = {0};
                    gen_count(&t, 0);
                    cv_set(c, g_numkeys_at, t.v[0], t.l[0]);
                    cv_free(&t);
                }
                g_numkeys_at = -1;
            }
        }
        else
            gen_one(c, x, 1);
    }
}

static void gen_custom(cmdv *c, const gcmd *g)
{
    if (cmd_is(g, "debug")) {
        cv_pushs(c, "DEBUG");
        uint32_t r = rnd(100);
        if (r < 25)
            cv_pushs(c, "SLEEP"), cv_pushs(c, chance(0.8) ? "0" : "0.001");
        else if (r < 45)
            cv_pushs(c, "LOG"), gen_value(c);
        else if (r < 70) {
            static const char *cnt[] = {"0", "1", "5", "50", "-1", "x", "3"};
            static const char *pre[] = {"key", "s", "k", "p"};
            static const char *sz[] = {"0", "1", "10", "100", "-1", "x"};
            cv_pushs(c, "POPULATE");
            cv_pushs(c, PICK(cnt));
            if (chance(0.6)) {
                cv_pushs(c, PICK(pre));
                if (chance(0.5))
                    cv_pushs(c, PICK(sz));
            }
        }
        else if (r < 80)
            cv_pushs(c, "RELOAD");
        else if (r < 92)
            cv_pushs(c, "DIGEST");
        else
            cv_pushs(c, "bogus-subcommand");
        return;
    }
    if (cmd_is(g, "command|getkeys")) {
        cv_pushs(c, "COMMAND");
        cv_pushs(c, "GETKEYS");
        /* any command's arguments: getkeys never runs it */
        const gcmd *sub = &G[rnd((uint32_t)NG)];
        if (sub->flags & CF_CUSTOM) {
            cv_pushs(c, chance(0.5) ? "get" : "bogus");
            cv_pushs(c, "s1");
            return;
        }
        const gcmd *saved = g_cur;
        g_cur = sub;
        g_numkeys_at = -1;
        cv_pushs(c, sub->argv0);
        if (sub->argv1[0])
            cv_pushs(c, sub->argv1);
        gen_args(c, sub->args, sub->nargs);
        g_cur = saved;
        if (g_numkeys_at >= 0)
            g_numkeys_at = -1;
        return;
    }
    if (cmd_is(g, "config|get")) {
        cv_pushs(c, "CONFIG");
        cv_pushs(c, "GET");
        int k = chance(0.8) ? 1 : 1 + (int)rnd(3);
        for (int i = 0; i < k; i++)
            cv_pushs(c, chance(0.7) ? CFG_SET[rnd(N_(CFG_SET))].name : PICK(CFG_GET_EXTRA));
        return;
    }
    if (cmd_is(g, "config|set")) {
        cv_pushs(c, "CONFIG");
        cv_pushs(c, "SET");
        int k = chance(0.8) ? 1 : 1 + (int)rnd(3);
        for (int i = 0; i < k; i++) {
            const cfgp *p = &CFG_SET[rnd(N_(CFG_SET))];
            int nv = 0;
            while (nv < 12 && p->vals[nv])
                nv++;
            cv_pushs(c, chance(0.03) ? "bogus-param" : p->name);
            cv_pushs(c, p->vals[rnd((uint32_t)nv)]);
        }
        return;
    }
}

/* A random mutation: wrong arity, an extra token, a replaced value. */
static void mutate(cmdv *c, const gcmd *g)
{
    int first = g->argv1[0] ? 2 : 1;
    uint32_t how = rnd(5);
    /* a replaced value could be a small relative TTL (EXPIRE k 1): two
     * servers would expire the key at different moments; likewise a
     * stream entry's min-idle-time */
    static const char *timed[] = {"expire", "pexpire", "setex", "psetex", "set", "getex", "restore",
                                  "xclaim", "xautoclaim", "xpending"};
    for (size_t i = 0; how == 3 && i < N_(timed); i++)
        if (cmd_is(g, timed[i]))
            how = 4;
    switch (how) {
    case 0:
        if (c->n > first)
            cv_remove(c, c->n - 1);
        break;
    case 1:
        if (c->n > first)
            cv_remove(c, first + (int)rnd((uint32_t)(c->n - first)));
        break;
    case 2: {
        int i = first + (int)rnd((uint32_t)(c->n - first + 1));
        static const char *tok[] = {"NX", "XX", "GT", "LT", "CH", "INCR", "WITHSCORES", "LIMIT", "COUNT", "MATCH",
                                    "BY", "GET", "STORE", "REV", "BYSCORE", "BYLEX", "KEEPTTL", "EX", "PX",
                                    "REPLACE", "DB", "ASYNC", "ANY", "LEN", "IDX", "TYPE", "WEIGHTS", "AGGREGATE"};
        const char *t = PICK(tok);
        cv_insert(c, i, t, strlen(t));
        break;
    }
    case 3:
        if (c->n > first) {
            cmdv t = {0};
            gen_special_string(&t);
            cv_set(c, first + (int)rnd((uint32_t)(c->n - first)), t.v[0], t.l[0]);
            cv_free(&t);
        }
        break;
    default:
        if (c->n > first) {
            int i = first + (int)rnd((uint32_t)(c->n - first));
            char *v = xmemdup(c->v[i], c->l[i]);
            cv_insert(c, i, v, c->l[i]);
            free(v);
        }
        break;
    }
}

static const gcmd *pick_cmd(void)
{
    long long r = (long long)(rnd64() % (uint64_t)G_wsum);
    for (int i = 0; i < NG; i++) {
        r -= G[i].weight;
        if (r < 0)
            return &G[i];
    }
    return &G[NG - 1];
}

static void gen_cmd(cmdv *c, const gcmd *g)
{
    g_payload_corrupt = 0;
    g_cur = g;
    g_numkeys_at = -1;
    if (g->flags & CF_CUSTOM) {
        gen_custom(c, g);
        return;
    }
    if (chance(0.03)) {
        char t[32];
        snprintf(t, sizeof(t), "%s", g->argv0);
        for (char *p = t; *p; p++)
            if (chance(0.5))
                *p = (char)tolower((unsigned char)*p);
        cv_pushs(c, t);
    }
    else
        cv_pushs(c, g->argv0);
    if (g->argv1[0])
        cv_pushs(c, g->argv1);
    gen_args(c, g->args, g->nargs);
    if (!(g->flags & CF_NOMUTATE) && chance(0.04))
        mutate(c, g);
}

/* SORT's order is not defined in two cases: without a real sort (BY
 * without '*': a set comes in hash order; Redis sorts it only for STORE),
 * and with ALPHA and a BY pattern, where elements whose weights are equal
 * or missing compare equal and come out in whatever order the sort left
 * them. Returns the compare mode; *store_at is the index of STORE's key
 * when the stored list's order is not defined (the fuzzer deletes it). */
static int sort_mode(const cmdv *c, int *store_at)
{
    int nosort = 0, limit = 0, store = 0, alpha = 0, bypat = 0;
    *store_at = -1;
    for (int i = 2; i < c->n; i++) {
        if (cv_is(c, i, "BY") && i + 1 < c->n) {
            if (memchr(c->v[i + 1], '*', c->l[i + 1]))
                bypat = 1;
            else
                nosort = 1;
        }
        if (cv_is(c, i, "LIMIT"))
            limit = 1;
        if (cv_is(c, i, "ALPHA"))
            alpha = 1;
        if (cv_is(c, i, "STORE") && i + 1 < c->n)
            store = i + 1;
    }
    int ties = alpha && bypat;
    if (ties && store)
        *store_at = store;
    if ((!nosort && !ties) || store)
        return M_EXACT;
    return limit ? M_LEN : M_SET;
}

/* ================================================================ allowlist */

enum { AL_REPLY, AL_STATE, AL_SKIP };
#define E_CORRUPT 0x10    /* entry flag: RESTORE with a damaged payload */

typedef struct allow {
    int kind;
    char id[32];
    char cmd[64];        /* command name ("client|help") or "*" */
    char *glob;          /* over the escaped command line, case-insensitive */
    char *agent_glob;    /* over the agent's escaped reply, or NULL */
    char *redis_glob;    /* over redis' escaped reply, or NULL */
    long long hits;
    int line;
} allow;

static allow *AL;
static int NAL;

static void load_allowlist(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("allowlist %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int ln = 0;
    while (getline(&line, &cap, f) != -1) {
        ln++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        size_t n = strlen(p);
        while (n && isspace((unsigned char)p[n - 1]))
            p[--n] = 0;
        char kind[16], id[32], cmd[64];
        int off = 0;
        if (sscanf(p, "%15s %31s %63s %n", kind, id, cmd, &off) < 3)
            die("%s:%d: expected: reply|state|skip ID COMMAND GLOB", path, ln);
        AL = xrealloc(AL, sizeof(allow) * (size_t)(NAL + 1));
        allow *a = &AL[NAL++];
        memset(a, 0, sizeof(*a));
        if (strcmp(kind, "reply") == 0)
            a->kind = AL_REPLY;
        else if (strcmp(kind, "state") == 0)
            a->kind = AL_STATE;
        else if (strcmp(kind, "skip") == 0)
            a->kind = AL_SKIP;
        else
            die("%s:%d: kind must be reply, state or skip", path, ln);
        snprintf(a->id, sizeof(a->id), "%s", id);
        for (char *q = cmd; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        snprintf(a->cmd, sizeof(a->cmd), "%s", cmd);
        /* LINE-GLOB [ :: AGENT-REPLY-GLOB [ :: REDIS-REPLY-GLOB ]] */
        char *rest = xstrdup(off && p[off] ? p + off : "*");
        char *sep = strstr(rest, " :: ");
        if (sep) {
            *sep = 0;
            char *ag = sep + 4;
            char *sep2 = strstr(ag, " :: ");
            if (sep2) {
                *sep2 = 0;
                a->redis_glob = xstrdup(sep2 + 4);
            }
            a->agent_glob = xstrdup(ag);
        }
        a->glob = rest;
        a->line = ln;
    }
    free(line);
    fclose(f);
}

/* The command name of an argv as the allowlist names it ("set", "client|id"). */
static void argv_name(const cmdv *c, char *out, size_t cap)
{
    out[0] = 0;
    if (!c->n)
        return;
    char a0[64];
    snprintf(a0, sizeof(a0), "%.*s", (int)(c->l[0] < 60 ? c->l[0] : 60), c->v[0]);
    for (char *q = a0; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    if (is_container(a0) && c->n > 1) {
        char a1[64];
        snprintf(a1, sizeof(a1), "%.*s", (int)(c->l[1] < 60 ? c->l[1] : 60), c->v[1]);
        for (char *q = a1; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        snprintf(out, cap, "%s|%s", a0, a1);
    }
    else
        snprintf(out, cap, "%s", a0);
}

/* The first entry of a kind matching a command (and, for reply entries
 * with reply globs, both replies; ra/rr NULL: the command alone). With
 * any_kind, reply and state entries both count (--avoid-allowed). */
static allow *allow_match_r(int kind, const cmdv *c, const span *ra, const span *rr, int any_kind, int tags)
{
    char name[130];
    argv_name(c, name, sizeof(name));
    sbuf line = {0}, ea = {0}, er = {0};
    allow *hit = NULL;
    for (int i = 0; i < NAL && !hit; i++) {
        allow *a = &AL[i];
        if (any_kind ? (a->kind == AL_SKIP || a->agent_glob || a->redis_glob) : a->kind != kind)
            continue;
        if (strcmp(a->cmd, name) != 0 && fnmatch(a->cmd, name, FNM_NOESCAPE) != 0)
            continue;
        if (!line.p) {
            esc_line(&line, c);
            if (tags & E_CORRUPT)
                sb_adds(&line, " #corrupt");
        }
        if (fnmatch(a->glob, line.p, FNM_CASEFOLD | FNM_NOESCAPE) != 0)
            continue;
        if (ra && a->agent_glob) {
            if (!ea.p)
                esc_reply(&ea, ra->p ? ra->p : "", ra->n, 4096), sb_add(&ea, "", 0);
            if (fnmatch(a->agent_glob, ea.p, FNM_NOESCAPE) != 0)
                continue;
        }
        if (rr && a->redis_glob) {
            if (!er.p)
                esc_reply(&er, rr->p ? rr->p : "", rr->n, 4096), sb_add(&er, "", 0);
            if (fnmatch(a->redis_glob, er.p, FNM_NOESCAPE) != 0)
                continue;
        }
        hit = a;
    }
    sb_free(&line);
    sb_free(&ea);
    sb_free(&er);
    return hit;
}

static allow *allow_match(int kind, const cmdv *c)
{
    return allow_match_r(kind, c, NULL, NULL, 0, 0);
}

/* ================================================================ the run */

#define E_HIDDEN  0x01    /* added by the fuzzer (cleanup) */
#define E_QUEUED  0x02    /* sent inside MULTI */
#define E_SCAN0   0x04    /* a SCAN-family call with cursor 0 */
#define E_CONN1   0x08    /* sent on the checker connection (replays) */

typedef struct entry {
    cmdv a;
    long long idx;        /* command number in the run */
    int mode;
    int flags;
    int multi_at;         /* EXEC: log index of its MULTI, else -1 */
    const gcmd *g;
} entry;

static long long n_sent;
static entry *LOG;        /* commands since the last reset */
static int NLOG, CAPLOG;

static entry *log_add(void)
{
    if (NLOG == CAPLOG) {
        CAPLOG = CAPLOG ? CAPLOG * 2 : 4096;
        LOG = xrealloc(LOG, sizeof(entry) * (size_t)CAPLOG);
    }
    entry *e = &LOG[NLOG++];
    memset(e, 0, sizeof(*e));
    e->multi_at = -1;
    e->idx = n_sent;
    return e;
}

/* Drop the log entries from n on. */
static void log_truncate(int n)
{
    for (int i = n; i < NLOG; i++)
        cv_free(&LOG[i].a);
    if (n < NLOG)
        NLOG = n;
}

static void log_clear(void)
{
    log_truncate(0);
}

/* Options and counters. */
static uint64_t o_seed = 1;
static long long o_n = 100000;
static int o_batch = 400;
static int o_max_findings = 50;
static int o_reset_every = 20000;
static int o_check = 1;
static int o_quiet;
static int o_avoid_allowed;
static const char *o_outdir = "build/difffuzz/run";
static const char *o_allowlist;
static long long o_time_limit_s;

static long long n_compared, n_allowed, n_findings, n_crashes, n_hangs, n_divergences, n_ref_failures;
static long long n_resets, n_checks, n_unique, n_cascades;
static int g_tx;               /* inside MULTI (as the generator believes) */
static int g_tx_left;
static int g_tx_multi_at;

/* --- comparison --- */

static int ttl_close(span a, span b, long long tol)
{
    if (a.p[0] != ':' || b.p[0] != ':')
        return 0;
    long long x = strtoll(a.p + 1, NULL, 10), y = strtoll(b.p + 1, NULL, 10);
    if (x < 0 || y < 0)
        return x == y;
    return llabs(x - y) <= tol;
}

static int same_multiset(span *x, span *y, long n, int pairs)
{
    long m = pairs ? n / 2 : n;
    span *px = xcalloc((size_t)m + 1, sizeof(span)), *py = xcalloc((size_t)m + 1, sizeof(span));
    for (long i = 0; i < m; i++) {
        if (pairs) {
            px[i].p = x[2 * i].p;
            px[i].n = (size_t)(x[2 * i + 1].p + x[2 * i + 1].n - x[2 * i].p);
            py[i].p = y[2 * i].p;
            py[i].n = (size_t)(y[2 * i + 1].p + y[2 * i + 1].n - y[2 * i].p);
        }
        else {
            px[i] = x[i];
            py[i] = y[i];
        }
    }
    qsort(px, (size_t)m, sizeof(span), span_cmp);
    qsort(py, (size_t)m, sizeof(span), span_cmp);
    int ok = 1;
    for (long i = 0; i < m && ok; i++)
        ok = span_eq(px[i], py[i]);
    free(px);
    free(py);
    return ok;
}

static int replies_match(const entry *e, int mode, span a, span r, const entry *log);

static int null_like(span s)
{
    return s.n >= 3 && (s.p[0] == '$' || s.p[0] == '*') && s.p[1] == '-';
}

/* 1 when agent reply a is acceptable against redis reply r. */
static int replies_match(const entry *e, int mode, span a, span r, const entry *log)
{
    if (span_eq(a, r))
        return 1;
    if (mode == M_EXACT || !a.n || !r.n)
        return 0;
    if (a.p[0] == '-' || r.p[0] == '-' || a.p[0] != r.p[0])
        return 0;
    span *ea = NULL, *er = NULL;
    long na, nr;
    int ok = 0;
    switch (mode) {
    case M_TYPE:
        ok = null_like(a) == null_like(r);
        break;
    case M_LEN:
        if (a.p[0] == '*') {
            na = arr_elems(a, &ea);
            nr = arr_elems(r, &er);
            ok = na == nr;
        }
        else
            ok = null_like(a) == null_like(r);
        break;
    case M_SET:
    case M_PAIRS:
        na = arr_elems(a, &ea);
        nr = arr_elems(r, &er);
        ok = na == nr && na >= 0 && (mode == M_SET || na % 2 == 0) && same_multiset(ea, er, na, mode == M_PAIRS);
        break;
    case M_TTL_S:
        ok = ttl_close(a, r, 2);
        break;
    case M_TTL_MS:
        ok = ttl_close(a, r, 2500);
        break;
    case M_SCAN_SET:
    case M_SCAN_PAIRS:
        na = arr_elems(a, &ea);
        nr = arr_elems(r, &er);
        if (na != 2 || nr != 2 || ea[0].p[0] != '$' || er[0].p[0] != '$' || ea[1].p[0] != '*' || er[1].p[0] != '*')
            break;
        ok = 1;
        if (e && (e->flags & E_SCAN0) && span_eq(ea[0], er[0]) && ea[0].n >= 5 && memcmp(ea[0].p, "$1\r\n0", 5) == 0) {
            span *xa, *xr;
            long ka = arr_elems(ea[1], &xa), kr = arr_elems(er[1], &xr);
            ok = ka == kr && ka >= 0 && same_multiset(xa, xr, ka, mode == M_SCAN_PAIRS);
            free(xa);
            free(xr);
        }
        break;
    case M_EXEC: {
        na = arr_elems(a, &ea);
        nr = arr_elems(r, &er);
        if (na != nr || na < 0 || !e || e->multi_at < 0)
            break;
        /* element i answers the i-th queued command */
        int k = 0;
        ok = 1;
        for (int i = e->multi_at + 1; log + i < e && ok; i++) {
            if (!(log[i].flags & E_QUEUED))
                continue;
            if (k >= na) {
                ok = 0;
                break;
            }
            ok = replies_match(&log[i], log[i].mode, ea[k], er[k], log);
            k++;
        }
        ok = ok && k == na;
        break;
    }
    default:
        break;
    }
    free(ea);
    free(er);
    return ok;
}

/* --- findings --- */

typedef struct sig {
    uint64_t h;
    long long count;
} sig;
static sig *SIGS;
static int NSIGS;
static FILE *g_findings_log;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Signature of a finding: kind, command, and the reply shapes with digits
 * masked, so the same bug on other values counts once. */
static uint64_t finding_sig(const char *kind, const char *cmd, span a, span r)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, kind, strlen(kind));
    h = fnv(h, cmd, strlen(cmd));
    span s[2] = {a, r};
    for (int k = 0; k < 2; k++) {
        size_t lim = s[k].n < 48 ? s[k].n : 48;
        for (size_t i = 0; i < lim; i++) {
            char ch = s[k].p[i];
            if (isdigit((unsigned char)ch))
                ch = '9';
            if (s[k].p[0] != '-' && i > 0)
                break;             /* for non-errors only the type counts */
            h = fnv(h, &ch, 1);
        }
        h = fnv(h, "|", 1);
    }
    return h;
}

static long long sig_count(uint64_t h)
{
    for (int i = 0; i < NSIGS; i++)
        if (SIGS[i].h == h)
            return ++SIGS[i].count;
    SIGS = xrealloc(SIGS, sizeof(sig) * (size_t)(NSIGS + 1));
    SIGS[NSIGS].h = h;
    SIGS[NSIGS].count = 1;
    NSIGS++;
    n_unique++;
    return 1;
}

static const char *mode_prefix(int mode)
{
    switch (mode) {
    case M_SET: case M_PAIRS: return "@sorted ";
    case M_TTL_S: case M_TTL_MS: return "@maskint ";
    case M_TYPE: case M_LEN: case M_SCAN_SET: case M_SCAN_PAIRS: return "@type ";
    default: return "";
    }
}

/* Replay file: the commands since the last reset, up to log[upto]
 * (inclusive), plus optional extra lines; respdiff / compat syntax. */
static void write_replay(const char *path, const char *header, int upto, const char *extra)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "difffuzz: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fputs(header, f);
    int conn1 = 0;
    sbuf line = {0};
    for (int i = 0; i <= upto && i < NLOG; i++) {
        const entry *e = &LOG[i];
        int c1 = (e->flags & E_CONN1) != 0;
        if (c1 != conn1) {
            fprintf(f, "@conn %d\n", c1);
            conn1 = c1;
        }
        line.len = 0;
        int mode = e->mode;
        if (mode == M_EXEC) {
            /* EXEC: @type when any queued reply is not exact */
            mode = M_EXACT;
            for (int k = e->multi_at + 1; k < i; k++)
                if ((LOG[k].flags & E_QUEUED) && LOG[k].mode != M_EXACT)
                    mode = M_TYPE;
        }
        /* a queued command keeps its own mode: its +QUEUED is compared
         * exactly anyway, its EXEC element by that mode */
        sb_adds(&line, mode_prefix(mode));
        esc_line(&line, &e->a);
        fprintf(f, "%s\n", line.p);
    }
    if (extra)
        fputs(extra, f);
    sb_free(&line);
    fclose(f);
}

static char g_replay_path[1024];

static int report(const char *kind, int log_i, span a, span r, const char *detail, const char *extra_replay)
{
    const entry *e = log_i >= 0 && log_i < NLOG ? &LOG[log_i] : NULL;
    char name[130] = "-";
    if (e)
        argv_name(&e->a, name, sizeof(name));
    uint64_t h = finding_sig(kind, name, a, r);
    int cascade = strcmp(kind, "CASCADE") == 0;
    long long n_unique_before = n_unique;
    long long seen = sig_count(h);
    if (cascade) {
        n_unique = n_unique_before;
        n_cascades++;
    }
    else
        n_findings++;
    sbuf msg = {0};
    sb_printf(&msg, "%s seed=%" PRIu64 " idx=%lld cmd=", kind, o_seed, e ? e->idx : -1);
    if (e)
        esc_line(&msg, &e->a);
    if (e)
        sb_printf(&msg, " mode=%s", mode_names[e->mode]);
    sb_adds(&msg, "\n    agent: ");
    esc_reply(&msg, a.p ? a.p : "", a.n, 300);
    sb_adds(&msg, "\n    redis: ");
    esc_reply(&msg, r.p ? r.p : "", r.n, 300);
    if (detail)
        sb_printf(&msg, "\n    %s", detail);
    g_replay_path[0] = 0;
    if (seen == 1) {
        snprintf(g_replay_path, sizeof(g_replay_path), "%s/replay-%" PRIu64 "-%lld-%s.txt", o_outdir, o_seed,
                 e ? e->idx : n_sent, kind);
        sbuf hdr = {0};
        sb_printf(&hdr, "# difffuzz replay: %s, seed %" PRIu64 ", command %lld (the last command below)\n", kind,
                  o_seed, e ? e->idx : -1);
        sb_adds(&hdr, "# agent: ");
        esc_reply(&hdr, a.p ? a.p : "", a.n, 300);
        sb_adds(&hdr, "\n# redis: ");
        esc_reply(&hdr, r.p ? r.p : "", r.n, 300);
        sb_adds(&hdr, "\n");
        if (detail)
            sb_printf(&hdr, "# %s\n", detail);
        write_replay(g_replay_path, hdr.p, log_i, extra_replay);
        sb_free(&hdr);
        sb_printf(&msg, "\n    replay: %s", g_replay_path);
    }
    else
        sb_printf(&msg, "\n    (same signature seen %lld times)", seen);
    if (seen <= 3 || !o_quiet)
        fprintf(stdout, "%s\n", msg.p);
    if (g_findings_log)
        fprintf(g_findings_log, "%s\n", msg.p);
    fflush(stdout);
    sb_free(&msg);
    return seen == 1;
}

/* --- server failures --- */

static void agent_restart(void)
{
    conn_close_all(&S_AGENT);
    if (S_AGENT.pid > 0 || S_AGENT.bin) {
        server_kill(&S_AGENT);
        S_AGENT.restarts++;
        server_start(&S_AGENT);
    }
    if (!conn_open_all(&S_AGENT))
        die("agent: cannot reconnect");
}

static void redis_restart(void)
{
    conn_close_all(&S_REDIS);
    if (S_REDIS.bin) {
        server_kill(&S_REDIS);
        server_start(&S_REDIS);
    }
    if (!conn_open_all(&S_REDIS))
        die("redis: cannot reconnect");
}

static void log_tail(const server *s, sbuf *out)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/server.log", s->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, sz > 3000 ? sz - 3000 : 0, SEEK_SET);
    char buf[3001];
    size_t n = fread(buf, 1, 3000, f);
    buf[n] = 0;
    fclose(f);
    sb_adds(out, buf);
}

/* --- reset between runs of commands --- */

static void sync_both(const cmdv *c, const char *what)
{
    span a, r;
    if (rt(&S_REDIS, S_REDIS.fd, c, &r) != 0)
        die("redis failed during %s", what);
    char *rc = xmemdup(r.p, r.n);
    size_t rn = r.n;
    if (rt(&S_AGENT, S_AGENT.fd, c, &a) != 0) {
        free(rc);
        agent_restart();
        return;
    }
    (void)rn;
    free(rc);
}

static void reset_state(void)
{
    /* fresh connections: nothing of a failed batch can be left in them */
    if (!conn_open_all(&S_AGENT))
        agent_restart();
    if (!conn_open_all(&S_REDIS))
        redis_restart();
    static const char *cmds[][3] = {{"RESET", NULL, NULL}, {"FLUSHALL", NULL, NULL}, {"SLOWLOG", "RESET", NULL},
                                    {"CONFIG", "RESETSTAT", NULL}};
    for (size_t i = 0; i < N_(cmds); i++) {
        cmdv c = {0};
        for (int k = 0; k < 3 && cmds[i][k]; k++)
            cv_pushs(&c, cmds[i][k]);
        sync_both(&c, "reset");
        cv_free(&c);
    }
    cmdv c = {0};
    for (int k = 0; CFG_RESET[k]; k++)
        cv_pushs(&c, CFG_RESET[k]);
    sync_both(&c, "reset");
    cv_free(&c);
    g_tx = 0;
    log_clear();
    n_resets++;
}

/* --- the state check: read back every key through the checker connections --- */

/* Run es[0..n) on both servers, on the fuzzing (conn1 = 0) or the checker
 * connections; the replies stay in the sides. */
static int run_on(int conn1, entry *es, int n, side *pa, side *pr, sbuf *out)
{
    out->len = 0;
    for (int i = 0; i < n; i++)
        cv_encode(out, &es[i].a);
    side_init(pa, &S_AGENT, conn1 ? S_AGENT.cfd : S_AGENT.fd, conn1 ? &S_AGENT.cin : &S_AGENT.in, out->p, out->len, n);
    side_init(pr, &S_REDIS, conn1 ? S_REDIS.cfd : S_REDIS.fd, conn1 ? &S_REDIS.cin : &S_REDIS.in, out->p, out->len, n);
    exchange(pa, pr);
    return 0;
}

static int handle_failure(side *pa, side *pr, int base_log, int n);

/* Compare the keyspaces. Returns 1 when they match. On a difference the
 * reading commands are appended to the log (as checker-connection lines)
 * so the replay ends with the read that differs. */
static int g_window_from;    /* first log entry of the batch being checked */
static int diff_allowed(const entry *e, int mode, span a, span r);
static int window_allowed(int from);

/* Runs log entries [base, base + n) on both checker connections. Returns 1
 * when a server failed: handle_failure has reported it and the replies are
 * freed; 0 with the replies in pa and pr. */
static int state_run_step(int base, int n, side *pa, side *pr, sbuf *out)
{
    run_on(1, &LOG[base], n, pa, pr, out);
    if (!handle_failure(pa, pr, base, n))
        return 0;
    free(pa->ends);
    free(pr->ends);
    return 1;
}

/* Compares a state-check step's replies. The first difference ends it:
 * accepted by the allowlist (when use_allowlist) or by the batch's window,
 * or reported as a STATE finding described by what. Returns 1 when every
 * reply matched. */
static int state_compare_step(side *pa, side *pr, int base, int n, int use_allowlist, const char *what)
{
    for (int i = 0; i < n; i++) {
        span a = side_reply(pa, i), r = side_reply(pr, i);
        const entry *e = &LOG[base + i];
        if (replies_match(e, e->mode, a, r, LOG))
            continue;
        if ((use_allowlist && diff_allowed(e, e->mode, a, r)) || window_allowed(g_window_from)) {
            n_allowed++;
            return 0;
        }
        n_divergences++;
        log_truncate(base + i + 1);
        report("STATE", base + i, a, r, what, NULL);
        return 0;
    }
    return 1;
}

static int state_check(void)
{
    n_checks++;
    /* step 1: which dbs hold keys (INFO keyspace, keys= and expires= only) */
    sbuf out = {0};
    side pa, pr;
    int base = NLOG;
    entry *e = log_add();
    cv_pushs(&e->a, "INFO");
    cv_pushs(&e->a, "keyspace");
    e->flags = E_HIDDEN | E_CONN1;
    e->mode = M_TYPE;
    if (state_run_step(base, 1, &pa, &pr, &out)) {
        sb_free(&out);
        return 1;
    }
    int dbs[16], ndb = 0;
    for (int k = 0; k < 2; k++) {
        span s = side_reply(k ? &pr : &pa, 0);
        size_t len;
        const char *p = bulk_data(s, &len);
        if (!p)
            continue;
        char *txt = xmemdup(p, len);
        for (char *q = strstr(txt, "\ndb"); q; q = strstr(q + 1, "\ndb")) {
            int d = atoi(q + 3);
            int have = 0;
            for (int j = 0; j < ndb; j++)
                have |= dbs[j] == d;
            if (!have && d >= 0 && d < 16 && ndb < 16)
                dbs[ndb++] = d;
        }
        free(txt);
    }
    free(pa.ends);
    free(pr.ends);
    log_truncate(base);
    if (!ndb) {
        sb_free(&out);
        return 1;
    }
    /* step 2: per db, the key names (as a set) */
    base = NLOG;
    for (int j = 0; j < ndb; j++) {
        e = log_add();
        cv_pushs(&e->a, "SELECT");
        cv_pushf(&e->a, "%d", dbs[j]);
        e->flags = E_HIDDEN | E_CONN1;
        e = log_add();
        cv_pushs(&e->a, "KEYS");
        cv_pushs(&e->a, "*");
        e->flags = E_HIDDEN | E_CONN1;
        e->mode = M_SET;
    }
    int n = NLOG - base;
    if (state_run_step(base, n, &pa, &pr, &out)) {
        sb_free(&out);
        return 1;
    }
    int ok = state_compare_step(&pa, &pr, base, n, 0, "state check: the key sets differ");
    /* the union of key names per db, from redis' replies and the agent's */
    typedef struct kref { int db; span k; } kref;
    kref *keys = NULL;
    int nkeys = 0;
    if (ok) {
        for (int j = 0; j < ndb; j++) {
            span *ks;
            long nk = arr_elems(side_reply(&pr, 2 * j + 1), &ks);
            for (long q = 0; q < nk && nkeys < 4000; q++) {
                keys = xrealloc(keys, sizeof(kref) * (size_t)(nkeys + 1));
                keys[nkeys].db = dbs[j];
                keys[nkeys].k = ks[q];
                nkeys++;
            }
            free(ks);
        }
    }
    if (!ok || !nkeys) {
        if (ok)
            log_truncate(base);
        free(keys);
        free(pa.ends);
        free(pr.ends);
        sb_free(&out);
        return ok;
    }
    /* step 3: TYPE and PTTL of each key */
    int base3 = NLOG;
    int cur_db = -1;
    for (int q = 0; q < nkeys; q++) {
        size_t kl;
        const char *kp = bulk_data(keys[q].k, &kl);
        if (!kp)
            continue;
        if (keys[q].db != cur_db) {
            e = log_add();
            cv_pushs(&e->a, "SELECT");
            cv_pushf(&e->a, "%d", keys[q].db);
            e->flags = E_HIDDEN | E_CONN1;
            cur_db = keys[q].db;
        }
        e = log_add();
        cv_pushs(&e->a, "TYPE");
        cv_push(&e->a, kp, kl);
        e->flags = E_HIDDEN | E_CONN1;
        e = log_add();
        cv_pushs(&e->a, "PTTL");
        cv_push(&e->a, kp, kl);
        e->flags = E_HIDDEN | E_CONN1;
        e->mode = M_TTL_MS;
    }
    free(keys);
    free(pa.ends);
    free(pr.ends);
    /* the KEYS replies are not needed any more: drop step 2 from the log */
    n = NLOG - base3;
    /* keep step 2 lines (SELECT/KEYS) in the log only on failure; they are
     * harmless in a replay, so they stay */
    if (state_run_step(base3, n, &pa, &pr, &out)) {
        sb_free(&out);
        return 1;
    }
    ok = state_compare_step(&pa, &pr, base3, n, 1, "state check: a key's type or TTL differs");
    if (!ok) {
        free(pa.ends);
        free(pr.ends);
        sb_free(&out);
        return 0;
    }
    /* step 4: the value of each key, read by redis' TYPE */
    int base4 = NLOG;
    cur_db = -1;
    for (int i = 0; i < n; i++) {
        entry *src = &LOG[base3 + i];
        if (cv_is(&src->a, 0, "SELECT")) {
            e = log_add();
            src = &LOG[base3 + i];
            cv_pushs(&e->a, "SELECT");
            cv_push(&e->a, src->a.v[1], src->a.l[1]);
            e->flags = E_HIDDEN | E_CONN1;
            continue;
        }
        if (!cv_is(&src->a, 0, "TYPE"))
            continue;
        span r = side_reply(&pr, i);
        char t[16] = "";
        if (r.n > 3 && r.p[0] == '+')
            snprintf(t, sizeof(t), "%.*s", (int)(r.n - 3 < 15 ? r.n - 3 : 15), r.p + 1);
        char *k = xmemdup(src->a.v[1], src->a.l[1]);
        size_t kl = src->a.l[1];
        e = log_add();
        e->flags = E_HIDDEN | E_CONN1;
        if (strcmp(t, "string") == 0)
            cv_pushs(&e->a, "GET"), cv_push(&e->a, k, kl);
        else if (strcmp(t, "list") == 0)
            cv_pushs(&e->a, "LRANGE"), cv_push(&e->a, k, kl), cv_pushs(&e->a, "0"), cv_pushs(&e->a, "-1");
        else if (strcmp(t, "hash") == 0)
            cv_pushs(&e->a, "HGETALL"), cv_push(&e->a, k, kl), e->mode = M_PAIRS;
        else if (strcmp(t, "set") == 0)
            cv_pushs(&e->a, "SMEMBERS"), cv_push(&e->a, k, kl), e->mode = M_SET;
        else if (strcmp(t, "zset") == 0)
            cv_pushs(&e->a, "ZRANGE"), cv_push(&e->a, k, kl), cv_pushs(&e->a, "0"), cv_pushs(&e->a, "-1"),
                cv_pushs(&e->a, "WITHSCORES");
        else if (strcmp(t, "stream") == 0) {
            /* the entries, then the stream's counters (last ID, entries
             * added, max deleted ID) and every group (last delivered ID,
             * read counter, lag, pending count) */
            cv_pushs(&e->a, "XRANGE"), cv_push(&e->a, k, kl), cv_pushs(&e->a, "-"), cv_pushs(&e->a, "+");
            e = log_add();
            e->flags = E_HIDDEN | E_CONN1;
            cv_pushs(&e->a, "XINFO"), cv_pushs(&e->a, "STREAM"), cv_push(&e->a, k, kl);
            e = log_add();
            e->flags = E_HIDDEN | E_CONN1;
            cv_pushs(&e->a, "XINFO"), cv_pushs(&e->a, "GROUPS"), cv_push(&e->a, k, kl);
        }
        else
            cv_pushs(&e->a, "EXISTS"), cv_push(&e->a, k, kl);
        free(k);
    }
    free(pa.ends);
    free(pr.ends);
    n = NLOG - base4;
    if (state_run_step(base4, n, &pa, &pr, &out)) {
        sb_free(&out);
        return 1;
    }
    ok = state_compare_step(&pa, &pr, base4, n, 1, "state check: a key's value differs");
    free(pa.ends);
    free(pr.ends);
    sb_free(&out);
    if (ok)
        log_truncate(base);
    return ok;
}

/* --- whole-iteration SCAN and cross-server DUMP/RESTORE (checker
 * connections, db 0, between batches) --- */

/* One synchronous command on a server's checker connection; the reply is
 * copied (NULL when the server failed). */
static char *crt(server *s, const cmdv *c, size_t *len)
{
    span r;
    if (rt(s, s->cfd, c, &r) != 0)
        return NULL;
    *len = r.n;
    return xmemdup(r.p, r.n);
}

static char *crt_args(server *s, size_t *len, int n, ...)
{
    cmdv c = {0};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *p = va_arg(ap, const char *);
        size_t l = va_arg(ap, size_t);
        cv_push(&c, p, l == (size_t)-1 ? strlen(p) : l);
    }
    va_end(ap);
    char *r = crt(s, &c, len);
    cv_free(&c);
    return r;
}
#define Z ((size_t)-1)

/* Iterate a SCAN-family command to the end; the elements (pairs for
 * HSCAN/ZSCAN) go sorted and de-duplicated into *out. Returns 0, or -1 with
 * the failing reply in *err. */
static int scan_all(server *s, const cmdv *base, int cursor_at, int pairs, cmdv *out, sbuf *err)
{
    char cursor[32] = "0";
    cmdv c = {0};
    for (int it = 0; it < 20000; it++) {
        cv_free(&c);
        for (int i = 0; i < base->n; i++)
            cv_push(&c, base->v[i], base->l[i]);
        cv_set(&c, cursor_at, cursor, strlen(cursor));
        size_t n;
        char *r = crt(s, &c, &n);
        if (!r) {
            sb_adds(err, "(connection failed)");
            cv_free(&c);
            return -1;
        }
        span rs = {r, n}, *e = NULL, *x = NULL;
        long ne = arr_elems(rs, &e);
        size_t cl;
        const char *cp = ne == 2 ? bulk_data(e[0], &cl) : NULL;
        long nx = ne == 2 ? arr_elems(e[1], &x) : -2;
        if (!cp || nx < 0 || cl >= sizeof(cursor)) {
            esc_reply(err, r, n, 300);
            free(e);
            free(x);
            free(r);
            cv_free(&c);
            return -1;
        }
        for (long i = 0; i < nx; i += pairs ? 2 : 1) {
            if (pairs && i + 1 < nx)
                cv_push(out, x[i].p, (size_t)(x[i + 1].p + x[i + 1].n - x[i].p));
            else
                cv_push(out, x[i].p, x[i].n);
        }
        memcpy(cursor, cp, cl);
        cursor[cl] = 0;
        free(e);
        free(x);
        free(r);
        if (strcmp(cursor, "0") == 0) {
            cv_free(&c);
            return 0;
        }
    }
    cv_free(&c);
    sb_adds(err, "(no end after 20000 calls)");
    return -1;
}

static int cv_sorted_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return span_cmp(x, y);
}

/* The sorted, unique elements of a cmdv as spans. */
static long uniq_spans(const cmdv *c, span **out)
{
    span *s = xcalloc((size_t)c->n + 1, sizeof(span));
    for (int i = 0; i < c->n; i++)
        s[i].p = c->v[i], s[i].n = c->l[i];
    qsort(s, (size_t)c->n, sizeof(span), cv_sorted_cmp);
    long m = 0;
    for (int i = 0; i < c->n; i++)
        if (!m || !span_eq(s[m - 1], s[i]))
            s[m++] = s[i];
    *out = s;
    return m;
}

static long long n_scan_checks, n_xdump_checks;

static void special_report(const char *kind, const char *detail, const cmdv *show)
{
    /* the replay: the commands so far, then the check's command on the
     * checker connection (for a reader; the iteration itself is the tool's) */
    int at = NLOG;
    entry *e = log_add();
    cv_pushs(&e->a, "SELECT");
    cv_pushs(&e->a, "0");
    e->flags = E_HIDDEN | E_CONN1;
    e = log_add();
    for (int i = 0; i < show->n; i++)
        cv_push(&e->a, show->v[i], show->l[i]);
    e->flags = E_HIDDEN | E_CONN1;
    e->mode = M_TYPE;
    span none = {"", 0};
    report(kind, at + 1, none, none, detail, NULL);
    log_truncate(at);
}

/* Returns 1 when both servers agree. */
static int scan_check(void)
{
    n_scan_checks++;
    size_t n;
    free(crt_args(&S_AGENT, &n, 2, "SELECT", Z, "0", Z));
    free(crt_args(&S_REDIS, &n, 2, "SELECT", Z, "0", Z));
    cmdv c = {0};
    int cursor_at, pairs = 0;
    uint32_t v = rnd(4);
    static const char *cmds[] = {"SCAN", "SSCAN", "HSCAN", "ZSCAN"};
    cv_pushs(&c, cmds[v]);
    if (v == 0)
        cursor_at = 1;
    else {
        const char **pool = v == 1 ? KEYS_SET : v == 2 ? KEYS_HASH : KEYS_ZSET;
        cv_pushs(&c, chance(0.8) ? pool[rnd(3)] : PICK(KEYS_ALL));
        cursor_at = 2;
        pairs = v >= 2;
    }
    cv_pushs(&c, "0");
    if (chance(0.5)) {
        static const char *m[] = {"*", "*1*", "m1*", "?", "[a-m]*", "*[0-9]", "s*", "h*", "k*"};
        cv_pushs(&c, "MATCH");
        cv_pushs(&c, PICK(m));
    }
    if (chance(0.5)) {
        static const char *cnt[] = {"1", "2", "5", "10", "100"};
        cv_pushs(&c, "COUNT");
        cv_pushs(&c, PICK(cnt));
    }
    if (v == 0 && chance(0.3)) {
        static const char *t[] = {"string", "list", "set", "zset", "hash"};
        cv_pushs(&c, "TYPE");
        cv_pushs(&c, PICK(t));
    }
    cmdv ea = {0}, er = {0};
    sbuf erra = {0}, errr = {0};
    int ra = scan_all(&S_AGENT, &c, cursor_at, pairs, &ea, &erra);
    int rr = scan_all(&S_REDIS, &c, cursor_at, pairs, &er, &errr);
    int ok = 1;
    sbuf d = {0};
    if (rr != 0 || ra != 0) {
        if (!(rr != 0 && ra != 0 && erra.len == errr.len && memcmp(erra.p, errr.p, erra.len) == 0)) {
            ok = 0;
            sb_adds(&d, "full SCAN iteration: agent ");
            sb_add(&d, ra ? erra.p : "ok", ra ? erra.len : 2);
            sb_adds(&d, ", redis ");
            sb_add(&d, rr ? errr.p : "ok", rr ? errr.len : 2);
        }
    }
    else {
        span *xa, *xr;
        long na = uniq_spans(&ea, &xa), nr = uniq_spans(&er, &xr);
        long i = 0, j = 0, shown = 0;
        while (i < na || j < nr) {
            int cmp = i >= na ? 1 : j >= nr ? -1 : span_cmp(&xa[i], &xr[j]);
            if (cmp == 0) {
                i++, j++;
                continue;
            }
            if (ok)
                sb_printf(&d, "full SCAN iteration: %ld elements from the agent, %ld from redis;", na, nr);
            ok = 0;
            if (shown++ < 8) {
                sb_adds(&d, cmp < 0 ? " only agent: " : " only redis: ");
                span e = cmp < 0 ? xa[i] : xr[j];
                esc_reply(&d, e.p, e.n, 80);
            }
            if (cmp < 0)
                i++;
            else
                j++;
        }
        free(xa);
        free(xr);
    }
    if (!ok) {
        cmdv show = {0};
        for (int k = 0; k < c.n; k++)
            cv_push(&show, c.v[k], c.l[k]);
        cv_set(&show, cursor_at, "0", 1);
        special_report("SCAN", d.p, &show);
        cv_free(&show);
    }
    sb_free(&d);
    sb_free(&erra);
    sb_free(&errr);
    cv_free(&ea);
    cv_free(&er);
    cv_free(&c);
    return ok;
}

/* DUMP a key on one server, RESTORE it on the other, compare the values
 * with redis' DEBUG DIGEST-VALUE. Returns 1 when all is well. */
static int xdump_check(void)
{
    n_xdump_checks++;
    size_t n, la, lr;
    free(crt_args(&S_AGENT, &n, 2, "SELECT", Z, "0", Z));
    free(crt_args(&S_REDIS, &n, 2, "SELECT", Z, "0", Z));
    const char *key = PICK(KEYS_ALL);
    char *da = crt_args(&S_AGENT, &la, 2, "DUMP", Z, key, Z);
    char *dr = crt_args(&S_REDIS, &lr, 2, "DUMP", Z, key, Z);
    int ok = 1;
    sbuf d = {0};
    size_t pla = 0, plr = 0;
    const char *pa = da ? bulk_data((span){da, la}, &pla) : NULL;
    const char *pr = dr ? bulk_data((span){dr, lr}, &plr) : NULL;
    if (pa && pr) {
        size_t n1, n2, n3;
        /* DIGEST-VALUE marks whether a key has a TTL: give the copies one too */
        char *pt = crt_args(&S_REDIS, &n1, 2, "PTTL", Z, key, Z);
        int has_ttl = pt && pt[0] == ':' && pt[1] != '-';
        free(pt);
        /* agent's payload into redis: the value must be the same */
        char *r1 = crt_args(&S_REDIS, &n1, 5, "RESTORE", Z, "__dfz_xa", Z, "0", Z, pa, pla, "REPLACE", Z);
        if (has_ttl)
            free(crt_args(&S_REDIS, &n2, 3, "PEXPIRE", Z, "__dfz_xa", Z, "100000000", Z));
        char *g1 = crt_args(&S_REDIS, &n2, 3, "DEBUG", Z, "DIGEST-VALUE", Z, key, Z);
        char *g2 = crt_args(&S_REDIS, &n3, 3, "DEBUG", Z, "DIGEST-VALUE", Z, "__dfz_xa", Z);
        if (!r1 || n1 != 5 || memcmp(r1, "+OK\r\n", 5) != 0) {
            ok = 0;
            sb_printf(&d, "redis refuses the agent's DUMP of %s: ", key);
            esc_reply(&d, r1 ? r1 : "", r1 ? n1 : 0, 200);
        }
        else if (!g1 || !g2 || n2 != n3 || memcmp(g1, g2, n2) != 0) {
            ok = 0;
            sb_printf(&d, "the agent's DUMP of %s restored in redis holds another value", key);
        }
        free(r1);
        free(g1);
        free(g2);
        free(crt_args(&S_REDIS, &n1, 2, "DEL", Z, "__dfz_xa", Z));
        /* redis' payload into the agent, back out, into redis again */
        if (ok) {
            char *r2 = crt_args(&S_AGENT, &n1, 5, "RESTORE", Z, "__dfz_xr", Z, "0", Z, pr, plr, "REPLACE", Z);
            if (!r2 || n1 != 5 || memcmp(r2, "+OK\r\n", 5) != 0) {
                ok = 0;
                sb_printf(&d, "the agent refuses redis' DUMP of %s: ", key);
                esc_reply(&d, r2 ? r2 : "", r2 ? n1 : 0, 200);
            }
            else {
                size_t lb, pb;
                char *back = crt_args(&S_AGENT, &lb, 2, "DUMP", Z, "__dfz_xr", Z);
                const char *bp = back ? bulk_data((span){back, lb}, &pb) : NULL;
                char *r3 = bp ? crt_args(&S_REDIS, &n1, 5, "RESTORE", Z, "__dfz_xb", Z, "0", Z, bp, pb, "REPLACE", Z) : NULL;
                if (has_ttl)
                    free(crt_args(&S_REDIS, &n2, 3, "PEXPIRE", Z, "__dfz_xb", Z, "100000000", Z));
                char *h1 = crt_args(&S_REDIS, &n2, 3, "DEBUG", Z, "DIGEST-VALUE", Z, key, Z);
                char *h2 = crt_args(&S_REDIS, &n3, 3, "DEBUG", Z, "DIGEST-VALUE", Z, "__dfz_xb", Z);
                if (!r3 || !h1 || !h2 || n2 != n3 || memcmp(h1, h2, n2) != 0) {
                    ok = 0;
                    sb_printf(&d, "redis' DUMP of %s restored in the agent and dumped again holds another value", key);
                }
                free(back);
                free(r3);
                free(h1);
                free(h2);
                free(crt_args(&S_REDIS, &n1, 2, "DEL", Z, "__dfz_xb", Z));
            }
            free(r2);
            free(crt_args(&S_AGENT, &n1, 2, "DEL", Z, "__dfz_xr", Z));
        }
    }
    else if ((pa != NULL) != (pr != NULL)) {
        ok = 0;
        sb_printf(&d, "DUMP %s: one server has the key, the other not", key);
    }
    if (!ok) {
        cmdv show = {0};
        cv_pushs(&show, "DUMP");
        cv_pushs(&show, key);
        special_report("XDUMP", d.p, &show);
        cv_free(&show);
    }
    sb_free(&d);
    free(da);
    free(dr);
    return ok;
}

/* A side that failed (closed, timed out, garbage). Returns 1 when the batch
 * must be abandoned (the servers were restarted and reset). */
static int handle_failure(side *pa, side *pr, int base_log, int n)
{
    if (!pa->failed && !pr->failed)
        return 0;
    span none = {"", 0};
    if (pr->failed) {
        n_ref_failures++;
        int at = base_log + (int)pr->ngot;
        if (at >= NLOG)
            at = NLOG - 1;
        const char *how = server_reap(&S_REDIS);
        char d[256];
        snprintf(d, sizeof(d), "REFERENCE (redis-server) %s at command %d of %d: %s", pr->failed == 2 ? "timed out" : pr->failed == 3 ? "sent garbage" : "closed the connection", (int)pr->ngot, n, how);
        report("REFERENCE", at, none, none, d, NULL);
        redis_restart();
        agent_restart();
        reset_state();
        return 1;
    }
    int at = base_log + (int)pa->ngot;
    if (at >= NLOG)
        at = NLOG - 1;
    sbuf d = {0};
    if (pa->failed == 2) {
        n_hangs++;
        sb_printf(&d, "HANG: the agent did not answer within %d ms (%ld of %d replies read)", g_timeout_ms, pa->ngot, n);
        if (S_AGENT.pid > 0)
            kill(S_AGENT.pid, SIGABRT);
        sleep_ms(200);
    }
    else if (pa->failed == 3) {
        n_crashes++;
        sb_printf(&d, "PROTOCOL: the agent sent bytes that are not RESP (%ld of %d replies read)", pa->ngot, n);
    }
    else {
        n_crashes++;
        sleep_ms(100);
        const char *how = server_reap(&S_AGENT);
        sb_printf(&d, "CRASH: the agent closed the connection (%ld of %d replies read): %s", pa->ngot, n,
                  how[0] ? how : "process still running");
    }
    sbuf tail = {0};
    log_tail(&S_AGENT, &tail);
    if (tail.len) {
        sb_adds(&d, "\n    agent log tail:\n");
        for (char *l = strtok(tail.p, "\n"); l; l = strtok(NULL, "\n"))
            sb_printf(&d, "      | %s\n", l);
    }
    sb_free(&tail);
    span r = side_reply(pr, pa->ngot);
    report(pa->failed == 2 ? "HANG" : "CRASH", at, none, r, d.p, NULL);
    sb_free(&d);
    agent_restart();
    reset_state();
    return 1;
}

/* --- one batch --- */

static sbuf g_out;
static int diff_allowed(const entry *e, int mode, span a, span r);

/* Send LOG[from..NLOG) on the fuzzing connections and compare. Returns 1
 * when everything matched, 0 when something differed (the caller resets). */
static int flush_batch(int from)
{
    int n = NLOG - from;
    if (n <= 0)
        return 1;
    side pa, pr;
    run_on(0, &LOG[from], n, &pa, &pr, &g_out);
    if (handle_failure(&pa, &pr, from, n)) {
        free(pa.ends);
        free(pr.ends);
        return 0;
    }
    int clean = 1, after_allowed = 0;
    for (int i = 0; i < n; i++) {
        entry *e = &LOG[from + i];
        span a = side_reply(&pa, i), r = side_reply(&pr, i);
        int mode = (e->flags & E_QUEUED) ? M_EXACT : e->mode;
        n_compared++;
        if (replies_match(e, mode, a, r, LOG))
            continue;
        clean = 0;
        if (diff_allowed(e, mode, a, r)) {
            n_allowed++;
            after_allowed = 1;
            continue;
        }
        /* after an allowed difference the state may differ by design: what
         * follows in the batch is reported as a consequence, not a finding */
        report(after_allowed ? "CASCADE" : "DIFF", from + i, a, r,
               after_allowed ? "follows an allowed difference earlier in the same batch" : NULL, NULL);
        /* later replies of this batch may differ as a consequence */
        break;
    }
    free(pa.ends);
    free(pr.ends);
    return clean;
}

/* Is the difference of entry e accepted by the allowlist? For EXEC, each
 * differing element must be accepted for its queued command; when the
 * shapes differ, any accepted queued command accepts it (line globs only). */
static int diff_allowed(const entry *e, int mode, span a, span r)
{
    allow *al = allow_match_r(AL_REPLY, &e->a, &a, &r, 0, e->flags);
    if (al) {
        al->hits++;
        return 1;
    }
    if (mode != M_EXEC || e->multi_at < 0)
        return 0;
    span *ea = NULL, *er = NULL;
    long na = arr_elems(a, &ea), nr = arr_elems(r, &er);
    int ok = 0;
    if (na >= 0 && na == nr) {
        int k = 0;
        ok = 1;
        for (const entry *q = &LOG[e->multi_at + 1]; q < e && ok; q++) {
            if (!(q->flags & E_QUEUED))
                continue;
            if (k >= na) {
                ok = 0;
                break;
            }
            if (!replies_match(q, q->mode, ea[k], er[k], LOG))
                ok = diff_allowed(q, q->mode, ea[k], er[k]);
            k++;
        }
    }
    else {
        for (const entry *q = &LOG[e->multi_at + 1]; q < e && !ok; q++) {
            if (!(q->flags & E_QUEUED))
                continue;
            al = allow_match(AL_REPLY, &q->a);
            if (al) {
                al->hits++;
                ok = 1;
            }
        }
    }
    free(ea);
    free(er);
    return ok;
}

static int window_allowed(int from)
{
    for (int i = from; i < NLOG; i++) {
        allow *al = allow_match(AL_STATE, &LOG[i].a);
        if (al) {
            al->hits++;
            return 1;
        }
    }
    return 0;
}

static long long g_t0;

static void progress(void)
{
    if (o_quiet > 1)
        return;
    double s = (double)(now_ms() - g_t0) / 1000.0;
    fprintf(stderr, "difffuzz: seed %" PRIu64 ": %lld commands, %.0f/s, %lld findings (%lld unique), %lld allowed, %lld crashes, %lld hangs\n",
            o_seed, n_sent, s > 0 ? (double)n_sent / s : 0.0, n_findings, n_unique, n_allowed, n_crashes, n_hangs);
}

static entry *push_cmd(cmdv *c, const gcmd *g, int mode, int flags)
{
    entry *e = log_add();
    e->a = *c;
    memset(c, 0, sizeof(*c));
    e->g = g;
    e->mode = mode;
    e->flags = flags;
    e->idx = n_sent++;
    if (g)
        ((gcmd *)g)->sent++;
    return e;
}

/* Hidden commands to send once outside MULTI. */
static cmdv POST[64];
static int NPOST;

static void post_add(const char *cmd, const char *key, size_t len)
{
    if (NPOST == 64)
        return;
    cmdv *c = &POST[NPOST++];
    memset(c, 0, sizeof(*c));
    cv_pushs(c, cmd);
    cv_push(c, key, len);
}

static void post_flush(void)
{
    for (int i = 0; i < NPOST; i++)
        push_cmd(&POST[i], NULL, cv_is(&POST[i], 0, "DUMP") ? M_TYPE : M_EXACT, E_HIDDEN);
    NPOST = 0;
}

static void fuzz(void)
{
    g_t0 = now_ms();
    long long next_progress = g_t0 + 10000;
    reset_state();
    int since_reset = 0;
    while (n_sent < o_n && !g_stop) {
        if (o_time_limit_s && now_ms() - g_t0 > o_time_limit_s * 1000)
            break;
        if (n_unique >= o_max_findings)
            break;
        if (since_reset >= o_reset_every && !g_tx) {
            reset_state();
            since_reset = 0;
        }
        int from = NLOG;
        int window_from = from;
        int dirty = 0;
        int target = from + o_batch;
        while (NLOG < target && n_sent < o_n) {
            cmdv c = {0};
            if (!g_tx && chance(0.015)) {
                cv_pushs(&c, "MULTI");
                g_tx_multi_at = NLOG;
                push_cmd(&c, NULL, M_EXACT, 0);
                g_tx = 1;
                g_tx_left = 1 + (int)rnd(8);
                continue;
            }
            if (g_tx && g_tx_left <= 0) {
                if (chance(0.85)) {
                    cv_pushs(&c, "EXEC");
                    entry *e = push_cmd(&c, NULL, M_EXEC, 0);
                    e->multi_at = g_tx_multi_at;
                }
                else {
                    cv_pushs(&c, "DISCARD");
                    push_cmd(&c, NULL, M_EXACT, 0);
                }
                g_tx = 0;
                post_flush();
                continue;
            }
            const gcmd *g = pick_cmd();
            if (g_tx && (g->flags & CF_NO_TX))
                continue;
            gen_cmd(&c, g);
            if (!c.n) {
                cv_free(&c);
                continue;
            }
            if (NAL && (allow_match(AL_SKIP, &c) || (o_avoid_allowed && allow_match_r(0, &c, NULL, NULL, 1, 0)))) {
                cv_free(&c);
                continue;
            }
            int mode = g->mode;
            int store_at = -1;
            if (g->flags & CF_SORT)
                mode = sort_mode(&c, &store_at);
            /* EXPIRE k 100 GT right after EXPIRE k 100: whether the second
             * deadline is later depends on the millisecond each server
             * runs it in; only the reply type is compared */
            if ((cmd_is(g, "expire") || cmd_is(g, "pexpire")) && mode == M_EXACT)
                for (int k = 3; k < c.n; k++)
                    if (cv_is(&c, k, "GT") || cv_is(&c, k, "LT"))
                        mode = M_TYPE;
            /* idle and delivery times: XPENDING's extended form, XINFO
             * STREAM FULL */
            if ((cmd_is(g, "xpending") && c.n > 3) || (cmd_is(g, "xinfo|stream") && c.n > 3))
                mode = M_TYPE;
            /* XADD '*': the ID is each server's clock; the reply is
             * compared by type and the key deleted after (not inside
             * MULTI, where later commands would see the IDs) */
            int xadd_auto = 0;
            if (cmd_is(g, "xadd"))
                for (int k = 2; k < c.n; k++)
                    if (cv_is(&c, k, "*"))
                        xadd_auto = 1;
            if (xadd_auto && g_tx) {
                cv_free(&c);
                continue;
            }
            if (xadd_auto)
                mode = M_TYPE;
            /* GEO with a sort (ASC/DESC, or COUNT, which sorts): members at
             * the same distance come in no defined order, and COUNT picks
             * among them: compared as a set, or by length with COUNT; a
             * STORE'd result with COUNT is deleted */
            if (strncmp(g->name, "geo", 3) == 0 && (strstr(g->name, "radius") || strstr(g->name, "search"))) {
                int sorted = 0, count = 0, st = -1;
                for (int k = 2; k < c.n; k++) {
                    if (cv_is(&c, k, "ASC") || cv_is(&c, k, "DESC"))
                        sorted = 1;
                    if (cv_is(&c, k, "COUNT"))
                        count = 1;
                    if ((cv_is(&c, k, "STORE") || cv_is(&c, k, "STOREDIST")) && k + 1 < c.n)
                        st = k + 1;
                }
                if (cmd_is(g, "geosearchstore"))
                    st = 1;
                if (count && st >= 0)
                    store_at = st;
                else if (count && mode == M_EXACT)
                    mode = M_LEN;
                else if (sorted && mode == M_EXACT)
                    mode = M_SET;
            }
            if (store_at >= 0 && g_tx) {
                /* its stored list would feed the rest of the transaction */
                cv_free(&c);
                continue;
            }
            if (g->flags & CF_LCS) {
                /* LCS is quadratic: make sure both strings are small */
                if (!flush_batch(from)) {
                    dirty = 1;
                    cv_free(&c);
                    break;
                }
                from = NLOG;
                int big = 0;
                for (int k = 1; k <= 2 && k < c.n; k++) {
                    span r;
                    cmdv q = {0};
                    cv_pushs(&q, "STRLEN");
                    cv_push(&q, c.v[k], c.l[k]);
                    entry *e = push_cmd(&q, NULL, M_EXACT, E_HIDDEN);
                    if (rt(&S_REDIS, S_REDIS.fd, &e->a, &r) == 0 && r.p[0] == ':' && strtoll(r.p + 1, NULL, 10) > 3000)
                        big = 1;
                    /* the agent gets the same command so both stay in step */
                    span a;
                    if (rt(&S_AGENT, S_AGENT.fd, &e->a, &a) != 0) {
                        big = 1;
                    }
                }
                from = NLOG;
                if (big) {
                    cv_free(&c);
                    continue;
                }
            }
            int flags = 0;
            if (g_tx) {
                flags |= E_QUEUED;
                g_tx_left--;
            }
            if ((g->mode == M_SCAN_SET || g->mode == M_SCAN_PAIRS) && c.n > 1) {
                int ci = cmd_is(g, "scan") ? 1 : 2;
                if (ci < c.n && c.l[ci] == 1 && c.v[ci][0] == '0')
                    flags |= E_SCAN0;
            }
            if (g_payload_corrupt)
                flags |= E_CORRUPT;
            int is_reset = cv_is(&c, 0, "RESET");
            /* clean-ups that keep both servers comparable: a key whose
             * content was picked at random (SPOP, an unordered SORT STORE)
             * is deleted; a key SET with an EXAT/PXAT in the past, which
             * DBSIZE counts until active expiry (on its own schedule) drops
             * it, is touched so that both drop it now */
            if (((g->flags & CF_SPOP) || xadd_auto) && c.n > 1)
                post_add("DEL", c.v[1], c.l[1]);
            if (store_at >= 0)
                post_add("DEL", c.v[store_at], c.l[store_at]);
            /* a damaged payload both servers took: what each makes of the
             * garbage is not compared beyond one read-back (a crash would
             * show); the key is then deleted */
            if (g_payload_corrupt && cmd_is(g, "restore") && c.n > 1) {
                post_add("DUMP", c.v[1], c.l[1]);
                post_add("DEL", c.v[1], c.l[1]);
            }
            if (cmd_is(g, "set") && c.n > 1)
                for (int k = 3; k < c.n; k++)
                    if (cv_is(&c, k, "EXAT") || cv_is(&c, k, "PXAT")) {
                        post_add("EXISTS", c.v[1], c.l[1]);
                        break;
                    }
            push_cmd(&c, g, mode, flags);
            if (is_reset)
                g_tx = 0;
            if (!g_tx)
                post_flush();
        }
        if (!dirty && !flush_batch(from))
            dirty = 1;
        g_window_from = window_from;
        if (!dirty && o_check && !g_tx && !state_check())
            dirty = 1;
        /* now and then (the keyspaces just matched): a whole SCAN
         * iteration, a DUMP restored on the other server */
        if (!dirty && o_check && chance(0.15) && !scan_check())
            dirty = 1;
        if (!dirty && o_check && chance(0.15) && !xdump_check())
            dirty = 1;
        since_reset += NLOG - window_from;
        if (dirty) {
            reset_state();
            since_reset = 0;
        }
        else if (NLOG > 200000 && !g_tx) {
            /* keep the replay log bounded: a reset also starts a new log */
            reset_state();
            since_reset = 0;
        }
        if (now_ms() >= next_progress) {
            progress();
            next_progress = now_ms() + 10000;
        }
    }
}

/* ================================================================ replay / minimize */

typedef struct script {
    entry *e;
    int n;
} script;

static void script_load(const char *path, script *s)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int conn1 = 0;
    int multi_at = -1;
    memset(s, 0, sizeof(*s));
    while (getline(&line, &cap, f) != -1) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        int mode = M_EXACT;
        if (strncmp(p, "@conn", 5) == 0) {
            conn1 = atoi(p + 5) != 0;
            continue;
        }
        if (strncmp(p, "@sorted ", 8) == 0)
            mode = M_SET, p += 8;
        else if (strncmp(p, "@type ", 6) == 0)
            mode = M_TYPE, p += 6;
        else if (strncmp(p, "@maskint ", 9) == 0)
            mode = M_TTL_MS, p += 9;
        else if (*p == '@')
            die("%s: directive not supported here: %s", path, p);
        s->e = xrealloc(s->e, sizeof(entry) * (size_t)(s->n + 1));
        entry *e = &s->e[s->n];
        memset(e, 0, sizeof(*e));
        e->multi_at = -1;
        if (split_line(p, &e->a) != 0 || !e->a.n)
            die("%s: bad line: %s", path, p);
        e->mode = mode;
        e->flags = conn1 ? E_CONN1 : 0;
        e->idx = s->n;
        if (!conn1) {
            if (cv_is(&e->a, 0, "MULTI") && multi_at < 0)
                multi_at = s->n;
            else if (cv_is(&e->a, 0, "EXEC") && multi_at >= 0)
                e->multi_at = multi_at, multi_at = -1, mode == M_TYPE ? (void)(e->mode = M_TYPE) : (void)0;
            else if ((cv_is(&e->a, 0, "DISCARD") || cv_is(&e->a, 0, "RESET")) && multi_at >= 0)
                multi_at = -1;
            else if (multi_at >= 0)
                e->flags |= E_QUEUED;
        }
        s->n++;
    }
    free(line);
    fclose(f);
}

static void script_free(script *s)
{
    for (int i = 0; i < s->n; i++)
        cv_free(&s->e[i].a);
    free(s->e);
    s->e = NULL;
    s->n = 0;
}

/* Run a script from a clean state. Returns: 0 all matched, 1 the last
 * command differs, 2 an earlier one differs only, 3 the agent crashed or
 * hung. With verbose, differences are printed. */
static int script_run(const entry *es, int n, int verbose)
{
    /* fresh connections, empty dataset, default settings */
    if (!server_alive(&S_AGENT))
        agent_restart();
    conn_close_all(&S_AGENT);
    conn_close_all(&S_REDIS);
    if (!conn_open_all(&S_AGENT)) {
        agent_restart();
    }
    if (!conn_open_all(&S_REDIS))
        die("redis: cannot connect");
    {
        cmdv c = {0};
        cv_pushs(&c, "FLUSHALL");
        sync_both(&c, "replay");
        cv_free(&c);
        for (int k = 0; CFG_RESET[k]; k++)
            cv_pushs(&c, CFG_RESET[k]);
        sync_both(&c, "replay");
        cv_free(&c);
        conn_close_all(&S_AGENT);
        conn_close_all(&S_REDIS);
        if (!conn_open_all(&S_AGENT) || !conn_open_all(&S_REDIS))
            die("cannot reconnect");
    }
    int result = 0;
    int i = 0;
    sbuf out = {0};
    /* entries are re-laid out in a temporary log so EXEC can find its MULTI */
    entry *tmp = xcalloc((size_t)n + 1, sizeof(entry));
    int multi_at = -1;
    for (int k = 0; k < n; k++) {
        tmp[k] = es[k];
        tmp[k].multi_at = -1;
        tmp[k].flags &= ~E_QUEUED;
        if (es[k].flags & E_CONN1)
            continue;
        if (cv_is(&es[k].a, 0, "MULTI") && multi_at < 0)
            multi_at = k;
        else if (cv_is(&es[k].a, 0, "EXEC") && multi_at >= 0) {
            tmp[k].multi_at = multi_at;
            if (tmp[k].mode == M_TYPE)
                tmp[k].mode = M_EXEC;
            multi_at = -1;
        }
        else if ((cv_is(&es[k].a, 0, "DISCARD") || cv_is(&es[k].a, 0, "RESET")) && multi_at >= 0)
            multi_at = -1;
        else if (multi_at >= 0)
            tmp[k].flags |= E_QUEUED;
    }
    while (i < n && result != 3) {
        int c1 = (tmp[i].flags & E_CONN1) != 0;
        int j = i;
        while (j < n && ((tmp[j].flags & E_CONN1) != 0) == c1)
            j++;
        side pa, pr;
        run_on(c1, &tmp[i], j - i, &pa, &pr, &out);
        if (pr.failed)
            die("redis failed during the replay (command %d)", i + (int)pr.ngot);
        if (pa.failed) {
            if (verbose)
                printf("agent %s at command %d: ", pa.failed == 2 ? "HUNG" : "CRASHED", i + (int)pa.ngot + 1),
                    printf("%s\n", server_reap(&S_AGENT));
            result = 3;
        }
        for (int k = 0; k < pa.ngot && k < pr.ngot; k++) {
            entry *e = &tmp[i + k];
            span a = side_reply(&pa, k), r = side_reply(&pr, k);
            int mode = (e->flags & E_QUEUED) ? M_EXACT : e->mode;
            if (replies_match(e, mode, a, r, tmp))
                continue;
            if (i + k == n - 1)
                result = 1;
            else if (!result)
                result = 2;
            if (verbose) {
                sbuf m = {0};
                sb_printf(&m, "line %d differs: ", i + k + 1);
                esc_line(&m, &e->a);
                sb_adds(&m, "\n    agent: ");
                esc_reply(&m, a.p, a.n, 400);
                sb_adds(&m, "\n    redis: ");
                esc_reply(&m, r.p, r.n, 400);
                printf("%s\n", m.p);
                sb_free(&m);
            }
        }
        free(pa.ends);
        free(pr.ends);
        i = j;
    }
    free(tmp);
    sb_free(&out);
    if (result == 3) {
        agent_restart();
    }
    return result;
}

static int g_min_target;   /* 1: last command differs, 3: crash/hang */

static int still_fails(const entry *es, int n)
{
    int r = script_run(es, n, 0);
    return g_min_target == 3 ? r == 3 : r == 1;
}

static void minimize(const char *in, const char *outpath)
{
    script s;
    script_load(in, &s);
    if (!s.n)
        die("%s: no commands", in);
    int r = script_run(s.e, s.n, 1);
    if (r == 0 || r == 2) {
        printf("difffuzz: %s does not reproduce (result %d)\n", in, r);
        script_free(&s);
        exit(1);
    }
    g_min_target = r == 3 ? 3 : 1;
    /* for a crash the failing command is the last one that was sent */
    entry *e = xcalloc((size_t)s.n + 1, sizeof(entry));
    int n = s.n;
    memcpy(e, s.e, sizeof(entry) * (size_t)n);
    int gran = 2;
    int tests = 0;
    while (n > 1) {
        int body = g_min_target == 3 ? n : n - 1;   /* keep the last one for diffs */
        int chunk = (body + gran - 1) / gran;
        int reduced = 0;
        for (int start = 0; start < body; start += chunk) {
            int len = start + chunk > body ? body - start : chunk;
            entry *cand = xcalloc((size_t)n + 1, sizeof(entry));
            int m = 0;
            for (int k = 0; k < n; k++)
                if (k < start || k >= start + len)
                    cand[m++] = e[k];
            tests++;
            if (m > 0 && still_fails(cand, m)) {
                memcpy(e, cand, sizeof(entry) * (size_t)m);
                n = m;
                free(cand);
                reduced = 1;
                if (gran > 2)
                    gran--;
                break;
            }
            free(cand);
        }
        if (!reduced) {
            if (chunk <= 1)
                break;
            gran *= 2;
            if (gran > body)
                gran = body;
        }
        if (!o_quiet && tests % 20 == 0)
            fprintf(stderr, "difffuzz: minimize: %d commands left after %d runs\n", n, tests);
    }
    FILE *f = fopen(outpath, "w");
    if (!f)
        die("%s: %s", outpath, strerror(errno));
    fprintf(f, "# minimized by difffuzz --minimize from %s (%d of %d commands, %d runs)\n", in, n, s.n, tests);
    int conn1 = 0;
    sbuf line = {0};
    for (int k = 0; k < n; k++) {
        int c1 = (e[k].flags & E_CONN1) != 0;
        if (c1 != conn1) {
            fprintf(f, "@conn %d\n", c1);
            conn1 = c1;
        }
        line.len = 0;
        sb_adds(&line, mode_prefix(e[k].mode == M_EXEC ? M_TYPE : e[k].mode));
        esc_line(&line, &e[k].a);
        fprintf(f, "%s\n", line.p);
    }
    sb_free(&line);
    fclose(f);
    printf("difffuzz: %d -> %d commands in %d runs: %s\n", s.n, n, tests, outpath);
    script_run(e, n, 1);
    free(e);              /* shallow copies of s.e's entries */
    script_free(&s);
}

/* ================================================================ main */

static void usage(void)
{
    fprintf(stderr,
            "usage: difffuzz [options]                  fuzz\n"
            "       difffuzz --replay FILE [options]     run a replay file, print differences\n"
            "       difffuzz --minimize FILE -o OUT       shrink a replay file that fails\n"
            "options:\n"
            "  --seed S            generator seed (default 1)\n"
            "  -n N                commands to send (default 100000)\n"
            "  --batch B           commands per pipelined batch (default 400)\n"
            "  --max-findings M    stop after M distinct findings (default 50)\n"
            "  --reset-every K     FLUSHALL and default settings every K commands (default 20000)\n"
            "  --no-check          no keyspace read-back after each batch\n"
            "  --allowlist FILE    accepted differences (tests/difffuzz/allowlist.txt)\n"
            "  --avoid-allowed     do not generate commands that reply/state entries without\n"
            "                      reply globs name (deeper states in long runs)\n"
            "  --out DIR           replay files and findings.log (default build/difffuzz/run)\n"
            "  --agent-bin PATH    start this agent (default bin/kvfleet-agent)\n"
            "  --redis-bin PATH    start this redis-server (default redis-server from PATH)\n"
            "  --agent HOST:PORT   use a running agent instead (not restarted on a crash)\n"
            "  --redis HOST:PORT   use a running redis-server instead\n"
            "  --timeout-ms T      a reply slower than this is a hang (default 5000)\n"
            "  --time-limit S      stop after S seconds\n"
            "  --quiet             print each finding signature at most 3 times (-qq: no progress)\n"
            "  --grammar           print the command list with weights and modes, then exit\n");
    exit(2);
}

static void parse_addr(const char *s, server *sv)
{
    const char *c = strrchr(s, ':');
    if (!c)
        die("address must be HOST:PORT: %s", s);
    snprintf(sv->host, sizeof(sv->host), "%.*s", (int)(c - s), s);
    sv->port = atoi(c + 1);
}

/* An absolute path without resolving symlinks: Debian's redis-server is a
 * link to redis-check-rdb, which acts as the server by its argv[0]. */
static char *abs_path(const char *p)
{
    if (access(p, X_OK) != 0)
        die("%s: %s", p, strerror(errno));
    if (p[0] == '/')
        return xstrdup(p);
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd)))
        die("getcwd: %s", strerror(errno));
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *r = xmalloc(n);
    snprintf(r, n, "%s/%s", cwd, p);
    return r;
}

static void mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

int main(int argc, char **argv)
{
    const char *replay = NULL, *minimize_in = NULL, *min_out = NULL;
    int print_grammar = 0;
    S_AGENT.bin = "bin/kvfleet-agent";
    S_REDIS.bin = "redis-server";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), ""))
        if (strcmp(a, "--seed") == 0)
            o_seed = strtoull(NEXT(), NULL, 10);
        else if (strcmp(a, "-n") == 0)
            o_n = strtoll(NEXT(), NULL, 10);
        else if (strcmp(a, "--batch") == 0)
            o_batch = atoi(NEXT());
        else if (strcmp(a, "--max-findings") == 0)
            o_max_findings = atoi(NEXT());
        else if (strcmp(a, "--reset-every") == 0)
            o_reset_every = atoi(NEXT());
        else if (strcmp(a, "--no-check") == 0)
            o_check = 0;
        else if (strcmp(a, "--avoid-allowed") == 0)
            o_avoid_allowed = 1;
        else if (strcmp(a, "--allowlist") == 0)
            o_allowlist = NEXT();
        else if (strcmp(a, "--out") == 0)
            o_outdir = NEXT();
        else if (strcmp(a, "--agent-bin") == 0)
            S_AGENT.bin = NEXT();
        else if (strcmp(a, "--redis-bin") == 0)
            S_REDIS.bin = NEXT();
        else if (strcmp(a, "--agent") == 0)
            parse_addr(NEXT(), &S_AGENT), S_AGENT.bin = NULL;
        else if (strcmp(a, "--redis") == 0)
            parse_addr(NEXT(), &S_REDIS), S_REDIS.bin = NULL;
        else if (strcmp(a, "--timeout-ms") == 0)
            g_timeout_ms = atoi(NEXT());
        else if (strcmp(a, "--time-limit") == 0)
            o_time_limit_s = atoll(NEXT());
        else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            o_quiet++;
        else if (strcmp(a, "-qq") == 0)
            o_quiet += 2;
        else if (strcmp(a, "--replay") == 0)
            replay = NEXT();
        else if (strcmp(a, "--minimize") == 0)
            minimize_in = NEXT();
        else if (strcmp(a, "-o") == 0)
            min_out = NEXT();
        else if (strcmp(a, "--grammar") == 0)
            print_grammar = 1;
        else
            usage();
    }
    if (o_batch < 1)
        o_batch = 1;
    if (minimize_in && !min_out)
        usage();
    {
        unsigned char t[] = "123456789";
        if (crc64_jones(0, t, 9) != 0xe9c6d914c4b8d9caULL)
            die("crc64 self-test failed");
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    mkdirs(o_outdir);
    char wd[1100];
    snprintf(wd, sizeof(wd), "%s/servers", o_outdir);
    mkdirs(wd);
    char *rp = realpath(wd, NULL);
    g_workdir = rp ? rp : xstrdup(wd);
    if (S_AGENT.bin) {
        S_AGENT.bin = abs_path(S_AGENT.bin);
        server_start(&S_AGENT);
    }
    if (S_REDIS.bin) {
        if (strchr(S_REDIS.bin, '/'))
            S_REDIS.bin = abs_path(S_REDIS.bin);
        else {
            /* execl needs a path: look it up */
            const char *path = getenv("PATH");
            char *dup = xstrdup(path ? path : "/usr/bin:/bin");
            char *found = NULL;
            for (char *d = strtok(dup, ":"); d && !found; d = strtok(NULL, ":")) {
                char cand[1024];
                snprintf(cand, sizeof(cand), "%s/%s", d, S_REDIS.bin);
                if (access(cand, X_OK) == 0)
                    found = xstrdup(cand);
            }
            free(dup);
            if (!found)
                die("%s not found in PATH", S_REDIS.bin);
            S_REDIS.bin = found;
        }
        server_start(&S_REDIS);
    }
    atexit(stop_all);
    if (!conn_open_all(&S_AGENT))
        die("cannot connect to the agent at %s:%d", S_AGENT.host, S_AGENT.port);
    if (!conn_open_all(&S_REDIS))
        die("cannot connect to redis at %s:%d", S_REDIS.host, S_REDIS.port);
    if (o_allowlist)
        load_allowlist(o_allowlist);

    if (replay || minimize_in) {
        load_grammar();
        if (replay) {
            script s;
            script_load(replay, &s);
            int r = script_run(s.e, s.n, 1);
            printf("difffuzz: replay %s: %s\n", replay,
                   r == 0 ? "no difference" : r == 3 ? "agent crashed or hung" : "differences");
            script_free(&s);
            return r == 0 ? 0 : 1;
        }
        minimize(minimize_in, min_out);
        return 0;
    }

    load_grammar();
    rng_seed(o_seed);
    if (print_grammar) {
        for (int i = 0; i < NG; i++)
            printf("%-24s %-12s weight %5d mode %-10s flags %#x args %d\n", G[i].name, G[i].group, G[i].weight,
                   mode_names[G[i].mode], G[i].flags, G[i].nargs);
        printf("%d commands\n", NG);
        return 0;
    }
    load_dumps();
    char logp[1100];
    snprintf(logp, sizeof(logp), "%s/findings.log", o_outdir);
    g_findings_log = fopen(logp, "a");
    fprintf(stderr, "difffuzz: seed %" PRIu64 ", %lld commands, %d commands in the grammar, agent %s:%d, redis %s:%d\n",
            o_seed, o_n, NG, S_AGENT.host, S_AGENT.port, S_REDIS.host, S_REDIS.port);
    fuzz();
    double secs = (double)(now_ms() - g_t0) / 1000.0;
    printf("difffuzz: seed %" PRIu64 ": %lld commands in %.1f s (%.0f/s), %lld resets, %lld state checks, %lld SCAN and %lld DUMP/RESTORE checks\n",
           o_seed, n_sent, secs, secs > 0 ? (double)n_sent / secs : 0.0, n_resets, n_checks, n_scan_checks, n_xdump_checks);
    printf("difffuzz: %lld findings (%lld distinct): %lld crashes, %lld hangs, %lld state divergences, %lld reference failures; %lld allowed differences (%lld consequences of them)\n",
           n_findings, n_unique, n_crashes, n_hangs, n_divergences, n_ref_failures, n_allowed, n_cascades);
    for (int i = 0; i < NAL; i++)
        if (AL[i].hits)
            printf("difffuzz: allowlist %s (%s %s, line %d): %lld hits\n", AL[i].id,
                   AL[i].kind == AL_REPLY ? "reply" : AL[i].kind == AL_STATE ? "state" : "skip", AL[i].cmd,
                   AL[i].line, AL[i].hits);
    if (g_findings_log)
        fclose(g_findings_log);
    if (g_stop)
        printf("difffuzz: interrupted\n");
    return n_findings || n_ref_failures ? 1 : 0;
}
