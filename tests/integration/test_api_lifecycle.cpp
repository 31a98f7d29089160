// CONTRACT G "Lifecycle" against the running stack (real broker, real pilehub-api, real SQLite): devices
// registered into stock, installed, relocated (refused while a session is live; old sessions keep their station),
// retired (the real broker then refuses the device's CONNECT), device models filling ports and their defaults,
// bulk assignment (all or nothing), and operator scope over all of it. Sessions are started by a rider through
// the API with the stand-in sessiond (FakeSessiond), which writes the session row sessiond would.
#include "api_stack.hpp"

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

/// Registers a device without a station (into stock) and returns the reply.
Http stock_device(Stack& st, const std::string& admin, const std::string& id, const std::string& extra = "") {
    auto r = st.post("/api/v1/admin/devices",
                     fmt::format(R"({{"id":"{}","kind":"ebike_pile","sockets":4{}}})", id, extra), admin);
    REQUIRE_MESSAGE(r.status == 201, r);
    return r;
}

std::vector<std::string> device_ids(const Http& r) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < r.size("devices"); ++i)
        out.push_back(r.str(fmt::format("devices.{}.id", i)));
    return out;
}

/// Ends a session as billingd would once it settled.
void complete(Stack& st, const std::string& sid) {
    auto d = st.db();
    db::Statement(d, "UPDATE sessions SET state = 'completed', ended_at = started_at WHERE id = ?").bind_all(sid).run();
}

using Ids = std::vector<std::string>;

} // namespace

TEST_CASE("lifecycle: a device registered without a station is in stock, is installed, then relocated; relocation "
          "and retirement are refused while a session is live, and the session keeps its station") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto north = st.station(admin, "LC North"), south = st.station(admin, "LC South", 22.50, 114.00);
    const auto rider = st.rider("13600000001");

    // Into stock: no station, its identity and production date kept; the broker accepts it (for commissioning).
    auto reg = stock_device(st, admin, "lc-p1", R"(,"factory_id":"F-001","sim":"8986001","produced_on":"2026-11-02")");
    CHECK(reg.at("station_id")->IsNull());
    CHECK(reg.str("lifecycle") == "stock");
    CHECK(st.broker().connack("lc-p1", reg.str("mqtt_password")) == 0);
    auto dev = st.get("/api/v1/admin/devices/lc-p1", admin);
    REQUIRE_MESSAGE(dev.status == 200, dev);
    CHECK(dev.str("lifecycle") == "stock");
    CHECK(dev.at("station_id")->IsNull());
    CHECK(dev.str("produced_on") == "2026-11-02");
    CHECK(dev.str("factory_id") == "F-001");
    CHECK(dev.at("installed_at")->IsNull());
    CHECK(device_ids(st.get("/api/v1/admin/devices?lifecycle=stock", admin)) == Ids{"lc-p1"});
    CHECK(device_ids(st.get("/api/v1/admin/devices?lifecycle=installed", admin)).empty());
    CHECK(st.post("/api/v1/admin/devices",
                  R"({"id":"lc-bad","kind":"ebike_pile","sockets":4,"produced_on":"2026-13-01"})", admin)
              .code() == "invalid_request");

    // Riders cannot use a device in stock: the start says why, the socket is not shown.
    auto refused = st.post("/api/v1/sessions", R"({"socket":"lc-p1-1","mode":"power"})", rider);
    CHECK(refused.status == 409);
    CHECK(refused.code() == "device_not_installed");
    CHECK(st.get("/api/v1/sockets/lc-p1-1", rider).code() == "unknown_socket");
    CHECK(fake.calls() == 0);

    // A stock device cannot be "relocated" within a station it is not at, nor moved into an area of another station.
    auto bad_area = st.post(fmt::format("/api/v1/admin/stations/{}/areas", south), R"({"name":"South A"})", admin);
    REQUIRE_MESSAGE(bad_area.status == 201, bad_area);
    CHECK(st.put("/api/v1/admin/devices/lc-p1",
                 fmt::format(R"({{"station_id":{},"area_id":{}}})", north, bad_area.i64("id")), admin)
              .code() == "not_found");
    CHECK(st.put("/api/v1/admin/devices/lc-p1", R"({"station_id":999999})", admin).code() == "not_found");

    // Install: stock → installed at north, with the time it was installed.
    auto installed = st.put("/api/v1/admin/devices/lc-p1", fmt::format(R"({{"station_id":{}}})", north), admin);
    REQUIRE_MESSAGE(installed.status == 200, installed);
    CHECK(installed.str("lifecycle") == "installed");
    CHECK(installed.i64("station_id") == north);
    CHECK_FALSE(installed.str("installed_at").empty());
    CHECK(device_ids(st.get("/api/v1/admin/devices?lifecycle=installed", admin)) == Ids{"lc-p1"});

    // A session runs at north.
    auto started = st.post("/api/v1/sessions", R"({"socket":"lc-p1-1","mode":"power"})", rider);
    REQUIRE_MESSAGE(started.status == 202, started);
    const auto sid = started.str("session.id");

    // While it is live the device neither moves nor retires.
    auto moving = st.put("/api/v1/admin/devices/lc-p1", fmt::format(R"({{"station_id":{}}})", south), admin);
    CHECK(moving.status == 409);
    CHECK(moving.code() == "conflict");
    auto retiring = st.post("/api/v1/admin/devices/lc-p1/retire", "{}", admin);
    CHECK(retiring.status == 409);
    CHECK(retiring.code() == "conflict");
    CHECK(st.get("/api/v1/admin/devices/lc-p1", admin).i64("station_id") == north);
    // Its own station again is no relocation (an area change at most): allowed while live.
    CHECK(st.put("/api/v1/admin/devices/lc-p1", fmt::format(R"({{"station_id":{}}})", north), admin).status == 200);

    // Once the session ended the device relocates; the session keeps the station it ran at.
    complete(st, sid);
    auto moved = st.put("/api/v1/admin/devices/lc-p1", fmt::format(R"({{"station_id":{}}})", south), admin);
    REQUIRE_MESSAGE(moved.status == 200, moved);
    CHECK(moved.i64("station_id") == south);
    CHECK(moved.str("lifecycle") == "installed");
    auto old = st.get("/api/v1/admin/sessions/" + sid, admin);
    REQUIRE_MESSAGE(old.status == 200, old);
    CHECK(old.i64("station_id") == north);
    CHECK(st.get(fmt::format("/api/v1/admin/sessions?station_id={}", north), admin).size("sessions") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/sessions?station_id={}", south), admin).size("sessions") == 0);
    // The next session runs at the new station.
    auto next = st.post("/api/v1/sessions", R"({"socket":"lc-p1-2","mode":"power"})", rider);
    REQUIRE_MESSAGE(next.status == 202, next);
    CHECK(st.get("/api/v1/admin/sessions/" + next.str("session.id"), admin).i64("station_id") == south);
}

