#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/retention.hpp"
#include "common/rpc.hpp"
#include "common/socket_code.hpp"
#include "common/svc.hpp"
#include "common/tariff_store.hpp"
#include "workers/sessiond/card_auth.hpp"
#include "workers/sessiond/device_commands.hpp"
#include "workers/sessiond/sessiond_rules.hpp"
#include "workers/sessiond/sessiond_store.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace pilehub::sessiond {

/// sessiond's settings (the `sessiond.*` configuration keys).
struct Options {
    /// The rpc service name (`ph/v1/svc/rpc/{service}/...`).
    std::string service = "sessiond";
    /// Our process name, for the retained status topic.
    std::string process = "sessiond";
    /// A command's `exp` is this far after it is sent.
    std::int64_t command_timeout_ms = 10'000;
    /// After `exp`, how long a reply already in flight is still waited for.
    std::int64_t reply_grace_ms = 2'000;
    /// How long an accepted card has for the pile to report the session started.
    std::int64_t card_start_timeout_ms = 30'000;
    /// The mode of card sessions when the tariff offers it.
    billing::Mode card_mode = billing::Mode::Power;
    /// A stop not confirmed this long after it was (re)sent is sent again (same rid, fresh exp).
    std::int64_t stop_resend_ms = 5'000;
    /// A suspended session with no report for this long (since its suspension or its last report)
    /// is settled on its last report with stop reason `power_loss`.
    std::int64_t suspend_timeout_s = 43'200;
    /// A stopping (or suspended) session whose pile shows the socket idle is settled on its last
    /// report when no record came within this long.
    std::int64_t idle_record_wait_s = 120;
    /// Handled device message ids are forgotten after this many days.
    std::int64_t processed_keep_days = 7;
    /// How much a session record may exceed platform time (and rated power over it) before it is clamped.
    std::int64_t record_tolerance_s = 60;
    /// Device time may run this many times faster than platform time (a simulator's --speed; 1 in service).
    std::int64_t device_time_scale = 1;
    /// Live figures from device reports are written at most this often, merged per session (0: at
    /// once). Any other message, and every time-out, writes them first.
    std::int64_t report_flush_ms = 1'000;
};

/// Subscribes to device presence, conn states, events, requests, command replies, recorderd's device
/// reports (telemetry validated and bound to its sessions: ph/v1/svc/device/{id}/report) and
/// to `ph/v1/svc/rpc/sessiond/+`; decodes each message, asks the rules, commits the effect with the
/// message id in one transaction inside the MQTT callback, then publishes commands, request
/// replies and `ph/v1/svc/session/{sid}/state`. Card swipes go to CardAuth and the API's device
/// commands to DeviceCommands. Every entry point takes one lock, so the MQTT callback thread and the
/// worker loop's tick never interleave; no exception leaves an entry point but on_message, which
/// rethrows for the worker loop's failure rule (common/worker_loop.hpp).
class Worker {
public:
    /// `db` must stay open for the worker's life (open it with db::Sync::Full: records are money).
    Worker(db::Database& db, mqtt::Client& mqtt, const Clock& clock, Options options);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Subscribes, registers the rpc methods and installs the message and connect handlers on the
    /// client. Call once, before mqtt.start().
    void attach();
    /// Reloads every open session from SQLite and re-arms its outstanding command from `cmd_exp`.
    /// Call before mqtt.start(); the retained conn states that arrive then reconcile the sessions,
    /// and the first connect resends the unexpired commands (same rid, same exp).
    void resume();
    /// Runs every inbound message (what attach() installs; tests call it directly). A failure is
    /// counted, logged and rethrown: main runs this under worker::Loop::run_inline, which retries a
    /// storage failure and then exits without acknowledging the message.
    void on_message(const mqtt::Message& m);
    /// Runs after every connect (what attach() installs; tests call it directly).
    void on_connected();
    /// Fires the time-outs that are due by the clock (command time-outs and stop resends, suspended
    /// sessions and overdue records given up on, device commands) and forgets handled message ids past
    /// their window (the ticker calls it; tests call it directly).
    void tick();
    /// Writes the live figures still pending (at shutdown; tick() and every other message do it otherwise).
    void flush();
    /// The earliest armed deadline, if any.
    std::optional<EpochMs> next_deadline();
    /// Commands sent, record acknowledgements, etc. since start (for logs and tests).
    struct Counters {
        std::uint64_t commands_sent = 0;
        std::uint64_t commands_resent = 0;
        std::uint64_t transitions = 0;
        std::uint64_t records_committed = 0;
        std::uint64_t records_clamped = 0;
        std::uint64_t processed_pruned = 0;
        std::uint64_t handler_errors = 0;
    };
    Counters counters();

private:
    /// Why something happens to a session: what is written beside the transition.
    struct Cause {
        Cause(std::string r, std::string a, std::optional<MessageKey> m = std::nullopt)
            : reason(std::move(r)), actor(std::move(a)), msg(std::move(m)) {}
        std::string reason;
        std::string actor;
        std::optional<MessageKey> msg;
        std::optional<RecordData> record;
        std::optional<EpochMs> started_at;
        std::optional<std::string> failure;
        std::optional<EpochMs> end_fallback; ///< a synthesized record ends here when nothing was reported
        std::optional<Incident> incident;    ///< written with the change
    };
    /// What became of an event.
    struct Result {
        Verdict verdict = Verdict::Ignore;
        bool duplicate = false;
        bool gave_up = false;          ///< the row kept moving under us: nothing was committed
        std::optional<SessionRow> row; ///< the row afterwards
    };

