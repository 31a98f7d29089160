#pragma once
#include "common/clock.hpp"
#include "common/error_codes.hpp"
#include "common/mqtt.hpp"
#include "common/payloads.hpp"
#include "common/rpc.hpp"
#include "common/svc.hpp"
#include "workers/sessiond/sessiond_rules.hpp"
#include "workers/sessiond/sessiond_store.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

/// The API's remote commands to a device (rpc `device_command`: reboot, set_time, query_port,
/// query_device, svc::DeviceCommandRequest): sends `cmd/{name}` with its own rid (`dc-…`) and answers
/// the rpc request through its rpc::Responder when the device answers, or `timeout` after the
/// command's exp + grace. rpc::Server reads the envelope, answers expired and repeated requests, and
/// calls request() (Server::handle_async). Not thread-safe: the worker calls it under its lock.
namespace pilehub::sessiond {

/// Rids of device commands start with this; session commands are `<sid>.start|stop`.
inline constexpr std::string_view kDeviceCommandPrefix = "dc-";

/// An rpc refusal with a CONTRACT B code (status `rejected`), as every sessiond rpc method answers.
rpc::Reply rpc_refusal(ErrorCode code, std::string msg);
/// An rpc request that cannot be read (`invalid_request`, status `invalid`).
rpc::Reply rpc_invalid(std::string msg);

/// A reply's `status`, `code`, `msg` and raw `data` (device replies of any command).
struct ReplyFields {
    std::string status;
    std::string code;
    std::string msg;
    std::string data_json = "{}";
};
/// Reads any command reply; nothing when it is unreadable.
std::optional<ReplyFields> read_reply(std::string_view payload);

// ---- the command log (device_commands) ----------------------------------------------------------

/// The `data` object of a downlink or reply (`{}` when it has none or is unreadable), and its `n`.
std::string data_of(std::string_view payload);
std::optional<int> port_of(std::string_view data_json);
/// A final reply's outcome in the log: its status word (ok, rejected, failed, busy, expired,
/// unsupported, invalid); any other word is `failed`.
std::string command_outcome(std::string_view status);
/// The log's `reply`: the reply's code, msg and data, JSON.
std::string logged_reply(const ReplyFields& f);
/// Who asked for a session command, from the actor of the change that sends it: an operator's name
/// (`operator:<name>`), `rider:<account>` for the rider, `card:<card>` for a card's own start,
/// `system:<worker>` for everything else (autostopd, sessiond, presenced, billingd, ...).
std::string command_requester(std::string_view actor, const SessionRow& row);

class DeviceCommands {
public:
    /// What the relay asks of the platform around it.
    struct Hooks {
        /// The device's registered kind (`ebike_pile`, `ev_charger`, ...); nothing if unknown.
        std::function<std::optional<std::string>(const std::string&)> device_kind;
        std::function<bool(const std::string&)> device_online;
        std::function<payloads::Envelope()> next_env; ///< the worker's downlink envelopes (one seq)
        std::function<void(CommandLogEntry)> log;     ///< the command log: sent, answered, timed out
    };
    struct Options {
        std::int64_t command_timeout_ms = 10'000; ///< a command's exp is this far ahead (or the request's exp)
        std::int64_t reply_grace_ms = 2'000;      ///< after exp, how long a reply in flight is waited for
    };
    DeviceCommands(mqtt::Client& mqtt, const Clock& clock, Options options, Hooks hooks);

    /// An rpc `device_command` request (rpc::Server::handle_async): answers a refusal at once, or
    /// sends the command and answers through `responder` when the device does.
    void request(rpc::Request& r, rpc::Responder responder);
    /// Whether a command reply's rid is one of ours.
    static bool is_ours(std::string_view rid) { return rid.rfind(kDeviceCommandPrefix, 0) == 0; }
    /// The device's `cmd-reply/{name}` to one of our rids: answers the rpc request (interim `accepted`
    /// replies wait for the final one).
    void reply(const std::string& dev, const std::string& rid, std::string_view payload);
    /// Answers `timeout` for every command whose exp + grace has passed.
    void tick();
    /// The earliest time-out, if any.
    std::optional<EpochMs> next_deadline() const { return deadlines_.next(); }
    /// Commands waiting for their device.
    std::size_t pending() const { return pending_.size(); }

private:
    struct Pending {
        std::string device_id;
        std::string name;
        rpc::Responder responder;
    };

    mqtt::Client& mqtt_;
    const Clock& clock_;
    Options opts_;
    Hooks hooks_;
    Deadlines deadlines_;                    ///< by command rid
    std::map<std::string, Pending> pending_; ///< by command rid
    std::uint64_t counter_ = 0;
};

} // namespace pilehub::sessiond
