// The tariff library through the real API (issue 14): named schemes assigned to areas and devices
// in bulk, the most specific level pricing a socket, scope per target, archive refused while in
// force, and a session keeping the version it started with.
#include "tests/integration/api_stack.hpp"

#include "common/clock.hpp"
#include "common/tariff_store.hpp"

using namespace pilehub;
using namespace pilehub::test::api;

namespace {

/// A time-mode tariff called `name` at `fen_per_hour`.
std::string tariff_doc(const std::string& name, int fen_per_hour) {
    return fmt::format(R"({{"name": "{}", "timezone": "Asia/Shanghai", "modes": ["time"],
  "time": {{"fen_per_hour": {}, "options_minutes": [60, 120]}}, "effective_from": "now",
  "cap": {{"max_minutes": 720, "max_fen": 5000}}, "min_start_balance_fen": 100, "stop_below_balance_fen": 0}})",
                       name, fen_per_hour);
}

std::int64_t create_scheme(const Stack& st, const std::string& admin, const std::string& name, int fen_per_hour) {
    auto r = st.post(
        "/api/v1/admin/tariff-schemes",
        fmt::format(R"({{"name":"{}","description":"test","tariff":{}}})", name, tariff_doc(name, fen_per_hour)),
        admin);
    REQUIRE_MESSAGE(r.status == 201, r);
    return r.i64("id");
}

Http assign(const Stack& st, const std::string& token, std::int64_t scheme, const std::string& targets) {
    return st.post(fmt::format("/api/v1/admin/tariff-schemes/{}/assign", scheme), "{" + targets + "}", token);
}

/// The device's tariff view: level and the name of the tariff in force.
std::pair<std::string, std::string> applies(const Stack& st, const std::string& admin, const std::string& device) {
    auto r = st.get(fmt::format("/api/v1/admin/devices/{}/tariff", device), admin);
    REQUIRE_MESSAGE(r.status == 200, r);
    return {r.str("level"), r.str("in_force.tariff.name")};
}

} // namespace