TEST_CASE("lifecycle: a retired device's MQTT connect is refused by the broker; it is listed as retired and never "
          "moves again") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto north = st.station(admin, "RT North"), south = st.station(admin, "RT South", 22.50, 114.00);
    auto dev = st.device(admin, "rt-p1", north, 4);
    const auto password = dev.str("mqtt_password");
    REQUIRE(st.broker().connack("rt-p1", password) == 0);
    auto other = st.device(admin, "rt-p2", north, 4);

    const auto rider = st.rider("13600000002");
    const auto station_page = fmt::format("/api/v1/stations/{}", north);
    CHECK(st.get(station_page, rider).i64("total_sockets") == 8);

    auto retired = st.post("/api/v1/admin/devices/rt-p1/retire", "{}", admin);
    REQUIRE_MESSAGE(retired.status == 200, retired);
    CHECK(retired.str("lifecycle") == "retired");
    CHECK(retired.boolean("broker_reloaded"));
    CHECK_FALSE(retired.str("retired_at").empty());
    // The broker reloads its password file on SIGHUP: from then on the retired device is refused, the other not.
    CHECK(eventually([&] { return st.broker().connack("rt-p1", password) != 0; }));
    CHECK(st.broker().connack("rt-p2", other.str("mqtt_password")) == 0);

    CHECK(device_ids(st.get("/api/v1/admin/devices?lifecycle=retired", admin)) == Ids{"rt-p1"});
    CHECK(device_ids(st.get("/api/v1/admin/devices?lifecycle=installed", admin)) == Ids{"rt-p2"});
    auto shown = st.get("/api/v1/admin/devices/rt-p1", admin);
    CHECK(shown.str("lifecycle") == "retired");
    CHECK(shown.i64("station_id") == north); // where it was retired
    CHECK_FALSE(shown.boolean("visible"));
    CHECK(st.put("/api/v1/admin/devices/rt-p1", fmt::format(R"({{"station_id":{}}})", south), admin).code() ==
          "conflict");
    CHECK(st.post("/api/v1/admin/devices/rt-p1/retire", "{}", admin).code() == "conflict");
    // Riders no longer count its sockets, and a start is told the device is not installed; sessiond is never asked.
    CHECK(st.get(station_page, rider).i64("total_sockets") == 4);
    CHECK(st.post("/api/v1/sessions", R"({"socket":"rt-p1-1","mode":"power"})", rider).code() ==
          "device_not_installed");
    CHECK(fake.calls() == 0);
    // A new secret does not bring it back.
    auto rotated = st.post("/api/v1/admin/devices/rt-p1/credentials", "{}", admin);
    REQUIRE(rotated.status == 200);
    CHECK(st.broker().connack("rt-p1", rotated.str("mqtt_password")) != 0);
}

