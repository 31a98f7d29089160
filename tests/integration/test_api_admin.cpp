// CONTRACT C and the operator console against the running stack: first admin, hierarchy, devices
// with broker credentials, configuration publishing, QR codes, tariffs and the calculator, users,
// cards, sessions, monitoring, dashboard figures from the ledger, exports.
#include "api_stack.hpp"

#include "common/ledger.hpp"
#include "common/payloads.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"

#include <sys/stat.h>

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

constexpr const char* kTariff = R"({"tariff": {
  "name": "Residential e-bike", "timezone": "Asia/Shanghai", "modes": ["time", "power"],
  "time":  {"fen_per_hour": 100, "options_minutes": [60, 120, 240]},
  "power": {"tiers": [{"up_to_w": 150, "fen_per_hour": 25}, {"up_to_w": 300, "fen_per_hour": 30},
                      {"up_to_w": 500, "fen_per_hour": 45}, {"up_to_w": 1000, "fen_per_hour": 57},
                      {"up_to_w": 2000, "fen_per_hour": 100}], "ignore_first_s": 60},
  "free_minutes": 5, "cap": {"max_minutes": 720, "max_fen": 1000},
  "min_start_balance_fen": 200, "stop_below_balance_fen": 0}})";

/// Settles a session the way billingd does: the ledger entry `settle:<sid>` and the session row.
void settle(Stack& st, const std::string& sid, std::int64_t account, std::int64_t cost, std::int64_t energy_wh,
            std::int64_t duration_s, EpochMs ended_at) {
    auto d = st.db();
    debit_settlement(d, sid, account, cost);
    db::Statement(
        d, "UPDATE sessions SET state = 'completed', cost_fen = ?, energy_wh = ?, duration_s = ?, started_at = ?, "
           "ended_at = ?, stop_reason = 'full' WHERE id = ?")
        .bind_all(cost, energy_wh, duration_s, ended_at - duration_s * 1000, ended_at, sid)
        .run();
}

} // namespace

TEST_CASE("api admin: without PILEHUB_ADMIN_PASSWORD the first admin's random password is written to "
          "initial-admin-password") {
    StackOptions o;
    o.admin_password_env = false;
    Stack st(o);
    const auto file = st.dir() + "/initial-admin-password";
    REQUIRE(fs::exists(file));
    struct stat sb {};
    REQUIRE(::stat(file.c_str(), &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0600);
    auto pw = slurp(file);
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r'))
        pw.pop_back();
    CHECK(pw.size() >= 16);
    auto bad = st.post("/api/v1/admin/login", R"({"username":"admin","password":"admin-password-1"})");
    CHECK(bad.status == 401);
    CHECK(bad.code() == "unauthorized");
    const auto token = st.admin("admin", pw);
    auto me = st.get("/api/v1/admin/me", token);
    CHECK(me.str("role") == "admin");
    CHECK(me.boolean("all_stations"));
    CHECK(st.post("/api/v1/admin/logout", "{}", token).status == 200);
    CHECK(st.get("/api/v1/admin/me", token).status == 401);
}

TEST_CASE("api admin: stations and devices; the broker accepts new device credentials without a restart") {
    Stack st;
    const auto admin = st.admin();
    auto bad = st.post("/api/v1/admin/stations", R"({"name":"X","lat":91,"lon":0})", admin);
    CHECK(bad.code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/stations", R"({"name":"X","lat":1,"lon":1,"open_hours":"8-22"})", admin).code() ==
          "invalid_request");
    auto s = st.post("/api/v1/admin/stations",
                     R"({"name":"Central","lat":22.5431,"lon":114.0579,"address":"1 Road","open_hours":"06:00-23:00"})",
                     admin);
    REQUIRE_MESSAGE(s.status == 201, s);
    const auto station = s.i64("id");
    CHECK(s.str("open_hours") == "06:00-23:00");
    CHECK(s.num("lat") == doctest::Approx(22.5431));
    CHECK(st.post("/api/v1/admin/stations", R"({"name":"Central","lat":22.5,"lon":114.0})", admin).code() ==
          "conflict");

    auto dev = st.device(admin, "cp-0001", station, 10);
    CHECK(dev.str("mqtt_username") == "cp-0001");
    CHECK(dev.str("mqtt_password").size() >= 24);
    CHECK(dev.boolean("broker_reloaded"));
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"cp-0001","kind":"ebike_pile","station_id":{},"sockets":10}})", station), admin)
              .code() == "duplicate");
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"bad id","kind":"ebike_pile","station_id":{},"sockets":10}})", station), admin)
              .code() == "invalid_request");
    CHECK(
        st.post("/api/v1/admin/devices", R"({"id":"cp-0002","kind":"ebike_pile","station_id":999,"sockets":10})", admin)
            .code() == "not_found");
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"cp-0002","kind":"ev_charger","station_id":{},"sockets":17}})", station), admin)
              .code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"cp-0002","kind":"toaster","station_id":{},"sockets":1}})", station), admin)
              .code() == "invalid_request");

    // The new credentials work at once; a wrong password does not.
    CHECK(st.broker().connack("cp-0001", dev.str("mqtt_password")) == 0);
    CHECK(st.broker().connack("cp-0001", "wrong-password") != 0);
    auto c = connect_device(st, "cp-0001", dev.str("mqtt_password"));
    c->publish({topics::presence("cp-0001"), R"({"v":1,"online":true,"boot":3,"ts":1,"fw":"2.4.1"})", 1, true});
    c->publish(
        {topics::conn_state("cp-0001", 2),
         R"({"v":1,"ts":1732183200100,"boot":3,"seq":8,"data":{"st":"charging","sid":"s-1","since":1732183200000,"faults":[]}})",
         1, true});
    // The page's telemetry is what recorderd stored (the API reads no raw telemetry).
    add_device_sample(st.dir(), "cp-0001", 1732183200123, 315, 180, -70);
    add_sample(st.dir(), "s-1", 1732183200123, 180, 12);
    REQUIRE(eventually([&] { return st.get("/api/v1/admin/devices/cp-0001", admin).boolean("presence.online"); }));
    auto d = st.get("/api/v1/admin/devices/cp-0001", admin);
    REQUIRE(eventually([&] {
        d = st.get("/api/v1/admin/devices/cp-0001", admin);
        return d.at("telemetry") && d.at("telemetry")->IsObject() && d.at("sockets.1.power_w");
    }));
    CHECK(d.str("presence.fw") == "2.4.1");
    CHECK(d.size("sockets") == 10);
    CHECK(d.i64("port_count") == 10);
    CHECK(d.str("sockets.1.code") == "cp-0001-2");
    CHECK(d.str("sockets.1.reported_state") == "charging");
    CHECK(d.str("sockets.1.sid") == "s-1");
    CHECK(d.i64("sockets.1.power_w") == 180);
    CHECK(d.i64("sockets.1.session_energy_wh") == 12);
    CHECK(d.num("telemetry.data.temp_c") == doctest::Approx(31.5));
    CHECK(d.i64("telemetry.data.total_power_w") == 180);
    CHECK(d.i64("telemetry.data.rssi_dbm") == -70);
    CHECK(st.get("/api/v1/admin/devices/nope", admin).code() == "unknown_device");
    auto list = st.get(fmt::format("/api/v1/admin/devices?station_id={}", station), admin);
    REQUIRE(list.size("devices") == 1);
    CHECK(list.boolean("devices.0.online"));
    CHECK_FALSE(list.at("devices.0.sockets")); // the sockets only when asked
    // The grid in one request: every device's sockets with the same live fields as its detail.
    auto grid = st.get(fmt::format("/api/v1/admin/devices?station_id={}&ports=true", station), admin);
    REQUIRE(grid.size("devices.0.sockets") == 10);
    CHECK(grid.str("devices.0.sockets.1.reported_state") == "charging");
    CHECK(grid.str("devices.0.sockets.1.sid") == "s-1");
    CHECK(grid.i64("devices.0.sockets.1.power_w") == 180);
    CHECK(grid.str("devices.0.sockets.1.state") == d.str("sockets.1.state"));

    // Rotating the secret: the old one stops working, the new one works, no restart.
    auto rot = st.post("/api/v1/admin/devices/cp-0001/credentials", "{}", admin);
    REQUIRE(rot.status == 200);
    CHECK(st.broker().connack("cp-0001", dev.str("mqtt_password")) != 0);
    CHECK(st.broker().connack("cp-0001", rot.str("mqtt_password")) == 0);
    c->stop();

    // Hierarchy: provider → property → station → area; disabling the property hides its stations.
    auto pv =
        st.post("/api/v1/admin/providers", R"({"name":"Provider One","contact":"Li","phone":"13800000000"})", admin);
    REQUIRE(pv.status == 201);
    auto pr = st.post("/api/v1/admin/properties",
                      fmt::format(R"({{"provider_id":{},"name":"Garden Property"}})", pv.i64("id")), admin);
    REQUIRE(pr.status == 201);
    // A name taken is refused 409 conflict (the OpenAPI document declares it for these routes).
    auto pv_again = st.post("/api/v1/admin/providers", R"({"name":"Provider One"})", admin);
    CHECK(pv_again.status == 409);
    CHECK(pv_again.code() == "conflict");
    auto pr_again = st.post("/api/v1/admin/properties",
                            fmt::format(R"({{"provider_id":{},"name":"Garden Property"}})", pv.i64("id")), admin);
    CHECK(pr_again.status == 409);
    CHECK(pr_again.code() == "conflict");
    const auto s2 =
        st.station(admin, "Property Station", 22.5432, 114.0580, fmt::format(R"(,"property_id":{})", pr.i64("id")));
    auto area = st.post(fmt::format("/api/v1/admin/stations/{}/areas", s2), R"({"name":"B1"})", admin);
    REQUIRE(area.status == 201);
    auto dv2 = st.post("/api/v1/admin/devices",
                       fmt::format(R"({{"id":"cp-0002","kind":"ebike_pile","station_id":{},"sockets":4,"area_id":{}}})",
                                   s2, area.i64("id")),
                       admin);
    REQUIRE_MESSAGE(dv2.status == 201, dv2);
    const auto rider = st.rider("13700000001");
    auto near = [&] { return st.get("/api/v1/stations/nearby?lat=22.5431&lon=114.0579", rider); };
    CHECK(near().size("stations") == 2);
    REQUIRE(st.put(fmt::format("/api/v1/admin/areas/{}", area.i64("id")), R"({"enabled":false})", admin).status == 200);
    CHECK(st.get("/api/v1/sockets/cp-0002-1", rider).code() == "unknown_socket");
    REQUIRE(st.put(fmt::format("/api/v1/admin/properties/{}", pr.i64("id")), R"({"enabled":false})", admin).status ==
            200);
    CHECK(near().size("stations") == 1);
    REQUIRE(st.put(fmt::format("/api/v1/admin/properties/{}", pr.i64("id")), R"({"enabled":true})", admin).status ==
            200);
    REQUIRE(st.put(fmt::format("/api/v1/admin/providers/{}", pv.i64("id")), R"({"enabled":false})", admin).status ==
            200);
    CHECK(near().size("stations") == 1);
    REQUIRE(st.put(fmt::format("/api/v1/admin/providers/{}", pv.i64("id")), R"({"enabled":true})", admin).status ==
            200);
    CHECK(near().size("stations") == 2);
    CHECK(st.get("/api/v1/admin/providers", admin).size("providers") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/properties?provider_id={}", pv.i64("id")), admin).size("properties") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/stations/{}", s2), admin).size("areas") == 1);
}

