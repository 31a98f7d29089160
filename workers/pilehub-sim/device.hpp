#pragma once
#include "common/clock.hpp"
#include "common/mqtt.hpp"
#include "common/payloads.hpp"
#include "common/topics.hpp"
#include "workers/pilehub-sim/control.hpp"
#include "workers/pilehub-sim/curves.hpp"
#include "workers/pilehub-sim/device_store.hpp"
#include "workers/pilehub-sim/fleet.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::sim {

/// Settings every simulated device reads (owned by the runner, changed only on its thread).
struct Settings {
    /// Time acceleration: device durations (charging curves, waits, limits, telemetry periods)
    /// run this many times faster than the wall clock. Timestamps stay wall-clock.
    double speed = 1.0;
    /// When > 0, replaces `tele_period_s` and `idle_tele_period_s` (load tests).
    std::int64_t tele_period_override_s = 0;
    /// Firmware version announced in presence and info.
    std::string firmware = "sim-1.0.0";
    /// Cameras: each lock move jams (ends in `fault`) with this probability, per cent 0..100.
    int lock_jam_pct = 0;
    /// Cameras: traffic (cars arriving, parking, leaving) is on from the start (`--parking-traffic`).
    bool parking_traffic = false;
    /// Cameras with traffic: the mean gap before a free space gets its next car (simulated seconds,
    /// exponentially distributed).
    std::int64_t car_gap_s = 20 * 60;
    /// Cameras with traffic: the mean time a parked car stays (simulated seconds, exponential).
    std::int64_t car_stay_s = 90 * 60;
};

/// A device's configuration document (CONTRACT A.5 `cfg/desired`, reported on `cfg/reported`):
/// `Reported` is the kind's cfg/reported payload (payloads::EbikeCfgReported, payloads::EvCfgReported),
/// whose `values` are the configuration in force; version 0 = none yet.
template <typename Reported> struct ConfigDocument {
    Reported report;
    const auto& values() const { return report.values; }
    std::int64_t version() const { return report.version; }
    /// Version `version` is in force with `values` (what the hardware takes); `clamped` names the
    /// keys it could not take as sent (then `partial`, `why` says how).
    void applied(std::int64_t version, decltype(Reported::values) values, std::vector<std::string> clamped,
                 std::string_view why) {
        report.version = version;
        report.values = std::move(values);
        report.status = clamped.empty() ? payloads::CfgStatus::Applied : payloads::CfgStatus::Partial;
        report.msg = clamped.empty() ? std::nullopt : std::optional<std::string>(why);
        report.rejected = std::move(clamped);
    }
    /// A document the codec refused: `rejected`, its version echoed, the values in force stay.
    void refused(std::int64_t version, const std::string& why) {
        report.version = version;
        report.status = payloads::CfgStatus::Rejected;
        report.rejected.clear();
        report.msg = why.substr(0, 256);
    }
};

/// What a device asks of its transport after a command.
enum class TransportAction {
    None,
    /// Reboot: disconnect cleanly (`online:false`, reason `reboot`) and connect again with a new boot.
    Reboot,
};

/// One simulated device: a pure state machine with an injected clock. It takes inbound MQTT
/// messages, control lines and the passing of time, and returns the messages to publish; it never
/// touches the network (the runner does). Not thread-safe: one thread drives it.
///
/// Shared behaviour lives here (CONTRACT A.3/A.4): the envelope (`boot`, `seq`, `id`), presence,
/// command replies with `rid` (a duplicate `rid` gets the same reply again and is not executed twice;
/// a command past its `exp` is refused with `expired` and not executed, and that refusal is not its
/// answer for good: the same `rid` sent again with a fresh `exp` runs), unacknowledged
/// `req/session_record` kept in the store and resent with the same `id` after every connect and
/// periodically until the platform answers `ok`, and the telemetry schedule.
class Device {
public:
    Device(std::string id, Kind kind, const Clock& clock, const Settings& settings, DeviceStore& store);
    virtual ~Device() = default;
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    const std::string& id() const { return id_; }
    Kind kind() const { return kind_; }