TEST_CASE("lifecycle: a device that never charged is removed; when the broker's password file cannot be written, "
          "registering and removing still stand and say the broker was not reloaded") {
    // The file system refuses the rewrite (root ignores permissions: the file's directory is a regular file).
    const auto blocked = (fs::temp_directory_path() / fmt::format("pilehub-not-a-dir-{}", ::getpid())).string();
    std::ofstream(blocked) << "a file\n";
    {
        StackOptions o;
        o.sets = {"broker.password_file=" + blocked + "/passwd"};
        Stack st(o);
        const auto admin = st.admin();
        const auto station = st.station(admin, "RM North");
        auto kept =
            st.post("/api/v1/admin/devices",
                    fmt::format(R"({{"id":"rm-p1","kind":"ebike_pile","station_id":{},"sockets":4}})", station), admin);
        REQUIRE_MESSAGE(kept.status == 201, kept);
        CHECK_FALSE(kept.boolean("broker_reloaded"));
        CHECK_FALSE(kept.str("mqtt_password").empty());
        auto gone =
            st.post("/api/v1/admin/devices",
                    fmt::format(R"({{"id":"rm-p2","kind":"ebike_pile","station_id":{},"sockets":4}})", station), admin);
        REQUIRE_MESSAGE(gone.status == 201, gone);

        auto removed = st.request("DELETE", "/api/v1/admin/devices/rm-p2", "", admin);
        REQUIRE_MESSAGE(removed.status == 200, removed);
        CHECK(removed.str("id") == "rm-p2");
        CHECK(removed.boolean("removed"));
        CHECK_FALSE(removed.boolean("broker_reloaded"));
        CHECK(st.get("/api/v1/admin/devices/rm-p2", admin).code() == "unknown_device");
        CHECK(st.get("/api/v1/admin/devices/rm-p1", admin).status == 200);
        CHECK(st.log().find("dev=rm-p2 broker not reloaded: the broker's password file " + blocked +
                            "/passwd was "
                            "not written") != std::string::npos);
    }
    fs::remove(blocked);
}

