#include "common/socket_availability.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace pilehub;
using sockets::Availability;
using sockets::Reported;

TEST_CASE("socket availability: what an e-bike socket's conn state reports") {
    using St = payloads::EbikeSocketStatus;
    struct Row {
        St st;
        bool faults;
        Reported want;
    };
    const Row rows[] = {
        {St::Idle, false, Reported::Idle},         {St::Idle, true, Reported::Fault},
        {St::Starting, false, Reported::InUse},    {St::Starting, true, Reported::InUse},
        {St::Charging, false, Reported::InUse},    {St::Charging, true, Reported::InUse},
        {St::FullWait, false, Reported::InUse},    {St::FullWait, true, Reported::InUse},
        {St::Fault, false, Reported::Fault},       {St::Fault, true, Reported::Fault},
        {St::Disabled, false, Reported::Disabled}, {St::Disabled, true, Reported::Disabled},
    };
    for (const auto& r : rows) {
        payloads::EbikeConnState s;
        s.st = r.st;
        if (r.faults)
            s.faults = {"relay_welded"};
        CHECK_MESSAGE(sockets::reported(s) == r.want, payloads::to_string(r.st) << (r.faults ? " with faults" : ""));
        // The cached word and fault list (the API's device cache) read the same.
        CHECK(sockets::reported_from_word(payloads::to_string(r.st), s.faults) == r.want);
    }
}

TEST_CASE("socket availability: what an EV gun's OCPP status reports") {
    using St = payloads::EvGunStatus;
    struct Row {
        St st;
        Reported want;
    };
    const Row rows[] = {
        {St::Available, Reported::Idle},      {St::Preparing, Reported::Plugged},    {St::Charging, Reported::InUse},
        {St::SuspendedEvse, Reported::InUse}, {St::SuspendedEv, Reported::InUse},    {St::Finishing, Reported::InUse},
        {St::Reserved, Reported::InUse},      {St::Unavailable, Reported::Disabled}, {St::Faulted, Reported::Fault},
    };
    for (const auto& r : rows) {
        CHECK_MESSAGE(sockets::reported(r.st) == r.want, payloads::to_string(r.st));
        CHECK(sockets::reported_from_word(payloads::to_string(r.st), {}) == r.want);
    }
    for (const char* unknown : {"", "Charging", "broken", "free"})
        CHECK_MESSAGE(!sockets::reported_from_word(unknown, {}), unknown);
}

TEST_CASE("socket availability: every combination of facts, first rule that applies wins") {
    const std::optional<Reported> reports[] = {std::nullopt,      Reported::Idle,  Reported::InUse,
                                               Reported::Plugged, Reported::Fault, Reported::Disabled};
    std::set<Availability> seen;
    int combinations = 0;
    for (bool enabled : {false, true})
        for (bool online : {false, true})
            for (bool fault_open : {false, true})
                for (bool live : {false, true})
                    for (const auto& rep : reports) {
                        sockets::SocketFacts f{enabled, online, fault_open, live, rep};
                        // The rule, as docs/api.md and CONTRACT B state it to riders.
                        Availability want = Availability::Free;
                        if (!enabled)
                            want = Availability::Disabled; // disabled in the registry: unknown_socket
                        else if (!online)
                            want = Availability::Offline; // device_offline
                        else if (fault_open || rep == Reported::Fault)
                            want = Availability::Faulted; // socket_faulted
                        else if (rep == Reported::Disabled)
                            want = Availability::Disabled; // the pile took it out of service
                        else if (live || rep == Reported::InUse)
                            want = Availability::Busy; // socket_busy
                        const auto got = sockets::socket_availability(f);
                        CHECK_MESSAGE(got == want, "enabled=" << enabled << " online=" << online
                                                              << " fault_open=" << fault_open << " live=" << live
                                                              << " reported=" << (rep ? static_cast<int>(*rep) : -1));
                        seen.insert(got);
                        ++combinations;
                    }
    CHECK(combinations == 96);
    CHECK(seen.size() == 5); // every value is reachable
}

TEST_CASE("socket availability: an EV gun is free only when available, or preparing with no session, and online") {
    using St = payloads::EvGunStatus;
    using A = Availability;
    struct Row {
        St st;
        A no_session;   ///< charger online, no live session on the gun
        A with_session; ///< charger online, a live session holds the gun
    };
    const Row rows[] = {
        {St::Available, A::Free, A::Busy},     {St::Preparing, A::Free, A::Busy},
        {St::Charging, A::Busy, A::Busy},      {St::SuspendedEvse, A::Busy, A::Busy},
        {St::SuspendedEv, A::Busy, A::Busy},   {St::Finishing, A::Busy, A::Busy},
        {St::Reserved, A::Busy, A::Busy},      {St::Unavailable, A::Disabled, A::Disabled},
        {St::Faulted, A::Faulted, A::Faulted},
    };
    CHECK(std::size(rows) == 9); // every OCPP 1.6 ChargePointStatus of CONTRACT A.5
    for (const auto& r : rows) {
        CAPTURE(payloads::to_string(r.st));
        sockets::SocketFacts f;
        f.device_online = true;
        f.reported = sockets::reported(r.st);
        CHECK(sockets::socket_availability(f) == r.no_session);
        f.session_live = true;
        CHECK(sockets::socket_availability(f) == r.with_session);
        // An offline charger offers nothing, whatever its guns last said.
        f.device_online = false;
        CHECK(sockets::socket_availability(f) == A::Offline);
        f.session_live = false;
        CHECK(sockets::socket_availability(f) == A::Offline);
    }
}

TEST_CASE("socket availability: the cases sessiond and the rider lists used to disagree on") {
    sockets::SocketFacts f;
    f.device_online = true;
    f.reported = Reported::Disabled; // the pile reports `disabled` (or an EV gun `unavailable`)
    CHECK(sockets::socket_availability(f) == Availability::Disabled);
    CHECK(sockets::rider_word(sockets::socket_availability(f)) == "unavailable");
    f.reported = Reported::Fault; // an idle socket listing fault words
    CHECK(sockets::rider_word(sockets::socket_availability(f)) == "faulted");
    f.reported = Reported::InUse;
    f.fault_open = true; // an open fault record beats a socket in use
    CHECK(sockets::rider_word(sockets::socket_availability(f)) == "faulted");
}

TEST_CASE("socket availability: riders see the words docs/api.md lists") {
    CHECK(sockets::rider_word(Availability::Free) == "free");
    CHECK(sockets::rider_word(Availability::Busy) == "busy");
    CHECK(sockets::rider_word(Availability::Faulted) == "faulted");
    CHECK(sockets::rider_word(Availability::Offline) == "offline");
    CHECK(sockets::rider_word(Availability::Disabled) == "unavailable");
}
