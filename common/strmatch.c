/* strmatch: Redis' glob matching (stringmatchlen), moved here from
 * agent/util.c so the controller's Sentinel port matches PSUBSCRIBE patterns
 * exactly as the agent and Redis do. */
#include "strmatch.h"

#include <ctype.h>

/* Matching state shared by the recursion: `give_up` is set once the rest of
 * a pattern after a '*' failed at every position of the remaining string;
 * an earlier '*' trying longer prefixes cannot succeed either, which keeps
 * patterns like "a*a*a*a*b" linear instead of exponential. */
typedef struct glob_state {
    int nocase;
    int give_up;
} glob_state;

static int glob_fold(int c, int nocase)
{
    return nocase ? tolower(c) : c;
}

/* Matches one "[...]" class starting just after '[' against character c.
 * Advances *pp and *plen to the closing ']' (or the last pattern byte when the
 * class is unterminated, which Redis treats as ending there). Characters
 * are compared as plain (signed) char, as Redis does. */
static int glob_class(const char **pp, size_t *plen, char c, int nocase)
{
    const char *p = *pp;
    size_t n = *plen;
    int negate = 0, hit = 0;
    if (n > 0 && p[0] == '^') {
        negate = 1;
        p++;
        n--;
    }
    for (;;) {
        if (n == 0) {
            p--;            /* unterminated: leave p on the last byte */
            n++;
            break;
        }
        if (p[0] == '\\' && n >= 2) {
            p++;
            n--;
            if (p[0] == c)  /* escaped members compare exactly */
                hit = 1;
        } else if (p[0] == ']') {
            break;
        } else if (n >= 3 && p[1] == '-') {
            int lo = p[0], hi = p[2], ch = c;
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            lo = glob_fold(lo, nocase);
            hi = glob_fold(hi, nocase);
            ch = glob_fold(ch, nocase);
            if (ch >= lo && ch <= hi)
                hit = 1;
            p += 2;
            n -= 2;
        } else if (glob_fold(p[0], nocase) == glob_fold(c, nocase)) {
            hit = 1;
        }
        p++;
        n--;
    }
    *pp = p;
    *plen = n;
    return negate ? !hit : hit;
}

static int glob_match(const char *p, size_t plen, const char *s, size_t slen,
                      glob_state *st, int depth)
{
    if (depth > 1000)   /* Redis' guard against abusive patterns */
        return 0;
    while (plen > 0 && slen > 0) {
        if (p[0] == '*') {
            while (plen > 1 && p[1] == '*') {
                p++;
                plen--;
            }
            if (plen == 1)
                return 1;
            for (; slen > 0; s++, slen--) {
                if (glob_match(p + 1, plen - 1, s, slen, st, depth + 1))
                    return 1;
                if (st->give_up)
                    return 0;
            }
            st->give_up = 1;
            return 0;
        } else if (p[0] == '?') {
            /* any single byte */
        } else if (p[0] == '[') {
            p++;
            plen--;
            if (!glob_class(&p, &plen, s[0], st->nocase))
                return 0;
        } else {
            if (p[0] == '\\' && plen >= 2) {
                p++;
                plen--;
            }
            if (glob_fold(p[0], st->nocase) != glob_fold(s[0], st->nocase))
                return 0;
        }
        s++;
        slen--;
        p++;
        plen--;
        if (slen == 0) {
            /* Trailing stars match the empty rest of the string. */
            while (plen > 0 && p[0] == '*') {
                p++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

int strmatch_glob(const char *pat, size_t patlen, const char *str, size_t strlen, int nocase)
{
    glob_state st = { nocase, 0 };
    return glob_match(pat, patlen, str, strlen, &st, 0);
}
