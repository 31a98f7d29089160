#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/svc/session_state.hpp"
#include "workers/alertd/alertd_rules.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// alertd's SQL: the `alerts` rows and the `alert_deliveries` outbox (schema/core/014_alerts.sql),
/// and what its scans read (stuck sessions, flagged payment orders, a device's temp_warn_c).
namespace pilehub::alertd {

inline constexpr std::string_view kSqlLoadCurrent =
    "SELECT kind, ifnull(device_id, ''), n, subject FROM alerts WHERE state IN ('open', 'acknowledged')";
inline constexpr std::string_view kSqlInsertAlert =
    "INSERT INTO alerts (kind, device_id, n, subject, dedup_key, state, severity, detail, opened_at, last_seen) "
    "VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?7, ?8, ?8) "
    "ON CONFLICT (dedup_key) WHERE state IN ('open', 'acknowledged') DO NOTHING RETURNING id";
inline constexpr std::string_view kSqlInsertDelivery =
    "INSERT INTO alert_deliveries (alert_id, event, attempts, next_at) VALUES (?1, ?2, 0, ?3) "
    "ON CONFLICT (alert_id, event) DO NOTHING";
inline constexpr std::string_view kSqlTouch =
    "UPDATE alerts SET last_seen = ?2 WHERE dedup_key = ?1 AND state IN ('open', 'acknowledged')";
inline constexpr std::string_view kSqlResolve =
    "UPDATE alerts SET state = 'resolved', resolved_by = 'system', resolved_at = ?2, last_seen = ?2, "
    "detail = CASE WHEN ?3 = '' THEN detail ELSE detail || ' / ' || ?3 END "
    "WHERE dedup_key = ?1 AND state IN ('open', 'acknowledged') RETURNING id";
inline constexpr std::string_view kSqlDeviceKind = "SELECT kind FROM devices WHERE id = ?1";
inline constexpr std::string_view kSqlDesiredConfig = "SELECT desired FROM device_config WHERE device_id = ?1";
// Starting and stopping wait for the pile's answer, a suspended session for its pile; a charging
// session waits for its next report.
inline constexpr std::string_view kSqlStuckSessions =
    "SELECT id, device_id, n, state, CASE WHEN state = 'charging' THEN coalesce(last_report_at, started_at, "
    "updated_at) ELSE updated_at END AS since FROM sessions "
    "WHERE state IN " PILEHUB_TAKES_REPORTS_SQL " AND since < ?1 ORDER BY since LIMIT 1000";
inline constexpr std::string_view kSqlPaymentAnomalies =
    "SELECT id, anomaly FROM payments WHERE anomaly <> '' ORDER BY created_at DESC LIMIT 1000";
inline constexpr std::string_view kSqlDueDeliveries =
    "SELECT d.id, d.alert_id, d.event, d.attempts, a.kind, ifnull(a.device_id, ''), a.n, a.subject, a.state, "
    "a.severity, a.detail, a.opened_at FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
    "WHERE d.delivered_at IS NULL AND d.next_at <= ?1 ORDER BY d.next_at, d.id LIMIT ?2";
inline constexpr std::string_view kSqlDelivered =
    "UPDATE alert_deliveries SET delivered_at = ?2, attempts = attempts + 1, last_error = '' WHERE id = ?1";
inline constexpr std::string_view kSqlDeliveryFailed =
    "UPDATE alert_deliveries SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE id = ?1";
inline constexpr std::string_view kSqlNextDue = "SELECT min(next_at) FROM alert_deliveries WHERE delivered_at IS NULL";

/// One alert as the outbox delivers it and alertd publishes it (the API has its own, fuller view).
struct OutgoingAlert {
    std::int64_t id = 0;
    std::string kind;
    std::string device_id;
    std::int64_t n = 0;
    std::string subject;
    std::string state;
    std::string severity;
    std::string detail;
    EpochMs opened_at = 0;
};

/// One delivery due.
struct Delivery {
    std::int64_t id = 0;
    std::string event; ///< opened, acked, resolved
    std::int64_t attempts = 0;
    OutgoingAlert alert;
};

class Store {
public:
    explicit Store(db::Database& db) : db_(db) {}

    /// The current (open or acknowledged) alerts.
    std::vector<Current> load_current();
    /// Opens the alert of `d` (and, with `deliver`, queues its webhook delivery, due now) in one
    /// transaction. Its id; nullopt when the key already has a current alert (nothing written).
    std::optional<std::int64_t> open(const Decision& d, bool deliver);
    /// Refreshes last_seen of the key's current alert.
    void touch(const Decision& d);
    /// Resolves the key's current alert by `system`; its id, nullopt when there was none.
    std::optional<std::int64_t> resolve(const Decision& d);

    /// The registered kind of `dev` (`ebike_pile`, `ev_charger`, `camera`); nullopt if unregistered.
    std::optional<std::string> device_kind(const std::string& dev);
    /// temp_warn_c of the device's desired configuration.
    std::optional<double> temp_warn(const std::string& dev);
    /// Sessions starting, stopping or charging without a change or report since before `before`.
    std::vector<StuckSession> stuck_sessions(EpochMs before);
    /// Payment orders flagged with an anomaly.
    std::vector<PaymentAnomaly> payment_anomalies();

    /// Deliveries due at `now`, oldest first, at most `limit`.
    std::vector<Delivery> due(EpochMs now, std::int64_t limit);
    void delivered(std::int64_t delivery_id, EpochMs at);
    void failed(std::int64_t delivery_id, EpochMs next_at, const std::string& error);
    /// When the next undelivered delivery is due; nullopt when none waits.
    std::optional<EpochMs> next_due();

private:
    db::Database& db_;
};

} // namespace pilehub::alertd
