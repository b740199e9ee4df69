/* clientflood: opens many client connections to a Redis-compatible server,
 * in batches that are all open at the same time, sends PING on each, waits
 * for +PONG and closes them. Used by tests/e2e/test_engine_net.sh to check
 * that the agent survives connection storms and leaks no file descriptors.
 *
 * Usage: clientflood [-h host] [-p port] [-n total] [-b batch] [-t timeout_ms]
 * Prints "connected N, pong N, failed N" and exits 0 only when every
 * connection got its PONG. Non-blocking sockets and poll() keep a whole
 * batch in flight at once, so the server really holds `batch` clients. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_CONNECTING, ST_WAITING, ST_DONE, ST_FAILED };

typedef struct slot {
    int fd;
    int state;
    char buf[16];
    size_t len;
} slot;

static const char *opt_host = "127.0.0.1";
static int opt_port = 6379;
static long opt_total = 10000;
static long opt_batch = 1000;
static int opt_timeout_ms = 10000;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start a non-blocking connect; returns the fd or -1. */
static int start_connect(const struct sockaddr_in *sa) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_ping(slot *s) {
    static const char ping[] = "*1\r\n$4\r\nPING\r\n";
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0 ||
        write(s->fd, ping, sizeof(ping) - 1) != (ssize_t)(sizeof(ping) - 1)) {
        s->state = ST_FAILED;
        return;
    }
    s->state = ST_WAITING;
}

static void read_pong(slot *s) {
    ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        s->state = ST_FAILED;
        return;
    }
    s->len += (size_t)n;
    s->buf[s->len] = 0;
    if (s->len >= 7) s->state = strcmp(s->buf, "+PONG\r\n") == 0 ? ST_DONE : ST_FAILED;
}

/* Run one batch of n connections; adds to the counters. */
static void run_batch(const struct sockaddr_in *sa, long n, long *connected, long *pong, long *failed) {
    slot *s = calloc((size_t)n, sizeof(*s));
    struct pollfd *p = calloc((size_t)n, sizeof(*p));
    if (!s || !p) {
        fprintf(stderr, "clientflood: out of memory\n");
        exit(2);
    }
    for (long i = 0; i < n; i++) {
        s[i].fd = start_connect(sa);
        s[i].state = s[i].fd < 0 ? ST_FAILED : ST_CONNECTING;
    }
    long long deadline = now_ms() + opt_timeout_ms;
    for (;;) {
        nfds_t k = 0;
        for (long i = 0; i < n; i++) {
            if (s[i].state != ST_CONNECTING && s[i].state != ST_WAITING) continue;
            p[k].fd = s[i].fd;
            p[k].events = s[i].state == ST_CONNECTING ? POLLOUT : POLLIN;
            p[k].revents = 0;
            k++;
        }
        long long left = deadline - now_ms();
        if (k == 0 || left <= 0) break;
        int r = poll(p, k, (int)left);
        if (r < 0 && errno != EINTR) break;
        /* Map poll entries back to slots in the same order. */
        nfds_t j = 0;
        for (long i = 0; i < n && j < k; i++) {
            if (s[i].state != ST_CONNECTING && s[i].state != ST_WAITING) continue;
            short ev = p[j++].revents;
            if (!ev) continue;
            if (s[i].state == ST_CONNECTING) send_ping(&s[i]);
            else read_pong(&s[i]);
        }
    }
    for (long i = 0; i < n; i++) {
        if (s[i].state != ST_FAILED && s[i].fd >= 0) (*connected)++;
        if (s[i].state == ST_DONE) (*pong)++;
        else (*failed)++;
        if (s[i].fd >= 0) close(s[i].fd);
    }
    free(s);
    free(p);
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "h:p:n:b:t:")) != -1) {
        switch (opt) {
        case 'h': opt_host = optarg; break;
        case 'p': opt_port = atoi(optarg); break;
        case 'n': opt_total = atol(optarg); break;
        case 'b': opt_batch = atol(optarg); break;
        case 't': opt_timeout_ms = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: clientflood [-h host] [-p port] [-n total] [-b batch] [-t timeout_ms]\n");
            return 2;
        }
    }
    if (opt_total <= 0 || opt_batch <= 0) {
        fprintf(stderr, "clientflood: -n and -b must be positive\n");
        return 2;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)opt_port);
    if (inet_pton(AF_INET, opt_host, &sa.sin_addr) != 1) {
        fprintf(stderr, "clientflood: bad IPv4 address %s\n", opt_host);
        return 2;
    }
    long connected = 0, pong = 0, failed = 0;
    for (long done = 0; done < opt_total; done += opt_batch) {
        long n = opt_total - done < opt_batch ? opt_total - done : opt_batch;
        run_batch(&sa, n, &connected, &pong, &failed);
    }
    printf("connected %ld, pong %ld, failed %ld\n", connected, pong, failed);
    return failed == 0 ? 0 : 1;
}
