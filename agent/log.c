/* log: the agent's log, in Redis' own line format
 *   "PID:R DD Mon YYYY HH:MM:SS.mmm L message"
 * (R the role character, L one of . - * # for debug, verbose, notice,
 * warning) so existing log tooling keeps working. Each line goes out in a
 * single write() on an O_APPEND descriptor, so lines from concurrent writers
 * (a forked child saving RDB) never interleave. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static int log_level = LOG_NOTICE;
static int log_fd = -1;          /* -1: stdout */
static char log_role = 'M';

static const char *const log_names[] = { "debug", "verbose", "notice", "warning" };

/* log_level and log_role are set by the main thread (CONFIG SET loglevel,
 * REPLICAOF, the fork child) and read by every thread that logs (the
 * registration thread): relaxed atomics, no ordering needed. */
void log_set_level(int level)
{
    if (level >= LOG_DEBUG && level <= LOG_WARNING)
        __atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int log_get_level(void)
{
    return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int log_set_file(const char *path)
{
    int fd = -1;
    if (path != NULL && path[0] != '\0') {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return -1;
    }
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    return 0;
}

void log_set_role_char(char c)
{
    __atomic_store_n(&log_role, c, __ATOMIC_RELAXED);
}

/* Writes all of buf, retrying on EINTR and short writes. Failures are
 * dropped: there is nowhere left to report them. */
static void log_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* "23 Nov 2026 16:09:42.123" in local time, as Redis prints it. */
static size_t log_timestamp(char *buf, size_t size)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    time_t secs = tv.tv_sec;
    if (localtime_r(&secs, &tm) == NULL)
        return 0;
    size_t off = strftime(buf, size, "%d %b %Y %H:%M:%S.", &tm);
    if (off == 0)
        return 0;
    int n = snprintf(buf + off, size - off, "%03d", (int)(tv.tv_usec / 1000));
    return n > 0 ? off + (size_t)n : off;
}

void log_msg(int level, const char *fmt, ...)
{
    static const char level_chars[] = ".-*#";
    if (level < __atomic_load_n(&log_level, __ATOMIC_RELAXED) || level < LOG_DEBUG ||
        level > LOG_WARNING)
        return;

    int saved_errno = errno;   /* callers often log then inspect errno */
    char line[LOG_LINE_MAX];
    char ts[64];
    log_timestamp(ts, sizeof(ts));
    int off = snprintf(line, sizeof(line), "%d:%c %s %c ", (int)getpid(),
                       __atomic_load_n(&log_role, __ATOMIC_RELAXED), ts,
                       level_chars[level]);
    if (off < 0 || (size_t)off >= sizeof(line) - 1)
        off = 0;

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + off, sizeof(line) - (size_t)off - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)off;
    if (n > 0)   /* a long message is truncated to fit the line buffer */
        len += (size_t)n < sizeof(line) - (size_t)off - 1 ? (size_t)n
                                                           : sizeof(line) - (size_t)off - 2;
    line[len++] = '\n';

    log_write_all(log_fd >= 0 ? log_fd : STDOUT_FILENO, line, len);
    errno = saved_errno;
}

int log_level_from_name(const char *name)
{
    for (int i = LOG_DEBUG; i <= LOG_WARNING; i++)
        if (strcasecmp(name, log_names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(int level)
{
    if (level < LOG_DEBUG || level > LOG_WARNING)
        return "unknown";
    return log_names[level];
}
