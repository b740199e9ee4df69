/* test_acl: the ACL rule parser (every rule and every error of ACL SETUSER,
 * applied to a detached user and read back as ACL LIST's rule string, the
 * strings redis-server 7.0.15 prints for the same rules), the config-file
 * check of `user` directives, selectors, the key-spec permissions, and the
 * -NOPERM paths through the command dispatcher (also EXEC's re-check) with
 * ACL LOG entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"
#include "acl.h"
#include "acl_int.h"

/* Applies the space-separated rules to a new user; returns ACL LIST's rule
 * string, "ERR <reason>" for the first failing rule, or "UNMATCHED <word>"
 * for a selector never closed (static buffer). */
static const char *rules_of(const char *text)
{
    static char out[4096];
    acl_user *u = acl_user_new_detached("t");
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", text);
    char *save = NULL;
    const char *words[64];
    int n = 0;
    for (char *r = strtok_r(buf, " ", &save); r && n < 64; r = strtok_r(NULL, " ", &save))
        words[n++] = r;
    /* "(+get" "~k)" is one selector, as ACL SETUSER merges it. */
    int nrules = 0, bad = 0;
    char **rules = acl_merge_selector_args(n, words, NULL, &nrules, &bad);
    if (!rules) {
        snprintf(out, sizeof(out), "UNMATCHED %s", words[bad]);
        acl_user_free(u);
        return out;
    }
    for (int i = 0; i < nrules; i++) {
        const char *r = rules[i];
        const char *err = NULL;
        if (acl_user_apply(u, r, strlen(r), &err) != 0) {
            acl_words_free(rules, nrules);
            snprintf(out, sizeof(out), "ERR %s", err);
            acl_user_free(u);
            return out;
        }
    }
    acl_words_free(rules, nrules);
    char *d = acl_user_describe(u);
    snprintf(out, sizeof(out), "%s", d);
    mem_free(d);
    acl_user_free(u);
    return out;
}

#define RULES(in, want) assert_string_equal(rules_of(in), (want))

