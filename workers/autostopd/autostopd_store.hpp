#pragma once
#include "common/db.hpp"
#include "common/tariff_store.hpp"
#include "workers/autostopd/autostopd_rules.hpp"

#include <optional>
#include <string>
#include <string_view>

/// autostopd's SQL. It only reads the core database: sessions with their tariff, devices, the
/// sockets' registered overload ratings and the stored desired configuration.
namespace pilehub::autostopd {

inline constexpr std::string_view kSqlSession =
    "SELECT s.device_id, s.n, s.mode, s.minutes, s.state, coalesce(s.started_at, s.created_at), s.station_id, "
    "s.max_fen, s.meter_start_wh FROM sessions s WHERE s.id = ?1";
inline constexpr std::string_view kSqlSessionOn =
    "SELECT id FROM sessions WHERE device_id = ?1 AND n = ?2 AND state IN " PILEHUB_HOLDS_SOCKET_SQL;
inline constexpr std::string_view kSqlDeviceKind = "SELECT kind FROM devices WHERE id = ?1";
inline constexpr std::string_view kSqlSocketRatings =
    "SELECT n, socket_overload_w FROM sockets WHERE device_id = ?1 AND socket_overload_w IS NOT NULL";
inline constexpr std::string_view kSqlDesiredConfig = "SELECT desired FROM device_config WHERE device_id = ?1";

/// A session row as autostopd needs it.
struct SessionRow {
    SessionTerms terms;
    svc::SessionState state = svc::SessionState::Starting;
    std::string tariff_error; ///< why the tariff could not be read (terms then lack its caps)
};

/// Reads the session's terms out of a tariff (caps, power tiers).
void apply_tariff(const billing::Tariff& tariff, SessionTerms& terms);
/// The same from a tariff document; the error if unreadable.
std::optional<std::string> apply_tariff(std::string_view document, SessionTerms& terms);

/// Reads a stored or published e-bike pile configuration document: a `cfg/desired` message, its
/// `data`, or a flat object of keys. nullopt if it cannot be read.
std::optional<payloads::EbikeConfig> config_from_document(std::string_view text);
/// The same for an EV charger's document (`ev_cfg_desired`).
std::optional<payloads::EvConfig> ev_config_from_document(std::string_view text);

/// autostopd's reads. One thread uses it.
class Store {
public:
    explicit Store(db::Database& core) : db_(core), tariffs_(core) {}
    /// The session `sid` with its tariff's terms (the version billing::TariffStore::for_session
    /// names, as sessiond and billingd see it); nullopt if there is no such row.
    std::optional<SessionRow> session(const std::string& sid);
    /// The registered kind of a device; nullopt if the device is unknown.
    std::optional<Kind> device_kind(const std::string& dev);
    /// The session that holds socket/gun n of a device (starting .. settling: at most one), if any.
    std::optional<std::string> session_on(const std::string& dev, int n);
    /// The device's limits from the registry and the stored desired configuration (CONTRACT
    /// defaults for what is missing); nullopt if the device is unknown.
    std::optional<DeviceLimits> limits(const std::string& dev);

private:
    db::Database& db_;
    billing::TariffStore tariffs_;
};

} // namespace pilehub::autostopd
