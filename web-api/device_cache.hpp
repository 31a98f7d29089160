#pragma once
#include "common/clock.hpp"
#include "common/mqtt.hpp"
#include "common/socket_availability.hpp"
#include "common/svc.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::api {

/// The latest known state of one socket / gun / space (its retained `conn/{n}/state` or `space/{n}/state`).
struct PortLive {
    std::string st;  ///< idle, charging, fault, available, ... as the device said
    std::string sid; ///< the session it runs, if any
    std::vector<std::string> faults;
    EpochMs since = 0;
};

/// The latest known state of one device, from its retained topics. Its telemetry is not here: the
/// API reads what recorderd stored (telemetry_store.hpp).
struct DeviceLive {
    /// The device's own presence and presenced's verdicts (heartbeat time-outs included), folded
    /// into the platform's one view: the latest report wins, a late Will is ignored.
    svc::PresenceView presence;
    std::int64_t boot = 0;   ///< the boot of the latest presence report that counted
    EpochMs presence_at = 0; ///< since when: a verdict's `since`, else when the device's own report arrived
    std::string fw;
    std::string state_json = "{}"; ///< `state.data`
    std::string reported_json;     ///< `cfg/reported.data`, empty if never reported
    std::map<int, PortLive> ports;

    /// Online or not; nullopt while no presence report has arrived.
    std::optional<bool> is_online() const { return presence.online(); }
};

/// What the API learns from the broker: devices' presence, socket states and reported
/// configuration (never raw telemetry: recorderd is its one validator, docs/topics.md), presenced's verdicts,
/// billingd's running costs (forgotten when the session's transition says it ended). The ph/v1/svc payloads are read
/// with their svc codecs; one in another shape is logged and ignored. Fed on the MQTT callback thread (handle() never
/// blocks); read by HTTP threads.
class DeviceCache {
public:
    explicit DeviceCache(const Clock& clock = SystemClock::instance()) : clock_(clock) {}
    /// The topic filters to subscribe to.
    static std::vector<std::string> filters();
    /// Takes in one message (any topic; unrelated ones are ignored).
    void handle(const mqtt::Message& m);

    std::optional<DeviceLive> device(const std::string& id) const;
    std::optional<PortLive> port(const std::string& id, int n) const;
    /// The device's online state (DeviceLive::is_online) without copying the device: for lists.
    std::optional<bool> online(const std::string& id) const;
    /// What every known port of a device last reported (its `st` and fault words, as
    /// sockets::reported_from_word reads them), by number, under one lock: for lists of many
    /// sockets (nearby stations), where copying each PortLive showed in the profile. Ports whose
    /// word neither device kind uses are left out.
    std::map<int, sockets::Reported> port_states(const std::string& id) const;
    /// billingd's latest running cost of a live session (none while billingd cannot price it).
    std::optional<std::int64_t> session_cost(const std::string& sid) const;

private:
    /// Folds one presence report (either source) into `d`; call with m_ held.
    static void apply_presence(DeviceLive& d, bool online, std::optional<std::int64_t> boot, EpochMs since);
    void on_verdict(const std::string& device_id, std::string_view payload);
    void on_cost(const std::string& sid, std::string_view payload, EpochMs now);
    void on_transition(const std::string& sid, std::string_view payload);

    const Clock& clock_;
    mutable std::mutex m_;
    std::map<std::string, DeviceLive> devices_;
    std::map<std::string, std::pair<std::int64_t, EpochMs>> costs_;
};

} // namespace pilehub::api
