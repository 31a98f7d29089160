#include "web-api/device_placement.hpp"

#include <fmt/format.h>

namespace pilehub::api {

bool sees_device(const Principal& who, const DeviceRow& d) {
    return d.station_id ? who.sees_station(*d.station_id) : who.all_stations;
}

lifecycle::Stage stage_of(const DeviceRow& d) {
    return lifecycle::parse_stage(d.lifecycle).value_or(lifecycle::Stage::Installed);
}

namespace {
std::optional<Refusal> lifecycle_refusal(SessionStore& sessions, const DeviceRow& d, lifecycle::Action action) {
    const auto stage = stage_of(d);
    // Only an installed device can hold a session; the query is not needed for the others.
    const lifecycle::Facts facts{stage == lifecycle::Stage::Installed && sessions.device_has_live_session(d.id)};
    const auto out = lifecycle::handle(stage, action, facts);
    if (out.refusal)
        return Refusal{*out.refusal, fmt::format("{}: {}", d.id, out.why)};
    return std::nullopt;
}
} // namespace

std::optional<Refusal> placement_refusal(CatalogStore& cat, SessionStore& sessions, const Principal& who,
                                         const DeviceRow& d, const Placement& to) {
    if (!cat.station(to.station_id) || !who.sees_station(to.station_id))
        return Refusal{ErrorCode::NotFound, fmt::format("no such station {}", to.station_id)};
    if (to.area_id) {
        const auto a = cat.area(*to.area_id);
        if (!a || a->station_id != to.station_id)
            return Refusal{ErrorCode::NotFound, fmt::format("no area {} in station {}", *to.area_id, to.station_id)};
    }
    const auto stage = stage_of(d);
    if (stage == lifecycle::Stage::Installed && d.station_id == to.station_id)
        return std::nullopt; // its own station: an area change, no relocation
    return lifecycle_refusal(sessions, d, lifecycle::placement_action(stage));
}

void apply_placement(DeviceRow& d, const Placement& to, EpochMs now) {
    const bool moves = d.lifecycle != "installed" || d.station_id != to.station_id;
    d.station_id = to.station_id;
    d.area_id = to.area_id;
    d.lifecycle = lifecycle::to_string(lifecycle::Stage::Installed);
    if (moves)
        d.installed_at = now;
}

std::optional<Refusal> retire_refusal(SessionStore& sessions, const DeviceRow& d) {
    return lifecycle_refusal(sessions, d, lifecycle::Action::Retire);
}

} // namespace pilehub::api
