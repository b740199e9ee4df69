/* hll: the HyperLogLog string format Redis 7.0 uses, implemented from its
 * published description (see hll.h for the layout). Everything here works
 * on bytes only, so it is unit-testable without a server.
 *
 * Byte compatibility matters beyond the estimate: GET and DUMP expose the
 * representation, so the sparse editing rules (how an opcode is split, the
 * bounded merge of equal neighbouring VAL opcodes, when the string is
 * promoted to dense) follow Redis' behaviour exactly. */
#include <math.h>
#include <string.h>

#include "hll.h"

#define HLL_REGISTER_MAX ((1 << HLL_BITS) - 1)
#define HLL_HASH_SEED 0xadc83b19ULL
#define HLL_ALPHA_INF 0.721347520444481703680

/* Sparse opcodes: ZERO 00xxxxxx (run 1..64), XZERO 01xxxxxx yyyyyyyy (run
 * 1..16384), VAL 1vvvvvxx (value 1..32, run 1..4). */
#define SP_ZERO_MAX_LEN 64
#define SP_XZERO_MAX_LEN 16384
#define SP_VAL_MAX_VALUE 32
#define SP_VAL_MAX_LEN 4

static int sp_is_zero(const uint8_t *p)
{
    return (*p & 0xc0) == 0;
}

static int sp_is_xzero(const uint8_t *p)
{
    return (*p & 0xc0) == 0x40;
}

static int sp_is_val(const uint8_t *p)
{
    return (*p & 0x80) != 0;
}

static long sp_zero_len(const uint8_t *p)
{
    return (*p & 0x3f) + 1;
}

static long sp_xzero_len(const uint8_t *p)
{
    return (((long)(p[0] & 0x3f) << 8) | p[1]) + 1;
}

/* An XZERO opcode's run where the string may end after its first byte
 * (a sparse HLL damaged by APPEND or SETRANGE): Redis reads the string's
 * NUL terminator as the second byte, so the run is counted with a low byte
 * of 0 (and usually overshoots the 16384 registers: corruption found). */
static long sp_xzero_len_at(const uint8_t *p, const uint8_t *end)
{
    if (p + 1 < end)
        return sp_xzero_len(p);
    return ((long)(p[0] & 0x3f) << 8) + 1;
}

static int sp_val_value(const uint8_t *p)
{
    return ((*p >> 2) & 0x1f) + 1;
}

static long sp_val_len(const uint8_t *p)
{
    return (*p & 0x3) + 1;
}

static void sp_set_zero(uint8_t *p, long len)
{
    p[0] = (uint8_t)(len - 1);
}

static void sp_set_xzero(uint8_t *p, long len)
{
    p[0] = (uint8_t)(0x40 | ((len - 1) >> 8));
    p[1] = (uint8_t)((len - 1) & 0xff);
}

static void sp_set_val(uint8_t *p, int val, long len)
{
    p[0] = (uint8_t)(0x80 | ((val - 1) << 2) | (len - 1));
}

