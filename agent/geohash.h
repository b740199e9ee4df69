/* geohash: the 52-bit interleaved geohash Redis stores as a geo set's
 * score, and the spherical geometry of its searches (haversine distance on
 * a sphere of radius 6372797.560856 m, the bounding boxes and the nine
 * neighbouring cells a radius or box search scans). Pure functions; the
 * arithmetic follows Redis' order of operations so decoded coordinates,
 * distances and the cells scanned (hence result order) come out the same. */
#ifndef KV_GEOHASH_H
#define KV_GEOHASH_H
#include <stdint.h>

#define GEO_STEP_MAX 26
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180.0
#define GEO_LONG_MAX 180.0

typedef struct geo_hash {
    uint64_t bits;
    uint8_t step;    /* bits per coordinate; 0 with bits 0 marks "no cell" */
} geo_hash;

typedef struct geo_range {
    double min, max;
} geo_range;

typedef struct geo_area {
    geo_range lon, lat;
} geo_area;

/* Encode (lon, lat) at step bits per axis over the given ranges. Returns 0
 * when the point is outside the WGS84 limits or the ranges. */
int geo_encode(const geo_range *lon_r, const geo_range *lat_r, double lon, double lat, int step,
               geo_hash *out);
int geo_encode_wgs84(double lon, double lat, int step, geo_hash *out);
/* The cell's bits shifted to 52 bits: the score of a geo set member. */
uint64_t geo_align52(geo_hash h);
/* Cell bounds over the WGS84 ranges. */
void geo_decode_wgs84(geo_hash h, geo_area *area);
/* The centre of a member's cell from its score: xy[0] longitude, xy[1]
 * latitude (clamped to the valid ranges). */
void geo_decode_score(double score, double xy[2]);
/* The 11-character base32 geohash string (standard -90..90 latitude
 * range) GEOHASH replies for a score; buf needs 12 bytes. */
void geo_score_to_string(double score, char *buf);

/* Distances in metres. */
double geo_distance(double lon1, double lat1, double lon2, double lat2);
double geo_lat_distance(double lat1, double lat2);

enum { GEO_SHAPE_RADIUS = 1, GEO_SHAPE_BOX = 2 };

typedef struct geo_shape {
    int type;
    double xy[2];       /* centre: longitude, latitude */
    double conversion;  /* metres per unit */
    double radius;      /* in units (radius shape) */
    double width, height; /* in units (box shape) */
} geo_shape;

/* Decode score into xy and tell whether it lies in the shape; *dist is the
 * distance from the centre in metres. 1 inside, 0 outside. */
int geo_in_shape(const geo_shape *s, double score, double xy[2], double *dist);
/* The cells to scan for a shape, in Redis' order: centre, N, S, E, W, NE,
 * NW, SE, SW. Cells that cannot hold a match are {0, 0}. */
void geo_search_cells(const geo_shape *s, geo_hash cells[9]);
/* Score interval [*min, *max) a cell covers. */
void geo_cell_scores(geo_hash h, uint64_t *min, uint64_t *max);

#endif
