#pragma once
#include "common/db.hpp"
#include "common/money.hpp"
#include "common/svc.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// Read access to charging sessions (owned by sessiond and billingd, docs/topics.md), their
/// transitions and power curves.
namespace pilehub::api {

struct SessionRow {
    std::string id;
    std::int64_t account_id = 0;
    std::string method;
    std::optional<std::string> card_no;
    std::string device_id;
    int n = 0;
    std::int64_t station_id = 0;
    std::string mode;
    std::optional<std::int64_t> minutes;
    std::optional<std::int64_t> tariff_id;
    svc::SessionState state = svc::SessionState::Starting;
    std::optional<std::string> stop_reason, stop_requested, failure;
    EpochMs created_at = 0;
    std::optional<EpochMs> started_at, ended_at;
    std::int64_t energy_wh = 0, duration_s = 0, max_power_w = 0, last_power_w = 0;
    std::optional<EpochMs> last_report_at;
    std::optional<std::int64_t> cost_fen;
    EpochMs updated_at = 0;
    std::string phone;                   ///< the account's
    std::string kind;                    ///< `ebike` (a socket of an e-bike pile) or `ev` (a gun of a charger)
    std::optional<std::int64_t> max_fen; ///< the rider's prepaid amount (CONTRACT D.1)
    std::optional<std::int64_t> soc_pct; ///< the car's state of charge in the latest report
    /// The settlement's split of the priced amount (BILLING §5), once settled (NULL on older rows).
    std::optional<std::int64_t> electricity_fen, service_fen;
    std::optional<std::string> operator_name; ///< method operator: who commissioned the socket (no account)
};

struct SessionEventRow {
    EpochMs at = 0;
    std::optional<std::string> from_state;
    std::string to_state, reason, actor;
};

/// One point of a power curve.
struct SampleRow {
    EpochMs t = 0;
    std::int64_t power_w = 0;
    std::int64_t energy_wh = 0;
};

/// billingd's settlement of a session (schema/core/004_settlements.sql).
struct SettlementRow {
    std::int64_t priced_fen = 0, debited_fen = 0, shortfall_fen = 0;
    std::string bill; ///< the bill's JSON text
    std::string note;
    EpochMs settled_at = 0;
};

struct SessionFilter {
    std::optional<std::int64_t> account_id;
    std::optional<std::int64_t> station_id;
    std::string device_id;
    std::string phone;               ///< the rider's phone, exactly; empty: any
    std::string state;               ///< a state word, `active` (every state that holds its socket) or empty (any)
    std::string method;              ///< app, card, operator or empty
    std::string kind;                ///< ebike, ev or empty (either)
    std::optional<EpochMs> from, to; ///< created_at range
    std::optional<std::set<std::int64_t>> scope; ///< stations in scope (nullopt: every station)
    std::int64_t limit = 50, offset = 0;
};

class SessionStore {
public:
    explicit SessionStore(db::Database& d) : db_(d) {}
    std::optional<SessionRow> session(const std::string& id);
    std::vector<SessionRow> sessions(const SessionFilter& f);
    std::vector<SessionEventRow> events(const std::string& id);
    /// The settlement of a session, once billingd has settled it.
    std::optional<SettlementRow> settlement(const std::string& session_id);
    /// Whether any session, of any state, was ever started on the device.
    bool device_has_sessions(const std::string& device_id);
    /// Whether a session holds one of the device's sockets or guns (svc::holds_socket).
    bool device_has_live_session(const std::string& device_id);

private:
    db::Database& db_;
};

/// The power curve of a session from the telemetry database, thinned to at most `max_points`
/// (the first and last samples are always kept).
std::vector<SampleRow> session_samples(db::Database& telemetry, const std::string& session_id, std::size_t max_points);

} // namespace pilehub::api
