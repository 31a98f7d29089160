#pragma once
#include "common/payloads/ebike.hpp"
#include "common/payloads/ev.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Whether a socket can take a new session: the one rule behind sessiond's start pre-check and
/// the state riders see in socket and station lists.
namespace pilehub::sockets {

/// What a socket's (gun's) own last status report says, in words both device kinds share.
enum class Reported {
    Idle,     ///< nothing runs and nothing is wrong
    InUse,    ///< a session starts, runs or waits (e-bike starting/charging/full_wait; EV charging..reserved)
    Plugged,  ///< an EV gun's `preparing`: a car is plugged in, waiting to be authorised; busy only while a
              ///< live session holds the gun (a car parked plugged without a session does not block riders)
    Fault,    ///< the device reports a fault (e-bike `fault`, or fault words on an idle socket; EV `faulted`)
    Disabled, ///< the device took the socket out of service (e-bike `disabled`; EV `unavailable`)
};
/// An e-bike pile's conn state. Fault words count only while the socket is idle: a running
/// session is reported in use until the pile ends it.
Reported reported(const payloads::EbikeConnState& s);
/// An EV gun's OCPP status.
Reported reported(payloads::EvGunStatus st);
/// A status word as a device sent it (either kind's `st`) with its fault words; nothing for a word
/// neither kind uses (such a socket counts as not having reported).
std::optional<Reported> reported_from_word(std::string_view st, const std::vector<std::string>& faults);

/// A socket's availability. Each value is one word riders see (rider_word).
enum class Availability {
    Free,     ///< `free`: a session may start
    Busy,     ///< `busy`: a live session holds it, or the device reports it in use
    Faulted,  ///< `faulted`: an open fault record, or the device reports a fault
    Offline,  ///< `offline`: the device is not connected
    Disabled, ///< `unavailable`: disabled in the registry (socket or anything above it) or by the device
};

/// Everything availability depends on.
struct SocketFacts {
    bool enabled = true;              ///< the socket, its device and everything above are enabled
    bool device_online = false;       ///< the platform's view of the device's presence
    bool fault_open = false;          ///< a fault record is open on the socket or on its whole device
    bool session_live = false;        ///< a live session holds the socket
    std::optional<Reported> reported; ///< the socket's last status report, if it sent one
};

/// The first that applies: not enabled → Disabled; device offline → Offline; an open fault
/// record or a reported fault → Faulted; reported disabled → Disabled; a live session or reported
/// in use → Busy; otherwise Free (so an EV gun `preparing` with no live session is Free: CONTRACT
/// D.1 counts a gun free when it is `available`, or `preparing` with no session, and online).
Availability socket_availability(const SocketFacts& f);

/// The rider API's word (docs/api.md): free, busy, faulted, offline, unavailable.
std::string_view rider_word(Availability a);

} // namespace pilehub::sockets
