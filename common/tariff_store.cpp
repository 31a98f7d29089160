#include "common/tariff_store.hpp"

#include <tuple>

namespace pilehub::billing {
namespace {

// ?1 station, ?2 area (NULL: none), ?3 device (NULL: none); the last column is the TariffLevel.
constexpr const char* kCandidates =
    "SELECT id, created_at, effective_from, document, "
    "CASE WHEN device_id IS NOT NULL THEN 2 WHEN area_id IS NOT NULL THEN 1 ELSE 0 END FROM tariffs "
    "WHERE device_id = ?3 OR (device_id IS NULL AND station_id = ?1 AND (area_id IS NULL OR area_id = ?2))";
constexpr const char* kTariffById = "SELECT document FROM tariffs WHERE id = ?1";
constexpr const char* kSessionTariffKeys =
    "SELECT s.tariff_id, s.station_id, d.area_id, coalesce(s.started_at, s.created_at), s.device_id "
    "FROM sessions s LEFT JOIN devices d ON d.id = s.device_id WHERE s.id = ?1";

} // namespace

std::string_view to_string(TariffLevel level) {
    switch (level) {
    case TariffLevel::Station:
        return "station";
    case TariffLevel::Area:
        return "area";
    case TariffLevel::Device:
        return "device";
    }
    return "station";
}

const StoredTariff* most_specific_in_force(const std::vector<StoredTariff>& candidates, EpochMs at) {
    // The level ranks first: any version of a more specific level in effect beats every less specific one.
    const StoredTariff* best = nullptr;
    for (const auto& v : candidates) {
        if (v.effective_from_ms > at)
            continue;
        if (!best ||
            std::tuple(static_cast<int>(v.level), v.effective_from_ms, v.saved_at_ms, v.id) >
                std::tuple(static_cast<int>(best->level), best->effective_from_ms, best->saved_at_ms, best->id))
            best = &v;
    }
    return best;
}

std::vector<StoredTariff> TariffStore::candidates(std::int64_t station_id, std::optional<std::int64_t> area_id,
                                                  const std::optional<std::string>& device_id) {
    db::Statement q(db_, kCandidates);
    q.bind(1, station_id).bind(2, area_id).bind(3, device_id);
    std::vector<StoredTariff> out;
    while (q.step())
        out.push_back({q.int64(0), q.int64(1), q.int64(2), q.text(3), static_cast<TariffLevel>(q.int64(4))});
    return out;
}

TariffChoice TariffStore::in_force(std::int64_t station_id, std::optional<std::int64_t> area_id,
                                   const std::optional<std::string>& device_id, EpochMs at) {
    const auto rows = candidates(station_id, area_id, device_id);
    const auto* v = most_specific_in_force(rows, at);
    if (!v)
        return {};
    return parsed(v->id, v->document);
}

TariffChoice TariffStore::by_id(std::int64_t id) {
    if (auto it = cache_.find(id); it != cache_.end())
        return TariffChoice{id, it->second, {}};
    db::Statement q(db_, kTariffById);
    q.bind(1, id);
    if (!q.step())
        return TariffChoice{id, nullptr, "no such tariff row"};
    return parsed(id, q.text(0));
}

TariffChoice TariffStore::for_session(const std::string& sid) {
    db::Statement q(db_, kSessionTariffKeys);
    q.bind(1, sid);
    if (!q.step())
        return {};
    const auto tariff_id = q.opt_int64(0);
    const auto station_id = q.int64(1);
    const auto area_id = q.opt_int64(2);
    const auto start = q.int64(3);
    const auto device_id = q.opt_text(4);
    q.reset();
    return tariff_id ? by_id(*tariff_id) : in_force(station_id, area_id, device_id, start);
}

TariffChoice TariffStore::parsed(std::int64_t id, const std::string& document) {
    if (auto it = cache_.find(id); it != cache_.end())
        return TariffChoice{id, it->second, {}};
    auto t = parse_tariff(document);
    if (!t)
        return TariffChoice{id, nullptr, t.error()};
    auto p = std::make_shared<const Tariff>(std::move(t).value());
    cache_.emplace(id, p);
    return TariffChoice{id, std::move(p), {}};
}

} // namespace pilehub::billing
