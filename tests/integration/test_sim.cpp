// pilehub-sim against a real Mosquitto started from broker-config/: the simulator runs as its own
// process (as in a demo or a load test) with a generated fleet file, and a test client plays the
// platform with the rights of svc.sessiond (commands, request replies) and svc.pilehub-api
// (cfg/desired). Device durations run 60x faster (--speed 60).
#include "common/json.hpp"
#include "common/payloads.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace pilehub;
using namespace pilehub::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kPile = "sim-it-e1";
const std::string kOther = "sim-it-e2";
const std::string kCam = "sim-it-cam1";

EpochMs now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string make_temp_dir() {
    std::string templ = (fs::temp_directory_path() / "pilehub-sim-it-XXXXXX").string();
    if (!::mkdtemp(templ.data()))
        throw std::runtime_error("mkdtemp failed");
    return templ;
}

/// Starts the fleet file entry `{id, kind, <ports_key>: ports, password}`, as `pilehubctl fleet provision`
/// writes it; the caller ends it.
json::Writer& fleet_entry(json::Writer& w, const Broker& broker, const std::string& id, std::string_view kind,
                          std::string_view ports_key, int ports) {
    return w.begin_object()
        .field("id", id)
        .field("kind", kind)
        .field(ports_key, ports)
        .field("password", broker.password(id));
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void remove_test_dir(const std::string& dir) {
    std::error_code ec;
    if (!std::getenv("PILEHUB_KEEP_TEST_DIRS"))
        fs::remove_all(dir, ec);
}

/// Appends one line to the simulator's control FIFO.
void control(const std::string& state_dir, const std::string& line) {
    const int fd = ::open((state_dir + "/control").c_str(), O_WRONLY | O_NONBLOCK);
    REQUIRE_MESSAGE(fd >= 0, "control FIFO not open");
    const auto text = line + "\n";
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
}

template <typename T>
mqtt::Message command(const std::string& dev, std::string_view name, const T& data, const std::string& rid,
                      EpochMs exp) {
    auto env = payloads::make_envelope(now_ms(), 0, 0);
    env.rid = rid;
    env.exp = exp;
    const payloads::Message<T> m{std::move(env), data};
    return {topics::cmd(dev, name), payloads::encode(m), 1, false};
}

/// Every message on `topic` so far, decoded.
template <typename T> std::vector<payloads::Message<T>> all_on(const Inbox& inbox, const std::string& topic) {
    std::vector<payloads::Message<T>> out;
    for (const auto& m : inbox.messages())
        if (m.topic == topic) {
            auto d = payloads::decode<T>(m.payload);
            REQUIRE_MESSAGE(d.ok(), topic, ": ", d.error());
            out.push_back(std::move(d).value());
        }
    return out;
}

std::size_t count_on(const Inbox& inbox, const std::string& topic, std::string_view needle = "") {
    std::size_t n = 0;
    for (const auto& m : inbox.messages())
        n += m.topic == topic && m.payload.find(needle) != std::string::npos ? 1 : 0;
    return n;
}

/// pending_records of one device in status.json (-1 if unreadable).
std::int64_t pending_in_status(const std::string& state_dir, const std::string& dev) {
    auto doc = json::parse(read_text(state_dir + "/status.json"), 1 << 24);
    if (!doc)
        return -1;
    std::string err;
    auto devices = json::Object::root(*doc, &err).req_arr("devices", 100000);
    for (std::size_t i = 0; i < devices.size(); ++i) {
        auto d = devices.obj(i);
        if (d.req_str("id") == dev)
            return d.req_int("pending_records");
    }
    return -1;
}

} // namespace