    /// The Will for a connect with this `boot`: `{"v":1,"online":false,"boot":B,"reason":"lwt"}` retained
    /// QoS 1. Safe from any thread (reads only the id).
    mqtt::Message will(std::int64_t boot) const;
    /// Presence `online:false` with a reason (`shutdown`, `reboot`), published before a clean disconnect.
    mqtt::Message offline_presence(std::string_view reason) const;
    /// What the device subscribes to: its `cmd/+`, `req-reply/+` and `cfg/desired`.
    std::vector<std::string> subscriptions() const;

    /// The connection with this `boot` is up: publishes presence, info, state, every
    /// conn/space state, cfg/reported (if known), then resends unacknowledged records.
    void connected(std::int64_t boot);
    /// The connection is gone: publishing stops until the next connect; charging goes on.
    void disconnected();
    bool online() const { return online_; }
    std::int64_t boot() const { return boot_; }

    /// One inbound message (a command, a request reply, cfg/desired) for this device.
    void handle(const mqtt::Message& m);
    /// A control line addressed to this device; an empty string when done, else why not. `drop`
    /// is handled here for every kind; the rest by the kind.
    std::string control(const ControlCommand& c);
    /// Brings the simulation up to now (telemetry, stop rules, resends); returns the wall-clock
    /// time at which it wants to be ticked again.
    EpochMs tick();

    /// Messages produced since the last call, in publishing order.
    std::vector<mqtt::Message> take_outbox();
    /// A transport action a command asked for (cleared by reading).
    TransportAction take_action();
    /// What this device asked of other devices since the last call, in order (the runner applies each
    /// as that device's control line, on its own thread: the models need no locks).
    std::vector<ControlCommand> take_peer_controls();

    /// The firmware version it runs (announced in presence `fw` and info `firmware`).
    const std::string& firmware() const { return snap_.firmware.empty() ? settings_.firmware : snap_.firmware; }
    /// A firmware image to fetch, asked for by `cmd/ota` (cleared by reading): the runner downloads it off
    /// the scheduler thread and answers with ota_downloaded().
    std::optional<std::string> take_download();
    /// The download asked for ended: `sha256` of the bytes received, or `error` when none arrived. Checks
    /// the checksum, "installs" (the new version kept on flash) and reboots; `evt/ota` tells each step.
    void ota_downloaded(std::optional<std::string> sha256, const std::string& error);

    /// Sessions running now.
    virtual int active_sessions() const = 0;
    /// Unacknowledged records kept.
    std::size_t pending_records() const { return snap_.records.size(); }
    /// Ids of the unacknowledged records (tests, status).
    std::vector<std::string> pending_record_ids() const;

protected:
    // --- for the device kinds ---
    /// info, state and the conn/space states, right after presence.
    virtual void publish_connect_states() = 0;
    /// One `tele` message.
    virtual void publish_tele() = 0;
    /// Any socket/gun active (telemetry at `tele_period_s` instead of the idle period).
    virtual bool any_active() const = 0;
    /// Decodes and executes `cmd/{name}` (already checked: not a duplicate, not expired); must
    /// answer through reply()/reply_plain(), or defer() and send_reply() later.
    virtual void on_command(std::string_view name, const std::string& rid, std::string_view text) = 0;
    /// `req-reply/{name}` other than session_record (authorize, start_session).
    virtual void on_request_reply(std::string_view name, std::string_view text);
    /// `cfg/desired`.
    virtual void on_cfg(std::string_view text);
    /// cfg/reported, when the device has one in force (republished on connect).
    virtual void publish_cfg_reported() {}
    /// Simulated time passed (`dt_ms` already multiplied by the speed).
    virtual void advance(std::int64_t dt_ms) = 0;
    /// When the kind wants its next tick (wall clock); INT64_MAX for never.
    virtual EpochMs next_wake() const = 0;
    /// A control line for this kind; empty when done.
    virtual std::string on_control(const ControlCommand& c) = 0;
    /// A stored record re-encoded with a fresh envelope (same `id`, `rid`, `data`); empty if unreadable.
    virtual std::string reencode_record(const PendingRecord& r, const payloads::Envelope& env) = 0;
    /// The telemetry periods in force (seconds, before the speed factor).
    virtual std::int64_t tele_period_s() const { return 60; }
    virtual std::int64_t idle_tele_period_s() const { return 300; }