TEST_CASE("api admin: PUT config publishes the full retained cfg/desired with a new version; GET shows desired and "
          "reported") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Config Station");
    auto dev = st.device(admin, "cfg-p1", station, 10);
    st.device(admin, "cfg-cam", station, 4, "camera");
    Inbox inbox;
    auto monitor = connect_client(st.broker().client_options("svc.monitor"), {topics::cfg_desired("cfg-p1")}, &inbox);
    // Registration published version 1 with every default.
    auto v1 = inbox.wait_for(topics::cfg_desired("cfg-p1"), R"("version":1)");
    REQUIRE(v1);
    CHECK(v1->retained);
    CHECK(v1->payload.find(R"("full_stop_w":5)") != std::string::npos);

    auto put = st.put("/api/v1/admin/devices/cfg-p1/config",
                      R"({"full_stop_w":8,"socket_overrides":[{"n":3,"socket_overload_w":3500}]})", admin);
    REQUIRE_MESSAGE(put.status == 200, put);
    CHECK(put.i64("version") == 2);
    CHECK(put.boolean("published"));
    CHECK(put.i64("desired.full_stop_w") == 8);
    CHECK(put.i64("desired.full_wait_s") == 1800);
    auto v2 = inbox.wait_for(topics::cfg_desired("cfg-p1"), R"("version":2)");
    REQUIRE(v2);
    for (const char* key :
         {"\"full_stop_w\":8", "\"full_wait_s\":1800", "\"no_load_wait_s\":100", "\"socket_overload_w\":600",
          "\"device_overload_w\":6000", "\"socket_overrides\":[{\"n\":3,\"socket_overload_w\":3500}]",
          "\"temp_warn_c\":60", "\"temp_stop_c\":75", "\"tele_period_s\":60", "\"idle_tele_period_s\":300"})
        CHECK_MESSAGE(v2->payload.find(key) != std::string::npos, key << " in " << v2->payload);
    // The device, connecting later, finds the latest full document retained.
    Inbox late;
    auto o = st.broker().client_options("cfg-p1");
    o.password = dev.str("mqtt_password");
    auto c = connect_client(o, {topics::cfg_desired("cfg-p1")}, &late);
    auto got = late.wait_for(topics::cfg_desired("cfg-p1"), R"("version":2)");
    REQUIRE(got);
    CHECK(got->payload.find(R"("full_stop_w":8)") != std::string::npos);

    // The device reports what it applied.
    c->publish({topics::cfg_reported("cfg-p1"),
                R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"version":2,"status":"applied","values":{"full_stop_w":8}}})",
                1, true});
    REQUIRE(eventually([&] { return st.get("/api/v1/admin/devices/cfg-p1/config", admin).boolean("in_sync"); }));
    auto get = st.get("/api/v1/admin/devices/cfg-p1/config", admin);
    CHECK(get.i64("desired.version") == 2);
    CHECK(get.i64("reported.version") == 2);
    CHECK(get.str("reported.status") == "applied");

    CHECK(st.put("/api/v1/admin/devices/cfg-p1/config", R"({"full_stop_w":300})", admin).code() == "invalid_request");
    CHECK(st.put("/api/v1/admin/devices/cfg-p1/config", R"({"temp_warn_c":90,"temp_stop_c":75})", admin).code() ==
          "invalid_request");
    CHECK(st.put("/api/v1/admin/devices/cfg-p1/config", R"({"colour":"red"})", admin).code() == "invalid_request");
    CHECK(st.put("/api/v1/admin/devices/cfg-cam/config", R"({"full_stop_w":5})", admin).code() == "unsupported");
    CHECK(st.put("/api/v1/admin/devices/nope/config", R"({"full_stop_w":5})", admin).code() == "unknown_device");
    CHECK(st.get("/api/v1/admin/devices/cfg-p1/config", admin).i64("desired.version") == 2); // refusals changed nothing
    c->stop();
}

