#include "web-api/geo.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace pilehub::api;

TEST_CASE("geo: the great-circle distance between two points matches the haversine reference") {
    // Shenzhen Futian to Luohu: ~ 7.1 km.
    const double d = geo::distance_m(22.543096, 114.057865, 22.548, 114.131);
    CHECK(d == doctest::Approx(7530.5).epsilon(0.001));
    CHECK(geo::distance_m(10, 20, 10, 20) == doctest::Approx(0.0));
    // One degree of latitude is ~111.2 km anywhere.
    CHECK(geo::distance_m(0, 0, 1, 0) == doctest::Approx(111195.0).epsilon(0.001));
    CHECK(geo::distance_m(60, 30, 61, 30) == doctest::Approx(111195.0).epsilon(0.001));
    // Across the antimeridian the short way round.
    CHECK(geo::distance_m(0, 179.9, 0, -179.9) == doctest::Approx(22239.0).epsilon(0.01));
}

TEST_CASE("geo: the bounding box contains every point within the radius") {
    const double lat = 22.5, lon = 114.0, r = 5000;
    const auto b = geo::bounding_box(lat, lon, r);
    for (int bearing = 0; bearing < 360; bearing += 15) {
        // Points just inside the radius in every direction.
        const double br = bearing * 3.14159265358979 / 180;
        const double dlat = (r * 0.999) * std::cos(br) / 111195.0;
        const double dlon = (r * 0.999) * std::sin(br) / (111195.0 * std::cos(lat * 3.14159265358979 / 180));
        const auto plat = static_cast<std::int64_t>((lat + dlat) * 1e6),
                   plon = static_cast<std::int64_t>((lon + dlon) * 1e6);
        CHECK(plat >= b.lat_min_e6);
        CHECK(plat <= b.lat_max_e6);
        CHECK(plon >= b.lon_min_e6);
        CHECK(plon <= b.lon_max_e6);
    }
    CHECK_FALSE(b.lon_wraps);
    const auto wrap = geo::bounding_box(0, 179.99, 5000);
    CHECK(wrap.lon_wraps);
    CHECK(geo::bounding_box(89.99, 0, 5000).all_lon);
}

TEST_CASE("open_now: opening hours are read in the station's zone, including past midnight") {
    const auto day = geo::parse_open_hours("08:00-22:00");
    REQUIRE(day);
    // 2024-11-21 00:00:00 UTC = 08:00 in Shanghai (+08:00).
    const pilehub::EpochMs midnight_utc = 1732147200000;
    const std::int32_t sh = 8 * 3600;
    CHECK(geo::open_at(*day, midnight_utc, sh));                           // 08:00 local: opens
    CHECK_FALSE(geo::open_at(*day, midnight_utc - 60'000, sh));            // 07:59 local
    CHECK(geo::open_at(*day, midnight_utc + 14 * 3'600'000 - 60'000, sh)); // 21:59 local
    CHECK_FALSE(geo::open_at(*day, midnight_utc + 14 * 3'600'000, sh));    // 22:00 local: closed
    CHECK_FALSE(geo::open_at(*day, midnight_utc, 0));                      // 00:00 in UTC

    const auto night = geo::parse_open_hours("22:00-06:00");
    REQUIRE(night);
    CHECK(geo::open_at(*night, midnight_utc + 15 * 3'600'000, sh));      // 23:00 local
    CHECK(geo::open_at(*night, midnight_utc + 21 * 3'600'000, sh));      // 05:00 local
    CHECK_FALSE(geo::open_at(*night, midnight_utc + 4 * 3'600'000, sh)); // 12:00 local

    const auto always = geo::parse_open_hours("00:00-24:00");
    REQUIRE(always);
    for (int h = 0; h < 24; ++h)
        CHECK(geo::open_at(*always, midnight_utc + h * 3'600'000, sh));
}

TEST_CASE("open_now: malformed opening hours are refused") {
    for (const char* bad :
         {"", "8:00-22:00", "08:00-25:00", "24:00-08:00", "08:60-09:00", "08:00_22:00", "aa:bb-cc:dd", "08:00-24:30"})
        CHECK_FALSE(geo::parse_open_hours(bad));
}
