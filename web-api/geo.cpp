#include "web-api/geo.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace pilehub::api::geo {

namespace {
double rad(double deg) {
    return deg * std::numbers::pi / 180.0;
}
} // namespace

double distance_m(double lat1, double lon1, double lat2, double lon2) {
    const double p1 = rad(lat1), p2 = rad(lat2);
    const double dp = p2 - p1, dl = rad(lon2 - lon1);
    const double a =
        std::sin(dp / 2) * std::sin(dp / 2) + std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
    return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(a)));
}

Box bounding_box(double lat, double lon, double radius_m) {
    // Degrees of latitude per metre are constant; longitude shrinks with cos(latitude).
    const double dlat = radius_m / kEarthRadiusM * 180.0 / std::numbers::pi;
    Box b{};
    const double lat_min = std::max(-90.0, lat - dlat), lat_max = std::min(90.0, lat + dlat);
    b.lat_min_e6 = static_cast<std::int64_t>(std::floor(lat_min * 1e6));
    b.lat_max_e6 = static_cast<std::int64_t>(std::ceil(lat_max * 1e6));
    const double worst = std::max(std::fabs(lat_min), std::fabs(lat_max));
    if (worst >= 89.0) {
        b.all_lon = true;
        b.lon_min_e6 = -180'000'000;
        b.lon_max_e6 = 180'000'000;
        return b;
    }
    const double dlon = dlat / std::cos(rad(worst));
    if (dlon >= 180.0) {
        b.all_lon = true;
        b.lon_min_e6 = -180'000'000;
        b.lon_max_e6 = 180'000'000;
        return b;
    }
    double lo = lon - dlon, hi = lon + dlon;
    if (lo < -180.0) {
        lo += 360.0;
        b.lon_wraps = true;
    }
    if (hi > 180.0) {
        hi -= 360.0;
        b.lon_wraps = true;
    }
    b.lon_min_e6 = static_cast<std::int64_t>(std::floor(lo * 1e6));
    b.lon_max_e6 = static_cast<std::int64_t>(std::ceil(hi * 1e6));
    return b;
}

std::optional<OpenHours> parse_open_hours(std::string_view s) {
    if (s.size() != 11 || s[2] != ':' || s[5] != '-' || s[8] != ':')
        return std::nullopt;
    for (std::size_t i : {0u, 1u, 3u, 4u, 6u, 7u, 9u, 10u})
        if (s[i] < '0' || s[i] > '9')
            return std::nullopt;
    auto num = [&](std::size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); };
    const int oh = num(0), om = num(3), ch = num(6), cm = num(9);
    if (oh > 23 || om > 59 || cm > 59 || ch > 24 || (ch == 24 && cm != 0))
        return std::nullopt;
    return OpenHours{oh * 60 + om, ch * 60 + cm};
}

bool open_at(const OpenHours& h, EpochMs now, std::int32_t utc_offset_s) {
    if (h.open_min == h.close_min || (h.open_min == 0 && h.close_min == 1440))
        return true;
    const std::int64_t local_s = now / 1000 + utc_offset_s;
    const std::int64_t day_s = ((local_s % 86400) + 86400) % 86400;
    const int minute = static_cast<int>(day_s / 60);
    if (h.open_min < h.close_min)
        return minute >= h.open_min && minute < h.close_min;
    // Past midnight, e.g. 22:00-06:00.
    return minute >= h.open_min || minute < h.close_min;
}

} // namespace pilehub::api::geo
