#pragma once
#include "common/clock.hpp"
#include "common/payloads.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

/// otad's rules: firmware rollouts driven batch by batch (CONTRACT G "OTA"). Pure: typed events in
/// (a rollout loaded, `evt/ota`, a command reply, a reported firmware version, the passing of time),
/// decisions out (device and rollout changes to persist, `cmd/ota` to send); time from an injected
/// clock; one thread drives it (no locks).
namespace pilehub::otad {

/// A device's place in a rollout (`rollout_devices.state`).
enum class DeviceState { Pending, Sent, Downloading, Installing, Installed, Failed, Skipped };
std::string_view to_string(DeviceState s);
std::optional<DeviceState> parse_device_state(std::string_view s);
/// Sent, downloading or installing: the device is working on it (the time-out runs).
bool in_flight(DeviceState s);
/// Installed, failed or skipped: nothing more happens to it in this rollout.
bool is_final(DeviceState s);

/// A rollout's state (`rollouts.state`).
enum class RolloutState { Running, Halted, Completed };
std::string_view to_string(RolloutState s);
std::optional<RolloutState> parse_rollout_state(std::string_view s);

/// One device of a rollout (a `rollout_devices` row).
struct RolloutDevice {
    std::string device_id;
    DeviceState state = DeviceState::Pending;
    std::optional<int> batch; ///< the batch it was sent in (1, 2, ...); none while pending or skipped unsent
    std::optional<std::string> rid;
    std::optional<EpochMs> sent_at;
    EpochMs updated_at = 0; ///< last change or progress (the time-out counts from here)
    std::optional<int> progress_pct;
    std::string error;
    bool operator==(const RolloutDevice&) const = default;
};

/// One rollout as the rules hold it (a `rollouts` row, its firmware and its devices).
struct Rollout {
    std::int64_t id = 0;
    std::int64_t firmware_id = 0;
    std::string version;
    std::string sha256;
    std::string url; ///< the absolute download URL with the rollout's token
    int batch_size = 1;
    std::int64_t batch_interval_s = 0;
    int max_failures = 0;
    std::int64_t timeout_s = 600;
    RolloutState state = RolloutState::Running;
    int failures = 0;
    std::string halt_reason;
    std::optional<EpochMs> finished_at;
    std::vector<RolloutDevice> devices;
};

/// Whether a pending device may be sent `cmd/ota` now.
struct Readiness {
    bool online = false; ///< its latest presence says online
    bool busy = false;   ///< a session holds one of its sockets / guns
};
/// Asked for each pending device a batch could take.
using ReadinessOf = std::function<Readiness(const std::string& device_id)>;

/// A `cmd/ota` to send (envelope rules of CONTRACT A.3: `rid`, `exp`).
struct Command {
    std::int64_t rollout_id = 0;
    std::string device_id;
    std::string rid;
    EpochMs exp = 0;
    payloads::CmdOta data;
    bool operator==(const Command&) const = default;
};

/// A device row to write.
struct DeviceChange {
    std::int64_t rollout_id = 0;
    RolloutDevice device;
    bool operator==(const DeviceChange&) const = default;
};

/// A rollout row to write (state, failures, why it halted, when it ended).
struct RolloutChange {
    std::int64_t rollout_id = 0;
    RolloutState state = RolloutState::Running;
    int failures = 0;
    std::string halt_reason;
    std::optional<EpochMs> finished_at;
    bool operator==(const RolloutChange&) const = default;
};

/// What an event decided: persist the changes (one transaction), then send the commands.
struct Effects {
    std::vector<DeviceChange> devices;
    std::vector<RolloutChange> rollouts;
    std::vector<Command> commands;
    bool empty() const { return devices.empty() && rollouts.empty() && commands.empty(); }
    void append(Effects other);
};

/// Tunables of the rules.
struct RulesOptions {
    std::int64_t command_exp_s = 60; ///< `exp` of cmd/ota: now + this
    /// A pending device that stays offline this long while its turn has come is skipped (`offline`);
    /// 0: the rollout's own timeout_s. A busy device waits for its session to end, however long.
    std::int64_t offline_skip_s = 0;
};

/// The rules of every running rollout.
class Rules {
public:
    Rules(const Clock& clock, RulesOptions opts) : clock_(clock), opts_(opts) {}

    /// Takes a running rollout (loaded at start or created by the API since). A rollout already held
    /// is left as it is.
    void add(Rollout r);
    /// Forgets a rollout (halted by an operator, or its changes could not be written).
    void remove(std::int64_t rollout_id);
    /// The rollouts held (running ones only: a rollout that ends is dropped after its change).
    const std::map<std::int64_t, Rollout>& rollouts() const { return rollouts_; }
    /// Whether a rollout is held.
    bool holds(std::int64_t rollout_id) const { return rollouts_.count(rollout_id) > 0; }

    /// `evt/ota` from a device: progress of the rollout that sent it this version.
    Effects on_event(const std::string& device_id, const payloads::EvtOta& e);
    /// `cmd-reply/ota`: a refusal (`rejected`, `failed`, `unsupported`, `invalid`, `expired`) fails
    /// the device; `ok` / `accepted` count as progress.
    Effects on_reply(const std::string& device_id, const std::string& rid, payloads::ReplyStatus status,
                     const std::string& msg);
    /// A firmware version the device reported (presence `fw`, info `firmware`): the new version
    /// means installed.
    Effects on_firmware(const std::string& device_id, const std::string& version);
    /// Time-outs, halting, completion, the next batch where its turn has come, and `cmd/ota` again
    /// (same rid, fresh exp: CONTRACT A.6) to an online device that has not answered it within
    /// command_exp_s.
    Effects tick(const ReadinessOf& readiness);

private:
    /// Marks `d` failed with `why`; halts the rollout when its failures pass max_failures.
    void fail(Rollout& r, RolloutDevice& d, std::string why, Effects& out);
    void halt(Rollout& r, std::string why, Effects& out);
    void finish_if_done(Rollout& r, Effects& out);
    void change(const Rollout& r, const RolloutDevice& d, Effects& out) const;
    void send_batch(Rollout& r, const ReadinessOf& readiness, Effects& out);
    void resend_unanswered(Rollout& r, const ReadinessOf& readiness, Effects& out);
    /// Every rollout's effects, then the rollouts that ended are dropped.
    void drop_ended();

    const Clock& clock_;
    RulesOptions opts_;
    std::map<std::int64_t, Rollout> rollouts_;
    /// When the last batch of a rollout ended (all its devices final): the interval counts from here.
    std::map<std::int64_t, EpochMs> batch_done_at_;
    /// (rollout, device) sent `cmd/ota` that answered it (`ok`, `accepted`) or reported progress.
    std::set<std::pair<std::int64_t, std::string>> acked_;
    /// (rollout, device) → when `cmd/ota` was last sent (resent with the same rid while unanswered).
    std::map<std::pair<std::int64_t, std::string>, EpochMs> last_send_;
    /// device → the firmware version it last reported (a pending device already on the version is installed).
    std::map<std::string, std::string, std::less<>> firmware_;
    /// (rollout, device) → since when its turn came while it was offline.
    std::map<std::pair<std::int64_t, std::string>, EpochMs> offline_since_;
};

} // namespace pilehub::otad