TEST_CASE("sim: a simulated fleet follows the device contract against a real broker") {
    Broker broker{{kPile, ""}, {kOther, ""}, {kCam, ""}};
    const auto dir = make_temp_dir();
    const auto state_dir = dir + "/state";

    // The fleet file, as `pilehubctl fleet provision` writes it.
    json::Writer w;
    w.begin_object().key("devices").begin_array();
    fleet_entry(w, broker, kPile, "ebike_pile", "sockets", 10).end_object();
    fleet_entry(w, broker, kOther, "ebike_pile", "sockets", 20).end_object();
    fleet_entry(w, broker, kCam, "camera", "spaces", 4).end_object();
    w.end_array().end_object();
    const auto fleet = dir + "/fleet.json";
    std::ofstream(fleet) << w.str();

    Inbox inbox;
    auto clients = connect_all({{broker.client_options("svc.sessiond"), {topics::device_all("+")}, &inbox},
                                {broker.client_options("svc.pilehub-api")}});
    auto& platform = *clients[0];
    auto& api = *clients[1];

    // The platform's configuration is waiting (retained) before the pile first connects:
    // full after 60 s under 5 W, telemetry every 5 s while charging.
    {
        payloads::EbikeCfgDesired d;
        d.version = 1;
        d.values.full_wait_s = 60;
        d.values.tele_period_s = 5;
        const payloads::Message<payloads::EbikeCfgDesired> m{payloads::make_envelope(now_ms(), 0, 0), d};
        REQUIRE(api.publish({topics::cfg_desired(kPile), payloads::encode(m), 1, true}));
    }
    std::this_thread::sleep_for(200ms);

    SpawnOptions so;
    so.output = dir + "/sim.log";
    auto sim = Process::spawn({std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim", "--fleet", fleet,
                               "--state-dir", state_dir, "--host", broker.host(), "--port",
                               std::to_string(broker.port()), "--speed", "60", "--log-level", "debug"},
                              so);
    auto sim_log = [&] { return read_text(dir + "/sim.log"); };

    // 1. Every device comes online with boot 1 (retained presence), then info, state, sockets.
    for (const auto& dev : {kPile, kOther, kCam}) {
        auto p = inbox.wait_for(topics::presence(dev), R"("online":true)", 15s);
        REQUIRE_MESSAGE(p.has_value(), dev, " never came online\n", sim_log());
        CHECK(p->retained == false); // live delivery; it is stored retained (checked below)
        auto presence = payloads::decode_presence(p->payload);
        REQUIRE(presence.ok());
        CHECK(presence->boot == 1);
    }
    REQUIRE(inbox.wait_for(topics::conn_state(kOther, 20), R"("st":"idle")", 5s).has_value());
    REQUIRE(inbox.wait_for(topics::space_state(kCam, 4), R"("lock")", 5s).has_value());
    {
        // A late subscriber gets the retained presence.
        Inbox late;
        auto watcher = connect_client(broker.client_options("svc.monitor"), {topics::presence(kPile)}, &late);
        auto m = late.wait_for(topics::presence(kPile), R"("online":true)", 5s);
        REQUIRE(m.has_value());
        CHECK(m->retained);
    }
    auto reported = inbox.wait_for(topics::cfg_reported(kPile), R"("version":1)", 5s);
    REQUIRE(reported.has_value());
    CHECK(reported->payload.find(R"("status":"applied")") != std::string::npos);

    // 2. start_port is answered ok with its rid, and telemetry of the session flows.
    REQUIRE(platform.publish(command(kPile, "start_port",
                                     payloads::EbikeStartPort{1, "S-it-1", payloads::ChargeLimit::full()}, "it-r1",
                                     now_ms() + 30'000)));
    auto ok = inbox.wait_for(topics::cmd_reply(kPile, "start_port"), R"("rid":"it-r1")", 5s);
    REQUIRE_MESSAGE(ok.has_value(), sim_log());
    CHECK(ok->payload.find(R"("status":"ok")") != std::string::npos);
    REQUIRE(inbox.wait_for(topics::evt(kPile, "session_started"), "S-it-1", 5s).has_value());
    auto tele = inbox.wait_for(topics::tele(kPile), R"("st":"charging")", 5s);
    REQUIRE(tele.has_value());
    auto t = payloads::decode<payloads::EbikeTele>(tele->payload);
    REQUIRE(t.ok());
    REQUIRE(t->data.sockets.size() == 1);
    CHECK(t->data.sockets[0].sid == "S-it-1");
    CHECK(t->data.sockets[0].power_w > 100);

    // 3. The battery is full: after full_wait_s (60 s = 1 s at x60) the pile stops it `full`
    //    and sends its record, which it keeps until the platform answers ok.
    std::this_thread::sleep_for(1s);
    control(state_dir, "full " + kPile + " 1");
    auto stopped = inbox.wait_for(topics::evt(kPile, "session_stopped"), R"("reason":"full")", 10s);
    REQUIRE_MESSAGE(stopped.has_value(), sim_log());
    auto rec_msg = inbox.wait_for(topics::req(kPile, "session_record"), "S-it-1", 5s);
    REQUIRE(rec_msg.has_value());
    auto rec = payloads::decode<payloads::EbikeSessionRecord>(rec_msg->payload);
    REQUIRE(rec.ok());
    CHECK(rec->data.reason == payloads::EbikeStopReason::Full);
    CHECK(rec->data.energy_wh > 0);
    const auto record_id = *rec->env.id;
    CHECK(rec->env.boot == 1);

    // 4. The pile drops off the network: its Will says offline (boot 1, lwt); it comes back with
    //    boot 2 and resends the same record (same id) until acknowledged.
    control(state_dir, "disconnect " + kPile + " 1");
    auto will = inbox.wait_for(topics::presence(kPile), R"("reason":"lwt")", 5s);
    REQUIRE_MESSAGE(will.has_value(), sim_log());
    CHECK(will->payload.find(R"("boot":1)") != std::string::npos);
    REQUIRE(inbox.wait_for(topics::presence(kPile), R"("boot":2)", 15s).has_value());
    std::optional<payloads::Message<payloads::EbikeSessionRecord>> resent;
    for (int i = 0; i < 50 && !resent; ++i) {
        for (auto& r : all_on<payloads::EbikeSessionRecord>(inbox, topics::req(kPile, "session_record")))
            if (r.env.boot == 2)
                resent = r;
        std::this_thread::sleep_for(100ms);
    }
    REQUIRE_MESSAGE(resent.has_value(), sim_log());
    CHECK(*resent->env.id == record_id);
    CHECK(resent->data == rec->data);
    CHECK(pending_in_status(state_dir, kPile) == 1);

    // The platform commits it and answers ok: no more resends.
    {
        auto env = payloads::make_envelope(now_ms(), 0, 0);
        env.rid = record_id;
        payloads::Message<payloads::Reply<payloads::Empty>> r{std::move(env), {}};
        r.data.status = payloads::ReplyStatus::Ok;
        REQUIRE(platform.publish({topics::req_reply(kPile, "session_record"), payloads::encode(r), 1, false}));
    }
    bool acknowledged = false;
    for (int i = 0; i < 50 && !acknowledged; ++i) {
        std::this_thread::sleep_for(100ms);
        acknowledged = pending_in_status(state_dir, kPile) == 0;
    }
    CHECK(acknowledged);
    // Checked again below, once longer than the resend period (10 s of wall time at x60) has passed.
    const auto sends = count_on(inbox, topics::req(kPile, "session_record"));
    const auto acked_at = std::chrono::steady_clock::now();

    // 5. A command past its exp is refused `expired` and not executed.
    REQUIRE(platform.publish(command(kOther, "start_port",
                                     payloads::EbikeStartPort{2, "S-late", payloads::ChargeLimit::full()}, "it-late",
                                     now_ms() - 1000)));
    auto late = inbox.wait_for(topics::cmd_reply(kOther, "start_port"), R"("rid":"it-late")", 5s);
    REQUIRE(late.has_value());
    CHECK(late->payload.find(R"("status":"expired")") != std::string::npos);
    CHECK(late->payload.find(R"("code":"expired")") != std::string::npos);
    std::this_thread::sleep_for(300ms);
    CHECK(count_on(inbox, topics::evt(kOther, "session_started")) == 0);

    // 6. The camera raises a lock and answers once it is up.
    REQUIRE(platform.publish(
        command(kCam, "lock", payloads::CameraLockCmd{2, payloads::LockAction::Raise}, "it-lock", now_ms() + 30'000)));
    auto lock = inbox.wait_for(topics::cmd_reply(kCam, "lock"), R"("rid":"it-lock")", 5s);
    REQUIRE(lock.has_value());
    CHECK(lock->payload.find(R"("st":"raised")") != std::string::npos);

    std::this_thread::sleep_until(acked_at + 11s);
    CHECK(count_on(inbox, topics::req(kPile, "session_record")) == sends);

    // 7. A clean stop: online:false with reason shutdown for every device, exit code 0.
    CHECK(sim.stop(15s) == 0);
    for (const auto& dev : {kPile, kOther, kCam})
        CHECK_MESSAGE(inbox.wait_for(topics::presence(dev), R"("reason":"shutdown")", 5s).has_value(), dev);

    // 8. Boot survives a restart of the simulator: the next run connects with boot 3.
    auto again = Process::spawn({std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim", "--fleet", fleet,
                                 "--state-dir", state_dir, "--port", std::to_string(broker.port()), "--only", kPile},
                                so);
    CHECK(inbox.wait_for(topics::presence(kPile), R"("boot":3)", 15s).has_value());
    CHECK(again.stop(15s) == 0);

    remove_test_dir(dir);
}

TEST_CASE("sim: a camera with parking traffic has cars arrive and leave, and new-energy cars plug in at the mapped "
          "gun, on a real broker") {
    const std::string cam = "sim-it-cam2";
    const std::string charger = "sim-it-ev1";
    Broker broker{{cam, ""}, {charger, ""}};
    const auto dir = make_temp_dir();
    const auto state_dir = dir + "/state";
    json::Writer w;
    w.begin_object().key("devices").begin_array();
    fleet_entry(w, broker, charger, "ev_charger", "guns", 2).end_object();
    fleet_entry(w, broker, cam, "camera", "spaces", 4)
        .key("guns")
        .begin_object()
        .field("1", charger + "-1")
        .field("2", charger + "-2")
        .end_object();
    w.end_object();
    w.end_array().end_object();
    const auto fleet = dir + "/fleet.json";
    std::ofstream(fleet) << w.str();

    Inbox inbox;
    auto platform = connect_client(broker.client_options("svc.sessiond"), {topics::device_all("+")}, &inbox);
    // x200: a car every 60 s (0.3 s) per free space, parked 30 s (0.15 s) later, staying 120 s (0.6 s).
    SpawnOptions so;
    so.output = dir + "/sim.log";
    auto sim = Process::spawn({std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim", "--fleet", fleet,
                               "--state-dir", state_dir, "--host", broker.host(), "--port",
                               std::to_string(broker.port()), "--speed", "200", "--parking-traffic", "--car-gap-s",
                               "60", "--car-stay-s", "120", "--log-level", "debug"},
                              so);
    auto sim_log = [&] { return read_text(dir + "/sim.log"); };
    auto in = inbox.wait_for(topics::evt(cam, "plate"), R"("direction":"in")", 20s);
    REQUIRE_MESSAGE(in.has_value(), sim_log());
    auto plate = payloads::decode<payloads::CameraPlate>(in->payload);
    REQUIRE_MESSAGE(plate.ok(), plate.error());
    CHECK(plate->data.color != payloads::PlateColor::Unknown);
    CHECK(plate->data.image_url.has_value());
    CHECK(inbox.wait_for(topics::evt(cam, "space"), R"("occupied":true)", 10s).has_value());
    CHECK_MESSAGE(inbox.wait_for(topics::evt(cam, "plate"), R"("direction":"out")", 20s).has_value(), sim_log());
    CHECK(inbox.wait_for(topics::evt(cam, "space"), R"("occupied":false)", 10s).has_value());
    // The charger hears from the camera's cars through the simulator: plugged in, then out.
    CHECK_MESSAGE(inbox.wait_for(topics::evt(charger, "plug_in"), "", 30s).has_value(), sim_log());
    CHECK_MESSAGE(inbox.wait_for(topics::evt(charger, "plug_out"), "", 30s).has_value(), sim_log());
    // Timestamps stay wall-clock at any speed.
    const auto ts = payloads::decode<payloads::CameraPlate>(in->payload)->env.ts;
    CHECK(std::llabs(ts - now_ms()) < 60'000);
    // Traffic off through the control FIFO: no car arrives any more (those there finish their visit).
    control(state_dir, "traffic all off");
    bool quiet = false;
    for (int i = 0; i < 100 && !quiet; ++i) {
        std::this_thread::sleep_for(100ms);
        quiet = sim_log().find("traffic off") != std::string::npos;
    }
    REQUIRE_MESSAGE(quiet, sim_log());
    std::this_thread::sleep_for(500ms); // what was on its way
    const auto arrivals = count_on(inbox, topics::evt(cam, "plate"), R"("direction":"in")");
    std::this_thread::sleep_for(2s);
    CHECK(count_on(inbox, topics::evt(cam, "plate"), R"("direction":"in")") == arrivals);
    CHECK(sim.stop(15s) == 0);
    remove_test_dir(dir);
}

TEST_CASE("sim: bad command lines and bad fleet files exit with code 2") {
    const auto dir = make_temp_dir();
    const std::string bin = std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim";
    auto r = run({bin, "--fleet"});
    CHECK(r.exit_code == 2);
    std::ofstream(dir + "/bad.json") << R"({"devices":[{"id":"x/y","kind":"ebike_pile","sockets":10,"password":"p"}]})";
    r = run({bin, "--fleet", dir + "/bad.json", "--state-dir", dir + "/st"});
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("x/y") != std::string::npos);
    r = run({bin, "--fleet", dir + "/bad.json", "--state-dir", dir + "/st", "--lock-jam-pct", "101"});
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("--lock-jam-pct") != std::string::npos);
    r = run({bin, "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("disconnect <dev|all> <seconds>") != std::string::npos);
    CHECK(r.output.find("traffic <cam|all> on|off") != std::string::npos);
    CHECK(r.output.find("--parking-traffic") != std::string::npos);
    std::error_code ec;
    fs::remove_all(dir, ec);
}
