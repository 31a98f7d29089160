#pragma once
#include "common/db.hpp"
#include "common/tariff.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

/// The SQL of "which tariff prices this session": the one lookup sessiond (at the start),
/// billingd (settlement, running cost) and autostopd (caps, tiers) share, so that they can never
/// disagree about a session's price.
namespace pilehub::billing {

/// One saved tariff version (a `tariffs` row), not parsed yet.
struct StoredTariff {
    std::int64_t id = 0;
    EpochMs saved_at_ms = 0;       ///< created_at
    EpochMs effective_from_ms = 0; ///< effective_from
    std::string document;
};

/// Reads tariff versions and chooses among them with version_in_force(). Versions never change once
/// saved, so parsed documents are cached by id. One thread per instance.
class TariffStore {
public:
    explicit TariffStore(db::Database& core) : db_(core) {}

    /// The versions that may price a session on a socket of `station_id` in `area_id`: the area's
    /// own versions if the area has any, else the station's (those without an area).
    std::vector<StoredTariff> candidates(std::int64_t station_id, std::optional<std::int64_t> area_id);
    /// The version in force at `at` among candidates(): the latest effective_from ≤ at (ties: the
    /// later save, then the higher id). `id` empty when none was in force; `tariff` null (and
    /// `problem` set) when the chosen version cannot be read, in which case no older one stands in.
    TariffChoice in_force(std::int64_t station_id, std::optional<std::int64_t> area_id, EpochMs at);
    /// A version by id (a session's `tariff_id`).
    TariffChoice by_id(std::int64_t id);
    /// The version that prices session `sid`: its `tariff_id` (sessiond sets it when it creates
    /// the session); for an older row without one, in_force() for its device's station and area at
    /// its start (started_at, else created_at). Empty if the session does not exist.
    TariffChoice for_session(const std::string& sid);

private:
    TariffChoice parsed(std::int64_t id, const std::string& document);

    db::Database& db_;
    std::map<std::int64_t, std::shared_ptr<const Tariff>> cache_;
};

} // namespace pilehub::billing
