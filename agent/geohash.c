/* geohash: see geohash.h. Written from the published description of
 * Redis' geo encoding (interleaved latitude/longitude bits over the Web
 * Mercator latitude limits) and of its search-area estimation. */
#include <math.h>
#include <stddef.h>

#include "geohash.h"

#define GEO_D_R (M_PI / 180.0)
#define GEO_EARTH_RADIUS 6372797.560856
#define GEO_MERCATOR_MAX 20037726.37

static double deg_rad(double ang)
{
    return ang * GEO_D_R;
}

static double rad_deg(double ang)
{
    return ang / GEO_D_R;
}

/* Spread the 32 bits of v over the even bits of a 64-bit word. */
static uint64_t spread32(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* Inverse of spread32: the even bits of v packed into 32 bits. */
static uint32_t squash64(uint64_t x)
{
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/* Latitude bits go to the even positions, longitude bits to the odd. */
int geo_encode(const geo_range *lon_r, const geo_range *lat_r, double lon, double lat, int step,
               geo_hash *out)
{
    if (step > 32 || step == 0)
        return 0;
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN)
        return 0;
    out->bits = 0;
    out->step = (uint8_t)step;
    if (lat < lat_r->min || lat > lat_r->max || lon < lon_r->min || lon > lon_r->max)
        return 0;
    double lat_off = (lat - lat_r->min) / (lat_r->max - lat_r->min);
    double lon_off = (lon - lon_r->min) / (lon_r->max - lon_r->min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    out->bits = spread32((uint32_t)lat_off) | (spread32((uint32_t)lon_off) << 1);
    return 1;
}

static const geo_range wgs_lon = {GEO_LONG_MIN, GEO_LONG_MAX};
static const geo_range wgs_lat = {GEO_LAT_MIN, GEO_LAT_MAX};

int geo_encode_wgs84(double lon, double lat, int step, geo_hash *out)
{
    return geo_encode(&wgs_lon, &wgs_lat, lon, lat, step, out);
}

uint64_t geo_align52(geo_hash h)
{
    return h.bits << (52 - h.step * 2);
}

void geo_decode_wgs84(geo_hash h, geo_area *area)
{
    uint32_t ilat = squash64(h.bits), ilon = squash64(h.bits >> 1);
    double lat_scale = wgs_lat.max - wgs_lat.min;
    double lon_scale = wgs_lon.max - wgs_lon.min;
    double cells = (double)(1ULL << h.step);
    area->lat.min = wgs_lat.min + (ilat * 1.0 / cells) * lat_scale;
    area->lat.max = wgs_lat.min + ((ilat + 1.0) * 1.0 / cells) * lat_scale;
    area->lon.min = wgs_lon.min + (ilon * 1.0 / cells) * lon_scale;
    area->lon.max = wgs_lon.min + ((ilon + 1.0) * 1.0 / cells) * lon_scale;
}

/* A score as the unsigned bits it was stored from (an out-of-range score,
 * possible through ZADD, maps the way x86 truncation does). */
static uint64_t score_bits(double score)
{
    if (score >= 0 && score < 18446744073709551616.0)
        return (uint64_t)score;
    if (score < 0 && score > -9223372036854775808.0)
        return (uint64_t)(int64_t)score;
    return 0x8000000000000000ULL;
}

void geo_decode_score(double score, double xy[2])
{
    geo_hash h = {score_bits(score), GEO_STEP_MAX};
    geo_area a;
    geo_decode_wgs84(h, &a);
    xy[0] = (a.lon.min + a.lon.max) / 2;
    if (xy[0] > GEO_LONG_MAX)
        xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN)
        xy[0] = GEO_LONG_MIN;
    xy[1] = (a.lat.min + a.lat.max) / 2;
    if (xy[1] > GEO_LAT_MAX)
        xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN)
        xy[1] = GEO_LAT_MIN;
}

void geo_score_to_string(double score, char *buf)
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double xy[2];
    geo_decode_score(score, xy);
    const geo_range lon = {-180, 180}, lat = {-90, 90};
    geo_hash h = {0, 0};
    geo_encode(&lon, &lat, xy[0], xy[1], GEO_STEP_MAX, &h);
    for (int i = 0; i < 11; i++) {
        /* 52 bits give 10 full characters; the 11th is always '0'. */
        int idx = i == 10 ? 0 : (int)((h.bits >> (52 - (i + 1) * 5)) & 0x1f);
        buf[i] = alphabet[idx];
    }
    buf[11] = '\0';
}

