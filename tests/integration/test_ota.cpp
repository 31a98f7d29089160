// OTA (CONTRACT G) through the whole chain: a real Mosquitto, the real pilehub-api (upload, rollouts,
// download), otad driving the rollout, sessiond/billingd/recorderd for the live-session case, and
// pilehub-sim playing piles registered through the API, which download the image over HTTP, check its
// sha256, "install" it (reboot) and come back with the new version. A test subscriber on
// ph/v1/dev/+/cmd/ota sees every command otad sends.
#include "api_stack.hpp"

#include "common/crypto.hpp"

#include <fcntl.h>

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

constexpr const char* kVersion = "2.0.0";

/// The API, otad and pilehub-sim playing piles P1..Pn of one station, registered through the API.
struct OtaWorld {
    Stack st;
    std::string admin;
    std::int64_t station = 0;
    std::vector<std::string> piles;
    Inbox commands; ///< every cmd/ota and evt/ota
    std::unique_ptr<mqtt::Client> watcher;
    std::optional<Worker> otad;
    Process sim;

    explicit OtaWorld(int n, const std::string& tariff = "") {
        admin = st.admin();
        station = st.station(admin, "OTA Station");
        if (!tariff.empty())
            REQUIRE(st.put(fmt::format("/api/v1/admin/stations/{}/tariff", station), tariff, admin).status == 200);
        std::string fleet;
        for (int i = 1; i <= n; ++i) {
            const auto id = fmt::format("ota-p{}", i);
            auto dev = st.device(admin, id, station, 10);
            fleet += fmt::format(R"({}{{"id":"{}","kind":"ebike_pile","sockets":10,"password":"{}"}})",
                                 i > 1 ? "," : "", id, dev.str("mqtt_password"));
            piles.push_back(id);
        }
        std::ofstream(st.dir() + "/fleet.json") << R"({"devices":[)" << fleet << "]}";
        watcher = connect_client(st.broker().client_options("svc.monitor"),
                                 {"ph/v1/dev/+/cmd/ota", "ph/v1/dev/+/evt/ota"}, &commands);
        otad.emplace(st, "otad",
                     std::vector<std::string>{"otad.tick_ms=100",
                                              fmt::format("otad.download_base_url=http://127.0.0.1:{}", st.port())});
        sim = spawn_sim(st, 10, {"--tele-period-s", "2"});
        for (const auto& id : piles)
            REQUIRE_MESSAGE(eventually(
                                [&] {
                                    return st.get("/api/v1/admin/devices/" + id, admin).body.find(R"("online":true)") !=
                                           std::string::npos;
                                },
                                20s),
                            id << " never came online:\n"
                               << tail(slurp(st.dir() + "/sim.log")));
    }
    ~OtaWorld() {
        if (sim.pid())
            sim.stop();
    }

    /// One control line to the simulator's FIFO.
    void control(const std::string& line) {
        const auto path = st.dir() + "/sim/control";
        const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE_MESSAGE(fd >= 0, "cannot open " << path);
        const auto text = line + "\n";
        REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
        ::close(fd);
    }

    /// Uploads `image` as version kVersion for e-bike piles; returns the firmware reply.
    Http upload(const std::string& image) {
        auto r = st.request("POST", fmt::format("/api/v1/admin/firmware?version={}&kind=ebike_pile", kVersion), image,
                            admin);
        REQUIRE_MESSAGE(r.status == 201, r << "\n" << tail(st.log(), 10));
        return r;
    }
    Http rollout(std::int64_t firmware, const std::string& body) {
        auto r = st.post(fmt::format("/api/v1/admin/firmware/{}/rollouts", firmware), body, admin);
        REQUIRE_MESSAGE(r.status == 201, r << "\n" << tail(st.log(), 10));
        return r;
    }
    Http show(std::int64_t rollout) { return st.get(fmt::format("/api/v1/admin/rollouts/{}", rollout), admin); }
    /// The state of one device in the rollout.
    std::string device_state(const Http& shown, const std::string& id) const {
        for (std::size_t i = 0; i < shown.size("devices"); ++i)
            if (shown.str(fmt::format("devices.{}.device_id", i)) == id)
                return shown.str(fmt::format("devices.{}.state", i));
        return "";
    }
    bool wait_rollout(std::int64_t rollout, const std::string& state, std::chrono::milliseconds limit = 60s) {
        return eventually([&] { return show(rollout).str("state") == state; }, limit);
    }
    /// How many cmd/ota the piles received, per pile.
    int commands_to(const std::string& id) const {
        int n = 0;
        for (const auto& m : commands.messages())
            n += m.topic == topics::cmd(id, "ota") ? 1 : 0;
        return n;
    }
    std::string logs() const {
        return "--- otad ---\n" + tail(slurp(st.dir() + "/otad.log")) + "--- sim ---\n" +
               tail(slurp(st.dir() + "/sim.log")) + "--- api ---\n" + tail(st.log(), 20);
    }
};

} // namespace