TEST_CASE("api admin: an EV charger's PUT config takes the EV keys and publishes the EV cfg/desired retained") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "EV Config Station");
    auto dev = st.device(admin, "cfg-ev1", station, 2, "ev_charger");
    Inbox inbox;
    auto monitor = connect_client(st.broker().client_options("svc.monitor"), {topics::cfg_desired("cfg-ev1")}, &inbox);
    {
        // Registered with the charger defaults, version 1, like a pile.
        const auto before = st.get("/api/v1/admin/devices/cfg-ev1/config", admin);
        CHECK(before.i64("desired.version") == 1);
        CHECK(before.i64("desired.ev_no_load_wait_s") == 90);
    }

    // A change keeps every other default: version 2, every EV key, no e-bike key.
    auto put = st.put("/api/v1/admin/devices/cfg-ev1/config", R"({"ev_no_load_wait_s":120,"temp_stop_c":80})", admin);
    REQUIRE_MESSAGE(put.status == 200, put);
    CHECK(put.i64("version") == 2);
    CHECK(put.boolean("published"));
    CHECK(put.i64("desired.ev_no_load_wait_s") == 120);
    CHECK(put.i64("desired.ev_full_wait_s") == 180);
    CHECK(put.i64("desired.temp_stop_c") == 80);
    auto v1 = inbox.wait_for(topics::cfg_desired("cfg-ev1"), R"("version":2)");
    REQUIRE(v1);
    for (const char* key : {"\"ev_full_wait_s\":180", "\"ev_no_load_wait_s\":120", "\"temp_warn_c\":70",
                            "\"temp_stop_c\":80", "\"tele_period_s\":30", "\"idle_tele_period_s\":300"})
        CHECK_MESSAGE(v1->payload.find(key) != std::string::npos, key << " in " << v1->payload);
    CHECK(v1->payload.find("full_stop_w") == std::string::npos);
    CHECK(payloads::decode<payloads::EvCfgDesired>(v1->payload).ok());

    auto put2 = st.put("/api/v1/admin/devices/cfg-ev1/config", R"({"ev_full_wait_s":300})", admin);
    REQUIRE_MESSAGE(put2.status == 200, put2);
    CHECK(put2.i64("version") == 3);
    CHECK(put2.i64("desired.ev_no_load_wait_s") == 120); // kept from version 2
    // The charger, connecting later, finds the latest full document retained and reports it.
    Inbox late;
    auto o = st.broker().client_options("cfg-ev1");
    o.password = dev.str("mqtt_password");
    auto c = connect_client(o, {topics::cfg_desired("cfg-ev1")}, &late);
    auto got = late.wait_for(topics::cfg_desired("cfg-ev1"), R"("version":3)");
    REQUIRE(got);
    CHECK(got->retained);
    CHECK(got->payload.find(R"("ev_full_wait_s":300)") != std::string::npos);
    c->publish(
        {topics::cfg_reported("cfg-ev1"),
         R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"version":3,"status":"applied","values":{"ev_full_wait_s":300}}})",
         1, true});
    REQUIRE(eventually([&] { return st.get("/api/v1/admin/devices/cfg-ev1/config", admin).boolean("in_sync"); }));
    CHECK(st.get("/api/v1/admin/devices/cfg-ev1/config", admin).i64("reported.values.ev_full_wait_s") == 300);

    // E-bike keys are not a charger's, and the ranges are the codec's.
    CHECK(st.put("/api/v1/admin/devices/cfg-ev1/config", R"({"full_stop_w":5})", admin).code() == "invalid_request");
    CHECK(st.put("/api/v1/admin/devices/cfg-ev1/config", R"({"ev_no_load_wait_s":4000})", admin).code() ==
          "invalid_request");
    CHECK(st.put("/api/v1/admin/devices/cfg-ev1/config", R"({"temp_warn_c":90})", admin).code() == "invalid_request");
    CHECK(st.get("/api/v1/admin/devices/cfg-ev1/config", admin).i64("desired.version") == 3);
    // And the EV keys are not an e-bike pile's.
    st.device(admin, "cfg-p9", station, 10);
    CHECK(st.put("/api/v1/admin/devices/cfg-p9/config", R"({"ev_full_wait_s":60})", admin).code() == "invalid_request");
    c->stop();
}

TEST_CASE("api admin: QR codes per socket as PNG and SVG, one or a whole sheet") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "QR Station");
    st.device(admin, "qr-p1", station, 4);
    st.device(admin, "qr-p2", station, 2);
    auto png = st.get("/api/v1/admin/sockets/qr-p1-2/qr", admin);
    REQUIRE(png.status == 200);
    CHECK(png.body.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    auto svg = st.get("/api/v1/admin/sockets/qr-p1-2/qr?format=svg", admin);
    REQUIRE(svg.status == 200);
    CHECK(svg.body.find("<svg") == 0);
    CHECK(svg.body.find("qr-p1-2") != std::string::npos);
    CHECK(st.get("/api/v1/admin/sockets/qr-p1-9/qr", admin).code() == "unknown_socket");
    auto sheet = st.get(fmt::format("/api/v1/admin/qr-sheet?station_id={}", station), admin);
    REQUIRE(sheet.status == 200);
    for (const char* code : {"qr-p1-1", "qr-p1-4", "qr-p2-2"})
        CHECK(sheet.body.find(code) != std::string::npos);
    CHECK(st.get("/api/v1/admin/qr-sheet?device_id=qr-p2", admin).body.find("qr-p1-1") == std::string::npos);
    CHECK(st.get("/api/v1/admin/qr-sheet", admin).code() == "invalid_request");
}

TEST_CASE(
    "api admin: tariffs have versions; the calculator prices BILLING's worked example with the settlement engine") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Tariff Station");
    auto v1 = st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station), kTariff, admin);
    REQUIRE_MESSAGE(v1.status == 200, v1);
    CHECK(v1.i64("version.version") == 1);
    auto v2 = st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station), kTariff, admin);
    REQUIRE(v2.status == 200);
    CHECK(v2.i64("version.version") == 2);
    auto got = st.get(fmt::format("/api/v1/admin/stations/{}/tariff", station), admin);
    CHECK(got.i64("in_force.version") == 1); // a change takes effect at the next local midnight
    CHECK(got.size("versions") == 2);
    CHECK(got.str("versions.1.created_by") == "admin");
    auto bad = st.put(
        fmt::format("/api/v1/admin/stations/{}/tariff", station),
        R"({"tariff":{"name":"x","timezone":"Asia/Shanghai","modes":["energy"],"energy":{"periods":{"flat":{"elec_e4":1,"service_e4":1}},"slots":["flat"],"service_by":"energy"}}})",
        admin);
    CHECK(bad.code() == "invalid_request");
    CHECK(bad.str("error.message").find("slots") != std::string::npos);
    CHECK(st.put("/api/v1/admin/stations/999/tariff", kTariff, admin).code() == "not_found");

    // BILLING.md §2: power mode, max 180 W after the first minute, 18 min 00 s → 9 fen.
    std::string samples;
    for (int i = 0; i <= 18; ++i)
        samples += fmt::format(R"({}{{"t":{},"energy_wh":{},"power_w":{}}})", i ? "," : "", 1732183200000 + i * 60'000,
                               i * 3, i == 0 ? 400 : 180);
    const std::string tariff = std::string(kTariff).substr(11, std::string(kTariff).size() - 12);
    auto q = st.post(
        "/api/v1/admin/tariff-quote",
        fmt::format(R"({{"tariff":{},"mode":"power","samples":[{}],"stop_reason":"full"}})", tariff, samples), admin);
    REQUIRE_MESSAGE(q.status == 200, q);
    CHECK(q.i64("cost_fen") == 9);
    CHECK(q.size("lines") >= 1);
    auto waived = st.post(
        "/api/v1/admin/tariff-quote",
        fmt::format(R"({{"tariff":{},"mode":"power","samples":[{}],"stop_reason":"no_load"}})", tariff, samples),
        admin);
    CHECK(waived.i64("cost_fen") == 0);
    // A prepaid amount bounds the quote; the reply splits the cost (power mode: all of it is service).
    auto prepaid = st.post(
        "/api/v1/admin/tariff-quote",
        fmt::format(R"({{"tariff":{},"mode":"power","samples":[{}],"stop_reason":"quota_reached","max_fen":5}})",
                    tariff, samples),
        admin);
    REQUIRE_MESSAGE(prepaid.status == 200, prepaid);
    CHECK(prepaid.i64("cost_fen") == 5);
    CHECK(prepaid.i64("electricity_fen") == 0);
    CHECK(prepaid.i64("service_fen") == 5);
    CHECK(st.post("/api/v1/admin/tariff-quote",
                  fmt::format(R"({{"tariff":{},"mode":"power","samples":[{}],"max_fen":0}})", tariff, samples), admin)
              .code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/tariff-quote",
                  fmt::format(R"({{"tariff":{},"mode":"energy","samples":[{}]}})", tariff, samples), admin)
              .code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/tariff-quote", R"({"mode":"power","samples":[]})", admin).code() == "invalid_request");
}

