#pragma once
#include "common/money.hpp"
#include "common/payloads/shared.hpp"
#include "common/svc/codec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// Presence: presenced's verdict on a device (`ph/v1/svc/device/{id}/presence`) and the one view
/// of a device's presence, with the late-Will guard of CONTRACT A.4, that every process folds
/// the device's own presence and presenced's verdicts into.
namespace pilehub::svc {

/// presenced's verdict on one device, retained, on `ph/v1/svc/device/{id}/presence` (QoS 1).
/// Published by presenced on every transition (and again at its start-up); read by sessiond
/// (suspends the sessions of a pile that went offline) and the API. Unknown members are ignored.
struct PresenceVerdict {
    bool online = false;
    std::int64_t boot = 0; ///< the boot of the latest accepted presence of the device, ≥ 0
    EpochMs since = 0;     ///< when the device entered this state, UTC epoch ms
    /// Why, a snake_case word: `connect`, `resumed`, `shutdown`, `lwt`, `silent`, or the device's own word.
    std::string reason;
    bool operator==(const PresenceVerdict&) const = default;
};
template <> struct Traits<PresenceVerdict> {
    static constexpr std::string_view kName = "presence_verdict";
    static constexpr std::string_view kTopic = "ph/v1/svc/device/{id}/presence";
    static constexpr bool kStrict = false;
};

/// Whether a presence report is a late Will (CONTRACT A.4): `online:false` with a boot lower than
/// the latest `online:true`. A report without a boot is never one.
bool is_late_will(bool online, std::optional<std::int64_t> boot, std::int64_t latest_online_boot);

/// What one presence report did to a view.
enum class PresenceChange {
    CameOnline,  ///< the device is online now (first news, or it was offline)
    WentOffline, ///< the device is offline now (first news, or it was online)
    Unchanged,   ///< the report confirms what the view already said
    LateWill,    ///< ignored: a late Will from an earlier connection
};
std::string_view to_string(PresenceChange c);

/// The platform's view of one device's presence. Fed with the device's own presence (CONTRACT A.4)
/// and with presenced's verdicts alike; the latest report wins except a late Will.
class PresenceView {
public:
    /// Folds one report in. `boot` is absent when the source has none.
    PresenceChange apply(bool online, std::optional<std::int64_t> boot);
    /// The device's own presence message.
    PresenceChange apply(const payloads::Presence& p) { return apply(p.online, p.boot); }
    /// presenced's verdict.
    PresenceChange apply(const PresenceVerdict& v) { return apply(v.online, v.boot); }

    /// Whether any report has been folded in.
    bool known() const { return known_; }
    /// Online or not; nullopt while nothing is known.
    std::optional<bool> online() const { return known_ ? std::optional<bool>(online_) : std::nullopt; }
    /// The highest boot seen with `online:true` (-1 before any).
    std::int64_t latest_online_boot() const { return latest_online_boot_; }

private:
    bool known_ = false;
    bool online_ = false;
    std::int64_t latest_online_boot_ = -1;
};

} // namespace pilehub::svc
