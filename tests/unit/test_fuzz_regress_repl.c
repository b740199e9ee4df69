/* test_fuzz_regress_repl: the replica's handshake reader (agent/
 * repl_replica.c), whose line handlers are static and do socket and file
 * I/O, so no fuzz target reaches them (tests/fuzz/fuzz_repl_stream.c takes
 * over once the link is up). This file includes the module's source to call
 * the one pure step that was found wrong while looking for a fuzzable part;
 * nothing else in it is replaced. The libraries' copy of repl_replica.o is
 * not linked: this translation unit defines all of its symbols.
 *
 * link_on_fullresync() started reading the reply at line + 12, one byte past
 * the terminator of a bare "+FULLRESYNC" (11 bytes), and then scanned on
 * (strchr) through whatever followed: an out-of-bounds read driven by the
 * master's reply. The line is put at the very end of a page followed by an
 * inaccessible one, so the over-read faults in every build, not only under
 * a sanitizer. Fixed: parsing starts at line + 11. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "repl_replica.c"

/* A copy of s whose terminator is the last byte before a PROT_NONE page. */
static char *at_page_end(const char *s, void **map, size_t *maplen)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = strlen(s) + 1;
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + page, page, PROT_NONE), 0);
    memcpy(m + page - n, s, n);
    *map = m;
    *maplen = 2 * page;
    return m + page - n;
}

static int fullresync(const char *reply, repl_link *l)
{
    void *map;
    size_t maplen;
    char *line = at_page_end(reply, &map, &maplen);
    int rc = link_on_fullresync(l, line);
    munmap(map, maplen);
    return rc;
}

static void test_fullresync_bare(void **state)
{
    (void)state;
    repl_state st;
    repl_link l;
    memset(&st, 0, sizeof(st));
    memset(&l, 0, sizeof(l));
    l.st = &st;
    st.link_state = LINK_RECEIVE_PSYNC;
    assert_int_equal(fullresync("+FULLRESYNC", &l), -1);
    assert_int_equal(fullresync("+FULLRESYNC ", &l), -1);
    assert_int_equal(st.link_state, LINK_RECEIVE_PSYNC);
}

static void test_fullresync_well_formed(void **state)
{
    (void)state;
    repl_state st;
    repl_link l;
    memset(&st, 0, sizeof(st));
    memset(&l, 0, sizeof(l));
    l.st = &st;
    st.have_cached = 1;
    assert_int_equal(fullresync("+FULLRESYNC 0123456789abcdef0123456789abcdef01234567 42", &l), 0);
    assert_string_equal(l.full_replid, "0123456789abcdef0123456789abcdef01234567");
    assert_int_equal(l.full_offset, 42);
    assert_int_equal(st.link_state, LINK_TRANSFER);
    assert_int_equal(st.have_cached, 0);
    /* a replication id of the wrong length is refused */
    st.link_state = LINK_RECEIVE_PSYNC;
    assert_int_equal(fullresync("+FULLRESYNC 0123 42", &l), -1);
    assert_int_equal(st.link_state, LINK_RECEIVE_PSYNC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fullresync_bare),
        cmocka_unit_test(test_fullresync_well_formed),
    };
    log_set_level(LOG_WARNING);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