    // entry points (lock held)
    void dispatch(const mqtt::Message& m);
    rpc::Reply rpc_start(rpc::Request& r);
    rpc::Reply rpc_stop(rpc::Request& r);
    rpc::Reply rpc_force_end(rpc::Request& r);
    void on_device_presence(const mqtt::Message& m);
    void on_presence_verdict(const mqtt::Message& m);
    void on_conn_state(const mqtt::Message& m);
    void on_event(const mqtt::Message& m);
    void on_request(const mqtt::Message& m);
    void on_cmd_reply(const mqtt::Message& m);
    void on_report(const mqtt::Message& m);
    /// Writes the merged live figures of every session reported since the last write (one transaction).
    void flush_reports();
    /// A device request decoded with its codec; one that does not decode is answered `invalid`.
    template <typename T>
    std::optional<payloads::Message<T>> read_request(const std::string& dev, std::string_view name,
                                                     std::string_view payload);
    void on_authorize(const std::string& dev, std::string_view payload);
    void on_record(const std::string& dev, std::string_view payload);
    // EV chargers (CONTRACT A.5 `ev_charger`, D.1)
    void on_ev_event(const std::string& dev, const std::string& name, std::string_view payload);
    void on_ev_authorize(const std::string& dev, std::string_view payload);
    void on_ev_start_session(const std::string& dev, std::string_view payload);
    void on_ev_record(const std::string& dev, std::string_view payload);
    /// The one path of a session record of either kind: checked against what the platform saw
    /// (clamped and flagged if absurd), committed once, then acknowledged with `ack()`'s text; a record
    /// of a session the socket never ran is refused `not_found` (the pile keeps it).
    void answer_record(const std::string& dev, const std::string& rid, const std::string& sid, int n, RecordData r,
                       const std::function<std::string()>& ack);

