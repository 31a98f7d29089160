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

std::optional<Refusal> place_device(db::Database& db, const Principal& who, DeviceRow& d, const Placement& to,
                                    EpochMs now) {
    db::Transaction tx(db);
    CatalogStore cat(db);
    SessionStore sessions(db);
    if (auto refusal = placement_refusal(cat, sessions, who, d, to))
        return refusal;
    apply_placement(d, to, now);
    cat.update_device(d);
    tx.commit();
    return std::nullopt;
}

std::optional<Refusal> retire_device(db::Database& db, DeviceRow& d, EpochMs now) {
    db::Transaction tx(db);
    SessionStore sessions(db);
    if (auto refusal = retire_refusal(sessions, d))
        return refusal;
    d.lifecycle = lifecycle::to_string(lifecycle::Stage::Retired);
    d.retired_at = now;
    CatalogStore(db).update_device(d);
    tx.commit();
    return std::nullopt;
}

std::vector<std::pair<std::string, Refusal>> assign_devices(db::Database& db, const Principal& who,
                                                            const std::vector<std::string>& ids, const Placement& to,
                                                            EpochMs now, std::vector<DeviceRow>& placed) {
    db::Transaction tx(db);
    CatalogStore cat(db);
    SessionStore sessions(db);
    std::vector<std::pair<std::string, Refusal>> refused;
    placed.clear();
    for (const auto& id : ids) {
        auto dev = cat.device(id);
        if (!dev || !sees_device(who, *dev)) {
            refused.emplace_back(id, Refusal{ErrorCode::UnknownDevice, "no such device"});
            continue;
        }
        if (auto refusal = placement_refusal(cat, sessions, who, *dev, to))
            refused.emplace_back(id, std::move(*refusal));
        else
            placed.push_back(std::move(*dev));
    }
    if (!refused.empty()) {
        placed.clear();
        return refused; // the transaction rolls back: nothing was written
    }
    for (auto& dev : placed) {
        apply_placement(dev, to, now);
        cat.update_device(dev);
    }
    tx.commit();
    return refused;
}

} // namespace pilehub::api
