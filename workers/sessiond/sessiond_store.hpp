#pragma once
#include "common/db.hpp"
#include "common/money.hpp"
#include "workers/sessiond/sessiond_rules.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

/// sessiond's SQL over the core database: the sessions it creates and moves, their events, the
/// de-duplication of device message ids, and the read-only lookups of its pre-checks.
namespace pilehub::sessiond {

/// The `processed_messages.consumer` of sessiond.
inline constexpr std::string_view kConsumer = "sessiond";

/// One row of `sessions`, as sessiond reads it.
struct SessionRow {
    std::string id;
    std::int64_t account_id = 0; ///< 0 for an operator's session (NULL in the row)
    std::string method;          ///< app | card | operator
    std::optional<std::string> card_no;
    std::string device_id;
    int n = 0;
    std::int64_t station_id = 0;
    std::string mode; ///< time | power | energy
    std::optional<std::int64_t> minutes;
    std::optional<std::int64_t> tariff_id;
    State state = State::Starting;
    std::optional<std::string> stop_reason;
    std::optional<std::string> stop_requested;
    std::optional<EpochMs> stop_requested_at;   ///< when the platform first asked the pile to stop (its clock)
    std::optional<std::int64_t> max_fen;        ///< the rider's prepaid amount (CONTRACT D.1)
    std::optional<std::int64_t> meter_start_wh; ///< EV: the meter register at the start
    std::optional<std::int64_t> meter_stop_wh;  ///< EV: the meter register at the stop (with the record)
    std::optional<int> soc_pct;                 ///< EV: the car's state of charge in the latest report
    std::optional<std::string> failure;
    EpochMs created_at = 0;
    std::optional<EpochMs> started_at;
    std::optional<EpochMs> ended_at;
    std::int64_t energy_wh = 0;
    std::int64_t duration_s = 0;
    std::int64_t max_power_w = 0;
    std::int64_t last_power_w = 0;
    std::optional<EpochMs> last_report_at;
    std::optional<std::string> record_msg_id;
    std::optional<std::int64_t> cost_fen;
    std::optional<std::string> cmd_rid;
    std::optional<EpochMs> cmd_exp;
    EpochMs updated_at = 0;
    std::optional<std::string> operator_name; ///< method operator: who started it (commissioning)

    /// The facts the rules need.
    Facts facts() const {
        return Facts{record_msg_id.has_value(), started_at.has_value(), stop_requested.has_value(),
                     cmd_rid && *cmd_rid == command_rid(id, CommandKind::Stop)};
    }
};

/// A registered e-bike socket or EV gun with what the pre-checks need.
struct SocketInfo {
    std::string device_id;
    int n = 0;
    std::string kind;            ///< the device's kind
    bool enabled = false;        ///< in service: socket, device, its area, station, property and provider all enabled
    bool installed = false;      ///< the device's lifecycle is `installed` (not in stock, not retired)
    std::int64_t station_id = 0; ///< 0 for a device in stock
    std::optional<std::int64_t> area_id;
    std::optional<std::int64_t>
        rated_power_w; ///< sockets.socket_overload_w when the registry sets one; a gun's max_power_w
};

/// A card by its number (= reader UID).
struct CardInfo {
    std::string card_no;
    std::optional<std::int64_t> account_id;
    std::string status; ///< active | lost | unbound | replaced
};

/// A device message id for de-duplication.
struct MessageKey {
    std::string device_id;
    std::string msg_id;
};

/// A new session row (state `starting`).
struct NewSession {
    std::string id;
    std::int64_t account_id = 0;
    std::string method; ///< app | card
    std::optional<std::string> card_no;
    std::string device_id;
    int n = 0;
    std::int64_t station_id = 0;
    std::string mode;
    std::optional<std::int64_t> minutes;
    std::optional<std::int64_t> tariff_id;
    std::optional<std::string> cmd_rid; ///< the start command (app) or none (card: the pile starts itself)
    EpochMs cmd_exp = 0;                ///< the command's exp, or the deadline for the pile to start
    EpochMs created_at = 0;
    std::optional<std::int64_t> max_fen;        ///< the rider's prepaid amount
    std::optional<std::int64_t> meter_start_wh; ///< EV card sessions started at the charger: its register
    std::optional<std::string> operator_name;   ///< method operator: who started it (no account)
    std::string actor;                          ///< rider | card | operator:<name>
    std::string reason;                         ///< start | card | commissioning
};

/// A command sent to a device, for the command log (`device_commands`).
struct CommandSent {
    std::string device_id;
    std::string name; ///< the cmd/{name} leaf
    std::optional<int> n;
    std::string rid;
    std::string payload = "{}"; ///< the command's data, JSON
    std::string requested_by;   ///< an operator's name, rider:<account>, card:<card>, system:<worker>
    std::optional<std::string> sid;
    EpochMs at = 0;
};
/// The end of a logged command: the device's final reply, or its time-out (no status).
struct CommandAnswered {
    std::string rid;
    std::optional<std::string> status; ///< the reply's status word; none for a time-out
    std::optional<std::string> reply;  ///< the reply's code, msg and data, JSON
    std::string outcome;               ///< ok | rejected | failed | timeout | expired | ...
    EpochMs at = 0;
};
using CommandLogEntry = std::variant<CommandSent, CommandAnswered>;

/// What became of create().
enum class CreateOutcome {
    Created,
    SocketTaken, ///< sessions_one_per_socket: a live session holds the socket
    MethodTaken, ///< sessions_one_per_method: the account has a live session of this method
    Duplicate,   ///< the device message id was already handled
};

/// The pile's session record (or a synthesized one) as committed into the row.
struct RecordData {
    std::string msg_id; ///< the request's `id`, or `forced:<sid>`
    std::string stop_reason;
    std::int64_t energy_wh = 0;
    std::int64_t duration_s = 0;
    std::int64_t max_power_w = 0;
    std::optional<EpochMs> started_at;
    EpochMs ended_at = 0;
    std::optional<std::int64_t> meter_start_wh; ///< EV records: the register at the start and the stop
    std::optional<std::int64_t> meter_stop_wh;
};

/// A session's latest live figures from its pile's reports (one report, or several merged).
struct Report {
    std::string device_id;
    std::string sid;
    std::optional<std::int64_t> energy_wh; ///< energy so far (the highest reported), if the device reported it
    std::int64_t power_w = 0;              ///< power now (the latest reported)
    std::int64_t max_power_w = 0;          ///< the highest power among the merged reports
    EpochMs at = 0;                        ///< when the latest was received
    std::optional<std::int64_t> register_wh =
        std::nullopt;                          ///< EV: the meter register (energy = its rise since meter_start_wh)
    std::optional<int> soc_pct = std::nullopt; ///< EV: the car's state of charge, the latest reported
    /// Folds a later report of the same session in: energy and max power only grow, power and time are the latest.
    void merge(const Report& later);
};

/// Something an operator should look at (the `incidents` table).
struct Incident {
    std::string kind; ///< one of incidents::kKinds (common/incidents.hpp)
    std::string device_id;
    std::optional<std::string> session_id;
    std::string detail;
    EpochMs at = 0;
};

/// What happens to the outstanding command with a change.
enum class CommandChange { Keep, Clear, Set };

/// One conditional change of a session: moves it from `from` to `to` (possibly the same state,
/// when only a record is committed or a stop is sent) and writes one session_events row.
struct Change {
    std::string sid;
    State from = State::Starting;
    State to = State::Starting;
    std::string reason;
    std::string actor;
    EpochMs at = 0;
    std::optional<RecordData> record;
    std::optional<std::string> stop_requested; ///< set if the row has none yet (with stop_requested_at = at)
    std::optional<std::string> failure;
    std::optional<EpochMs> started_at; ///< set if the row has none yet
    CommandChange command = CommandChange::Keep;
    std::string cmd_rid;              ///< with CommandChange::Set
    EpochMs cmd_exp = 0;              ///< with CommandChange::Set
    std::optional<MessageKey> msg;    ///< recorded in processed_messages in the same transaction
    std::optional<Incident> incident; ///< written in the same transaction
};

/// What became of apply().
enum class Applied {
    Done,      ///< committed
    Stale,     ///< the row is no longer in `from` (or already has a record): nothing written
    Duplicate, ///< the message id was already handled: nothing written
};

/// sessiond's SQL. Each write is one short transaction (BEGIN IMMEDIATE). Not thread-safe.
class Store {
public:
    explicit Store(db::Database& db) : db_(db) {}

