#pragma once
#include "common/db.hpp"
#include "common/tariff.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// The SQL of "which tariff prices this session": the one lookup sessiond (at the start),
/// billingd (settlement, running cost) and autostopd (caps, tiers) share, so that they can never
/// disagree about a session's price.
namespace pilehub::billing {

/// Which target a tariff version was saved for, least specific first: a station's versions apply to
/// its sockets unless their area has a version in effect, an area's unless the device has one.
enum class TariffLevel { Station, Area, Device };

/// `station`, `area` or `device` (the `level` the API shows).
std::string_view to_string(TariffLevel level);

/// One saved tariff version (a `tariffs` row), not parsed yet.
struct StoredTariff {
    std::int64_t id = 0;
    EpochMs saved_at_ms = 0;       ///< created_at
    EpochMs effective_from_ms = 0; ///< effective_from
    std::string document;
    TariffLevel level = TariffLevel::Station; ///< device_id set: Device; else area_id set: Area
};

/// The version that prices a session started at `at` among a socket's candidates (any mix of
/// levels): the most specific level with a version in effect at `at`, and in it version_in_force()
/// (the latest effective_from, then the later save, then the higher id). A device's version saved
/// for a later time leaves its area's (or station's) in force until then. nullptr if none.
const StoredTariff* most_specific_in_force(const std::vector<StoredTariff>& candidates, EpochMs at);

/// Reads tariff versions and chooses among them with version_in_force(). Versions never change once
/// saved, so parsed documents are cached by id. One thread per instance.
class TariffStore {
public:
    explicit TariffStore(db::Database& core) : db_(core) {}

    /// The versions that may price a session on a socket of device `device_id` in `area_id` of
    /// `station_id`: the device's own versions (wherever they were saved), the area's and the
    /// station's (those without area or device), each with its level. `device_id` is nullopt for
    /// what has no device (a parking space); `area_id` for a device outside any area.
    std::vector<StoredTariff> candidates(std::int64_t station_id, std::optional<std::int64_t> area_id,
                                         const std::optional<std::string>& device_id);
    /// The version in force at `at` among candidates(), as most_specific_in_force() chooses it.
    /// `id` empty when none was in force; `tariff` null (and `problem` set) when the chosen version
    /// cannot be read, in which case no older or less specific one stands in.
    TariffChoice in_force(std::int64_t station_id, std::optional<std::int64_t> area_id,
                          const std::optional<std::string>& device_id, EpochMs at);
    /// A version by id (a session's `tariff_id`).
    TariffChoice by_id(std::int64_t id);
    /// The version that prices session `sid`: its `tariff_id` (sessiond sets it when it creates
    /// the session); for an older row without one, in_force() for its device (with the device's area)
    /// at the session's station at its start (started_at, else created_at). Empty if the session does not exist.
    TariffChoice for_session(const std::string& sid);

private:
    TariffChoice parsed(std::int64_t id, const std::string& document);

    db::Database& db_;
    std::map<std::int64_t, std::shared_ptr<const Tariff>> cache_;
};

} // namespace pilehub::billing