TEST_CASE("ota: a rollout to 3 piles in batches of 1 ends with all 3 installed and reporting the new version; a "
          "wrong or expired download token gets 403") {
    if (!all_built({"otad", "pilehub-sim"}))
        return;
    OtaWorld w(3);
    const std::string image(200'000, 'F');
    auto fw = w.upload(image);
    CHECK(fw.str("sha256") == crypto::sha256_hex(image));
    CHECK(fw.i64("size") == 200'000);
    CHECK(w.st.get("/api/v1/admin/firmware", w.admin).size("firmware") == 1);
    // The same version for the same kind and model again is a conflict.
    CHECK(w.st.request("POST", fmt::format("/api/v1/admin/firmware?version={}&kind=ebike_pile", kVersion), "x", w.admin)
              .status == 409);

    auto ro = w.rollout(fw.i64("id"), fmt::format(R"({{"station_id":{},"batch_size":1,"batch_interval_s":0,)"
                                                  R"("max_failures":0,"timeout_s":60}})",
                                                  w.station));
    CHECK(ro.size("devices") == 3);
    const auto id = ro.i64("id");
    REQUIRE_MESSAGE(w.wait_rollout(id, "completed"), w.show(id) << "\n" << w.logs());
    const auto shown = w.show(id);
    for (const auto& p : w.piles) {
        CAPTURE(p);
        CHECK(w.device_state(shown, p) == "installed");
        CHECK(w.commands_to(p) == 1);
        // the pile reports the new version, to the platform (presence) and in the API's view
        CHECK(w.commands.wait_for(topics::evt(p, "ota"), R"("st":"installed")", 5s).has_value());
    }
    for (std::size_t i = 0; i < shown.size("devices"); ++i) {
        CHECK(shown.str(fmt::format("devices.{}.reported_version", i)) == kVersion);
        CHECK(shown.i64(fmt::format("devices.{}.batch", i)) == static_cast<std::int64_t>(i) + 1); // one per batch
    }
    CHECK(shown.i64("devices_by_state.installed") == 3);

    // Downloads: the rollout ended, so even its own token no longer opens the image; a wrong token never does.
    const auto path = ro.str("download_path");
    CHECK(w.st.get(path).status == 403);
    CHECK(w.st.get(fmt::format("/api/v1/firmware/{}?token=wrong", fw.i64("id"))).status == 403);
}

TEST_CASE("ota: a running rollout's token opens the image; a wrong token, another image's, or an expired one gets "
          "403") {
    if (!all_built({"otad", "pilehub-sim"}))
        return;
    OtaWorld w(1);
    w.otad->stop(); // nothing is sent: the rollout stays running with its token
    const std::string image = "tiny image";
    auto fw = w.upload(image);
    auto ro = w.rollout(fw.i64("id"), R"({"device_ids":["ota-p1"]})");
    auto ok = w.st.get(ro.str("download_path"));
    CHECK(ok.status == 200);
    CHECK(ok.body == image);
    CHECK(ok.headers.find("Content-Type")->second == "application/octet-stream");
    CHECK(w.st.get(fmt::format("/api/v1/firmware/{}?token={}", fw.i64("id"), ro.str("token") + "x")).status == 403);
    CHECK(w.st.get(fmt::format("/api/v1/firmware/{}?token={}", fw.i64("id") + 1, ro.str("token"))).status == 403);
    {
        auto d = w.st.db();
        db::Statement(d, "UPDATE rollouts SET token_expires_at = 1 WHERE id = ?1").bind(1, ro.i64("id")).run();
    }
    CHECK(w.st.get(ro.str("download_path")).status == 403);
    // A device in a running rollout is not taken by a second one; the plain command route still refuses ota.
    CHECK(w.st.post(fmt::format("/api/v1/admin/firmware/{}/rollouts", fw.i64("id")), R"({"device_ids":["ota-p1"]})",
                    w.admin)
              .status == 409);
    CHECK(w.st.post("/api/v1/admin/devices/ota-p1/commands/ota", "{}", w.admin).status == 501);

    // An operator scoped to another station neither sees this rollout nor reaches this station's piles.
    const auto north = w.st.station(w.admin, "North");
    const auto scoped = w.st.staff(w.admin, "ota-op", "operator", fmt::format(R"("station_ids":[{}])", north));
    CHECK(w.st.get(fmt::format("/api/v1/admin/rollouts/{}", ro.i64("id")), scoped).status == 404);
    CHECK(w.st.get("/api/v1/admin/rollouts", scoped).size("rollouts") == 0);
    CHECK(w.st.post(fmt::format("/api/v1/admin/firmware/{}/rollouts", fw.i64("id")),
                    fmt::format(R"({{"station_id":{}}})", w.station), scoped)
              .status == 404);
    CHECK(w.st.post(fmt::format("/api/v1/admin/firmware/{}/rollouts", fw.i64("id")), R"({"device_ids":["ota-p1"]})",
                    scoped)
              .code() == "unknown_device");

    // An operator halts it: the pending pile is skipped, the token closes, a second halt is a conflict.
    const auto halt = fmt::format("/api/v1/admin/rollouts/{}/halt", ro.i64("id"));
    auto halted = w.st.post(halt, "{}", w.admin);
    REQUIRE_MESSAGE(halted.status == 200, halted);
    CHECK(halted.str("state") == "halted");
    CHECK(w.device_state(w.show(ro.i64("id")), "ota-p1") == "skipped");
    CHECK(w.st.post(halt, "{}", w.admin).status == 409);
    CHECK(w.st.get("/api/v1/admin/rollouts", w.admin).size("rollouts") == 1);
    {
        auto d = w.st.db();
        db::Statement(d, "UPDATE rollouts SET token_expires_at = ?2 WHERE id = ?1")
            .bind_all(ro.i64("id"), std::int64_t{4'000'000'000'000})
            .run();
    }
    CHECK(w.st.get(ro.str("download_path")).status == 403); // halted: closed whatever its expiry
}

TEST_CASE("ota: a rollout whose piles fail the checksum halts past max_failures and the remaining pile never "
          "receives cmd/ota") {
    if (!all_built({"otad", "pilehub-sim"}))
        return;
    OtaWorld w(3);
    for (const auto& p : w.piles)
        w.control("otafail " + p + " checksum");
    auto fw = w.upload("an image the piles will find corrupted");
    auto ro = w.rollout(fw.i64("id"), R"({"device_ids":["ota-p1","ota-p2","ota-p3"],"batch_size":1,)"
                                      R"("max_failures":1,"timeout_s":60})");
    const auto id = ro.i64("id");
    REQUIRE_MESSAGE(w.wait_rollout(id, "halted"), w.show(id) << "\n" << w.logs());
    const auto shown = w.show(id);
    CHECK(shown.i64("failures") == 2);
    CHECK(w.device_state(shown, "ota-p1") == "failed");
    CHECK(w.device_state(shown, "ota-p2") == "failed");
    CHECK(w.device_state(shown, "ota-p3") == "skipped");
    CHECK(w.commands.wait_for(topics::evt("ota-p1", "ota"), "sha256 mismatch", 1s).has_value());
    std::this_thread::sleep_for(1500ms); // many otad ticks: still nothing for ota-p3
    CHECK(w.commands_to("ota-p1") == 1);
    CHECK(w.commands_to("ota-p2") == 1);
    CHECK(w.commands_to("ota-p3") == 0);
    CHECK(w.show(id).str("state") == "halted");
}

TEST_CASE("ota: a pile with a live session waits until the session ends, then updates") {
    if (!all_built({"otad", "pilehub-sim", "sessiond", "billingd", "recorderd"}))
        return;
    OtaWorld w(1, R"({"tariff":{"name":"ota","timezone":"Asia/Shanghai","modes":["time"],
                       "time":{"fen_per_hour":100,"options_minutes":[60]},"min_start_balance_fen":0}})");
    Worker sessiond(w.st, "sessiond");
    Worker billingd(w.st, "billingd", {"billingd.scan_period_s=1"});
    Worker recorderd(w.st, "recorderd");
    const auto rider = w.st.rider("13000000077");
    auto pay = w.st.post("/api/v1/wallet/recharge", R"({"amount_fen":5000})", rider);
    REQUIRE(w.st.post("/api/v1/pay/sandbox/" + pay.str("payment.id") + "/confirm", "{}", rider).status == 200);
    REQUIRE(eventually([&] { return w.st.get("/api/v1/sockets/ota-p1-1", rider).str("state") == "free"; }, 20s));
    auto start = w.st.post("/api/v1/sessions", R"({"socket":"ota-p1-1","mode":"time","minutes":60})", rider);
    REQUIRE_MESSAGE(start.status == 202, start);
    const auto sid = start.str("session.id");
    REQUIRE(eventually([&] { return w.st.get("/api/v1/sessions/" + sid, rider).str("state") == "charging"; }, 15s));

    auto fw = w.upload("image for a busy pile");
    auto ro = w.rollout(fw.i64("id"), R"({"device_ids":["ota-p1"],"timeout_s":60})");
    const auto id = ro.i64("id");
    std::this_thread::sleep_for(2s); // twenty otad ticks: the pile is busy, nothing is sent
    CHECK(w.commands_to("ota-p1") == 0);
    CHECK(w.device_state(w.show(id), "ota-p1") == "pending");

    REQUIRE(w.st.post("/api/v1/sessions/" + sid + "/stop", "{}", rider).status == 202);
    REQUIRE(eventually([&] { return w.st.get("/api/v1/sessions/" + sid, rider).str("state") == "completed"; }, 30s));
    REQUIRE_MESSAGE(w.wait_rollout(id, "completed"), w.show(id) << "\n" << w.logs());
    CHECK(w.device_state(w.show(id), "ota-p1") == "installed");
    CHECK(w.commands_to("ota-p1") == 1);
}
