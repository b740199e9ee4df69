/* test_aof: the pure parts of the AOF: the manifest parser/writer (round
 * trips, Redis' rendering, quoting, every rejected form) and the AOF
 * command reader (complete, partial at every byte, annotations, and every
 * corrupt form: bad prefixes, bad and absurd lengths and counts). Nothing
 * here may crash, and no absurd count may turn into an allocation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aof.h"
#include "aof_manifest.h"
#include "kstr.h"
#include "mem.h"

/* ---- manifest ---------------------------------------------------------- */

static int parse(aof_manifest *m, const char *text, char *err, size_t errlen)
{
    return aof_manifest_parse(m, text, strlen(text), err, errlen);
}

static void test_manifest_roundtrip(void **state)
{
    (void)state;
    /* What redis-server 7.0.15 writes after a failed rewrite. */
    const char *text = "file appendonly.aof.2.base.rdb seq 2 type b\n"
                       "file appendonly.aof.1.base.rdb seq 1 type h\n"
                       "file appendonly.aof.1.incr.aof seq 1 type i\n"
                       "file appendonly.aof.2.incr.aof seq 2 type i\n";
    aof_manifest m;
    char err[256];
    assert_int_equal(parse(&m, text, err, sizeof(err)), 0);
    assert_non_null(m.base);
    assert_string_equal(m.base->name, "appendonly.aof.2.base.rdb");
    assert_int_equal(m.base_seq, 2);
    assert_int_equal(m.incr_count, 2);
    assert_int_equal(m.incr_seq, 2);
    assert_int_equal(m.hist_count, 1);
    kstr out = aof_manifest_format(&m, kstr_empty(16));
    assert_string_equal(out, text);
    kstr_free(out);
    aof_manifest_release(&m);
}

static void test_manifest_comments_unknown_keys_quotes(void **state)
{
    (void)state;
    const char *text = "# a comment\n"
                       "  file \"my file.1.base.rdb\" seq 1 type b future value  \r\n"
                       "FILE x.1.incr.aof SEQ 1 TYPE i\n";
    aof_manifest m;
    char err[256];
    assert_int_equal(parse(&m, text, err, sizeof(err)), 0);
    assert_string_equal(m.base->name, "my file.1.base.rdb");
    assert_int_equal(m.incr_count, 1);
    kstr out = aof_manifest_format(&m, kstr_empty(16));
    assert_string_equal(out, "file \"my file.1.base.rdb\" seq 1 type b\n"
                             "file x.1.incr.aof seq 1 type i\n");
    kstr_free(out);
    aof_manifest_release(&m);
}

static void expect_manifest_error(const char *text, size_t len, const char *reason)
{
    aof_manifest m;
    char err[256];
    assert_int_equal(aof_manifest_parse(&m, text, len, err, sizeof(err)), -1);
    if (!strstr(err, reason))
        fail_msg("manifest %.*s: got '%s', want '%s'", (int)(len > 80 ? 80 : len), text, err, reason);
    assert_null(m.base);
    assert_int_equal(m.incr_count, 0);
}