TEST_CASE(
    "api admin: users are opened, frozen, recharged at the counter once per idempotency key, refunded within limits") {
    Stack st;
    const auto admin = st.admin();
    auto u = st.post("/api/v1/admin/users", R"({"phone":"13600000001","name":"Zhang"})", admin);
    REQUIRE_MESSAGE(u.status == 201, u);
    const auto id = u.i64("id");
    CHECK(u.i64("wallet.balance_fen") == 0);
    CHECK(st.post("/api/v1/admin/users", R"({"phone":"13600000001"})", admin).code() == "duplicate");
    CHECK(st.post("/api/v1/admin/users", R"({"phone":"abc"})", admin).code() == "invalid_request");

    const auto url = fmt::format("/api/v1/admin/users/{}/recharge", id);
    auto r1 = st.request("POST", url, R"({"amount_fen":1000,"bonus_fen":100,"note":"receipt 7"})", admin,
                         {{"Idempotency-Key", "rcpt-7"}});
    REQUIRE_MESSAGE(r1.status == 200, r1);
    CHECK(r1.str("entry.kind") == "recharge");
    CHECK(r1.i64("entry.real_after") == 1000);
    CHECK(r1.i64("entry.bonus_after") == 100);
    CHECK(r1.str("entry.operator") == "admin");
    auto retry = st.request("POST", url, R"({"amount_fen":1000,"bonus_fen":100,"note":"receipt 7"})", admin,
                            {{"Idempotency-Key", "rcpt-7"}});
    // The same key again answers the first answer and changes nothing (CONTRACT F.3).
    REQUIRE_MESSAGE(retry.status == 200, retry);
    CHECK(retry.i64("entry.id") == r1.i64("entry.id"));
    CHECK(retry.headers.count("Idempotent-Replayed") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/users/{}", id), admin).i64("wallet.balance_fen") == 1000);

    REQUIRE(st.post(fmt::format("/api/v1/admin/users/{}/freeze", id), "{}", admin).status == 200);
    CHECK(st.get(fmt::format("/api/v1/admin/users/{}", id), admin).boolean("frozen"));
    auto frozen = st.money(url, R"({"amount_fen":500})", admin);
    CHECK(frozen.status == 403);
    CHECK(frozen.code() == "account_frozen");
    REQUIRE(st.post(fmt::format("/api/v1/admin/users/{}/unfreeze", id), "{}", admin).status == 200);
    CHECK_FALSE(st.get(fmt::format("/api/v1/admin/users/{}", id), admin).boolean("frozen"));

    // A balance refund of counter money is cash at the counter, done at once; it needs an Idempotency-Key.
    auto refund_of = [&](const std::string& path, const std::string& body, const std::string& key) {
        return st.request("POST", path, body, admin, {{"Idempotency-Key", key}});
    };
    const auto refund_url = fmt::format("/api/v1/admin/users/{}/refund", id);
    CHECK(st.post(refund_url, R"({"amount_fen":300,"reason":"moving away"})", admin).code() == "invalid_request");
    auto refund = refund_of(refund_url, R"({"amount_fen":300,"reason":"moving away"})", "rf-1");
    REQUIRE_MESSAGE(refund.status == 201, refund);
    CHECK(refund.i64("refund.amount_fen") == 300);
    CHECK(refund.str("refund.state") == "succeeded");
    REQUIRE(refund.size("refund.parts") == 1);
    CHECK(refund.str("refund.parts.0.channel") == "counter");
    CHECK(refund_of(refund_url, R"({"amount_fen":300,"reason":"moving away"})", "rf-1").str("refund.id") ==
          refund.str("refund.id"));
    auto too_much = refund_of(refund_url, R"({"amount_fen":800,"reason":"x"})", "rf-2");
    CHECK(too_much.code() == "conflict");
    CHECK(refund_of(refund_url, R"({"amount_fen":100})", "rf-3").code() == "invalid_request");
    CHECK(refund_of("/api/v1/admin/users/9999/refund", R"({"amount_fen":100,"reason":"x"})", "rf-4").code() ==
          "not_found");

    auto ledger = st.get(fmt::format("/api/v1/admin/users/{}/ledger", id), admin);
    REQUIRE(ledger.size("entries") == 2);
    CHECK(ledger.str("entries.0.kind") == "refund");
    CHECK(ledger.str("entries.1.kind") == "recharge");
    CHECK(st.get("/api/v1/admin/ledger?kind=refund", admin).size("entries") == 1);
    CHECK(st.get("/api/v1/admin/users?q=13600000001", admin).size("users") == 1);
    CHECK(st.get("/api/v1/admin/users?frozen=true", admin).size("users") == 0);

    // The rider logging in by SMS finds the account opened at the counter.
    const auto rider = st.rider("13600000001");
    CHECK(st.get("/api/v1/me", rider).i64("id") == id);
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 700);
}

TEST_CASE("api admin: cards are issued with a fee, bound, unbound, reported lost and replaced") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Card Station");
    auto u =
        st.post("/api/v1/admin/users", fmt::format(R"({{"phone":"13600000002","station_id":{}}})", station), admin);
    const auto id = u.i64("id");
    auto poor = st.money("/api/v1/admin/cards",
                         fmt::format(R"({{"card_no":"IC000001","account_id":{},"fee_fen":100}})", id), admin);
    CHECK(poor.status == 402);
    CHECK(poor.code() == "balance_too_low");
    CHECK(st.get("/api/v1/admin/cards", admin).size("cards") == 0); // nothing half-done
    REQUIRE(st.money(fmt::format("/api/v1/admin/users/{}/recharge", id), R"({"amount_fen":500})", admin).status == 200);
    auto card =
        st.money("/api/v1/admin/cards",
                 fmt::format(R"({{"card_no":"IC000001","phone":"13600000002","fee_fen":100,"name":"blue"}})"), admin);
    REQUIRE_MESSAGE(card.status == 201, card);
    CHECK(card.str("status") == "active");
    CHECK(card.i64("account_id") == id);
    CHECK(st.get(fmt::format("/api/v1/admin/users/{}", id), admin).i64("wallet.balance_fen") == 400);
    CHECK(st.get(fmt::format("/api/v1/admin/users/{}/ledger", id), admin).str("entries.0.kind") == "card_fee");
    CHECK(st.money("/api/v1/admin/cards", R"({"card_no":"IC000001"})", admin).code() == "duplicate");
    CHECK(st.money("/api/v1/admin/cards", R"({"card_no":"bad card!"})", admin).code() == "invalid_request");

    auto replaced = st.money("/api/v1/admin/cards/IC000001/replace", R"({"new_card_no":"IC000002"})", admin);
    REQUIRE_MESSAGE(replaced.status == 201, replaced);
    CHECK(replaced.str("old.status") == "replaced");
    CHECK(replaced.str("new.status") == "active");
    CHECK(st.get(fmt::format("/api/v1/admin/users/{}", id), admin).str("card.card_no") == "IC000002");
    // The counter finds the account by its card's number (exactly), and by its home station.
    auto by_card = st.get("/api/v1/admin/users?q=IC000002", admin);
    REQUIRE(by_card.size("users") == 1);
    CHECK(by_card.i64("users.0.id") == id);
    CHECK(st.get("/api/v1/admin/users?q=IC00000", admin).size("users") == 0);
    CHECK(st.get(fmt::format("/api/v1/admin/users?station_id={}", station), admin).size("users") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/users?station_id={}", station + 1000), admin).size("users") == 0);
    CHECK(st.money("/api/v1/admin/cards/IC000001/bind", fmt::format(R"({{"account_id":{}}})", id), admin).code() ==
          "card_lost");
    REQUIRE(st.post("/api/v1/admin/cards/IC000002/report-lost", "{}", admin).status == 200);
    CHECK(st.post("/api/v1/admin/cards/IC000002/report-lost", "{}", admin).code() == "conflict");
    REQUIRE(st.money("/api/v1/admin/cards", fmt::format(R"({{"card_no":"IC000003","station_id":{}}})", station), admin)
                .status == 201);
    REQUIRE(st.money("/api/v1/admin/cards/IC000003/bind", fmt::format(R"({{"account_id":{}}})", id), admin).status ==
            200);
    REQUIRE(st.post("/api/v1/admin/cards/IC000003/unbind", "{}", admin).status == 200);
    CHECK(st.post("/api/v1/admin/cards/IC000003/unbind", "{}", admin).code() == "conflict");
    CHECK(st.post("/api/v1/admin/cards/NOPE0000/unbind", "{}", admin).code() == "unknown_card");
    CHECK(st.get("/api/v1/admin/cards?status=active", admin).size("cards") == 0);
}