    // --- helpers ---
    EpochMs now() const { return clock_.now_ms(); }
    double speed() const { return settings_.speed; }
    const Settings& settings() const { return settings_; }
    /// Wall-clock milliseconds that `sim_ms` of device time take at the current speed (at least 1).
    EpochMs wall_ms(std::int64_t sim_ms) const;
    Rng& rng() { return rng_; }
    DeviceSnapshot& snapshot() { return snap_; }
    void save_snapshot();
    /// The envelope of the next uplink (`seq` + 1).
    payloads::Envelope next_env();
    /// A status payload (state, conn state, tele, info).
    template <typename T> void publish_status(std::string topic, const T& data, bool retained, int qos = 1) {
        payloads::Message<T> m{next_env(), data};
        emit({std::move(topic), payloads::encode(m), qos, retained});
    }
    /// An event `evt/{type}` with a fresh unique `id`.
    template <typename T> void publish_event(std::string_view type, const T& data) {
        auto env = next_env();
        env.id = make_id(env.seq);
        emit({topics::evt(id_, type), payloads::encode(payloads::Message<T>{env, data}), 1, false});
    }
    /// A request `req/{name}` with `id` = `rid`; returns the rid. With `keep`, the request is stored
    /// until acknowledged (`ok`) and resent after every connect and periodically.
    template <typename T> std::string publish_request(std::string_view name, const T& data, bool keep) {
        auto env = next_env();
        env.id = make_id(env.seq);
        env.rid = env.id;
        auto text = payloads::encode(payloads::Message<T>{env, data});
        if (keep) {
            snap_.records.push_back({*env.id, std::string(name), text});
            save_snapshot();
            next_resend_ = now() + resend_period_ms();
        }
        emit({topics::req(id_, name), std::move(text), 1, false});
        return *env.id;
    }
    /// Replies to a decoded command and remembers the reply under its rid, except `busy`: nothing
    /// was executed, so the same rid sent again later runs (CONTRACT A.6, retries), as for `expired`.
    template <typename Cmd>
    void reply(std::string_view name, const payloads::Message<Cmd>& cmd, payloads::ReplyStatus st,
               std::optional<typename payloads::PayloadTraits<Cmd>::ReplyData> data = std::nullopt,
               std::optional<ErrorCode> code = std::nullopt, std::optional<std::string> msg = std::nullopt) {
        auto r = payloads::make_reply(cmd, next_env(), st, std::move(data), code, std::move(msg));
        send_reply(name, *cmd.env.rid, payloads::encode(r), st != payloads::ReplyStatus::Busy);
    }
    /// A reply without data to any command, by rid (refusals, plain ok).
    void reply_plain(std::string_view name, const std::string& rid, payloads::ReplyStatus st,
                     std::optional<ErrorCode> code = std::nullopt, std::optional<std::string> msg = std::nullopt);
    /// Decodes a command; on failure replies `invalid` (`invalid_request`, the decoder's reason).
    template <typename Cmd>
    std::optional<payloads::Message<Cmd>> decode_command(std::string_view name, std::string_view text) {
        auto m = payloads::decode<Cmd>(text);
        if (!m) {
            if (auto env = payloads::peek_envelope(text); env && env->rid)
                reply_plain(name, *env->rid, payloads::ReplyStatus::Invalid, ErrorCode::InvalidRequest, m.error());
            return std::nullopt;
        }
        return std::move(m).value();
    }
    /// The reply to `rid` comes later (a lock that is moving); duplicates are ignored meanwhile.
    void defer(const std::string& rid) { deferred_.push_back(rid); }
    /// Sends a reply (one that was deferred, too); `remember` keeps it for a duplicate of the rid.
    void send_reply(std::string_view name, const std::string& rid, std::string payload, bool remember = true);
    /// `cmd/ota` (every kind): answers `ok` and starts the download, or `rejected` (control `otafail
    /// <dev> refuse`, or an update already under way).
    void start_ota(const payloads::Message<payloads::CmdOta>& m);
    /// Asks the runner for a transport action after this command.
    void request_action(TransportAction a) { action_ = a; }
    /// Asks the runner to apply `c` to the device `c.device` (which may not be in this run: then nothing).
    void ask_peer(ControlCommand c) { peer_controls_.push_back(std::move(c)); }
    /// Appends a message (dropped while offline: a real device does not queue them).
    void emit(mqtt::Message m);
    /// Marks telemetry as due soon (a socket became active).
    void telemetry_soon();
    /// A `cfg/desired` for a kind with a configuration document: decoded as `Desired`, applied by
    /// `apply(data)` (which sets `doc`, clamping what the hardware cannot do) and kept on flash; a
    /// document the codec refuses is reported `rejected` with its version (read on its own) and the
    /// old values stay. The report is published either way. Returns whether it was applied.
    template <typename Desired, typename Reported, typename Apply>
    bool receive_cfg(std::string_view text, ConfigDocument<Reported>& doc, Apply&& apply) {
        auto m = payloads::decode<Desired>(text);
        if (!m) {
            doc.refused(refused_cfg_version(text), m.error());
            log_cfg_refused(doc.version(), m.error());
            publish_cfg(doc);
            return false;
        }
        apply(m->data);
        if (snap_.cfg_desired != text) {
            snap_.cfg_desired = std::string(text);
            save_snapshot();
        }
        publish_cfg(doc);
        return true;
    }
    /// The configuration kept on flash (the last one applied), decoded as `Desired`.
    template <typename Desired> std::optional<Desired> stored_cfg() const {
        if (snap_.cfg_desired.empty())
            return std::nullopt;
        auto m = payloads::decode<Desired>(snap_.cfg_desired);
        return m ? std::optional<Desired>(m->data) : std::nullopt;
    }
    /// Publishes `doc`'s report (retained), if a configuration is in force.
    template <typename Reported> void publish_cfg(const ConfigDocument<Reported>& doc) {
        if (doc.version() != 0)
            publish_status(topics::cfg_reported(id_), doc.report, true);
    }

private:
    /// The text of a reply without data (not remembered, not sent).
    std::string plain_reply(const std::string& rid, payloads::ReplyStatus st, std::optional<ErrorCode> code,
                            std::optional<std::string> msg);
    std::string make_id(std::int64_t seq) const;
    static std::int64_t refused_cfg_version(std::string_view text);
    void log_cfg_refused(std::int64_t version, const std::string& why) const;
    EpochMs resend_period_ms() const;
    EpochMs tele_interval_ms() const;
    void advance_to_now();
    void resend_records();