static void test_manifest_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *reason;
    } cases[] = {
        {"", "Found an empty AOF manifest"},
        {"\n", "Invalid AOF manifest file format"},
        {"file a seq 1 type b", "too long line"},          /* no newline */
        {"file a seq 1\n", "Invalid AOF manifest file format"},
        {"file a seq 1 type\n", "Invalid AOF manifest file format"},
        {"file a seq 0 type b\n", "Invalid AOF manifest file format"},
        {"file a seq x type b\n", "Invalid AOF manifest file format"},
        {"seq 1 type b foo bar\n", "Invalid AOF manifest file format"},
        {"file \"a seq 1 type b\n", "Invalid AOF manifest file format"},   /* unbalanced quote */
        {"file a seq 1 type x\n", "Unknown AOF file type"},
        {"file ../a seq 1 type b\n", "File can't be a path, just a filename"},
        {"file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"},
        {"file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"},
        {"file a seq 3 type i\nfile b seq 1 type i\n", "Found a non-monotonic sequence number"},
        {"file a seq -1 type i\n", "Found a non-monotonic sequence number"},
        {"file a seq 1 type b\ngarbage\n", "line 2: Invalid AOF manifest file format"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_manifest_error(cases[i].text, strlen(cases[i].text), cases[i].reason);
    /* A NUL inside a line, and a line longer than Redis' 1024 bytes. */
    expect_manifest_error("file a\0 seq 1 type b\n", 21, "Invalid AOF manifest file format");
    char longline[1100];
    memset(longline, 'a', sizeof(longline));
    longline[sizeof(longline) - 1] = '\n';
    expect_manifest_error(longline, sizeof(longline), "too long line");
}

static void test_manifest_changes(void **state)
{
    (void)state;
    aof_manifest m, copy;
    aof_manifest_init(&m);
    assert_string_equal(aof_manifest_new_base(&m, "appendonly.aof", 1), "appendonly.aof.1.base.rdb");
    assert_string_equal(aof_manifest_new_incr(&m, "appendonly.aof"), "appendonly.aof.1.incr.aof");
    /* Rewrite start: a new incr; success: new base, old incr to history. */
    assert_string_equal(aof_manifest_new_incr(&m, "appendonly.aof"), "appendonly.aof.2.incr.aof");
    aof_manifest_copy(&copy, &m);
    assert_string_equal(aof_manifest_new_base(&copy, "appendonly.aof", 0), "appendonly.aof.2.base.aof");
    aof_manifest_incr_to_history(&copy, 1);
    kstr out = aof_manifest_format(&copy, kstr_empty(16));
    assert_string_equal(out, "file appendonly.aof.2.base.aof seq 2 type b\n"
                             "file appendonly.aof.1.incr.aof seq 1 type h\n"
                             "file appendonly.aof.1.base.rdb seq 1 type h\n"
                             "file appendonly.aof.2.incr.aof seq 2 type i\n");
    kstr_free(out);
    aof_manifest_clear_history(&copy);
    assert_int_equal(copy.hist_count, 0);
    /* The original is untouched by changes to the copy. */
    assert_int_equal(m.incr_count, 2);
    assert_string_equal(m.base->name, "appendonly.aof.1.base.rdb");
    aof_manifest_release(&copy);
    aof_manifest_release(&m);
    char name[64];
    aof_manifest_name(name, sizeof(name), "appendonly.aof");
    assert_string_equal(name, "appendonly.aof.manifest");
}

/* ---- command reader ------------------------------------------------------ */

#define MAXB (512u * 1024 * 1024)

static void test_reader_commands(void **state)
{
    (void)state;
    const char *in = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:1700000000\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$0\r\n\r\n";
    size_t len = strlen(in), pos = 0, used;
    aof_cmd cmd;
    char err[128];
    aof_cmd_init(&cmd);
    assert_int_equal(aof_read_command(in, len, MAXB, &cmd, &used, err, sizeof(err)), AOF_READ_OK);
    assert_int_equal(cmd.argc, 2);
    assert_memory_equal(cmd.argv[0].ptr, "SELECT", 6);
    pos += used;
    assert_int_equal(aof_read_command(in + pos, len - pos, MAXB, &cmd, &used, err, sizeof(err)), AOF_READ_SKIP);
    pos += used;
    assert_int_equal(aof_read_command(in + pos, len - pos, MAXB, &cmd, &used, err, sizeof(err)), AOF_READ_OK);
    assert_int_equal(cmd.argc, 3);
    assert_int_equal(cmd.argv[2].len, 0);
    pos += used;
    assert_int_equal(pos, len);
    assert_int_equal(aof_read_command(in + pos, 0, MAXB, &cmd, &used, err, sizeof(err)), AOF_READ_MORE);
    aof_cmd_release(&cmd);
}

/* A command cut at any byte is "more", never an error or a command. */
static void test_reader_truncated_everywhere(void **state)
{
    (void)state;
    const char *in = "*3\r\n$3\r\nset\r\n$10\r\nabcdefghij\r\n$5\r\nhello\r\n";
    size_t len = strlen(in), used;
    aof_cmd cmd;
    char err[128];
    aof_cmd_init(&cmd);
    for (size_t cut = 0; cut < len; cut++) {
        char *copy = malloc(cut + 1);
        memcpy(copy, in, cut);
        int rc = aof_read_command(copy, cut, MAXB, &cmd, &used, err, sizeof(err));
        if (rc != AOF_READ_MORE)
            fail_msg("cut at %zu: rc %d (%s)", cut, rc, err);
        free(copy);
    }
    assert_int_equal(aof_read_command(in, len, MAXB, &cmd, &used, err, sizeof(err)), AOF_READ_OK);
    aof_cmd_release(&cmd);
}

static void test_reader_corrupt(void **state)
{
    (void)state;
    static const char *bad[] = {
        "xx3\r\n",                         /* not a multibulk */
        "*0\r\n",                          /* empty command */
        "*-1\r\n",
        "*abc\r\n",
        "*\r\n",
        "*3\n$3\r\nset\r\n",               /* LF without CR */
        "*1\r\n+OK\r\n",                   /* not a bulk */
        "*1\r\n$-1\r\n",                   /* null bulk */
        "*1\r\n$x\r\n",
        "*1\r\n$3\r\nsetXY",               /* bulk not followed by CRLF */
        "*1\r\n$99999999999999999999\r\n", /* overflowing length */
        "*1\r\n$600000000\r\n",            /* over proto-max-bulk-len */
        "*99999999999\r\n",                /* absurd count */
        "*1\r\n$00000000000000000000000000000000000001\r\n", /* header too long */
    };
    aof_cmd cmd;
    char err[128];
    size_t used;
    aof_cmd_init(&cmd);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = aof_read_command(bad[i], strlen(bad[i]), MAXB, &cmd, &used, err, sizeof(err));
        if (rc != AOF_READ_ERR)
            fail_msg("case %zu (%s): rc %d, want an error", i, bad[i], rc);
    }
    aof_cmd_release(&cmd);
}