TEST_CASE("api admin: sessions filter by station, device, rider, state, method and date; detail has curve and bill; "
          "force-end goes to sessiond") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto s1 = st.station(admin, "S1"), s2 = st.station(admin, "S2", 22.55, 114.06);
    REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", s1), kTariff, admin).status == 200);
    st.device(admin, "ss-p1", s1, 10);
    st.device(admin, "ss-p2", s2, 10);
    const auto alice = st.rider("13500000001"), bob = st.rider("13500000002");
    auto a1 = st.post("/api/v1/sessions", R"({"socket":"ss-p1-1","mode":"power"})", alice);
    auto b1 = st.post("/api/v1/sessions", R"({"socket":"ss-p2-1","mode":"time","minutes":60})", bob);
    REQUIRE(a1.status == 202);
    REQUIRE(b1.status == 202);
    const auto sid = a1.str("session.id");
    const auto now = SystemClock::instance().now_ms();
    {
        auto d = st.db();
        db::Statement(d, "UPDATE sessions SET state = 'charging', started_at = ?, tariff_id = (SELECT id FROM tariffs "
                         "LIMIT 1) WHERE id = ?")
            .bind_all(now - 1'080'000, sid)
            .run();
        db::Statement(d, "INSERT INTO session_events(session_id, at, from_state, to_state, reason, actor) VALUES (?, "
                         "?, 'starting', 'charging', 'started', 'pile')")
            .bind_all(sid, now - 1'080'000)
            .run();
    }
    for (int i = 0; i <= 18; ++i)
        add_sample(st.dir(), sid, now - 1'080'000 + i * 60'000, i == 0 ? 400 : 180, i * 3);

    CHECK(st.get("/api/v1/admin/sessions", admin).size("sessions") == 2);
    CHECK(st.get(fmt::format("/api/v1/admin/sessions?station_id={}", s1), admin).size("sessions") == 1);
    CHECK(st.get("/api/v1/admin/sessions?device_id=ss-p2", admin).str("sessions.0.id") == b1.str("session.id"));
    CHECK(st.get(fmt::format("/api/v1/admin/sessions?account_id={}", st.rider_id(alice)), admin).size("sessions") == 1);
    CHECK(st.get("/api/v1/admin/sessions?phone=13500000001", admin).size("sessions") == 1);
    CHECK(st.get("/api/v1/admin/sessions?phone=1350000000", admin).size("sessions") == 0); // exactly, not contains
    CHECK(st.get("/api/v1/admin/sessions?state=charging", admin).size("sessions") == 1);
    CHECK(st.get("/api/v1/admin/sessions?state=active", admin).size("sessions") == 2);
    CHECK(st.get("/api/v1/admin/sessions?method=card", admin).size("sessions") == 0);
    CHECK(st.get("/api/v1/admin/sessions?from=2000-01-01&to=2000-01-02", admin).size("sessions") == 0);
    CHECK(st.get("/api/v1/admin/sessions?from=2000-01-01", admin).size("sessions") == 2);
    CHECK(st.get("/api/v1/admin/sessions?from=yesterday", admin).code() == "invalid_request");

    auto detail = st.get("/api/v1/admin/sessions/" + sid, admin);
    REQUIRE_MESSAGE(detail.status == 200, detail);
    CHECK(detail.str("phone") == "13500000001");
    CHECK(detail.size("events") == 1);
    CHECK(detail.size("curve") == 19);
    CHECK(detail.str("bill.source") == "running");
    CHECK(detail.i64("bill.detail.cost_fen") == 9); // 18 min at 30 fen/h
    CHECK(detail.size("bill.detail.lines") >= 1);

    auto stop = st.post("/api/v1/admin/sessions/" + sid + "/stop", "{}", admin);
    REQUIRE_MESSAGE(stop.status == 202, stop);
    CHECK(stop.str("session.state") == "stopping");
    {
        auto d = st.db();
        db::Statement(d, "UPDATE sessions SET state = 'completed' WHERE id = ?").bind_all(sid).run();
    }
    CHECK(st.post("/api/v1/admin/sessions/" + sid + "/stop", "{}", admin).code() == "conflict");
    CHECK(st.get("/api/v1/admin/sessions/nope", admin).code() == "not_found");

    // Remote commands go to sessiond as svc device_command requests; the reply is the command's
    // reply data; sessiond's refusals keep their codes.
    auto cmd = st.post("/api/v1/admin/devices/ss-p1/commands/query_port", R"({"data":{"n":1}})", admin);
    REQUIRE_MESSAGE(cmd.status == 200, cmd);
    CHECK(cmd.str("status") == "ok");
    CHECK(cmd.i64("reply.n") == 1);
    CHECK(cmd.str("reply.st") == "idle");
    auto reboot = st.post("/api/v1/admin/devices/ss-p1/commands/reboot", R"({"data":{"when":"when_idle"}})", admin);
    REQUIRE_MESSAGE(reboot.status == 200, reboot);
    CHECK(reboot.body == R"({"status":"ok","reply":{}})");
    // The command's data is checked against the contract before anything is sent.
    auto bad = st.post("/api/v1/admin/devices/ss-p1/commands/query_port", R"({"data":{"n":1,"x":2}})", admin);
    CHECK(bad.code() == "invalid_request");
    CHECK(bad.str("error.message") == "data.x is not a field of the query_port command");
    CHECK(st.post("/api/v1/admin/devices/ss-p1/commands/query_port", "{}", admin).code() == "invalid_request");
    // A command the device kind has but sessiond does not relay.
    CHECK(st.post("/api/v1/admin/devices/ss-p1/commands/ota", "{}", admin).code() == "unsupported");
    fake.refuse("ss-p1", "device_offline");
    CHECK(st.post("/api/v1/admin/devices/ss-p1/commands/reboot", "{}", admin).status == 503);
    CHECK(st.post("/api/v1/admin/devices/ss-p1/commands/self_destruct", "{}", admin).code() == "unsupported");
}

TEST_CASE("api admin: presence log and fault records are listed newest first with filters") {
    Stack st;
    const auto admin = st.admin();
    const auto s1 = st.station(admin, "Mon");
    st.device(admin, "mon-p1", s1, 10);
    st.device(admin, "mon-p2", s1, 10);
    {
        auto d = st.db();
        for (int i = 0; i < 4; ++i)
            db::Statement(d, "INSERT INTO presence_log(device_id, online, boot, at, reason) VALUES (?, ?, ?, ?, ?)")
                .bind_all(std::string(i < 3 ? "mon-p1" : "mon-p2"), i % 2 == 0 ? 1 : 0, i, 1'732'183'200'000 + i * 1000,
                          std::string(i % 2 == 0 ? "connect" : "lwt"))
                .run();
        db::Statement(
            d,
            "INSERT INTO fault_records(device_id, n, code, bit, opened_at) VALUES ('mon-p1', 3, 'over_current', 2, 1)")
            .run();
        db::Statement(d, "INSERT INTO fault_records(device_id, n, code, opened_at, cleared_at) VALUES ('mon-p1', 0, "
                         "'over_temp', 2, 3)")
            .run();
    }
    auto log = st.get("/api/v1/admin/presence-log?device=mon-p1", admin);
    REQUIRE(log.size("entries") == 3);
    CHECK(log.boolean("entries.0.online"));
    CHECK(log.i64("entries.0.boot") == 2);
    CHECK(log.str("entries.1.reason") == "lwt");
    CHECK(st.get("/api/v1/admin/presence-log", admin).size("entries") == 4);
    CHECK(st.get("/api/v1/admin/faults?open=true", admin).size("faults") == 1);
    CHECK(st.get("/api/v1/admin/faults?device=mon-p1", admin).size("faults") == 2);
    // An open fault makes the socket faulted for riders.
    const auto rider = st.rider("13500000003");
    auto d = st.get("/api/v1/admin/devices/mon-p1", admin);
    CHECK(d.size("open_faults") == 1);
    (void)rider;
}

