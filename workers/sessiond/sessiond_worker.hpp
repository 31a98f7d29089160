#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/rpc.hpp"
#include "common/socket_code.hpp"
#include "common/tariff_store.hpp"
#include "workers/sessiond/sessiond_rules.hpp"
#include "workers/sessiond/sessiond_store.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
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
};

/// Subscribes to device presence, conn states, events, requests, command replies and telemetry and
/// to `ph/v1/svc/rpc/sessiond/+`; decodes each message, asks the rules, commits the effect with the
/// message id in one transaction inside the MQTT callback, then publishes commands, request
/// replies and `ph/v1/svc/session/{sid}/state`. Every entry point takes one lock, so the MQTT
/// callback thread and the worker loop's tick never interleave; no exception leaves an entry point
/// but on_message, which rethrows for the worker loop's failure rule (common/worker_loop.hpp).
class Worker {
public:
    /// `db` must stay open for the worker's life (open it with db::Sync::Full: records are money).
    Worker(db::Database &db, mqtt::Client &mqtt, const Clock &clock, Options options);
    ~Worker();
    Worker(const Worker &) = delete;
    Worker &operator=(const Worker &) = delete;

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
    void on_message(const mqtt::Message &m);
    /// Runs after every connect (what attach() installs; tests call it directly).
    void on_connected();
    /// Fires the time-outs that are due by the clock (the worker loop's tick; tests call it directly).
    void tick();
    /// The earliest armed deadline, if any.
    std::optional<EpochMs> next_deadline();
    /// Commands sent, record acknowledgements, etc. since start (for logs and tests).
    struct Counters {
        std::uint64_t commands_sent = 0;
        std::uint64_t commands_resent = 0;
        std::uint64_t transitions = 0;
        std::uint64_t records_committed = 0;
        std::uint64_t handler_errors = 0;
    };
    Counters counters();

private:
    /// Why something happens to a session: what is written beside the transition.
    struct Cause {
        std::string reason;
        std::string actor;
        std::optional<MessageKey> msg;
        std::optional<RecordData> record;
        std::optional<EpochMs> started_at;
        std::optional<std::string> failure;
    };
    /// What became of an event.
    struct Result {
        Verdict verdict = Verdict::Ignore;
        bool duplicate = false;
        std::optional<SessionRow> row; ///< the row afterwards
    };
    /// A refusal of a start, with the wallet when known (card replies carry it).
    struct Refusal {
        ErrorCode code;
        std::string msg;
        std::optional<std::int64_t> available_fen;
    };
    /// A start that passed every pre-check.
    struct StartPlan {
        SocketInfo socket;
        std::int64_t tariff_id = 0;
        ModeChoice mode;
        payloads::ChargeLimit limit;
        std::int64_t available_fen = 0;
    };
    /// An rpc device_command waiting for the device's reply.
    struct PendingDeviceCommand {
        std::string device_id;
        std::string name;
        std::string rpc_rid;
        std::string reply_to;
        std::string key; ///< from/rid, for duplicate requests
        EpochMs deadline = 0;
    };

    // entry points (lock held)
    void dispatch(const mqtt::Message &m);
    rpc::Reply rpc_start(rpc::Request &r);
    rpc::Reply rpc_stop(rpc::Request &r);
    rpc::Reply rpc_force_end(rpc::Request &r);
    void rpc_device_command(const mqtt::Message &m);
    void on_device_presence(const mqtt::Message &m);
    void on_presence_verdict(const mqtt::Message &m);
    void on_conn_state(const mqtt::Message &m);
    void on_event(const mqtt::Message &m);
    void on_request(const mqtt::Message &m);
    void on_cmd_reply(const mqtt::Message &m);
    void on_tele(const mqtt::Message &m);
    void on_authorize(const std::string &dev, std::string_view payload);
    void on_record(const std::string &dev, std::string_view payload);
    void device_command_reply(const std::string &dev, const std::string &rid, std::string_view payload);

    // helpers
    std::variant<StartPlan, Refusal> plan_start(std::int64_t account_id, const sockets::SocketRef &ref,
                                                const std::string &method, std::optional<ModeChoice> mode);
    bool device_online(const std::string &device_id);
    Result process(const std::string &sid, Event e, const Cause &cause);
    void presence_changed(const std::string &dev, bool online, const std::string &reason, const std::string &actor);
    void send_start(const SessionRow &row, bool resend);
    void send_stop(const SessionRow &row, const std::string &rid, EpochMs exp, bool resend);
    void publish_state(const SessionRow &row, std::optional<State> prev, const std::string &reason,
                       const std::string &actor);
    void reply_device(const std::string &dev, std::string_view name, const std::string &payload);
    void reply_plain(const std::string &dev, std::string_view name, const std::string &rid,
                     payloads::ReplyStatus status, std::optional<ErrorCode> code, std::optional<std::string> msg);
    void answer_rpc(const PendingDeviceCommand &p, const rpc::Reply &r);
    payloads::Envelope next_env();
    std::string new_app_sid();
    std::optional<payloads::ChargeLimit> limit_of(const SessionRow &row);

    db::Database &db_;
    Store store_;
    mqtt::Client &mqtt_;
    const Clock &clock_;
    Options opts_;
    mqtt::Router router_;
    std::unique_ptr<rpc::Server> server_;

    std::mutex m_;
    Deadlines deadlines_;                                    ///< session commands, by sid
    Deadlines dc_deadlines_;                                 ///< device commands, by rid
    std::map<std::string, PendingDeviceCommand> dc_pending_; ///< by command rid
    std::map<std::string, std::string> dc_answered_;         ///< from/rid → reply text ("" while pending)
    std::deque<std::string> dc_answered_order_;
    std::map<std::string, PresenceView> presence_;                         ///< by device id
    std::map<std::pair<std::string, int>, payloads::EbikeConnState> conn_; ///< retained conn states
    std::map<std::string, std::string> auth_replies_;                      ///< dev/id → authorize reply text
    std::deque<std::string> auth_order_;
    billing::TariffStore tariffs_; ///< the version in force (the lookup billingd and autostopd share)
    std::mt19937_64 rng_;
    std::int64_t seq_ = 0;
    std::uint64_t dc_counter_ = 0;
    bool resumed_ = false;
    bool first_connect_ = true;
    bool warm_ = false;                    ///< the first connect's retained snapshot has been taken in
    std::vector<mqtt::Message> early_rpc_; ///< rpc requests that arrived before that
    Counters counters_;
};

/// Writes a session as the rpc replies carry it: `{id, state, socket, mode, minutes, method,
/// account_id, created_at, started_at, ended_at, energy_wh, duration_s, max_power_w, stop_reason}`.
void write_session(json::Writer &w, const SessionRow &row);

/// The payload of `ph/v1/svc/session/{sid}/state`: `{"v":1,"sid","state","prev","reason","actor",
/// "ts","record":bool,"device_id","n","account_id","method"}` (prev is null for a new session).
std::string session_state_payload(const SessionRow &row, std::optional<State> prev, const std::string &reason,
                                  const std::string &actor, EpochMs ts);

/// The id of a card session: derived from the pile's request id, so a resent authorisation finds
/// the session it created (`C` + 16 hex digits).
std::string card_sid(const std::string &device_id, const std::string &msg_id);

} // namespace pilehub::sessiond