/* A huge claimed count with little data: "more", and argv sized by the
 * arguments actually read. */
static void test_reader_absurd_count_no_alloc(void **state)
{
    (void)state;
    const char *in = "*1000000000\r\n$1\r\na\r\n$1\r\nb\r\n";
    aof_cmd cmd;
    char err[128];
    size_t used;
    aof_cmd_init(&cmd);
    assert_int_equal(aof_read_command(in, strlen(in), MAXB, &cmd, &used, err, sizeof(err)), AOF_READ_MORE);
    assert_true(cmd.cap <= 8);
    /* A huge bulk length with no data: more, nothing allocated for it. */
    const char *in2 = "*1\r\n$536870912\r\nabc";
    assert_int_equal(aof_read_command(in2, strlen(in2), MAXB, &cmd, &used, err, sizeof(err)), AOF_READ_MORE);
    aof_cmd_release(&cmd);
}

/* Random bytes: any answer but a crash. */
static void test_reader_fuzz(void **state)
{
    (void)state;
    unsigned seed = 12345;
    aof_cmd cmd;
    char err[128], buf[64];
    size_t used;
    const char alphabet[] = "*$\r\n0123456789-#ab";
    aof_cmd_init(&cmd);
    for (int iter = 0; iter < 200000; iter++) {
        size_t len = (size_t)(rand_r(&seed) % sizeof(buf));
        for (size_t i = 0; i < len; i++)
            buf[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
        int rc = aof_read_command(buf, len, 1024, &cmd, &used, err, sizeof(err));
        if (rc == AOF_READ_OK || rc == AOF_READ_SKIP)
            assert_true(used <= len);
    }
    aof_cmd_release(&cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_roundtrip),
        cmocka_unit_test(test_manifest_comments_unknown_keys_quotes),
        cmocka_unit_test(test_manifest_errors),
        cmocka_unit_test(test_manifest_changes),
        cmocka_unit_test(test_reader_commands),
        cmocka_unit_test(test_reader_truncated_everywhere),
        cmocka_unit_test(test_reader_corrupt),
        cmocka_unit_test(test_reader_absurd_count_no_alloc),
        cmocka_unit_test(test_reader_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
