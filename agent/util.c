/* util: small pure helpers whose exact behaviour is visible to clients.
 * Number parsing and formatting follow Redis 7.0 byte for byte (what it
 * accepts as an integer or a float, how it prints scores and INCRBYFLOAT
 * results), and glob matching follows Redis' KEYS/SCAN MATCH rules including
 * their quirks (unterminated classes, reversed ranges). Also clocks, random
 * ids and the "1gb"-style memory sizes of the configuration. Integer text
 * and glob matching are in common/ (strconv, strmatch), shared with kvfleetd. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- integers and glob matching -------------------------------------- */

/* util_str_to_ll, util_ll_to_str and util_glob_match live in common/
 * (strconv.c, strmatch.c), shared with kvfleetd; util.h forwards to them. */

/* ---- floating point ---------------------------------------------------- */

/* strtod needs a NUL-terminated string; our arguments are (ptr, len) and may
 * hold NULs, which must make the parse fail as they do in Redis (the parse
 * stops at the NUL, short of the full length). */
static char *util_cstr_copy(const char *s, size_t len, char *stackbuf, size_t stacksize)
{
    char *buf = len < stacksize ? stackbuf : malloc(len + 1);
    if (buf == NULL)
        return NULL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

int util_str_to_double(const char *s, size_t len, double *out)
{
    if (len == 0 || isspace((unsigned char)s[0]))
        return 0;
    char stackbuf[128];
    char *buf = util_cstr_copy(s, len, stackbuf, sizeof(stackbuf));
    if (buf == NULL)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    int ok = (size_t)(end - buf) == len && !isnan(v) &&
             !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0.0));
    if (buf != stackbuf)
        free(buf);
    if (ok)
        *out = v;
    return ok;
}

int util_str_to_ldouble(const char *s, size_t len, long double *out)
{
    /* Redis caps the input at its long-double buffer size. */
    if (len == 0 || len >= UTIL_MAX_LDOUBLE_CHARS || isspace((unsigned char)s[0]))
        return 0;
    char stackbuf[128];
    char *buf = util_cstr_copy(s, len, stackbuf, sizeof(stackbuf));
    if (buf == NULL)
        return 0;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    int ok = (size_t)(end - buf) == len && !isnan(v) && errno != EINVAL &&
             !(errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0.0L));
    if (buf != stackbuf)
        free(buf);
    if (ok)
        *out = v;
    return ok;
}

int util_double_to_str(char *buf, size_t size, double v)
{
    int n;
    /* Spelled out because libc spellings of infinity differ. */
    if (isinf(v))
        n = snprintf(buf, size, "%s", v > 0 ? "inf" : "-inf");
    else
        n = snprintf(buf, size, "%.17g", v);
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = '\0';
        return 0;
    }
    return n;
}

int util_ldouble_to_str(char *buf, size_t size, long double v)
{
    int n;
    if (isinf(v)) {
        n = snprintf(buf, size, "%s", v > 0 ? "inf" : "-inf");
    } else {
        /* 17 fractional digits, then drop trailing zeros and a bare '.', so
         * 10.5 prints as "10.5" and 3e3 as "3000". */
        n = snprintf(buf, size, "%.17Lf", v);
        if (n >= 0 && (size_t)n < size && strchr(buf, '.') != NULL) {
            while (n > 0 && buf[n - 1] == '0')
                n--;
            if (n > 0 && buf[n - 1] == '.')
                n--;
            buf[n] = '\0';
        }
        if (n == 2 && buf[0] == '-' && buf[1] == '0') {
            buf[0] = '0';
            buf[1] = '\0';
            n = 1;
        }
    }
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = '\0';
        return 0;
    }
    return n;
}

/* ---- clocks ------------------------------------------------------------ */

static int64_t util_clock_us(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_ms_now(void)
{
    return util_clock_us(CLOCK_REALTIME) / 1000;
}

int64_t util_us_now(void)
{
    return util_clock_us(CLOCK_REALTIME);
}

int64_t util_mono_us(void)
{
    return util_clock_us(CLOCK_MONOTONIC);
}

static double util_tsc_per_us;   /* 0: ticks are monotonic nanoseconds */
static uint64_t util_us_per_tick_q32;  /* 2^32 / util_tsc_per_us: no division per use */

static uint64_t util_mono_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
#include <x86intrin.h>

/* The TSC is a usable clock only if it ticks at one rate whatever the
 * core's frequency or sleep state does. */
static int util_tsc_invariant(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return 0;
    char line[4096];
    int ok = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "flags", 5) == 0) {
            ok = strstr(line, " constant_tsc") != NULL && strstr(line, " nonstop_tsc") != NULL;
            break;
        }
    }
    fclose(f);
    return ok;
}

void util_ticks_init(void)
{
    if (util_tsc_per_us != 0 || !util_tsc_invariant())
        return;
    uint64_t ns0 = util_mono_ns(), c0 = __rdtsc();
    struct timespec nap = {0, 10 * 1000 * 1000};
    while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
        ;
    uint64_t ns1 = util_mono_ns(), c1 = __rdtsc();
    if (ns1 > ns0 && c1 > c0) {
        util_tsc_per_us = (double)(c1 - c0) * 1000.0 / (double)(ns1 - ns0);
        util_us_per_tick_q32 = (uint64_t)(4294967296.0 / util_tsc_per_us);
    }
}

