#include "common/svc.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

using namespace pilehub;
using svc::PresenceChange;
using svc::PresenceView;

namespace {

/// One report: online or not, and its boot (absent when the source has none).
struct Report {
    bool online;
    std::optional<std::int64_t> boot;
};

/// A view after `reports`, folded in order.
PresenceView after(const std::vector<Report>& reports) {
    PresenceView v;
    for (const auto& r : reports)
        v.apply(r.online, r.boot);
    return v;
}

struct Case {
    const char* rule;
    std::vector<Report> before;
    Report report;
    PresenceChange change;
    std::optional<bool> online_after;
};

} // namespace

TEST_CASE("presence view: each report against each prior view (CONTRACT A.4)") {
    const std::vector<Case> table = {
        {"first news online counts", {}, {true, 17}, PresenceChange::CameOnline, true},
        {"first news offline counts, whatever its boot", {}, {false, 3}, PresenceChange::WentOffline, false},
        {"first news without a boot counts", {}, {false, std::nullopt}, PresenceChange::WentOffline, false},
        {"online again with the same boot changes nothing", {{true, 17}}, {true, 17}, PresenceChange::Unchanged, true},
        {"online with a newer boot changes nothing but the boot",
         {{true, 17}},
         {true, 18},
         PresenceChange::Unchanged,
         true},
        {"the Will of the same boot takes it offline", {{true, 17}}, {false, 17}, PresenceChange::WentOffline, false},
        {"the Will of an earlier boot is a late Will", {{true, 17}}, {false, 16}, PresenceChange::LateWill, true},
        {"a late Will is ignored while offline too",
         {{true, 17}, {false, 17}},
         {false, 16},
         PresenceChange::LateWill,
         false},
        {"a late Will is judged against the latest online boot, not the latest report",
         {{true, 17}, {false, 17}, {true, 18}},
         {false, 17},
         PresenceChange::LateWill,
         true},
        {"an offline report without a boot (presenced's silence) is never a late Will",
         {{true, 17}},
         {false, std::nullopt},
         PresenceChange::WentOffline,
         false},
        {"offline with a newer boot counts", {{true, 17}}, {false, 18}, PresenceChange::WentOffline, false},
        {"back online after offline", {{true, 17}, {false, 17}}, {true, 18}, PresenceChange::CameOnline, true},
        {"back online with the same boot (presenced's `resumed`)",
         {{true, 17}, {false, 17}},
         {true, 17},
         PresenceChange::CameOnline,
         true},
        {"offline twice changes nothing", {{false, 4}}, {false, 4}, PresenceChange::Unchanged, false},
        {"online without a boot after online", {{true, 17}}, {true, std::nullopt}, PresenceChange::Unchanged, true},
    };
    for (const auto& c : table) {
        CAPTURE(c.rule);
        auto v = after(c.before);
        CHECK(v.apply(c.report.online, c.report.boot) == c.change);
        CHECK(v.online() == c.online_after);
        CHECK(v.known());
    }
}

TEST_CASE("presence view: nothing is known before the first report, and a late Will teaches nothing") {
    PresenceView v;
    CHECK_FALSE(v.known());
    CHECK_FALSE(v.online().has_value());
    CHECK(v.latest_online_boot() == -1);
    CHECK(v.apply(true, 5) == PresenceChange::CameOnline);
    CHECK(v.latest_online_boot() == 5);
    CHECK(v.apply(true, 3) == PresenceChange::Unchanged);
    CHECK(v.latest_online_boot() == 5); // the latest online boot never goes back
    CHECK(v.apply(false, 4) == PresenceChange::LateWill);
    CHECK(v.latest_online_boot() == 5);
}

TEST_CASE("presence view: the device's own presence and presenced's verdicts fold into one view") {
    PresenceView v;
    payloads::Presence own;
    own.online = true;
    own.boot = 17;
    CHECK(v.apply(own) == PresenceChange::CameOnline);
    CHECK(v.apply(svc::PresenceVerdict{false, 17, 1732183200123, "silent"}) == PresenceChange::WentOffline);
    CHECK(v.apply(svc::PresenceVerdict{true, 17, 1732183300000, "resumed"}) == PresenceChange::CameOnline);
    payloads::Presence will;
    will.online = false;
    will.boot = 16;
    will.reason = "lwt";
    CHECK(v.apply(will) == PresenceChange::LateWill);
    CHECK(v.online() == true);
}

TEST_CASE("presence: is_late_will is online:false with a boot below the latest online boot, nothing else") {
    CHECK(svc::is_late_will(false, 16, 17));
    CHECK_FALSE(svc::is_late_will(false, 17, 17));
    CHECK_FALSE(svc::is_late_will(false, 18, 17));
    CHECK_FALSE(svc::is_late_will(true, 16, 17));
    CHECK_FALSE(svc::is_late_will(false, std::nullopt, 17));
    CHECK_FALSE(svc::is_late_will(false, 0, -1));
}

TEST_CASE("presence: every change has a name for logs") {
    for (auto c :
         {PresenceChange::CameOnline, PresenceChange::WentOffline, PresenceChange::Unchanged, PresenceChange::LateWill})
        CHECK(svc::to_string(c) != "?");
}
