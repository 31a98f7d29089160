#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

/// The one list of charging-session states (BILLING.md §3, docs/topics.md) and the questions
/// every process asks about them. The partial unique indexes of schema/core/003 and every store
/// use kHoldsSocketSql instead of spelling the list again.
namespace pilehub::svc {

/// A session's state. sessiond sets every one except `Completed`, which billingd sets in the
/// settlement transaction.
enum class SessionState { Starting, Charging, Stopping, Suspended, Settling, Completed, Failed };

/// Every state, in declaration order (for table tests and for building lists).
inline constexpr std::array<SessionState, 7> kAllSessionStates{
    SessionState::Starting, SessionState::Charging,  SessionState::Stopping, SessionState::Suspended,
    SessionState::Settling, SessionState::Completed, SessionState::Failed};

/// The wire word: `starting`, `charging`, `stopping`, `suspended`, `settling`, `completed`, `failed`.
std::string_view to_string(SessionState s);
/// The state for a wire word (exact); nullopt for anything else.
std::optional<SessionState> parse_session_state(std::string_view s);

/// Whether a session in `s` holds its socket and counts against the one-app-plus-one-card limit:
/// starting, charging, stopping, suspended, settling (the partial unique indexes'
/// `sessions_one_per_socket` and `sessions_one_per_method` state list).
bool holds_socket(SessionState s);
/// Whether the pile is (about to be) delivering energy for the session: starting, charging.
/// What auto-stop watches.
bool is_running(SessionState s);
/// Whether the session is over for good: completed, failed.
bool is_ended(SessionState s);
/// Whether the session's duration still grows on the platform's clock: the pile confirmed the
/// start and is delivering or finishing (charging, stopping). Not `starting` (nothing confirmed
/// yet), nor `suspended` / `settling` (the pile is offline: the duration stays at its last report).
/// What the API adds to a live session's reported duration.
bool duration_grows(SessionState s);
/// Whether a device report (telemetry) for a session in `s` still counts for it: starting, charging,
/// stopping, suspended. The pile may report the session until its record settles it; not `settling`
/// (given up on: its record is synthesized from the last report) nor an ended session. sessiond
/// folds such reports into the session row (kTakesReportsSql).
bool takes_reports(SessionState s);
/// Whether a session is waiting for billingd to settle it once its record is committed: stopping,
/// settling (BILLING.md §4). billingd's settlement query and its re-check inside the settlement
/// transaction both ask this (kAwaitsSettlementSql).
bool awaits_settlement(SessionState s);

/// The socket-holding states as SQL, for string-literal concatenation in a store's SQL constants:
/// `"... WHERE state IN " PILEHUB_HOLDS_SOCKET_SQL`. Equal to holds_socket() over every state and
/// to the state list of the partial unique indexes (tests/unit/svc/test_session_state.cpp).
#define PILEHUB_HOLDS_SOCKET_SQL "('starting', 'charging', 'stopping', 'suspended', 'settling')"
/// The same list as a constant, for SQL built at run time.
inline constexpr std::string_view kHoldsSocketSql = PILEHUB_HOLDS_SOCKET_SQL;

/// The states in which a report counts (takes_reports) as SQL: `"... AND state IN " PILEHUB_TAKES_REPORTS_SQL`.
#define PILEHUB_TAKES_REPORTS_SQL "('starting', 'charging', 'stopping', 'suspended')"
inline constexpr std::string_view kTakesReportsSql = PILEHUB_TAKES_REPORTS_SQL;

/// The states awaiting settlement (awaits_settlement) as SQL: `"... AND state IN " PILEHUB_AWAITS_SETTLEMENT_SQL`.
#define PILEHUB_AWAITS_SETTLEMENT_SQL "('stopping', 'settling')"
inline constexpr std::string_view kAwaitsSettlementSql = PILEHUB_AWAITS_SETTLEMENT_SQL;

/// A SQL list `('a', 'b', ...)` of the states for which `pred` holds, in declaration order (what
/// the tests compare the constants above with).
template <typename Pred> std::string states_sql(Pred pred) {
    std::string out = "(";
    for (auto s : kAllSessionStates) {
        if (!pred(s))
            continue;
        if (out.size() > 1)
            out += ", ";
        out += "'" + std::string(to_string(s)) + "'";
    }
    return out + ")";
}

} // namespace pilehub::svc