    // helpers
    std::variant<StartPlan, Refusal> plan_start(std::int64_t account_id, const sockets::SocketRef& ref, StartBy by,
                                                std::optional<ModeChoice> mode);
    bool device_online(const std::string& device_id);
    /// A registered device's kind (cached: a kind never changes); nothing for an unknown device.
    std::optional<std::string> device_kind(const std::string& device_id);
    bool is_charger(const std::string& device_id);
    /// Whether `sid` runs on (dev, n); logs `what` when it does not.
    bool runs_here(const std::string& dev, const std::string& sid, int n, std::string_view what);
    /// The command leaf that starts or stops a session on the device: start_port/stop_port (e-bike
    /// piles), start_session/stop_session (EV chargers).
    std::string_view session_command_name(const std::string& device_id, CommandKind kind);
    Result process(const std::string& sid, Event e, const Cause& cause);
    /// The deadlines a session's new row calls for: the record wait, the suspension, none once ended.
    void follow_up(const SessionRow& row, const Decision& d);
    void presence_changed(const std::string& dev, bool online, const std::string& reason, const std::string& actor);
    void send_start(const SessionRow& row, bool resend);
    void send_stop(const SessionRow& row, const std::string& rid, EpochMs exp, bool resend, const std::string& actor);
    /// The command log: a session command sent (by `actor`, CommandSent), its final reply or time-out
    /// (no reply). Kept in memory and written in one transaction per tick (flush_command_log).
    void log_sent(const SessionRow& row, std::string_view name, const std::string& rid, const std::string& text,
                  const std::string& actor);
    void log_answered(const std::string& rid, const std::optional<ReplyFields>& f);
    void flush_command_log();
    /// Sends the outstanding stop again (same rid, fresh exp) if the pile is online, and re-arms it.
    void resend_stop(const SessionRow& row);
    /// A session command's deadline: a start times out, a stop not confirmed is re-sent.
    void command_due(const std::string& sid, EpochMs now);
    void arm_suspend(const SessionRow& row);
    void give_up_suspended(const std::string& sid, EpochMs now);
    void give_up_record(const std::string& sid, EpochMs now);
    /// Gives up on the pile's record: `e` settles the session on its last report (ending at `since`
    /// when nothing was reported) with an incident of `kind`.
    void settle_on_last_report(const SessionRow& row, Event e, const std::string& kind, EpochMs since,
                               const std::string& what, EpochMs now);
    /// The platform's view of a session and its socket, for judging its record.
    PlatformView platform_view(const SessionRow& row, EpochMs now);
    void publish_state(const SessionRow& row, std::optional<State> prev, const std::string& reason,
                       const std::string& actor);
    void reply_device(const std::string& dev, std::string_view name, const std::string& payload);
    void reply_plain(const std::string& dev, std::string_view name, const std::string& rid,
                     payloads::ReplyStatus status, std::optional<ErrorCode> code, std::optional<std::string> msg);
    payloads::Envelope next_env();
    std::string new_app_sid();

    db::Database& db_;
    Store store_;
    mqtt::Client& mqtt_;
    const Clock& clock_;
    Options opts_;
    mqtt::Router router_;
    std::unique_ptr<rpc::Server> server_;

    std::mutex m_;
    Deadlines deadlines_;         ///< session commands (a start's time-out, a stop's resend), by sid
    Deadlines suspend_deadlines_; ///< suspended sessions, by sid
    Deadlines record_waits_;      ///< sessions whose pile shows the socket idle, awaiting the record, by sid
    std::map<std::string, EpochMs> idle_seen_;              ///< when that wait began, by sid
    std::map<std::string, svc::PresenceView> presence_;     ///< by device id
    std::map<std::pair<std::string, int>, ConnState> conn_; ///< retained conn states (either kind)
    std::map<std::string, std::string> kinds_;              ///< device kinds, by id
    billing::TariffStore tariffs_; ///< the version in force (the lookup billingd and autostopd share)
    std::unique_ptr<CardAuth> card_auth_;
    std::unique_ptr<DeviceCommands> device_commands_;
    std::mt19937_64 rng_;
    std::int64_t seq_ = 0;
    retention::Purger purge_; ///< processed_messages of consumer sessiond, kept processed_keep_days
    /// Live figures not yet written, by (device, session): reports arrive by the thousand per second,
    /// a row is written once per report_flush_ms (sessiond's database syncs every commit).
    std::map<std::pair<std::string, std::string>, Report> pending_reports_;
    EpochMs next_report_flush_ = 0;
    std::vector<CommandLogEntry> command_log_; ///< command log entries not yet written (flush_command_log)
    bool resumed_ = false;
    bool first_connect_ = true;
    bool warm_ = false;                    ///< the first connect's retained snapshot has been taken in
    std::vector<mqtt::Message> early_rpc_; ///< rpc requests that arrived before that
    Counters counters_;
};

/// A session as the rpc replies carry it (`session` of svc::StartReply, StopReply, ForceEndReply).
svc::SessionView session_view(const SessionRow& row);

/// The transition published on `ph/v1/svc/session/{sid}/state` for `row` in its state now (prev is
/// absent for a new session); sent with svc::encode.
svc::SessionTransition session_transition(const SessionRow& row, std::optional<State> prev, const std::string& reason,
                                          const std::string& actor, EpochMs ts);

} // namespace pilehub::sessiond
