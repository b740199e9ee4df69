/* test_t_geo: the geo commands through the command harness, compared byte
 * for byte with what redis-server 7.0.15 answered to the same scripts:
 * the small script (every command, option and error text), then 500
 * points on a grid with searches whose unsorted replies depend on the
 * cells Redis scans and their order, COUNT ANY stopping early, and
 * STORE/STOREDIST results. Then the geohash functions on their own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include "harness.h"
#include "geohash.h"

typedef struct geo_case {
    const char *cmd;
    const char *reply;
} geo_case;

#define C(cmd, reply) {cmd, reply}

static const geo_case recorded[] = {
    C("GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
      ":2\r\n"),
    C("GEODIST g Palermo Catania",
      "$11\r\n166274.1516\r\n"),
    C("GEODIST g Palermo Catania km",
      "$8\r\n166.2742\r\n"),
    C("GEODIST g Palermo Catania mi",
      "$8\r\n103.3182\r\n"),
    C("GEODIST g Palermo Catania FT",
      "$11\r\n545518.8700\r\n"),
    C("GEODIST g Palermo Catania xx",
      "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
    C("GEODIST g Palermo Catania km extra",
      "-ERR syntax error\r\n"),
    C("GEODIST g Palermo missing",
      "$-1\r\n"),
    C("GEODIST nokey a b",
      "$-1\r\n"),
    C("GEOPOS g Palermo missing",
      "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"),
    C("GEOPOS nokey a",
      "*1\r\n*-1\r\n"),
    C("GEOHASH g Palermo Catania missing",
      "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n"),
    C("GEOHASH nokey a",
      "*1\r\n$-1\r\n"),
    C("GEORADIUS g 15 37 200 km ASC WITHDIST",
      "*2\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n"),
    C("GEORADIUS g 15 37 200 km",
      "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"),
    C("GEORADIUS g 15 37 200 km WITHDIST WITHCOORD WITHHASH",
      "*2\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"),
    C("GEORADIUS g 15 37 200 km DESC COUNT 1",
      "*1\r\n$7\r\nPalermo\r\n"),
    C("GEORADIUS g 15 37 200 km COUNT 1 ANY",
      "*1\r\n$7\r\nPalermo\r\n"),
    C("GEORADIUS g 15 37 200 km ANY",
      "-ERR the ANY argument requires COUNT argument\r\n"),
    C("GEORADIUS g 15 37 200 km COUNT 0",
      "-ERR COUNT must be > 0\r\n"),
    C("GEORADIUS g 15 37 200 km COUNT -1",
      "-ERR COUNT must be > 0\r\n"),
    C("GEORADIUS g 15 37 200 km COUNT x",
      "-ERR value is not an integer or out of range\r\n"),
    C("GEORADIUS g 15 37 -1 km",
      "-ERR radius cannot be negative\r\n"),
    C("GEORADIUS g 15 37 abc km",
      "-ERR need numeric radius\r\n"),
    C("GEORADIUS g 15 37 100 parsecs",
      "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
    C("GEORADIUS g 200 37 100 km",
      "-ERR invalid longitude,latitude pair 200.000000,37.000000\r\n"),
    C("GEORADIUS g abc 37 100 km",
      "-ERR value is not a valid float\r\n"),
    C("GEORADIUS g 15 37 200 km STORE dst",
      ":2\r\n"),
    C("ZRANGE dst 0 -1 WITHSCORES",
      "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"),
    C("GEORADIUS g 15 37 200 km STOREDIST dst2",
      ":2\r\n"),
    C("ZRANGE dst2 0 -1 WITHSCORES",
      "*4\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"),
    C("GEORADIUS g 15 37 1 km STORE dst",
      ":0\r\n"),
    C("EXISTS dst",
      ":0\r\n"),
    C("GEORADIUS g 15 37 200 km STORE dst WITHDIST",
      "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"),
    C("GEORADIUS_RO g 15 37 200 km STORE dst",
      "-ERR syntax error\r\n"),
    C("GEORADIUS_RO g 15 37 200 km WITHDIST",
      "*2\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"),
    C("GEORADIUSBYMEMBER g Palermo 200 km WITHDIST",
      "*2\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n"),
    C("GEORADIUSBYMEMBER g missing 200 km",
      "-ERR could not decode requested zset member\r\n"),
    C("GEORADIUSBYMEMBER nokey missing abc km",
      "*0\r\n"),
    C("GEORADIUSBYMEMBER nokey missing 10 km STORE x",
      ":0\r\n"),
    C("GEORADIUSBYMEMBER_RO g Palermo 100 km",
      "*1\r\n$7\r\nPalermo\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHCOORD WITHDIST",
      "*2\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST",
      "*2\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"),
    C("GEOSEARCH g FROMMEMBER Palermo BYBOX 400 400 km DESC",
      "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"),
    C("GEOSEARCH g FROMMEMBER Palermo BYRADIUS 400 km",
      "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"),
    C("GEOSEARCH g BYRADIUS 400 km",
      "-ERR wrong number of arguments for 'geosearch' command\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 ASC",
      "-ERR wrong number of arguments for 'geosearch' command\r\n"),
    C("geosearch g FROMLONLAT 15 37 ASC",
      "-ERR wrong number of arguments for 'geosearch' command\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km",
      "-ERR syntax error\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km",
      "-ERR syntax error\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYBOX -1 1 km",
      "-ERR height or width cannot be negative\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYBOX a 1 km",
      "-ERR need numeric width\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 a km",
      "-ERR need numeric height\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 1 kmx",
      "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
    C("GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km",
      "*0\r\n"),
    C("GEOSEARCH g FROMMEMBER x BYRADIUS 1 km",
      "-ERR could not decode requested zset member\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
      "-ERR syntax error\r\n"),
    C("GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km",
      ":2\r\n"),
    C("GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
      ":2\r\n"),
    C("ZRANGE dst 0 -1 WITHSCORES",
      "*4\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"),
    C("GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
      "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"),
    C("GEOSEARCHSTORE dst nokey FROMLONLAT 15 37 BYRADIUS 200 km",
      ":0\r\n"),
    C("EXISTS dst",
      ":0\r\n"),
    C("GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 ANY WITHHASH",
      "*1\r\n*2\r\n$7\r\nPalermo\r\n:3479099956230698\r\n"),
    C("GEOADD g 200 100 bad",
      "-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n"),
    C("GEOADD g NX XX 1 1 x",
      "-ERR syntax error\r\n"),
    C("GEOADD g NX 1 1 x",
      ":1\r\n"),
    C("GEOADD g NX 1 1 x",
      ":0\r\n"),
    C("GEOADD g XX CH 2 2 x",
      ":1\r\n"),
    C("GEOADD g CH 2 2 x 3 3 y",
      ":1\r\n"),
    C("GEOADD g 1 2",
      "-ERR wrong number of arguments for 'geoadd' command\r\n"),
    C("GEOADD g 1 2 3 4",
      "-ERR syntax error\r\n"),
    C("GEOADD g GT 1 1 x",
      "-ERR syntax error\r\n"),
    C("GEOADD g 180 85.05112878 top -180 -85.05112878 bottom",
      ":2\r\n"),
    C("GEOPOS g top bottom x y",
      "*4\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$19\r\n2.00000256299972534\r\n$18\r\n2.0000001856465488\r\n*2\r\n$19\r\n2.99999982118606567\r\n$19\r\n3.00000091215010656\r\n"),
    C("GEOHASH g top bottom x y",
      "*4\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n$11\r\ns037ms06g70\r\n$11\r\ns0d1h60s300\r\n"),
    C("ZRANGE g 0 -1 WITHSCORES",
      "*12\r\n$6\r\nbottom\r\n$1\r\n0\r\n$1\r\nx\r\n$16\r\n3378191666521995\r\n$1\r\ny\r\n$16\r\n3379368329318596\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n$3\r\ntop\r\n$17\r\n13510798882111488\r\n"),
    C("SET str x",
      "+OK\r\n"),
    C("GEOADD str 1 1 a",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("GEOPOS str a",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("GEODIST str a b",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("GEOHASH str a",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("GEORADIUS str 1 1 1 km",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 km",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    C("ZADD z 0 zero 4503599627370496 big -5 neg",
      ":3\r\n"),
    C("GEOPOS z zero big neg",
      "*3\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$19\r\n85.0511287799999991\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n"),
    C("GEOHASH z zero big neg",
      "*3\r\n$11\r\n00bh0hbj200\r\n$11\r\nbp05b5048p0\r\n$11\r\nbp05b5048p0\r\n"),
    C("GEOADD g 0 0 origin",
      ":1\r\n"),
    C("GEORADIUS g 0 0 0 m WITHDIST",
      "*0\r\n"),
    C("GEORADIUS g 0 0 10000 km WITHDIST",
      "*5\r\n*2\r\n$6\r\norigin\r\n$6\r\n0.0003\r\n*2\r\n$1\r\nx\r\n$8\r\n314.5637\r\n*2\r\n$1\r\ny\r\n$8\r\n471.7854\r\n*2\r\n$7\r\nPalermo\r\n$9\r\n4454.7332\r\n*2\r\n$7\r\nCatania\r\n$9\r\n4449.6961\r\n"),
    C("GEORADIUS g 0 0 30000 km WITHDIST ASC",
      "*6\r\n*2\r\n$6\r\norigin\r\n$6\r\n0.0003\r\n*2\r\n$1\r\nx\r\n$8\r\n314.5637\r\n*2\r\n$1\r\ny\r\n$8\r\n471.7854\r\n*2\r\n$7\r\nCatania\r\n$9\r\n4449.6961\r\n*2\r\n$7\r\nPalermo\r\n$9\r\n4454.7332\r\n*2\r\n$6\r\nbottom\r\n$10\r\n10560.8118\r\n"),
    C("GEOSEARCH g FROMLONLAT 0 0 BYBOX 40000 40000 km WITHDIST DESC",
      "*6\r\n*2\r\n$6\r\nbottom\r\n$10\r\n10560.8118\r\n*2\r\n$7\r\nPalermo\r\n$9\r\n4454.7332\r\n*2\r\n$7\r\nCatania\r\n$9\r\n4449.6961\r\n*2\r\n$1\r\ny\r\n$8\r\n471.7854\r\n*2\r\n$1\r\nx\r\n$8\r\n314.5637\r\n*2\r\n$6\r\norigin\r\n$6\r\n0.0003\r\n"),
};

static const geo_case grid[] = {
    C("georadius big 11 45 10 km",
      "*4\r\n$4\r\np332\r\n$4\r\np370\r\n$3\r\np19\r\n$4\r\np408\r\n"),
    C("georadius big 11 45 15 km WITHDIST",
      "*12\r\n*2\r\n$4\r\np226\r\n$7\r\n14.0667\r\n*2\r\n$4\r\np332\r\n$6\r\n7.0222\r\n*2\r\n$4\r\np370\r\n$6\r\n3.0122\r\n*2\r\n$3\r\np19\r\n$6\r\n3.9871\r\n*2\r\n$4\r\np408\r\n$6\r\n9.7995\r\n*2\r\n$3\r\np57\r\n$7\r\n11.9633\r\n*2\r\n$4\r\np476\r\n$7\r\n11.9912\r\n*2\r\n$4\r\np125\r\n$7\r\n12.5514\r\n*2\r\n$4\r\np163\r\n$7\r\n11.1284\r\n*2\r\n$4\r\np201\r\n$7\r\n14.7391\r\n*2\r\n$4\r\np188\r\n$7\r\n14.3042\r\n*2\r\n$4\r\np294\r\n$7\r\n14.7164\r\n"),
    C("georadius big 10.5 44.5 20 km COUNT 5 ANY",
      "*5\r\n$3\r\np18\r\n$4\r\np407\r\n$3\r\np56\r\n$4\r\np483\r\n$4\r\np132\r\n"),
    C("georadius big 10.5 44.5 20 km COUNT 5 ANY WITHHASH",
      "*5\r\n*2\r\n$3\r\np18\r\n:3662367428307266\r\n*2\r\n$4\r\np407\r\n:3662367564597276\r\n*2\r\n$3\r\np56\r\n:3662367883609200\r\n*2\r\n$4\r\np483\r\n:3662368867462353\r\n*2\r\n$4\r\np132\r\n:3662369052258702\r\n"),
    C("georadius big 10.5 44.5 20 km COUNT 7 DESC WITHCOORD",
      "*7\r\n*2\r\n$3\r\np18\r\n*2\r\n$20\r\n10.25420039892196655\r\n$20\r\n44.51219899097334576\r\n*2\r\n$3\r\np69\r\n*2\r\n$20\r\n10.64109832048416138\r\n$20\r\n44.63009901097883869\r\n*2\r\n$3\r\np31\r\n*2\r\n$19\r\n10.5489000678062439\r\n$20\r\n44.65989972764919003\r\n*2\r\n$4\r\np458\r\n*2\r\n$20\r\n10.69019883871078491\r\n$20\r\n44.58820007021496679\r\n*2\r\n$4\r\np382\r\n*2\r\n$20\r\n10.50580233335494995\r\n$19\r\n44.6477989688345076\r\n*2\r\n$4\r\np407\r\n*2\r\n$20\r\n10.30330091714859009\r\n$20\r\n44.47030005020947385\r\n*2\r\n$4\r\np170\r\n*2\r\n$20\r\n10.62299877405166626\r\n$20\r\n44.39300119373427833\r\n"),
    C("georadiusbymember big p17 12 km WITHDIST",
      "*5\r\n*2\r\n$4\r\np330\r\n$7\r\n10.9943\r\n*2\r\n$4\r\np368\r\n$6\r\n3.6998\r\n*2\r\n$3\r\np17\r\n$6\r\n0.0000\r\n*2\r\n$4\r\np161\r\n$7\r\n11.1826\r\n*2\r\n$3\r\np55\r\n$6\r\n8.0844\r\n"),
    C("geosearch big FROMLONLAT 11.9 45.9 BYBOX 30 20 km",
      "*6\r\n$4\r\np131\r\n$4\r\np169\r\n$4\r\np207\r\n$4\r\np376\r\n$3\r\np25\r\n$4\r\np351\r\n"),
    C("geosearch big FROMMEMBER p3 BYBOX 20 30 km ASC WITHDIST",
      "*10\r\n*2\r\n$2\r\np3\r\n$6\r\n0.0000\r\n*2\r\n$4\r\np354\r\n$6\r\n3.6242\r\n*2\r\n$4\r\np392\r\n$6\r\n6.0352\r\n*2\r\n$3\r\np41\r\n$6\r\n7.9262\r\n*2\r\n$4\r\np498\r\n$6\r\n9.5388\r\n*2\r\n$4\r\np147\r\n$7\r\n11.1679\r\n*2\r\n$4\r\np185\r\n$7\r\n12.3781\r\n*2\r\n$4\r\np210\r\n$7\r\n13.5941\r\n*2\r\n$4\r\np109\r\n$7\r\n14.8889\r\n*2\r\n$4\r\np460\r\n$7\r\n15.0792\r\n"),
    C("geosearch big FROMLONLAT 11 45 BYRADIUS 6 mi",
      "*3\r\n$4\r\np332\r\n$4\r\np370\r\n$3\r\np19\r\n"),
    C("geosearch big FROMLONLAT 11 45 BYRADIUS 30000 ft WITHDIST DESC",
      "*3\r\n*2\r\n$4\r\np332\r\n$10\r\n23038.8101\r\n*2\r\n$3\r\np19\r\n$10\r\n13080.9056\r\n*2\r\n$4\r\np370\r\n$9\r\n9882.6396\r\n"),
    C("geosearchstore dst big FROMLONLAT 11 45 BYRADIUS 10 km STOREDIST",
      ":4\r\n"),
    C("zrange dst 0 -1 withscores",
      "*8\r\n$4\r\np370\r\n$17\r\n3.012228562978251\r\n$3\r\np19\r\n$18\r\n3.9870600388716881\r\n$4\r\np332\r\n$18\r\n7.0222293112266128\r\n$4\r\np408\r\n$18\r\n9.7995100055567086\r\n"),
    C("georadius big 11 45 10 km STORE dst",
      ":4\r\n"),
    C("zrange dst 0 -1 withscores",
      "*8\r\n$4\r\np332\r\n$16\r\n3662466064270400\r\n$4\r\np370\r\n$16\r\n3662466351713626\r\n$3\r\np19\r\n$16\r\n3662466670040105\r\n$4\r\np408\r\n$16\r\n3662467879891071\r\n"),
};

static int run_cases(client *c, const geo_case *cases, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !h_expect(c, cases[i].cmd, cases[i].reply);
    return bad;
}

static void test_recorded(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    assert_int_equal(run_cases(c, recorded, sizeof(recorded) / sizeof(recorded[0])), 0);
    h_client_free(c);
    h_srv_free(s);
}

static void test_grid(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    char line[128];
    for (int i = 0; i < 500; i++) {
        snprintf(line, sizeof(line), "geoadd big %.4f %.4f p%d", 10 + (i * 7919 % 20000) / 10000.0,
                 44 + (i * 104729 % 20000) / 10000.0, i);
        assert_true(h_expect(c, line, ":1\r\n"));
    }
    assert_int_equal(run_cases(c, grid, sizeof(grid) / sizeof(grid[0])), 0);
    h_client_free(c);
    h_srv_free(s);
}

/* GEOADD counts as one change per added/updated member and keeps a TTL
 * as ZADD does. */