    // --- lookups ---
    std::optional<SessionRow> session(const std::string& id);
    /// Every session that is not completed or failed, oldest first.
    std::vector<SessionRow> open_sessions();
    /// The live session holding a socket, if any.
    std::optional<SessionRow> live_on_socket(const std::string& device_id, int n);
    /// The live sessions on one device.
    std::vector<SessionRow> live_on_device(const std::string& device_id);
    /// Whether the account has a live session started by `method`.
    bool has_live_method(std::int64_t account_id, const std::string& method);
    /// An e-bike socket or EV gun of the registry, with its station; nothing if unknown.
    std::optional<SocketInfo> socket(const std::string& device_id, int n);
    /// Whether a fault record is open on the socket or on the whole device.
    bool has_open_fault(const std::string& device_id, int n);
    std::optional<CardInfo> card(const std::string& card_no);
    /// presenced's last word on the device (device_presence.online), if it wrote one.
    std::optional<bool> presence(const std::string& device_id);
    /// Whether a device message id was already handled.
    bool processed(const MessageKey& key);
    /// A registered device's kind (`ebike_pile`, `ev_charger`, `camera`); nothing if unknown.
    std::optional<std::string> device_kind(const std::string& device_id);
    /// Whether a device is registered (any kind).
    bool device_exists(const std::string& device_id);
    /// When the session last entered `state` (its session_events), if it ever did.
    std::optional<EpochMs> entered_at(const std::string& sid, State state);
    /// Incidents of a session, oldest first (tests, logs).
    std::vector<Incident> incidents(const std::string& sid);

    // --- writes ---
    /// Inserts a new `starting` session and its first event (and `msg`) in one transaction.
    CreateOutcome create(const NewSession& s, const std::optional<MessageKey>& msg);
    /// One conditional transition; see Change.
    Applied apply(const Change& c);
    /// An EV session's meter register at its start, if the row has none yet (one short transaction).
    void set_meter_start(const std::string& sid, std::int64_t meter_start_wh, EpochMs now);
    /// Records a message id handled without any other effect; false if it was already recorded.
    bool mark_processed(const MessageKey& key, EpochMs now);
    /// Live sessions' latest figures (each only into a row of its device that has no record yet),
    /// in one transaction: energy so far, power now, max power. Returns how many rows changed.
    int report(const std::vector<Report>& reports);
    /// Writes command log entries, in order, in one transaction (a resend's second CommandSent is
    /// nothing; a later answer replaces an earlier one).
    void log_commands(const std::vector<CommandLogEntry>& entries);

private:
    db::Database& db_;
};

} // namespace pilehub::sessiond