TEST_CASE("lifecycle: a device model fills a new device's sockets or guns and their defaults; a model in use is "
          "not deleted") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "DM Station");

    auto pile_model = st.post("/api/v1/admin/device-models",
                              R"({"kind":"ebike_pile","name":"PH-10","ports":10,"rated_power_w":7000,)"
                              R"("rated_voltage_v":220,"rated_current_a":32,"socket_overload_w":800,)"
                              R"("device_overload_w":7000,"max_current_a":4})",
                              admin);
    REQUIRE_MESSAGE(pile_model.status == 201, pile_model);
    const auto pile_model_id = pile_model.i64("id");
    CHECK(pile_model.i64("socket_overload_w") == 800);
    CHECK(st.post("/api/v1/admin/device-models", R"({"kind":"ebike_pile","name":"PH-10","ports":4})", admin).code() ==
          "duplicate");
    CHECK(st.post("/api/v1/admin/device-models", R"({"kind":"camera","name":"C1","ports":2,"socket_overload_w":5})",
                  admin)
              .code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/device-models", R"({"kind":"ev_charger","name":"X","ports":2,"gun_power_w":120000})",
                  admin)
              .code() == "invalid_connector");
    auto ev_model = st.post("/api/v1/admin/device-models",
                            R"({"kind":"ev_charger","name":"DC-120","ports":2,"gun_power_w":120000,)"
                            R"("connector_type":"gbt_dc"})",
                            admin);
    REQUIRE_MESSAGE(ev_model.status == 201, ev_model);
    CHECK(st.get("/api/v1/admin/device-models", admin).size("models") == 2);
    CHECK(st.get("/api/v1/admin/device-models?kind=ev_charger", admin).str("models.0.name") == "DC-120");

    // A pile of the model: its 10 sockets each with the model's overload threshold, its first configuration
    // carrying the model's socket and device overload.
    auto pile = st.post(
        "/api/v1/admin/devices",
        fmt::format(R"({{"id":"dm-p1","kind":"ebike_pile","station_id":{},"model_id":{}}})", station, pile_model_id),
        admin);
    REQUIRE_MESSAGE(pile.status == 201, pile);
    CHECK(pile.i64("sockets") == 10);
    CHECK(pile.i64("model_id") == pile_model_id);
    auto shown = st.get("/api/v1/admin/devices/dm-p1", admin);
    CHECK(shown.size("sockets") == 10);
    CHECK(shown.i64("sockets.0.socket_overload_w") == 800);
    CHECK(shown.i64("sockets.9.socket_overload_w") == 800);
    CHECK(shown.str("model") == "PH-10");
    CHECK(shown.i64("model_id") == pile_model_id);
    auto config = st.get("/api/v1/admin/devices/dm-p1/config", admin);
    CHECK(config.i64("desired.socket_overload_w") == 800);
    CHECK(config.i64("desired.device_overload_w") == 7000);
    // A count other than the model's, or a model of another kind, is refused.
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"dm-p2","kind":"ebike_pile","station_id":{},"model_id":{},"sockets":4}})",
                              station, pile_model_id),
                  admin)
              .code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"dm-p2","kind":"ev_charger","station_id":{},"model_id":{}}})", station,
                              pile_model_id),
                  admin)
              .code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/devices",
                  fmt::format(R"({{"id":"dm-p2","kind":"ebike_pile","station_id":{},"model_id":999}})", station), admin)
              .code() == "not_found");

    // A charger of the model, into stock: two DC guns of 120 kW.
    auto charger =
        st.post("/api/v1/admin/devices",
                fmt::format(R"({{"id":"dm-c1","kind":"ev_charger","model_id":{}}})", ev_model.i64("id")), admin);
    REQUIRE_MESSAGE(charger.status == 201, charger);
    CHECK(charger.size("guns") == 2);
    CHECK(charger.i64("guns.1.rated_power_w") == 120000);
    CHECK(charger.str("guns.1.connector_type") == "gbt_dc");
    CHECK(charger.str("guns.1.current_type") == "dc");

    // Lists by model.
    CHECK(device_ids(st.get(fmt::format("/api/v1/admin/devices?model_id={}", pile_model_id), admin)) == Ids{"dm-p1"});
    CHECK(device_ids(st.get("/api/v1/admin/devices?model=DC-120", admin)) == Ids{"dm-c1"});
    CHECK(device_ids(st.get("/api/v1/admin/devices?model=DC-120&lifecycle=installed", admin)).empty());

    // A model in use stays; renamed, its devices keep what it gave them; an unused one goes.
    CHECK(st.request("DELETE", fmt::format("/api/v1/admin/device-models/{}", pile_model_id), "", admin).code() ==
          "conflict");
    auto renamed =
        st.put(fmt::format("/api/v1/admin/device-models/{}", pile_model_id), R"({"name":"PH-10 v2"})", admin);
    REQUIRE_MESSAGE(renamed.status == 200, renamed);
    CHECK(renamed.str("name") == "PH-10 v2");
    CHECK(renamed.i64("socket_overload_w") == 800);
    CHECK(st.put(fmt::format("/api/v1/admin/device-models/{}", pile_model_id), R"({"kind":"camera"})", admin).code() ==
          "invalid_request");
    auto unused = st.post("/api/v1/admin/device-models", R"({"kind":"camera","name":"CAM-2","ports":2})", admin);
    REQUIRE(unused.status == 201);
    auto removed = st.request("DELETE", fmt::format("/api/v1/admin/device-models/{}", unused.i64("id")), "", admin);
    CHECK(removed.status == 200);
    CHECK(st.get("/api/v1/admin/device-models?kind=camera", admin).size("models") == 0);
}

