#pragma once
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

/// Pure geometry and opening-hours rules for the rider's station search.
namespace pilehub::api::geo {

/// Mean Earth radius used for great-circle distances (IUGG), metres.
inline constexpr double kEarthRadiusM = 6371008.8;

/// Great-circle (haversine) distance in metres between two points given in degrees.
double distance_m(double lat1, double lon1, double lat2, double lon2);

/// A latitude/longitude box (micro-degrees) that contains every point within `radius_m` of the
/// centre, for an index scan before the exact distance filter. Longitude may wrap (min > max).
struct Box {
    std::int64_t lat_min_e6, lat_max_e6, lon_min_e6, lon_max_e6;
    bool lon_wraps = false; ///< the box crosses ±180°: match lon >= min OR lon <= max
    bool all_lon = false;   ///< near a pole: every longitude
};
Box bounding_box(double lat, double lon, double radius_m);

/// Opening hours `HH:MM-HH:MM` (local time, end 24:00 allowed; an end before the start runs
/// past midnight; equal start and end, or 00:00-24:00, means always open).
struct OpenHours {
    int open_min = 0;  ///< minutes after local midnight, 0..1439
    int close_min = 0; ///< 0..1440
};
/// Parses `HH:MM-HH:MM`; nothing if malformed.
std::optional<OpenHours> parse_open_hours(std::string_view s);
/// Whether a station with these hours is open at `now` (UTC epoch ms) in a zone `utc_offset_s`.
bool open_at(const OpenHours& h, EpochMs now, std::int32_t utc_offset_s);

} // namespace pilehub::api::geo
