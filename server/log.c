/* log.c - see log.h. Timestamps are wall-clock UTC with milliseconds. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static FILE *log_fp;
static int log_level = CTL_LOG_NOTICE;

int ctl_log_open(const char *path, int level)
{
    log_level = level;
    if (path == NULL || path[0] == '\0') {
        log_fp = NULL;
        return 0;
    }
    FILE *fp = fopen(path, "a");
    if (fp == NULL)
        return -1;
    setvbuf(fp, NULL, _IOLBF, 0);
    log_fp = fp;
    return 0;
}

void ctl_log_set_level(int level) { log_level = level; }

int ctl_log_level_parse(const char *s)
{
    static const char *names[] = { "debug", "verbose", "notice", "warning" };
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

void ctl_log_close(void)
{
    if (log_fp != NULL)
        fclose(log_fp);
    log_fp = NULL;
}

void ctl_log(int level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    if (level < log_level)
        return;
    if (level < 0 || level > CTL_LOG_WARNING)
        level = CTL_LOG_WARNING;

    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    time_t secs = tv.tv_sec;
    gmtime_r(&secs, &tm);
    char ts[64];
    size_t n = strftime(ts, sizeof(ts), "%d %b %Y %H:%M:%S", &tm);
    if (n == 0)
        ts[0] = '\0';

    FILE *fp = log_fp != NULL ? log_fp : stderr;
    fprintf(fp, "%d:C %s.%03d %c %s\n", (int)getpid(), ts, (int)(tv.tv_usec / 1000),
            marks[level], msg);
}