TEST_CASE("api admin: incidents are listed newest first to operators with monitor.read, in their scope, with "
          "filters; bad parameters are refused with 400") {
    Stack st;
    const auto admin = st.admin();
    const auto north = st.station(admin, "Inc North"), south = st.station(admin, "Inc South", 22.50, 114.00);
    st.device(admin, "inc-n1", north, 10);
    st.device(admin, "inc-s1", south, 10);
    // The rows sessiond writes when it settles a stuck session or clamps a record (kind, device,
    // session, detail, at), and one without a device.
    constexpr EpochMs t0 = 1'732'183'200'000; // 2024-11-21T10:00:00Z
    {
        auto d = st.db();
        const auto add = [&](const std::string& kind, const std::string& device, const std::string& sid, EpochMs at) {
            db::Statement(d, "INSERT INTO incidents (kind, device_id, session_id, detail, at) VALUES (?, ?, ?, ?, ?)")
                .bind_all(kind, device, sid, kind + " of " + sid, at)
                .run();
        };
        add("record_clamped", "", "s-0", t0 - 1000);
        add("suspend_timeout", "inc-n1", "s-1", t0);
        add("record_overdue", "inc-n1", "s-2", t0 + 1000);
        add("record_clamped", "inc-s1", "s-3", t0 + 2000);
        add("suspend_timeout", "inc-s1", "s-4", t0 + 3000);
    }
    const auto sids = [](const Http& r) {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < r.size("incidents"); ++i)
            out.push_back(r.str(fmt::format("incidents.{}.session_id", i)));
        return out;
    };
    using Sids = std::vector<std::string>;

    // Every row, newest first, with the device's station and the time in the operator's zone.
    auto all = st.get("/api/v1/admin/incidents", admin);
    REQUIRE_MESSAGE(all.status == 200, all);
    CHECK(sids(all) == Sids{"s-4", "s-3", "s-2", "s-1", "s-0"});
    CHECK(all.str("incidents.0.kind") == "suspend_timeout");
    CHECK(all.str("incidents.0.device_id") == "inc-s1");
    CHECK(all.i64("incidents.0.station_id") == south);
    CHECK(all.str("incidents.0.detail") == "suspend_timeout of s-4");
    CHECK(all.str("incidents.0.at") == "2024-11-21T18:00:03+08:00");
    CHECK(all.i64("incidents.0.id") > 0);
    CHECK(all.str("incidents.4.device_id").empty());
    CHECK(all.at("incidents.4.station_id")->IsNull());

    // Filters: kind, device, station, time range [from, to), paging.
    CHECK(sids(st.get("/api/v1/admin/incidents?kind=record_overdue", admin)) == Sids{"s-2"});
    CHECK(sids(st.get("/api/v1/admin/incidents?kind=suspend_timeout", admin)) == Sids{"s-4", "s-1"});
    CHECK(sids(st.get("/api/v1/admin/incidents?device=inc-n1", admin)) == Sids{"s-2", "s-1"});
    CHECK(sids(st.get(fmt::format("/api/v1/admin/incidents?station_id={}", south), admin)) == Sids{"s-4", "s-3"});
    CHECK(sids(st.get("/api/v1/admin/incidents?from=2024-11-21T10:00:01Z&to=2024-11-21T10:00:03Z", admin)) ==
          Sids{"s-3", "s-2"});
    CHECK(sids(st.get("/api/v1/admin/incidents?from=2024-11-21T18:00:02%2B08:00", admin)) == Sids{"s-4", "s-3"});
    CHECK(st.get("/api/v1/admin/incidents?from=2024-11-21", admin).size("incidents") == 5);
    CHECK(st.get("/api/v1/admin/incidents?to=2024-11-21", admin).size("incidents") == 0);
    CHECK(sids(st.get(fmt::format("/api/v1/admin/incidents?station_id={}&kind=record_clamped", south), admin)) ==
          Sids{"s-3"});
    CHECK(sids(st.get("/api/v1/admin/incidents?limit=2", admin)) == Sids{"s-4", "s-3"});
    CHECK(sids(st.get("/api/v1/admin/incidents?limit=2&offset=2", admin)) == Sids{"s-2", "s-1"});
    CHECK(sids(st.get("/api/v1/admin/incidents?offset=4", admin)) == Sids{"s-0"});
    CHECK(st.get("/api/v1/admin/incidents?device=nobody", admin).size("incidents") == 0);

    // Authentication and the permission monitor.read are required.
    auto anonymous = st.get("/api/v1/admin/incidents");
    CHECK(anonymous.status == 401);
    CHECK(anonymous.code() == "unauthorized");
    CHECK(st.get("/api/v1/admin/incidents", "not-a-token").status == 401);
    auto rider = st.get("/api/v1/admin/incidents", st.rider("13500000041"));
    CHECK(rider.status == 403);
    CHECK(rider.code() == "forbidden");
    auto finance = st.get("/api/v1/admin/incidents", st.staff(admin, "inc-fin", "finance", R"("all_stations":true)"));
    CHECK(finance.status == 403);
    CHECK(finance.code() == "forbidden");
    const auto viewer = st.staff(admin, "inc-viewer", "viewer", R"("all_stations":true)");
    CHECK(st.get("/api/v1/admin/incidents", viewer).size("incidents") == 5);

    // A station-scoped operator sees its stations' incidents only (not those without a device).
    const auto maint = st.staff(admin, "inc-maint", "maintenance", fmt::format(R"("station_ids":[{}])", north));
    CHECK(sids(st.get("/api/v1/admin/incidents", maint)) == Sids{"s-2", "s-1"});
    CHECK(sids(st.get("/api/v1/admin/incidents?offset=1", maint)) == Sids{"s-1"});
    CHECK(st.get(fmt::format("/api/v1/admin/incidents?station_id={}", south), maint).size("incidents") == 0);
    CHECK(st.get("/api/v1/admin/incidents?device=inc-s1", maint).size("incidents") == 0);

    // Bad parameters: 400 invalid_request naming what is wrong.
    const auto refused = [&](const std::string& query, const std::string& names) {
        auto r = st.get("/api/v1/admin/incidents?" + query, admin);
        CHECK_MESSAGE(r.status == 400, query << " → " << r);
        CHECK_MESSAGE(r.code() == "invalid_request", query << " → " << r);
        CHECK_MESSAGE(r.str("error.message").find(names) != std::string::npos, query << " → " << r);
    };
    refused("kind=power_cut", "kind");
    refused("from=yesterday", "from");
    refused("to=2024-13-45T99:00:00Z", "to");
    refused("from=2024-11-22&to=2024-11-21", "from must be before to");
    refused("from=2024-11-21&to=2024-11-21", "from must be before to");
    refused("limit=0", "limit");
    refused("limit=501", "limit");
    refused("limit=ten", "limit");
    refused("offset=-1", "offset");
    refused("station_id=0", "station_id");
    refused("station_id=north", "station_id");
    refused("device=" + std::string(49, 'x'), "device");
}