TEST_CASE("api tariffs: a device scheme beats the area scheme, which beats the station tariff; bulk assignment is "
          "scope-checked and all or nothing; a session keeps its start version") {
    Stack st;
    const auto admin = st.admin();
    const auto home = st.station(admin, "Tariff Home");
    const auto away = st.station(admin, "Tariff Away");
    for (auto [station, name] : {std::pair{home, "Home station"}, std::pair{away, "Away station"}}) {
        auto r = st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station),
                        fmt::format(R"({{"tariff":{}}})", tariff_doc(name, 100)), admin);
        REQUIRE_MESSAGE(r.status == 200, r);
        CHECK_MESSAGE(r.str("version.level") == "station", r);
    }
    auto area = st.post(fmt::format("/api/v1/admin/stations/{}/areas", home), R"({"name":"North"})", admin);
    REQUIRE_MESSAGE(area.status == 201, area);
    const auto north = area.i64("id");
    for (const auto* id : {"tp-d1", "tp-d2"}) {
        st.device(admin, id, home, 4);
        auto r = st.put(fmt::format("/api/v1/admin/devices/{}", id), fmt::format(R"({{"area_id":{}}})", north), admin);
        REQUIRE_MESSAGE(r.status == 200, r);
    }
    st.device(admin, "tp-d3", home, 4); // at home, outside the area
    st.device(admin, "tp-e1", away, 4);

    const auto area_scheme = create_scheme(st, admin, "Area scheme", 200);
    const auto device_scheme = create_scheme(st, admin, "Device scheme", 300);
    CHECK(st.post("/api/v1/admin/tariff-schemes",
                  fmt::format(R"({{"name":"Area scheme","tariff":{}}})", tariff_doc("x", 1)), admin)
              .code() == "duplicate");
    CHECK(st.post("/api/v1/admin/tariff-schemes", R"({"name":"Broken","tariff":{"name":"x"}})", admin).code() ==
          "invalid_request");
    CHECK(st.get("/api/v1/admin/tariff-schemes", admin).size("schemes") == 2);

    auto to_area = assign(st, admin, area_scheme, fmt::format(R"("area_ids":[{}])", north));
    REQUIRE_MESSAGE(to_area.status == 200, to_area);
    CHECK(to_area.str("versions.0.level") == "area");
    CHECK(to_area.i64("versions.0.scheme_id") == area_scheme);
    auto to_d1 = assign(st, admin, device_scheme, R"("device_ids":["tp-d1"])");
    REQUIRE_MESSAGE(to_d1.status == 200, to_d1);
    const auto d1_version = to_d1.i64("versions.0.id");

    // Each device's sockets are priced by the most specific level: its own, its area's, its station's.
    CHECK(applies(st, admin, "tp-d1") == std::pair<std::string, std::string>{"device", "Device scheme"});
    CHECK(applies(st, admin, "tp-d2") == std::pair<std::string, std::string>{"area", "Area scheme"});
    CHECK(applies(st, admin, "tp-d3") == std::pair<std::string, std::string>{"station", "Home station"});
    CHECK(applies(st, admin, "tp-e1") == std::pair<std::string, std::string>{"station", "Away station"});
    // The price a rider sees for a socket is the same lookup.
    const auto rider = st.rider("13800000140");
    auto sock = st.get("/api/v1/sockets/tp-d1-1", rider);
    REQUIRE_MESSAGE(sock.status == 200, sock);
    CHECK(sock.str("tariff.name") == "Device scheme");
    CHECK(sock.str("tariff.level") == "device");
    CHECK(st.get("/api/v1/sockets/tp-d2-1", rider).str("tariff.name") == "Area scheme");
    CHECK(st.get("/api/v1/sockets/tp-e1-1", rider).str("tariff.level") == "station");

    // A session that started on tp-d1 records the version in force (as sessiond does at the start).
    const auto now = SystemClock::instance().now_ms();
    const std::string sid = "tariff-session-1";
    {
        auto d = st.db();
        const auto at_start = billing::TariffStore(d).in_force(home, north, std::string("tp-d1"), now);
        REQUIRE(at_start.id == d1_version);
        db::Statement(d, "INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, minutes, "
                         "tariff_id, state, created_at, started_at, updated_at) VALUES (?1, ?2, 'app', 'tp-d1', 1, "
                         "?3, 'time', 60, ?4, 'charging', ?5, ?5, ?5)")
            .bind_all(sid, st.rider_id(rider), home, *at_start.id, now - 60'000)
            .run();
    }

    // A station-scoped operator may assign only to what it sees: one device elsewhere refuses the whole request.
    const auto scoped = st.staff(admin, "tariff-op", "operator", fmt::format(R"("station_ids":[{}])", home));
    auto refused = assign(st, scoped, device_scheme, R"("device_ids":["tp-d2","tp-e1"])");
    CHECK_MESSAGE(refused.code() == "unknown_device", refused);
    CHECK(refused.str("error.message").find("tp-e1") != std::string::npos);
    CHECK(applies(st, admin, "tp-d2").first == "area"); // nothing saved for tp-d2 either
    CHECK(assign(st, scoped, device_scheme, fmt::format(R"("station_ids":[{}])", away)).code() == "not_found");
    CHECK(assign(st, admin, device_scheme, R"("device_ids":["no-such-device"])").code() == "unknown_device");
    CHECK(assign(st, admin, device_scheme, "").code() == "invalid_request");

    // In bulk, by an operator who sees them all.
    auto bulk = assign(st, admin, device_scheme, R"("device_ids":["tp-d2","tp-e1"])");
    REQUIRE_MESSAGE(bulk.status == 200, bulk);
    CHECK(bulk.size("versions") == 2);
    CHECK(applies(st, admin, "tp-d2").second == "Device scheme");
    CHECK(applies(st, admin, "tp-e1") == std::pair<std::string, std::string>{"device", "Device scheme"});
    auto where = st.get(fmt::format("/api/v1/admin/tariff-schemes/{}/assignments", device_scheme), admin);
    CHECK(where.size("assignments") == 3);
    CHECK(where.str("assignments.0.state") == "in_force");
    CHECK(
        st.get(fmt::format("/api/v1/admin/tariff-schemes/{}/assignments", device_scheme), scoped).size("assignments") ==
        2); // tp-e1 is at a station outside its scope

    // Reassigning tp-d1 to the area scheme: new sessions get it, the running one keeps its start version.
    auto back = assign(st, admin, area_scheme, R"("device_ids":["tp-d1"])");
    REQUIRE_MESSAGE(back.status == 200, back);
    CHECK(applies(st, admin, "tp-d1") == std::pair<std::string, std::string>{"device", "Area scheme"});
    CHECK(st.get(fmt::format("/api/v1/admin/sessions/{}", sid), admin).i64("tariff_id") == d1_version);
    {
        auto d = st.db();
        CHECK(billing::TariffStore(d).for_session(sid).id == d1_version);
    }

    // Editing a scheme changes nothing in force unless asked to; apply_to_assigned saves new versions.
    auto edit = st.put(fmt::format("/api/v1/admin/tariff-schemes/{}", device_scheme),
                       fmt::format(R"({{"tariff":{}}})", tariff_doc("Device scheme v2", 350)), admin);
    REQUIRE_MESSAGE(edit.status == 200, edit);
    CHECK(edit.size("versions") == 0);
    CHECK(applies(st, admin, "tp-d2").second == "Device scheme");
    // Applying it reaches every target in force: not for an operator who does not see them all.
    auto beyond = st.put(fmt::format("/api/v1/admin/tariff-schemes/{}", device_scheme),
                         R"({"description":"mine","apply_to_assigned":true})", scoped);
    CHECK_MESSAGE(beyond.code() == "forbidden", beyond);
    CHECK(applies(st, admin, "tp-d2").second == "Device scheme");
    CHECK(st.get(fmt::format("/api/v1/admin/tariff-schemes/{}", device_scheme), admin).str("description") == "test");
    auto applied = st.put(fmt::format("/api/v1/admin/tariff-schemes/{}", device_scheme),
                          R"({"description":"now everywhere","apply_to_assigned":true})", admin);
    REQUIRE_MESSAGE(applied.status == 200, applied);
    CHECK(applied.size("versions") == 2); // tp-d2 and tp-e1; tp-d1 moved to the area scheme
    CHECK(applies(st, admin, "tp-d2").second == "Device scheme v2");

    // A later start leaves the current tariff in force until then, and shows as scheduled.
    auto later = assign(st, admin, area_scheme, R"("device_ids":["tp-d3"],"effective_from":"2099-01-01T00:00:00Z")");
    REQUIRE_MESSAGE(later.status == 200, later);
    CHECK(applies(st, admin, "tp-d3").first == "station");
    bool scheduled = false;
    auto area_where = st.get(fmt::format("/api/v1/admin/tariff-schemes/{}/assignments", area_scheme), admin);
    for (std::size_t i = 0; i < area_where.size("assignments"); ++i)
        if (area_where.str(fmt::format("assignments.{}.version.device_id", i)) == "tp-d3")
            scheduled = area_where.str(fmt::format("assignments.{}.state", i)) == "scheduled";
    CHECK(scheduled);

    // Archiving is refused while a scheme is in force, naming where; an unused one is archived.
    auto in_use = st.request("DELETE", fmt::format("/api/v1/admin/tariff-schemes/{}", area_scheme), "", admin);
    CHECK_MESSAGE(in_use.code() == "conflict", in_use);
    CHECK(in_use.str("error.message").find("area " + std::to_string(north)) != std::string::npos);
    const auto unused = create_scheme(st, admin, "Unused", 50);
    auto archived = st.request("DELETE", fmt::format("/api/v1/admin/tariff-schemes/{}", unused), "", admin);
    REQUIRE_MESSAGE(archived.status == 200, archived);
    CHECK(archived.boolean("archived"));
    CHECK(st.get("/api/v1/admin/tariff-schemes", admin).size("schemes") == 2);
    CHECK(st.get("/api/v1/admin/tariff-schemes?archived=true", admin).size("schemes") == 3);
    CHECK(assign(st, admin, unused, R"("device_ids":["tp-d3"])").code() == "conflict");
    // The name of an archived scheme is free again.
    create_scheme(st, admin, "Unused", 60);
}
