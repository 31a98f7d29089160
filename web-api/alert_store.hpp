#pragma once
#include "common/alerts.hpp"
#include "common/clock.hpp"
#include "common/db.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// The operators' side of the alerts alertd raises (schema/core/014_alerts.sql): lists, one alert,
/// acknowledge and resolve under the state machine of common/alerts.hpp.
namespace pilehub::api {

/// One `alerts` row with the station of its device (nullopt: no device, or an unknown one; only
/// unscoped operators see those).
struct AlertRow {
    std::int64_t id = 0;
    std::string kind;
    std::optional<std::string> device_id;
    std::int64_t n = 0;
    std::string subject;
    std::string state;
    std::string severity;
    std::string detail;
    EpochMs opened_at = 0;
    std::optional<std::string> acked_by;
    std::optional<EpochMs> acked_at;
    std::optional<std::string> resolved_by;
    std::optional<EpochMs> resolved_at;
    EpochMs last_seen = 0;
    std::optional<std::int64_t> station_id;
};

struct AlertFilter {
    std::string state;                           ///< open, acknowledged, resolved; empty: any
    std::string kind;                            ///< empty: any
    std::string device_id;                       ///< empty: any
    std::optional<std::int64_t> station_id;      ///< the device's station; nullopt: any
    std::optional<EpochMs> from, to;             ///< opened_at in [from, to)
    std::optional<std::set<std::int64_t>> scope; ///< stations in scope (nullopt: every station and none)
    std::int64_t limit = 50, offset = 0;
};

/// What an operator's acknowledge or resolve did.
enum class AlertChange { Done, NotFound, WrongState };

class AlertStore {
public:
    explicit AlertStore(db::Database& d) : db_(d) {}
    /// Newest first, one page of the rows in scope.
    std::vector<AlertRow> list(const AlertFilter& f);
    std::optional<AlertRow> get(std::int64_t id);
    /// Acknowledges (`event` Ack) or resolves (`event` Resolve) alert `id` as `who` at `at`, when
    /// common/alerts.hpp allows it from the alert's state; a concurrent change is WrongState.
    AlertChange change(std::int64_t id, alerts::Event event, const std::string& who, EpochMs at);

private:
    db::Database& db_;
};

} // namespace pilehub::api