TEST_CASE("api admin: dashboard figures equal sums computed from the ledger and the sessions") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto s1 = st.station(admin, "D1"), s2 = st.station(admin, "D2", 22.6, 114.1);
    st.device(admin, "db-p1", s1, 10);
    st.device(admin, "db-p2", s2, 10);
    const auto alice = st.rider("13400000001"), bob = st.rider("13400000002");
    auto u3 = st.post("/api/v1/admin/users", fmt::format(R"({{"phone":"13400000003","station_id":{}}})", s1), admin);
    // Money in: online (sandbox) and at the counter.
    for (const auto& [token, amount] : std::vector<std::pair<std::string, int>>{{alice, 3000}, {bob, 2000}}) {
        auto p = st.post("/api/v1/wallet/recharge", fmt::format(R"({{"amount_fen":{}}})", amount), token);
        REQUIRE(st.post("/api/v1/pay/sandbox/" + p.str("payment.id") + "/confirm", "{}", token).status == 200);
    }
    REQUIRE(st.money(fmt::format("/api/v1/admin/users/{}/recharge", u3.i64("id")),
                     R"({"amount_fen":1500,"bonus_fen":50})", admin)
                .status == 200);
    // Sessions settled as billingd does.
    const auto now = SystemClock::instance().now_ms();
    struct S {
        std::string token, socket;
        std::int64_t cost, wh, secs;
    };
    for (const auto& s : std::vector<S>{{alice, "db-p1-1", 120, 800, 3600}, {bob, "db-p2-1", 75, 400, 1800}}) {
        auto r = st.post("/api/v1/sessions", fmt::format(R"({{"socket":"{}","mode":"power"}})", s.socket), s.token);
        REQUIRE(r.status == 202);
        settle(st, r.str("session.id"), st.rider_id(s.token), s.cost, s.wh, s.secs, now - 1000);
    }
    REQUIRE(st.request("POST", fmt::format("/api/v1/admin/users/{}/refund", st.rider_id(bob)),
                       R"({"amount_fen":500,"reason":"r"})", admin, {{"Idempotency-Key", "dash-refund"}})
                .status == 201);

    // The figures, computed here straight from the tables.
    std::int64_t recharge = 0, charge = 0, energy = 0, sessions = 0, secs = 0, accounts = 0;
    {
        auto d = st.db();
        db::Statement l(d, "SELECT kind, real_fen, bonus_fen FROM ledger");
        while (l.step()) {
            if (l.text(0) == "recharge")
                recharge += l.int64(1);
            if (l.text(0) == "charge")
                charge += -(l.int64(1) + l.int64(2));
        }
        db::Statement s(d, "SELECT energy_wh, duration_s FROM sessions WHERE state = 'completed'");
        while (s.step()) {
            energy += s.int64(0);
            secs += s.int64(1);
            ++sessions;
        }
        db::Statement a(d, "SELECT count(*) FROM accounts");
        a.step();
        accounts = a.int64(0);
    }
    REQUIRE(recharge == 6500);
    REQUIRE(charge == 195);
    auto dash = st.get("/api/v1/admin/dashboard", admin);
    REQUIRE_MESSAGE(dash.status == 200, dash);
    for (const char* period : {"today", "total"}) {
        const std::string p = period;
        CHECK(dash.i64(p + ".recharge_fen") == recharge);
        CHECK(dash.i64(p + ".charge_fen") == charge);
        CHECK(dash.i64(p + ".energy_wh") == energy);
        CHECK(dash.i64(p + ".sessions") == sessions);
        CHECK(dash.i64(p + ".charging_s") == secs);
        CHECK(dash.i64(p + ".new_accounts") == accounts);
        CHECK(dash.i64(p + ".refund_fen") == 500);
        CHECK(dash.i64(p + ".bonus_given_fen") == 50);
    }
    REQUIRE(dash.size("series") == 7);
    CHECK(dash.i64("series.6.charge_fen") == charge);
    CHECK(dash.i64("series.0.charge_fen") == 0);
    REQUIRE(dash.size("top_riders") == 2);
    CHECK(dash.i64("top_riders.0.account_id") == st.rider_id(alice));
    CHECK(dash.i64("top_riders.0.spent_fen") == 120);
    // E-bikes and cars apart: both sessions were at e-bike piles.
    for (const char* period : {"today", "total"}) {
        const std::string p = std::string("by_kind.") + period;
        CHECK(dash.i64(p + ".ebike.charge_fen") == charge);
        CHECK(dash.i64(p + ".ebike.sessions") == sessions);
        CHECK(dash.i64(p + ".ebike.energy_wh") == energy);
        CHECK(dash.i64(p + ".ev.charge_fen") == 0);
        CHECK(dash.i64(p + ".ev.sessions") == 0);
    }
    // One station's figures: its sessions' charges only.
    auto one = st.get(fmt::format("/api/v1/admin/dashboard?station_id={}", s2), admin);
    CHECK(one.i64("total.charge_fen") == 75);
    CHECK(one.i64("total.energy_wh") == 400);
    CHECK(one.i64("total.sessions") == 1);

    // Exports carry the same rows.
    auto csv = st.get("/api/v1/admin/exports/sessions", admin);
    REQUIRE(csv.status == 200);
    CHECK(csv.body.find("session_id,state,method") != std::string::npos);
    CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 3);
    auto ledger_csv = st.get("/api/v1/admin/exports/ledger?kind=charge", admin);
    CHECK(std::count(ledger_csv.body.begin(), ledger_csv.body.end(), '\n') == 3);
    auto xlsx = st.get("/api/v1/admin/exports/ledger?format=xlsx", admin);
    REQUIRE(xlsx.status == 200);
    CHECK(xlsx.body.substr(0, 2) == "PK");
    bool attachment = false;
    for (const auto& [k, v] : xlsx.headers)
        attachment = attachment || (k == "Content-Disposition" && v.find("ledger.xlsx") != std::string::npos);
    CHECK(attachment);
    CHECK(st.get("/api/v1/admin/exports/sessions?format=pdf", admin).code() == "invalid_request");
}

TEST_CASE("api admin: a camera is registered with its factory id, SIM and IP; an operator corrects or clears them") {
    Stack st;
    const auto admin = st.admin();
    auto s = st.post("/api/v1/admin/stations", R"({"name":"Car park","lat":22.5,"lon":114.0})", admin);
    REQUIRE_MESSAGE(s.status == 201, s);
    const auto station = s.i64("id");
    auto cam =
        st.post("/api/v1/admin/devices",
                fmt::format(R"({{"id":"cam-01","kind":"camera","station_id":{},"sockets":2,)"
                            R"("factory_id":"HK-DS-2CD7A26","sim":"89860412345678901234","ip":"192.168.10.21"}})",
                            station),
                admin);
    REQUIRE_MESSAGE(cam.status == 201, cam);
    auto got = st.get("/api/v1/admin/devices/cam-01", admin);
    REQUIRE_MESSAGE(got.ok(), got);
    CHECK(got.str("factory_id") == "HK-DS-2CD7A26");
    CHECK(got.str("sim") == "89860412345678901234");
    CHECK(got.str("ip") == "192.168.10.21");

    CHECK(st.put("/api/v1/admin/devices/cam-01", R"({"ip":"fe80::1"})", admin).str("ip") == "fe80::1");
    CHECK(st.put("/api/v1/admin/devices/cam-01", R"({"ip":"192.168.10.300"})", admin).code() == "invalid_request");
    CHECK(st.put("/api/v1/admin/devices/cam-01", R"({"sim":"8986 0412"})", admin).code() == "invalid_request");
    auto cleared = st.put("/api/v1/admin/devices/cam-01", R"({"sim":""})", admin);
    REQUIRE_MESSAGE(cleared.ok(), cleared);
    const auto* sim = cleared.at("sim");
    REQUIRE(sim);
    CHECK(sim->IsNull());
    CHECK(cleared.str("factory_id") == "HK-DS-2CD7A26"); // untouched
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"cam-02","kind":"camera","station_id":{},"sockets":2,"ip":"camera.local"}})",
                              station),
                  admin)
              .code() == "invalid_request");
    CHECK(st.get("/api/v1/admin/devices/cam-02", admin).status == 404); // nothing registered by the refusal
}

