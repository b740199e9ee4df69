/* strconv: Redis' string2ll / ll2string rules for integers, byte for byte:
 * what Redis accepts as an integer argument or a protocol count is exactly
 * what these accept. Moved here from agent/util.c so the controller's RESP
 * parser uses the same rules. */
#include "strconv.h"

#include <limits.h>

int strconv_str_to_ll(const char *s, size_t len, long long *out)
{
    if (len == 0 || len > 20)   /* "-9223372036854775808" is 20 bytes */
        return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1)
            return 0;
    }
    /* First digit 1-9: rules out "01", "-0", "+1", " 1" in one test. */
    if (s[i] < '1' || s[i] > '9')
        return 0;
    /* Accumulate as unsigned so LLONG_MIN's magnitude fits. Up to 19
     * digits cannot overflow 64 bits (10^19 < 2^64), so the common short
     * numbers (bulk lengths, counters) skip the per-digit overflow test. */
    unsigned long long v = 0;
    if (len - i <= 19) {
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return 0;
            v = v * 10 + (unsigned)(s[i] - '0');
        }
    } else {
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return 0;
            unsigned d = (unsigned)(s[i] - '0');
            if (v > (ULLONG_MAX - d) / 10)
                return 0;
            v = v * 10 + d;
        }
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)v;
    }
    return 1;
}

int strconv_ll_to_str(char *buf, size_t size, long long v)
{
    char tmp[24];
    size_t n = 0;
    /* Work on the unsigned magnitude so LLONG_MIN needs no special case. */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[n++] = '-';
    if (size < n + 1) {
        if (size)
            buf[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return (int)n;
}