TEST_CASE("lifecycle: bulk assignment installs every device or none, listing each refusal; a scoped operator "
          "neither sees nor assigns devices outside its stations, nor stock") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto north = st.station(admin, "BA North"), south = st.station(admin, "BA South", 22.50, 114.00);
    auto area = st.post(fmt::format("/api/v1/admin/stations/{}/areas", north), R"({"name":"North A"})", admin);
    REQUIRE(area.status == 201);
    for (const char* id : {"ba-s1", "ba-s2", "ba-s3"})
        stock_device(st, admin, id);
    st.device(admin, "ba-busy", south, 4);
    const auto rider = st.rider("13600000003");
    auto live = st.post("/api/v1/sessions", R"({"socket":"ba-busy-1","mode":"power"})", rider);
    REQUIRE_MESSAGE(live.status == 202, live);

    // One refusal (a live session, an unknown id) and nothing moves; each refusal is listed.
    auto all_or_nothing =
        st.post("/api/v1/admin/devices/assign",
                fmt::format(R"({{"device_ids":["ba-s1","ba-s2","ba-busy","ba-none"],"station_id":{}}})", north), admin);
    CHECK(all_or_nothing.status == 409);
    CHECK(all_or_nothing.code() == "conflict");
    REQUIRE(all_or_nothing.size("error.refused") == 2);
    CHECK(all_or_nothing.str("error.refused.0.device_id") == "ba-busy");
    CHECK(all_or_nothing.str("error.refused.0.code") == "conflict");
    CHECK(all_or_nothing.str("error.refused.1.device_id") == "ba-none");
    CHECK(all_or_nothing.str("error.refused.1.code") == "unknown_device");
    CHECK(device_ids(st.get("/api/v1/admin/devices?lifecycle=stock", admin)) == Ids{"ba-s1", "ba-s2", "ba-s3"});
    CHECK(st.post("/api/v1/admin/devices/assign",
                  fmt::format(R"({{"device_ids":["ba-s1","ba-s1"],"station_id":{}}})", north), admin)
              .code() == "invalid_request");

    // All acceptable: every one installed at the station and area.
    auto assigned = st.post(
        "/api/v1/admin/devices/assign",
        fmt::format(R"({{"device_ids":["ba-s1","ba-s2"],"station_id":{},"area_id":{}}})", north, area.i64("id")),
        admin);
    REQUIRE_MESSAGE(assigned.status == 200, assigned);
    CHECK(assigned.size("assigned") == 2);
    for (const char* id : {"ba-s1", "ba-s2"}) {
        auto d = st.get(std::string("/api/v1/admin/devices/") + id, admin);
        CHECK(d.str("lifecycle") == "installed");
        CHECK(d.i64("station_id") == north);
        CHECK(d.i64("area_id") == area.i64("id"));
    }
    CHECK(device_ids(st.get(fmt::format("/api/v1/admin/devices?station_id={}", north), admin)) ==
          Ids{"ba-s1", "ba-s2"});

    // An operator scoped to north: its devices only; stock and south are invisible and cannot be assigned.
    const auto scoped = st.staff(admin, "ba-op", "operator", fmt::format(R"("station_ids":[{}])", north));
    CHECK(device_ids(st.get("/api/v1/admin/devices", scoped)) == Ids{"ba-s1", "ba-s2"});
    CHECK(device_ids(st.get("/api/v1/admin/devices?lifecycle=stock", scoped)).empty());
    CHECK(st.get("/api/v1/admin/devices/ba-busy", scoped).code() == "unknown_device");
    CHECK(st.get("/api/v1/admin/devices/ba-s3", scoped).code() == "unknown_device");
    auto theirs = st.post("/api/v1/admin/devices/assign",
                          fmt::format(R"({{"device_ids":["ba-s3"],"station_id":{}}})", north), scoped);
    CHECK(theirs.status == 409);
    CHECK(theirs.str("error.refused.0.code") == "unknown_device");
    auto elsewhere = st.post("/api/v1/admin/devices/assign",
                             fmt::format(R"({{"device_ids":["ba-s1"],"station_id":{}}})", south), scoped);
    CHECK(elsewhere.str("error.refused.0.code") == "not_found");
    CHECK(st.put("/api/v1/admin/devices/ba-s3", fmt::format(R"({{"station_id":{}}})", north), scoped).code() ==
          "unknown_device");
    CHECK(st.post("/api/v1/admin/devices/ba-s3/retire", "{}", scoped).code() == "unknown_device");
    auto into_stock = st.post("/api/v1/admin/devices", R"({"id":"ba-s9","kind":"ebike_pile","sockets":4})", scoped);
    CHECK(into_stock.status == 403);
    CHECK(into_stock.code() == "forbidden");
    CHECK(st.post("/api/v1/admin/device-models", R"({"kind":"camera","name":"C","ports":1})", scoped).code() ==
          "forbidden");
    // Within its scope it relocates its own devices (north only here: nothing to move to), and the unscoped
    // operator still sees everything.
    CHECK(device_ids(st.get("/api/v1/admin/devices", admin)).size() == 4);
}