static void test_flags_and_passwords(void **state)
{
    (void)state;
    RULES("", "off resetchannels -@all");
    RULES("on", "on resetchannels -@all");
    RULES("on off", "off resetchannels -@all");
    RULES("nopass", "off nopass resetchannels -@all");
    RULES(">abc", "off #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad resetchannels -@all");
    RULES(">abc >abc", "off #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad resetchannels -@all");
    RULES(">abc <abc", "off resetchannels -@all");
    RULES("#ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "off #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad resetchannels -@all");
    RULES(">abc !ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "off resetchannels -@all");
    RULES(">abc nopass", "off nopass resetchannels -@all");
    RULES("nopass >abc", "off #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad resetchannels -@all");
    RULES(">abc resetpass", "off resetchannels -@all");
    RULES("skip-sanitize-payload", "off skip-sanitize-payload resetchannels -@all");
    RULES("sanitize-payload", "off sanitize-payload resetchannels -@all");
    RULES("on >abc ~k &c +get reset", "off sanitize-payload resetchannels -@all");
}

static void test_password_errors(void **state)
{
    (void)state;
    RULES("<nope", "ERR The password you are trying to remove from the user does not exist");
    RULES("!ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "ERR The password you are trying to remove from the user does not exist");
    RULES("#abc", "ERR The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
    RULES("#BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
          "ERR The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
    RULES("#zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "ERR The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
}

static void test_keys_and_channels(void **state)
{
    (void)state;
    RULES("~k*", "off ~k* resetchannels -@all");
    RULES("%R~r* %W~w* %RW~b*", "off %R~r* %W~w* ~b* resetchannels -@all");
    RULES("~a %R~a", "off ~a resetchannels -@all");
    RULES("%R~b %W~b", "off ~b resetchannels -@all");
    RULES("%R", "off %R~ resetchannels -@all");
    RULES("allkeys", "off ~* resetchannels -@all");
    RULES("~a ~*", "off ~* resetchannels -@all");
    RULES("~a resetkeys ~b", "off ~b resetchannels -@all");
    RULES("&c*", "off resetchannels &c* -@all");
    RULES("&c* &c*", "off resetchannels &c* -@all");
    RULES("allchannels", "off &* -@all");
    RULES("&a resetchannels &b", "off resetchannels &b -@all");
    RULES("allkeys ~x", "ERR Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns");
    RULES("allchannels &x", "ERR Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels");
    RULES("%X~a", "ERR Syntax error");
    RULES("%~a", "ERR Syntax error");
}

static void test_command_rules(void **state)
{
    (void)state;
    RULES("+get", "off resetchannels -@all +get");
    RULES("+GET", "off resetchannels -@all +get");
    RULES("+get -get", "off resetchannels -@all");
    RULES("allcommands", "off resetchannels +@all");
    RULES("+@all -get", "off resetchannels +@all -get");
    RULES("+@all nocommands", "off resetchannels -@all");
    RULES("+@hash", "off resetchannels -@all +@hash");
    RULES("+@HASH -hget", "off resetchannels -@all +@hash -hget");
    RULES("+@all -@hash +hget", "off resetchannels +@all -@hash +hget");
    RULES("+@all -@write +set", "off resetchannels +@all -@write +set");
    RULES("+config -config|get", "off resetchannels -@all +config -config|get");
    RULES("+config|get +config", "off resetchannels -@all +config");
    RULES("+Config|GET", "off resetchannels -@all +config|get");
    RULES("+select|0", "off resetchannels -@all +select|0");
    RULES("+select|0 +select|1 -select", "off resetchannels -@all");
    RULES("+@all +select|0", "off resetchannels +@all");
    RULES("+@hash -@all +get", "off resetchannels -@all +get");
    RULES("+@hash +@string -hget -@hash", "off resetchannels -@all +@string");
    RULES("+@connection +@transaction", "off resetchannels -@all +@connection +@transaction");
}

static void test_command_errors(void **state)
{
    (void)state;
    RULES("foo", "ERR Syntax error");
    RULES("+nosuch", "ERR Unknown command or category name in ACL");
    RULES("-nosuch", "ERR Unknown command or category name in ACL");
    RULES("+", "ERR Unknown command or category name in ACL");
    RULES("+@nosuch", "ERR Unknown command or category name in ACL");
    RULES("-select|0", "ERR Unknown command or category name in ACL");
    RULES("+config|nosuch", "ERR Unknown command or category name in ACL");
    RULES("+nosuch|x", "ERR Unknown command or category name in ACL");
    RULES("+config|get|x", "ERR Allowing first-arg of a subcommand is not supported");
    RULES("+get|", "ERR Syntax error");
}

static void test_config_directive_check(void **state)
{
    (void)state;
    const char *ok[] = {"alice", "on", ">pw", "~k*", "+get"};
    assert_null(acl_config_user_check(5, ok));
    const char *bad[] = {"alice", "on", "foo"};
    assert_string_equal(acl_config_user_check(3, bad), "Syntax error");
    const char *badcmd[] = {"alice", "+nosuch"};
    assert_string_equal(acl_config_user_check(2, badcmd), "Unknown command or category name in ACL");
}

/* Selectors: each "(...)" is described after the root's rules, in the
 * order given; clearselectors and reset drop them; a bad rule inside fails
 * the whole selector with that rule's reason (strings from redis-server
 * 7.0.15, tests/e2e/compat/acl.txt). */
static void test_selectors(void **state)
{
    (void)state;
    RULES("(+get ~k*)", "off resetchannels -@all (~k* resetchannels -@all +get)");
    RULES("on +@all ~a (+get ~s*) (+@hash %R~h*)",
          "on ~a resetchannels +@all (~s* resetchannels -@all +get) (%R~h* resetchannels -@all +@hash)");
    RULES("(~a &c +set) (allkeys allchannels allcommands)",
          "off resetchannels -@all (~a resetchannels &c -@all +set) (~* &* +@all)");
    RULES("()", "off resetchannels -@all (resetchannels -@all)");
    RULES("(~a allkeys)", "off resetchannels -@all (~* resetchannels -@all)");
    RULES("(+get) clearselectors", "off resetchannels -@all");
    RULES("(+get) reset", "off sanitize-payload resetchannels -@all");
    RULES("(+get) (+set) clearselectors (+del)", "off resetchannels -@all (resetchannels -@all +del)");
    RULES("(+nosuch)", "ERR Unknown command or category name in ACL");
    RULES("(on)", "ERR Syntax error");
    RULES("(>pw)", "ERR Syntax error");
    RULES("(allkeys ~x)", "ERR Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns");
    RULES("((+get))", "ERR Syntax error");
    RULES("(+get", "UNMATCHED (+get");
    RULES("on (+get ~a) (+set", "UNMATCHED (+set");
    /* A second "(" before the ")" starts the selector over, as in Redis. */
    RULES("(+get (+set ~b)", "off resetchannels -@all (~b resetchannels -@all +set)");
}

/* The COMMAND INFO key specs of every command the agent has are readable:
 * an unreadable one would make its keys need both %R and %W. */
static void test_key_specs_readable(void **state)
{
    (void)state;
    assert_int_equal(acl_keys_unreadable(), 0);
}

#define EXPECT(c, cmd, reply) assert_true(h_expect((c), (cmd), (reply)))

#define NOKEY "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
#define CHANGED "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: "

/* %R~ needs a key spec with access, %W~ one with insert, update or
 * delete: LPOP needs both, SET only W unless GET, and a selector may
 * allow what the root does not. */
static void test_key_spec_permissions(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *admin = h_client_new(s);
    client *c = h_client_new(s);
    EXPECT(admin, "ACL SETUSER k on nopass +@all %R~r* %W~w* ~rw* (+get ~sel*)", "+OK\r\n");
    EXPECT(c, "AUTH k x", "+OK\r\n");
    EXPECT(c, "LPUSH w1 a", ":1\r\n");
    EXPECT(c, "LPUSH r1 a", NOKEY);
    EXPECT(c, "LPOP w1", NOKEY);
    EXPECT(c, "LPOP rw1", "$-1\r\n");
    EXPECT(c, "GET w2", NOKEY);
    EXPECT(c, "GET r2", "$-1\r\n");
    EXPECT(c, "SET w2 v", "+OK\r\n");
    EXPECT(c, "SET w2 v GET", NOKEY);
    EXPECT(c, "SET rw2 v GET", "$-1\r\n");
    EXPECT(c, "STRLEN w2", ":1\r\n");
    EXPECT(c, "GET sel1", "$-1\r\n");
    EXPECT(c, "SET sel1 v", NOKEY);
    EXPECT(admin, "ACL DRYRUN k lmove r1 w1 left right", "$51\r\nThis user has no permissions to access the 'r1' key\r\n");
    EXPECT(admin, "ACL DRYRUN k lmove rw1 w1 left right", "+OK\r\n");
    EXPECT(admin, "ACL DRYRUN k sort r1 store w1", "+OK\r\n");
    EXPECT(admin, "ACL DRYRUN k sort r1 store r2", "$51\r\nThis user has no permissions to access the 'r2' key\r\n");
    EXPECT(admin, "ACL DELUSER k", ":1\r\n");
    h_client_free(c);
    h_client_free(admin);
    h_srv_free(s);
    acl_reset_all();
}

/* EXEC checks each queued command again; a refusal is an error inside
 * EXEC's array and an ACL LOG entry with the "multi" context. */
static void test_exec_recheck(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *admin = h_client_new(s);
    client *c = h_client_new(s);
    EXPECT(admin, "ACL SETUSER t on nopass +@all ~* &*", "+OK\r\n");
    EXPECT(c, "AUTH t x", "+OK\r\n");
    EXPECT(c, "MULTI", "+OK\r\n");
    EXPECT(c, "SET a v", "+QUEUED\r\n");
    EXPECT(c, "GET b", "+QUEUED\r\n");
    EXPECT(c, "PUBLISH ch m", "+QUEUED\r\n");
    EXPECT(admin, "ACL SETUSER t -set resetkeys ~a resetchannels", "+OK\r\n");
    EXPECT(c, "EXEC", "*3\r\n" CHANGED "no permission to execute the command or subcommand\r\n"
                      CHANGED "no permission to touch the specified keys\r\n"
                      CHANGED "no permission to access one of the channels used as arguments\r\n");
    char *log = h_run(admin, "ACL LOG 3");
    assert_non_null(strstr(log, "$6\r\nreason\r\n$7\r\ncommand\r\n$7\r\ncontext\r\n$5\r\nmulti\r\n$6\r\nobject\r\n$3\r\nset\r\n"));
    assert_non_null(strstr(log, "$6\r\nreason\r\n$3\r\nkey\r\n$7\r\ncontext\r\n$5\r\nmulti\r\n$6\r\nobject\r\n$1\r\nb\r\n"));
    assert_non_null(strstr(log, "$6\r\nreason\r\n$7\r\nchannel\r\n$7\r\ncontext\r\n$5\r\nmulti\r\n$6\r\nobject\r\n$2\r\nch\r\n"));
    free(log);
    EXPECT(admin, "ACL DELUSER t", ":1\r\n");
    h_client_free(c);
    h_client_free(admin);
    h_srv_free(s);
    acl_reset_all();
}

static void test_noperm_paths(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *admin = h_client_new(s);
    client *c = h_client_new(s);
    EXPECT(admin, "ACL SETUSER u on >p ~a* &c* +get +publish +multi +exec", "+OK\r\n");
    EXPECT(c, "AUTH u wrong", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    EXPECT(c, "AUTH u p", "+OK\r\n");
    EXPECT(c, "GET a1", "$-1\r\n");
    EXPECT(c, "GET b1", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n");
    EXPECT(c, "SET a1 v", "-NOPERM this user has no permissions to run the 'set' command\r\n");
    EXPECT(c, "CONFIG GET x", "-NOPERM this user has no permissions to run the 'config|get' command\r\n");
    EXPECT(c, "PUBLISH d m", "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n");
    EXPECT(c, "PUBLISH c1 m", ":0\r\n");
    EXPECT(c, "MULTI", "+OK\r\n");
    EXPECT(c, "SET a1 v", "-NOPERM this user has no permissions to run the 'set' command\r\n");
    EXPECT(c, "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n");
    /* Newest first; the repeated SET grouped with the MULTI one apart. */
    char *log = h_run(admin, "ACL LOG 1");
    assert_non_null(strstr(log, "$7\r\ncontext\r\n$5\r\nmulti\r\n$6\r\nobject\r\n$3\r\nset\r\n$8\r\nusername\r\n$1\r\nu\r\n"));
    free(log);
    log = h_run(admin, "ACL LOG");
    assert_non_null(strstr(log, "$6\r\nreason\r\n$4\r\nauth\r\n"));
    assert_non_null(strstr(log, "$6\r\nreason\r\n$7\r\nchannel\r\n$7\r\ncontext\r\n$8\r\ntoplevel\r\n$6\r\nobject\r\n$1\r\nd\r\n"));
    assert_non_null(strstr(log, "$6\r\nreason\r\n$3\r\nkey\r\n$7\r\ncontext\r\n$8\r\ntoplevel\r\n$6\r\nobject\r\n$2\r\nb1\r\n"));
    free(log);
    EXPECT(admin, "ACL LOG RESET", "+OK\r\n");
    EXPECT(admin, "ACL LOG", "*0\r\n");
    EXPECT(admin, "ACL DELUSER u", ":1\r\n");
    h_client_free(c);
    h_client_free(admin);
    h_srv_free(s);
    acl_reset_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_and_passwords),
        cmocka_unit_test(test_password_errors),
        cmocka_unit_test(test_keys_and_channels),
        cmocka_unit_test(test_command_rules),
        cmocka_unit_test(test_command_errors),
        cmocka_unit_test(test_config_directive_check),
        cmocka_unit_test(test_noperm_paths),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_key_specs_readable),
        cmocka_unit_test(test_key_spec_permissions),
        cmocka_unit_test(test_exec_recheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