/* Dense registers are packed LSB first: register i starts at bit 6*i. */
static unsigned dense_get(const uint8_t *regs, long i)
{
    unsigned long byte = (unsigned long)i * HLL_BITS / 8;
    unsigned fb = (unsigned)(i * HLL_BITS) & 7;
    unsigned long b0 = regs[byte];
    unsigned long b1 = byte + 1 < (HLL_REGISTERS * HLL_BITS + 7) / 8 ? regs[byte + 1] : 0;
    return (unsigned)(((b0 >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX);
}

static void dense_put(uint8_t *regs, long i, unsigned val)
{
    unsigned long byte = (unsigned long)i * HLL_BITS / 8;
    unsigned fb = (unsigned)(i * HLL_BITS) & 7;
    regs[byte] = (uint8_t)((regs[byte] & ~(HLL_REGISTER_MAX << fb)) | (val << fb));
    if (fb > 8 - HLL_BITS)
        regs[byte + 1] = (uint8_t)((regs[byte + 1] & ~(HLL_REGISTER_MAX >> (8 - fb))) |
                                   (val >> (8 - fb)));
}

static int dense_raise(uint8_t *regs, long i, uint8_t count)
{
    if (count <= dense_get(regs, i))
        return 0;
    dense_put(regs, i, count);
    return 1;
}

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    const uint8_t *data = key;
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t blocks = len / 8;
    for (size_t b = 0; b < blocks; b++, data += 8) {
        uint64_t k = 0;
        for (int j = 7; j >= 0; j--)   /* little endian regardless of host */
            k = (k << 8) | data[j];
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t tail = len & 7;
    if (tail) {
        for (size_t j = tail; j-- > 0;)
            h ^= (uint64_t)data[j] << (8 * j);
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

int hll_pattern(const void *ele, size_t len, long *index)
{
    uint64_t hash = hll_murmur64a(ele, len, HLL_HASH_SEED);
    *index = (long)(hash & (HLL_REGISTERS - 1));
    hash >>= HLL_P;
    hash |= 1ULL << HLL_Q;   /* bounds the run at HLL_Q + 1 */
    int count = 1;
    for (uint64_t bit = 1; (hash & bit) == 0; bit <<= 1)
        count++;
    return count;
}

kstr hll_new(void)
{
    uint8_t buf[HLL_HDR_SIZE + 2 * (HLL_REGISTERS / SP_XZERO_MAX_LEN)];
    memset(buf, 0, HLL_HDR_SIZE);
    memcpy(buf, "HYLL", 4);
    buf[4] = HLL_SPARSE;
    uint8_t *p = buf + HLL_HDR_SIZE;
    for (long left = HLL_REGISTERS; left > 0; left -= SP_XZERO_MAX_LEN, p += 2)
        sp_set_xzero(p, left < SP_XZERO_MAX_LEN ? left : SP_XZERO_MAX_LEN);
    return kstr_new(buf, (size_t)(p - buf));
}

int hll_is_valid(const char *p, size_t len)
{
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0)
        return 0;
    uint8_t enc = (uint8_t)p[4];
    if (enc > HLL_SPARSE)
        return 0;
    return enc != HLL_DENSE || len == HLL_DENSE_SIZE;
}

int hll_cache_valid(const char *p)
{
    return ((uint8_t)p[15] & 0x80) == 0;
}

uint64_t hll_cache_get(const char *p)
{
    uint64_t v = 0;
    for (int j = 7; j >= 0; j--)
        v = (v << 8) | (uint8_t)p[8 + j];
    return v;
}

void hll_cache_set(char *p, uint64_t card)
{
    for (int j = 0; j < 8; j++)
        p[8 + j] = (char)((card >> (8 * j)) & 0xff);
}

void hll_cache_invalidate(char *p)
{
    p[15] = (char)((uint8_t)p[15] | 0x80);
}

int hll_to_dense(kstr *s)
{
    if ((uint8_t)(*s)[4] == HLL_DENSE)
        return 0;
    const uint8_t *p = (const uint8_t *)*s + HLL_HDR_SIZE;
    const uint8_t *end = (const uint8_t *)*s + kstr_len(*s);
    kstr dense = kstr_empty(HLL_DENSE_SIZE);
    dense = kstr_grow_zero(dense, HLL_DENSE_SIZE);
    memcpy(dense, *s, HLL_HDR_SIZE);
    dense[4] = HLL_DENSE;
    uint8_t *regs = (uint8_t *)dense + HLL_HDR_SIZE;
    long idx = 0;
    while (p < end) {
        if (sp_is_zero(p)) {
            idx += sp_zero_len(p);
            p++;
        } else if (sp_is_xzero(p)) {
            idx += sp_xzero_len_at(p, end);
            p += 2;
        } else {
            long run = sp_val_len(p);
            if (idx + run > HLL_REGISTERS) {   /* corrupt, even at exactly 16384 */
                kstr_free(dense);
                return -1;
            }
            while (run--)
                dense_put(regs, idx++, (unsigned)sp_val_value(p));
            p++;
        }
    }
    if (idx != HLL_REGISTERS) {
        kstr_free(dense);
        return -1;
    }
    kstr_free(*s);
    *s = dense;
    return 0;
}

/* Where a register lives in the sparse opcode stream. */
typedef struct sp_loc {
    size_t pos;      /* offset (from the registers) of the covering opcode */
    size_t prev;     /* offset of the opcode before it, SIZE_MAX if none */
    long first;      /* first register the opcode covers */
    long span;       /* registers it covers */
} sp_loc;

static int sp_locate(const uint8_t *sp, size_t n, long index, sp_loc *loc)
{
    size_t pos = 0;
    long first = 0, span = 0;
    loc->prev = SIZE_MAX;
    while (pos < n) {
        size_t oplen = 1;
        if (sp_is_zero(sp + pos)) {
            span = sp_zero_len(sp + pos);
        } else if (sp_is_val(sp + pos)) {
            span = sp_val_len(sp + pos);
        } else {
            span = sp_xzero_len_at(sp + pos, sp + n);
            oplen = 2;
        }
        if (index <= first + span - 1) {
            /* Redis would rewrite a truncated last XZERO in place and cut
             * the result short; such a string is refused as corrupt here. */
            if (oplen == 2 && pos + 1 >= n)
                return -1;
            break;
        }
        loc->prev = pos;
        pos += oplen;
        first += span;
    }
    if (span == 0 || pos >= n)
        return -1;
    loc->pos = pos;
    loc->first = first;
    loc->span = span;
    return 0;
}

/* A zero run of len registers as one ZERO or one XZERO opcode. */
static uint8_t *sp_emit_zeros(uint8_t *out, long len)
{
    if (len > SP_ZERO_MAX_LEN) {
        sp_set_xzero(out, len);
        return out + 2;
    }
    sp_set_zero(out, len);
    return out + 1;
}

/* The opcodes replacing the one at loc once register index holds count:
 * the run is split around it (at most XZERO VAL XZERO, 5 bytes). */
static size_t sp_split(const uint8_t *op, const sp_loc *loc, long index, uint8_t count, uint8_t *seq)
{
    uint8_t *n = seq;
    long last = loc->first + loc->span - 1;
    if (!sp_is_val(op)) {
        if (index != loc->first)
            n = sp_emit_zeros(n, index - loc->first);
        sp_set_val(n++, count, 1);
        if (index != last)
            n = sp_emit_zeros(n, last - index);
    } else {
        int cur = sp_val_value(op);
        if (index != loc->first)
            sp_set_val(n++, cur, index - loc->first);
        sp_set_val(n++, count, 1);
        if (index != last)
            sp_set_val(n++, cur, last - index);
    }
    return (size_t)(n - seq);
}

/* After an edit, fold equal adjacent VAL opcodes, looking at no more than
 * five opcodes from the one before the edit (as Redis does, so the
 * resulting bytes are the same). Returns the new stream length. */
static size_t sp_merge_near(uint8_t *sp, size_t end, size_t start)
{
    size_t p = start;
    int scan = 5;
    while (p < end && scan--) {
        if (sp_is_xzero(sp + p)) {
            p += 2;
            continue;
        }
        if (sp_is_zero(sp + p)) {
            p++;
            continue;
        }
        if (p + 1 < end && sp_is_val(sp + p + 1)) {
            int v1 = sp_val_value(sp + p), v2 = sp_val_value(sp + p + 1);
            long len = sp_val_len(sp + p) + sp_val_len(sp + p + 1);
            if (v1 == v2 && len <= SP_VAL_MAX_LEN) {
                sp_set_val(sp + p + 1, v1, len);
                memmove(sp + p, sp + p + 1, end - p - 1);
                end--;
                continue;   /* the merged opcode may merge again */
            }
        }
        p++;
    }
    return end;
}

static int sp_promote_and_set(kstr *s, long index, uint8_t count)
{
    if (hll_to_dense(s) < 0)
        return -1;
    return dense_raise((uint8_t *)*s + HLL_HDR_SIZE, index, count);
}

static int sparse_set(kstr *s, long index, uint8_t count, size_t sparse_max)
{
    if (count > SP_VAL_MAX_VALUE)
        return sp_promote_and_set(s, index, count);
    size_t total = kstr_len(*s);
    uint8_t *sp = (uint8_t *)*s + HLL_HDR_SIZE;
    size_t n = total - HLL_HDR_SIZE;
    sp_loc loc;
    if (sp_locate(sp, n, index, &loc) < 0)
        return -1;
    uint8_t *op = sp + loc.pos;
    if (sp_is_val(op)) {
        if (sp_val_value(op) >= count)
            return 0;
        if (loc.span == 1) {
            sp_set_val(op, count, 1);
            goto updated;
        }
    } else if (sp_is_zero(op) && loc.span == 1) {
        sp_set_val(op, count, 1);
        goto updated;
    }
    uint8_t seq[5];
    size_t seqlen = sp_split(op, &loc, index, count, seq);
    size_t oldlen = sp_is_xzero(op) ? 2 : 1;
    long delta = (long)seqlen - (long)oldlen;
    if (delta > 0 && total + (size_t)delta > sparse_max)
        return sp_promote_and_set(s, index, count);
    if (delta > 0) {
        *s = kstr_grow_zero(*s, total + (size_t)delta);
        sp = (uint8_t *)*s + HLL_HDR_SIZE;
    }
    size_t next = loc.pos + oldlen;
    memmove(sp + next + delta, sp + next, n - next);
    memcpy(sp + loc.pos, seq, seqlen);
    n = (size_t)((long)n + delta);
    if (delta < 0)
        kstr_set_len(*s, HLL_HDR_SIZE + n);
updated:
    {
        size_t newn = sp_merge_near(sp, n, loc.prev == SIZE_MAX ? 0 : loc.prev);
        if (newn != n)
            kstr_set_len(*s, HLL_HDR_SIZE + newn);
    }
    hll_cache_invalidate(*s);
    return 1;
}

int hll_set(kstr *s, long index, uint8_t count, size_t sparse_max)
{
    if ((uint8_t)(*s)[4] == HLL_DENSE)
        return dense_raise((uint8_t *)*s + HLL_HDR_SIZE, index, count);
    return sparse_set(s, index, count, sparse_max);
}

int hll_add(kstr *s, const void *ele, size_t len, size_t sparse_max)
{
    long index;
    int count = hll_pattern(ele, len, &index);
    return hll_set(s, index, (uint8_t)count, sparse_max);
}

/* ---- the estimator (Ertl's improved raw estimate, as Redis 5+) ---- */

static double hll_sigma(double x)
{
    if (x == 1.)
        return INFINITY;
    double zprev, y = 1, z = x;
    do {
        x *= x;
        zprev = z;
        z += x * y;
        y += y;
    } while (zprev != z);
    return z;
}

static double hll_tau(double x)
{
    if (x == 0. || x == 1.)
        return 0.;
    double zprev, y = 1.0, z = 1 - x;
    do {
        x = sqrt(x);
        zprev = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (zprev != z);
    return z / 3;
}

static uint64_t hll_estimate(const int *histo)
{
    double m = HLL_REGISTERS;
    double z = m * hll_tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * hll_sigma(histo[0] / m);
    return (uint64_t)llroundl(HLL_ALPHA_INF * m * m / z);
}

uint64_t hll_count_registers(const uint8_t *regs)
{
    int histo[64] = {0};
    for (long i = 0; i < HLL_REGISTERS; i++)
        histo[regs[i] & 63]++;
    return hll_estimate(histo);
}

/* Visit every run of the registers: fn(priv, first, run, value). Returns
 * -1 when the string is not a well-formed HLL. */
typedef void hll_run_fn(void *priv, long first, long run, unsigned value);

static int hll_each_run(const char *s, size_t len, hll_run_fn *fn, void *priv)
{
    const uint8_t *regs = (const uint8_t *)s + HLL_HDR_SIZE;
    if ((uint8_t)s[4] == HLL_DENSE) {
        if (len != HLL_DENSE_SIZE)
            return -1;
        for (long i = 0; i < HLL_REGISTERS; i++)
            fn(priv, i, 1, dense_get(regs, i));
        return 0;
    }
    const uint8_t *p = regs, *end = (const uint8_t *)s + len;
    long idx = 0;
    while (p < end) {
        long run;
        unsigned val = 0;
        if (sp_is_zero(p)) {
            run = sp_zero_len(p);
            p++;
        } else if (sp_is_xzero(p)) {
            run = sp_xzero_len_at(p, end);
            p += 2;
        } else {
            run = sp_val_len(p);
            val = (unsigned)sp_val_value(p);
            p++;
        }
        if (idx + run > HLL_REGISTERS)
            return -1;
        fn(priv, idx, run, val);
        idx += run;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

static void histo_run(void *priv, long first, long run, unsigned value)
{
    (void)first;
    ((int *)priv)[value] += (int)run;
}

int hll_count(const char *p, size_t len, uint64_t *card)
{
    int histo[64] = {0};
    if (hll_each_run(p, len, histo_run, histo) < 0)
        return -1;
    *card = hll_estimate(histo);
    return 0;
}

static void max_run(void *priv, long first, long run, unsigned value)
{
    uint8_t *max = priv;
    for (long i = first; i < first + run; i++)
        if (value > max[i])
            max[i] = (uint8_t)value;
}

int hll_merge_into(uint8_t *max, const char *p, size_t len)
{
    return hll_each_run(p, len, max_run, max);
}

unsigned hll_dense_register(const char *p, long i)
{
    return dense_get((const uint8_t *)p + HLL_HDR_SIZE, i);
}

kstr hll_sparse_describe(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s + HLL_HDR_SIZE, *end = (const uint8_t *)s + len;
    kstr out = kstr_empty(64);
    while (p < end) {
        if (kstr_len(out))
            out = kstr_cat(out, " ", 1);
        if (sp_is_zero(p)) {
            out = kstr_catfmt(out, "z:%ld", sp_zero_len(p));
            p++;
        } else if (sp_is_xzero(p)) {
            out = kstr_catfmt(out, "Z:%ld", sp_xzero_len_at(p, end));
            p += 2;
        } else {
            out = kstr_catfmt(out, "v:%d,%ld", sp_val_value(p), sp_val_len(p));
            p++;
        }
    }
    return out;
}