static void test_geoadd_dirty(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    long long d0 = s->dirty;
    assert_true(h_expect(c, "geoadd g 1 1 a 2 2 b", ":2\r\n"));
    assert_int_equal(s->dirty, d0 + 2);
    assert_true(h_expect(c, "geoadd g 1 1 a", ":0\r\n"));
    assert_int_equal(s->dirty, d0 + 2);
    assert_true(h_expect(c, "type g", "+zset\r\n"));
    h_client_free(c);
    h_srv_free(s);
}

static void test_geohash_functions(void **state)
{
    (void)state;
    geo_hash h;
    assert_true(geo_encode_wgs84(13.361389, 38.115556, GEO_STEP_MAX, &h));
    assert_int_equal(geo_align52(h), 3479099956230698ULL);   /* Palermo's score in Redis */
    assert_false(geo_encode_wgs84(181, 0, GEO_STEP_MAX, &h));
    assert_false(geo_encode_wgs84(0, 86, GEO_STEP_MAX, &h));
    double xy[2];
    geo_decode_score(3479099956230698.0, xy);
    assert_true(fabs(xy[0] - 13.36138933897018433) < 1e-12);
    assert_true(fabs(xy[1] - 38.11555639549629859) < 1e-12);
    char buf[12];
    geo_score_to_string(3479099956230698.0, buf);
    assert_string_equal(buf, "sqc8b49rny0");
    /* Same meridian takes the latitude-only formula. */
    assert_true(geo_distance(0, 0, 0, 1) == geo_lat_distance(0, 1));
    geo_shape sh = {GEO_SHAPE_RADIUS, {15, 37}, 1000, 200, 0, 0};
    geo_hash cells[9];
    geo_search_cells(&sh, cells);
    int live = 0;
    for (int i = 0; i < 9; i++)
        live += !(cells[i].bits == 0 && cells[i].step == 0);
    assert_true(live >= 1 && live <= 9);
    uint64_t min, max;
    geo_cell_scores(cells[0], &min, &max);
    assert_true(min < max);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded),
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_geoadd_dirty),
        cmocka_unit_test(test_geohash_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