TEST_CASE("api admin: money routes need an Idempotency-Key (same key: the first answer, nothing twice; same key, "
          "other request: 409), obey the role's limits, and packages keep their bonus within max_bonus_pct") {
    StackOptions o;
    o.sets = {"pilehub-api.limits.finance.counter_recharge_max_fen=100000",
              "pilehub-api.limits.finance.refund_day_max_fen=110", "pilehub-api.packages.max_bonus_pct=10"};
    Stack st(o);
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto fin = st.staff(admin, "fin", "finance", R"("all_stations":true)");
    const auto station = st.station(admin, "Money");
    st.device(admin, "mo-p1", station, 10);
    const auto rider = st.rider("13300000001");
    const auto id = st.rider_id(rider);
    const auto url = fmt::format("/api/v1/admin/users/{}/recharge", id);
    const auto balance = [&] { return st.get("/api/v1/me", rider).i64("wallet.balance_fen"); };

    // Idempotency-Key: required; the same key replays; the same key with another body is refused.
    auto none = st.post(url, R"({"amount_fen":1000})", fin);
    CHECK(none.status == 400);
    CHECK(none.code() == "invalid_request");
    auto first = st.money(url, R"({"amount_fen":1000})", fin, "desk-1");
    REQUIRE_MESSAGE(first.status == 200, first);
    auto again = st.money(url, R"({"amount_fen":1000})", fin, "desk-1");
    CHECK(again.status == 200);
    CHECK(again.body == first.body);
    CHECK(again.headers.count("Idempotent-Replayed") == 1);
    CHECK(st.money(url, R"({"amount_fen":2000})", fin, "desk-1").code() == "conflict");
    CHECK(balance() == 1000);

    // Limits: one counter recharge above the finance role's limit is refused; the admin role has the general one.
    auto over = st.money(url, R"({"amount_fen":100001})", fin);
    CHECK(over.status == 403);
    CHECK(over.code() == "limit_exceeded");
    CHECK(st.money(url, R"({"amount_fen":100001})", admin).status == 200);
    CHECK(balance() == 101001);

    // Packages: the bonus at most 10% of the price; a counter recharge by package pays its price and its bonus.
    CHECK(
        st.post("/api/v1/admin/packages", R"({"name":"too generous","pay_fen":5000,"bonus_fen":501})", admin).status ==
        400);
    auto pkg = st.post("/api/v1/admin/packages", R"({"name":"pay 50 get 5","pay_fen":5000,"bonus_fen":500})", admin);
    REQUIRE_MESSAGE(pkg.status == 201, pkg);
    const auto pkg_url = fmt::format("/api/v1/admin/packages/{}", pkg.i64("id"));
    CHECK(st.put(pkg_url, R"({"bonus_fen":501})", admin).status == 400);
    CHECK(st.put(pkg_url, R"({"enabled":false,"bonus_fen":800})", admin).status == 200); // a disabled one may
    CHECK(st.put(pkg_url, R"({"enabled":true})", admin).status == 400);                  // but is not enabled so
    REQUIRE(st.put(pkg_url, R"({"enabled":true,"bonus_fen":500})", admin).status == 200);
    auto by_pkg = st.money(url, fmt::format(R"({{"package_id":{}}})", pkg.i64("id")), fin);
    REQUIRE_MESSAGE(by_pkg.status == 200, by_pkg);
    CHECK(by_pkg.i64("entry.real_fen") == 5000);
    CHECK(by_pkg.i64("entry.bonus_fen") == 500);
    CHECK(st.money(url, fmt::format(R"({{"package_id":{},"amount_fen":1}})", pkg.i64("id")), fin).status == 400);

    // Order refunds: a settled session's cost back, never more than it debited, within the day's refund limit.
    auto started = st.post("/api/v1/sessions", R"({"socket":"mo-p1-1","mode":"power"})", rider);
    REQUIRE_MESSAGE(started.status == 202, started);
    const auto sid = started.str("session.id");
    const auto refund_url = "/api/v1/admin/sessions/" + sid + "/refund";
    CHECK(st.money(refund_url, R"({"amount_fen":10,"reason":"early"})", fin).code() == "conflict"); // not settled
    const auto now = SystemClock::instance().now_ms();
    settle(st, sid, id, 120, 500, 3600, now - 1000);
    {
        auto d = st.db();
        db::Statement(d, "INSERT INTO settlements(session_id, account_id, ledger_id, priced_fen, debited_fen, "
                         "shortfall_fen, bill, settled_at) SELECT ?, ?, id, 120, 120, 0, '{}', ? FROM ledger WHERE "
                         "idempotency_key = ?")
            .bind_all(sid, id, now, "settle:" + sid)
            .run();
    }
    const auto before = balance();
    CHECK(st.post(refund_url, R"({"amount_fen":100,"reason":"pile fault"})", fin).status == 400); // no key
    auto r1 = st.money(refund_url, R"({"amount_fen":100,"reason":"pile fault"})", fin, "ref-1");
    REQUIRE_MESSAGE(r1.status == 201, r1);
    CHECK(r1.i64("refund.amount_fen") == 100);
    CHECK(r1.i64("refund.real_fen") == 100);
    CHECK(r1.i64("refunds.refundable_fen") == 20);
    CHECK(st.money(refund_url, R"({"amount_fen":100,"reason":"pile fault"})", fin, "ref-1").body == r1.body);
    CHECK(balance() == before + 100);
    auto too_much = st.money(refund_url, R"({"amount_fen":21,"reason":"x"})", admin);
    CHECK(too_much.status == 409);
    CHECK(too_much.code() == "refund_exceeds_cost");
    auto limited = st.money(refund_url, R"({"amount_fen":20,"reason":"x"})", fin); // 100 + 20 > 110 today
    CHECK(limited.status == 403);
    CHECK(limited.code() == "limit_exceeded");
    REQUIRE(st.money(refund_url, R"({"amount_fen":10,"reason":"x"})", fin).status == 201);
    auto detail = st.get("/api/v1/admin/sessions/" + sid, admin);
    CHECK(detail.i64("refunds.refunded_fen") == 110);
    CHECK(detail.i64("refunds.refundable_fen") == 10);
    CHECK(detail.size("refunds.entries") == 2);
    CHECK(detail.str("refunds.entries.0.reason") == "pile fault");
    CHECK(detail.str("refunds.entries.0.operator") == "fin");
    CHECK(balance() == before + 110);
}

TEST_CASE("api: X-Forwarded-For names the client only when the peer is a trusted proxy") {
    for (const bool trusted : {false, true}) {
        CAPTURE(trusted);
        StackOptions o;
        if (trusted)
            o.sets = {"pilehub-api.trusted_proxies=127.0.0.1/8"};
        o.sets.push_back("pilehub-api.sms_max_per_ip_hour=1");
        Stack st(o);
        const auto sms = [&](const std::string& phone, const std::string& client) {
            return st.request("POST", "/api/v1/auth/sms-code", fmt::format(R"({{"phone":"{}"}})", phone), "",
                              {{"X-Forwarded-For", client}});
        };
        // One code per address and hour: a second client behind the proxy is another address only when trusted.
        CHECK(sms("13200000001", "198.51.100.7").status == 200);
        const auto second = sms("13200000002", "203.0.113.9");
        CHECK(second.status == (trusted ? 200 : 429));
        CHECK(sms("13200000003", "203.0.113.9").status == 429);
        // The access log names the client.
        CHECK((st.log().find("198.51.100.7") != std::string::npos) == trusted);
    }
}

TEST_CASE("api: arrears show on /me and /wallet, and a counter recharge pays them first (an arrears ledger entry)") {
    Stack st;
    const auto admin = st.admin();
    const auto rider = st.rider("13300000009");
    const auto id = st.rider_id(rider);
    {
        auto d = st.db(); // what billingd leaves after a bill the wallet could not cover
        db::Statement(d, "UPDATE accounts SET arrears_fen = 120 WHERE id = ?").bind_all(id).run();
    }
    CHECK(st.get("/api/v1/me", rider).i64("wallet.arrears_fen") == 120);
    CHECK(st.get("/api/v1/wallet", rider).i64("arrears_fen") == 120);
    CHECK(st.get(fmt::format("/api/v1/admin/users/{}", id), admin).i64("wallet.arrears_fen") == 120);
    auto paid = st.money(fmt::format("/api/v1/admin/users/{}/recharge", id), R"({"amount_fen":1000})", admin);
    REQUIRE_MESSAGE(paid.status == 200, paid);
    CHECK(st.get("/api/v1/me", rider).i64("wallet.arrears_fen") == 0);
    CHECK(st.get("/api/v1/me", rider).i64("wallet.balance_fen") == 880);
    auto ledger = st.get("/api/v1/wallet/ledger", rider);
    REQUIRE(ledger.size("entries") == 2);
    CHECK(ledger.str("entries.0.kind") == "arrears");
    CHECK(ledger.i64("entries.0.real_fen") == -120);
    CHECK(ledger.str("entries.1.kind") == "recharge");
}