uint64_t util_ticks(void)
{
    return util_tsc_per_us != 0 ? __rdtsc() : util_mono_ns();
}
#else
void util_ticks_init(void)
{
}

uint64_t util_ticks(void)
{
    return util_mono_ns();
}
#endif

uint64_t util_us_to_ticks(int64_t us)
{
    if (us <= 0)
        return 0;
    if (util_tsc_per_us != 0)
        return (uint64_t)((double)us * util_tsc_per_us);
    return (uint64_t)us * 1000;
}

int64_t util_ticks_to_us(uint64_t ticks)
{
    if (util_tsc_per_us != 0)
        return (int64_t)(((unsigned __int128)ticks * util_us_per_tick_q32) >> 32);
    return (int64_t)(ticks / 1000);
}

/* ---- random ids -------------------------------------------------------- */

size_t util_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static int util_urandom(unsigned char *buf, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = util_read_full(fd, buf, len);
    close(fd);
    return got == len ? 0 : -1;
}

size_t util_private_dirty_bytes(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    size_t total = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long kb;
        if (sscanf(line, "Private_Dirty: %lu kB", &kb) == 1)
            total += (size_t)kb * 1024;
    }
    fclose(f);
    return total;
}

/* Without /dev/urandom (chroot), fall back to a time/pid-seeded xorshift:
 * ids only need to differ between processes, not to be secret. */
static void util_weak_random(unsigned char *buf, size_t len)
{
    uint64_t x = (uint64_t)util_us_now() ^ ((uint64_t)getpid() << 32) ^
                 (uint64_t)util_mono_us() ^ (uint64_t)(uintptr_t)buf;
    if (x == 0)
        x = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (unsigned char)(x >> 24);
    }
}

void util_random_hex(char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (len == 0)
        return;
    size_t nchars = len - 1;
    unsigned char raw[256];
    size_t done = 0;
    while (done < nchars) {
        size_t chunk = nchars - done < sizeof(raw) ? nchars - done : sizeof(raw);
        if (util_urandom(raw, chunk) != 0)
            util_weak_random(raw, chunk);
        for (size_t i = 0; i < chunk; i++)
            out[done + i] = hex[raw[i] & 15];
        done += chunk;
    }
    out[nchars] = '\0';
}

/* ---- memory sizes ------------------------------------------------------ */

int util_parse_memory(const char *s, unsigned long long *out)
{
    if (s[0] == '-')
        return 0;
    size_t digits = 0;
    while (s[digits] >= '0' && s[digits] <= '9')
        digits++;
    const char *unit = s + digits;
    static const struct { const char *name; unsigned long long mul; } units[] = {
        { "", 1 }, { "b", 1 },
        { "k", 1000ULL }, { "kb", 1024ULL },
        { "m", 1000ULL * 1000 }, { "mb", 1024ULL * 1024 },
        { "g", 1000ULL * 1000 * 1000 }, { "gb", 1024ULL * 1024 * 1024 },
    };
    unsigned long long mul = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(unit, units[i].name) == 0) {
            mul = units[i].mul;
            break;
        }
    }
    if (mul == 0 || digits >= 128)
        return 0;
    /* Like Redis, no digits at all ("", "mb") reads as 0. */
    unsigned long long v = 0;
    for (size_t i = 0; i < digits; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (v > ULLONG_MAX / mul)
        return 0;
    *out = v * mul;
    return 1;
}

int util_strcasecmp_len(const char *a, size_t alen, const char *b)
{
    for (size_t i = 0; i < alen; i++) {
        int ca = tolower((unsigned char)a[i]);
        int cb = tolower((unsigned char)b[i]);
        if (ca != cb)
            return ca - cb;   /* also covers b ending early (cb == 0) */
    }
    return b[alen] == '\0' ? 0 : -tolower((unsigned char)b[alen]);
}

/* ---- size limits on client-chosen numbers ------------------------------ */

int util_string_too_long(unsigned long long size, unsigned long long append,
                         unsigned long long limit)
{
    /* size > limit first, so that limit - size cannot wrap. */
    return size > limit || append > limit - size;
}

uint64_t util_scan_budget(long long count)
{
    return (uint64_t)count * 10u;
}

int util_parse_scan_cursor(const char *s, size_t len, uint64_t *out)
{
    const char *nul = memchr(s, '\0', len);
    if (nul != NULL)
        len = (size_t)(nul - s);
    if (len == 0) {
        *out = 0;   /* strtoul converts nothing and stops at the NUL */
        return 1;
    }
    if (isspace((unsigned char)s[0]))
        return 0;
    size_t i = 0;
    int neg = s[0] == '-';
    if (s[0] == '+' || s[0] == '-')
        i++;
    if (i == len)
        return 0;   /* a lone sign: nothing converted, the sign is junk */
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;   /* ERANGE */
        v = v * 10 + d;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return 1;
}