    struct Answered {
        std::string rid;
        std::string topic;
        std::string payload;
    };

    std::string id_;
    Kind kind_;
    const Clock& clock_;
    const Settings& settings_;
    DeviceStore& store_;
    Rng rng_;
    DeviceSnapshot snap_;
    bool online_ = false;
    std::int64_t boot_ = 0;
    std::int64_t seq_ = 0;
    EpochMs last_advance_ = 0;
    std::int64_t carry_us_ = 0; // sub-millisecond remainder of simulated time
    EpochMs next_tele_ = 0;
    EpochMs next_resend_ = 0;
    std::deque<Answered> answered_;
    std::vector<std::string> deferred_;
    std::map<std::string, int, std::less<>> drop_next_; ///< command name → how many more to lose (control `drop`)
    std::vector<mqtt::Message> outbox_;
    TransportAction action_ = TransportAction::None;
    std::vector<ControlCommand> peer_controls_;
    std::optional<payloads::CmdOta> ota_; ///< the update under way
    std::optional<std::string> download_; ///< a URL for the runner to fetch
    std::string ota_fail_ = "off";        ///< control otafail: checksum, install, refuse or off
};

/// Creates the model of one fleet entry.
std::unique_ptr<Device> make_device(const FleetDevice& d, const Clock& clock, const Settings& settings,
                                    DeviceStore& store);

} // namespace pilehub::sim
