#include "common/socket_availability.hpp"

namespace pilehub::sockets {
namespace {

Reported from_ebike(payloads::EbikeSocketStatus st, bool has_faults) {
    using St = payloads::EbikeSocketStatus;
    switch (st) {
    case St::Fault:
        return Reported::Fault;
    case St::Disabled:
        return Reported::Disabled;
    case St::Starting:
    case St::Charging:
    case St::FullWait:
        return Reported::InUse;
    case St::Idle:
        break;
    }
    return has_faults ? Reported::Fault : Reported::Idle;
}

} // namespace

Reported reported(const payloads::EbikeConnState& s) {
    return from_ebike(s.st, !s.faults.empty());
}

Reported reported(payloads::EvGunStatus st) {
    using St = payloads::EvGunStatus;
    switch (st) {
    case St::Available:
        return Reported::Idle;
    case St::Preparing:
        return Reported::Plugged;
    case St::Charging:
    case St::SuspendedEvse:
    case St::SuspendedEv:
    case St::Finishing:
    case St::Reserved:
        return Reported::InUse;
    case St::Unavailable:
        return Reported::Disabled;
    case St::Faulted:
        return Reported::Fault;
    }
    return Reported::Fault;
}

std::optional<Reported> reported_from_word(std::string_view st, const std::vector<std::string>& faults) {
    if (const auto e = payloads::parse_enum<payloads::EbikeSocketStatus>(st))
        return from_ebike(*e, !faults.empty());
    if (const auto g = payloads::parse_enum<payloads::EvGunStatus>(st))
        return reported(*g);
    return std::nullopt;
}

Availability socket_availability(const SocketFacts& f) {
    if (!f.enabled)
        return Availability::Disabled;
    if (!f.device_online)
        return Availability::Offline;
    if (f.fault_open || f.reported == Reported::Fault)
        return Availability::Faulted;
    if (f.reported == Reported::Disabled)
        return Availability::Disabled;
    if (f.session_live || f.reported == Reported::InUse)
        return Availability::Busy;
    return Availability::Free;
}

std::string_view rider_word(Availability a) {
    switch (a) {
    case Availability::Free:
        return "free";
    case Availability::Busy:
        return "busy";
    case Availability::Faulted:
        return "faulted";
    case Availability::Offline:
        return "offline";
    case Availability::Disabled:
        return "unavailable";
    }
    return "unavailable";
}

} // namespace pilehub::sockets
