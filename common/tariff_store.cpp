#include "common/tariff_store.hpp"

namespace pilehub::billing {
namespace {

constexpr const char* kAreaTariffs =
    "SELECT id, created_at, effective_from, document FROM tariffs WHERE station_id = ?1 AND area_id = ?2";
constexpr const char* kStationTariffs =
    "SELECT id, created_at, effective_from, document FROM tariffs WHERE station_id = ?1 AND area_id IS NULL";
constexpr const char* kTariffById = "SELECT document FROM tariffs WHERE id = ?1";
constexpr const char* kSessionTariffKeys =
    "SELECT s.tariff_id, s.station_id, d.area_id, coalesce(s.started_at, s.created_at) "
    "FROM sessions s LEFT JOIN devices d ON d.id = s.device_id WHERE s.id = ?1";

std::vector<StoredTariff> read_rows(db::Statement& q) {
    std::vector<StoredTariff> out;
    while (q.step())
        out.push_back({q.int64(0), q.int64(1), q.int64(2), q.text(3)});
    return out;
}

} // namespace

std::vector<StoredTariff> TariffStore::candidates(std::int64_t station_id, std::optional<std::int64_t> area_id) {
    if (area_id) {
        db::Statement q(db_, kAreaTariffs);
        q.bind(1, station_id).bind(2, *area_id);
        auto rows = read_rows(q);
        if (!rows.empty())
            return rows;
    }
    db::Statement q(db_, kStationTariffs);
    q.bind(1, station_id);
    return read_rows(q);
}

TariffChoice TariffStore::in_force(std::int64_t station_id, std::optional<std::int64_t> area_id, EpochMs at) {
    const auto rows = candidates(station_id, area_id);
    const auto* v = version_in_force(rows, at);
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
    q.reset();
    return tariff_id ? by_id(*tariff_id) : in_force(station_id, area_id, start);
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