double geo_lat_distance(double lat1, double lat2)
{
    return GEO_EARTH_RADIUS * fabs(deg_rad(lat2) - deg_rad(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    double lon1r = deg_rad(lon1), lon2r = deg_rad(lon2);
    double v = sin((lon2r - lon1r) / 2);
    if (v == 0.0)   /* same meridian: the cheap formula, as Redis */
        return geo_lat_distance(lat1, lat2);
    double lat1r = deg_rad(lat1), lat2r = deg_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS * asin(sqrt(a));
}

int geo_in_shape(const geo_shape *s, double score, double xy[2], double *dist)
{
    geo_decode_score(score, xy);
    if (s->type == GEO_SHAPE_RADIUS) {
        *dist = geo_distance(s->xy[0], s->xy[1], xy[0], xy[1]);
        return *dist <= s->radius * s->conversion;
    }
    double width = s->width * s->conversion, height = s->height * s->conversion;
    /* Latitude first: it is the cheaper test. */
    if (geo_lat_distance(xy[1], s->xy[1]) > height / 2)
        return 0;
    if (geo_distance(xy[0], xy[1], s->xy[0], xy[1]) > width / 2)
        return 0;
    *dist = geo_distance(s->xy[0], s->xy[1], xy[0], xy[1]);
    return 1;
}

/* Bounds (min lon, min lat, max lon, max lat) of the area to cover. */
static void geo_bounding_box(const geo_shape *s, double b[4])
{
    double lon = s->xy[0], lat = s->xy[1];
    double height = s->conversion * (s->type == GEO_SHAPE_RADIUS ? s->radius : s->height / 2);
    double width = s->conversion * (s->type == GEO_SHAPE_RADIUS ? s->radius : s->width / 2);
    const double lat_delta = rad_deg(height / GEO_EARTH_RADIUS);
    const double lon_delta_top = rad_deg(width / GEO_EARTH_RADIUS / cos(deg_rad(lat + lat_delta)));
    const double lon_delta_bottom = rad_deg(width / GEO_EARTH_RADIUS / cos(deg_rad(lat - lat_delta)));
    int south = lat < 0;
    b[0] = south ? lon - lon_delta_bottom : lon - lon_delta_top;
    b[2] = south ? lon + lon_delta_bottom : lon + lon_delta_top;
    b[1] = lat - lat_delta;
    b[3] = lat + lat_delta;
}

static int geo_steps_for_radius(double range, double lat)
{
    if (range == 0)
        return 26;
    int step = 1;
    while (range < GEO_MERCATOR_MAX) {
        range *= 2;
        step++;
    }
    step -= 2;   /* so the range is covered in most cases */
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80)
            step--;
    }
    if (step < 1)
        step = 1;
    if (step > 26)
        step = 26;
    return step;
}

/* Move a cell by one along longitude (odd bits, dx) or latitude (even
 * bits, dy), wrapping within the step's bits. */
static void geo_move(geo_hash *h, int d, int lon_axis)
{
    if (d == 0)
        return;
    const uint64_t odd = 0xaaaaaaaaaaaaaaaaULL, even = 0x5555555555555555ULL;
    uint64_t moving = h->bits & (lon_axis ? odd : even);
    uint64_t fixed = h->bits & (lon_axis ? even : odd);
    uint64_t zz = (lon_axis ? even : odd) >> (64 - h->step * 2);
    if (d > 0) {
        moving = moving + (zz + 1);
    } else {
        moving = moving | zz;
        moving = moving - (zz + 1);
    }
    moving &= (lon_axis ? odd : even) >> (64 - h->step * 2);
    h->bits = moving | fixed;
}

static geo_hash geo_neighbour(geo_hash h, int dx, int dy)
{
    geo_move(&h, dx, 1);
    geo_move(&h, dy, 0);
    return h;
}

/* cells: centre, N, S, E, W, NE, NW, SE, SW */
static void geo_cells_at(double lon, double lat, int step, geo_hash cells[9], geo_area *area)
{
    static const int dirs[9][2] = {{0, 0}, {0, 1}, {0, -1}, {1, 0}, {-1, 0}, {1, 1}, {-1, 1}, {1, -1}, {-1, -1}};
    geo_hash h = {0, 0};
    geo_encode_wgs84(lon, lat, step, &h);
    for (int i = 0; i < 9; i++)
        cells[i] = geo_neighbour(h, dirs[i][0], dirs[i][1]);
    geo_decode_wgs84(h, area);
}

void geo_search_cells(const geo_shape *s, geo_hash cells[9])
{
    double b[4];
    geo_bounding_box(s, b);
    double radius = s->type == GEO_SHAPE_RADIUS
                        ? s->radius
                        : sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2));
    radius *= s->conversion;
    int steps = geo_steps_for_radius(radius, s->xy[1]);
    geo_area area;
    geo_cells_at(s->xy[0], s->xy[1], steps, cells, &area);
    /* A neighbour too close to the searched area means the cells are too
     * small to cover it: one step coarser then. */
    geo_area n, so, e, w;
    geo_decode_wgs84(cells[1], &n);
    geo_decode_wgs84(cells[2], &so);
    geo_decode_wgs84(cells[3], &e);
    geo_decode_wgs84(cells[4], &w);
    int decrease = n.lat.max < b[3] || so.lat.min > b[1] || e.lon.max < b[2] || w.lon.min > b[0];
    if (steps > 1 && decrease) {
        steps--;
        geo_cells_at(s->xy[0], s->xy[1], steps, cells, &area);
    }
    if (steps >= 2) {
        static const geo_hash none = {0, 0};
        if (area.lat.min < b[1])
            cells[2] = cells[8] = cells[7] = none;   /* S SW SE */
        if (area.lat.max > b[3])
            cells[1] = cells[5] = cells[6] = none;   /* N NE NW */
        if (area.lon.min < b[0])
            cells[4] = cells[8] = cells[6] = none;   /* W SW NW */
        if (area.lon.max > b[2])
            cells[3] = cells[7] = cells[5] = none;   /* E SE NE */
    }
}

void geo_cell_scores(geo_hash h, uint64_t *min, uint64_t *max)
{
    *min = geo_align52(h);
    h.bits++;
    *max = geo_align52(h);
}
