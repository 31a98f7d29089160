// `pilehub-bench parking` (see parking_bench.hpp). One broker, one run, two phases with the same
// cameras, messages and rate:
//   1. bare: the cameras publish `evt/plate in` and a plain subscriber (svc.monitor) receives them;
//      parkingd is not running yet, so this is the broker's round trip for that message;
//   2. parkingd: started as a child, it takes the same arrivals at free spaces and commands each
//      lock down; svc.monitor, subscribed to every camera's `cmd/lock`, matches each command to its
//      arrival (camera, space). The cameras answer every command `ok` at once, each car leaves
//      `stay_s` later (`evt/plate out`), and its space takes a car again only after parkingd
//      raised its lock (raise_delay_s later), so every arrival is at a free space with its lock up.
#include "parking_bench.hpp"

#include "platform.hpp"

#include "common/broker_auth.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace pilehub::bench {
namespace {

constexpr int kSpaces = 4;
constexpr int kQos = 1; ///< the cameras' events, as CONTRACT A.2 has them

double mb(std::int64_t bytes) {
    return static_cast<double>(bytes) / 1048576.0;
}

/// A time tariff with the parking section of issue 12: 30 free minutes, 6 yuan an hour, the lock
/// rises 30 s after the car left. A bench stay lasts seconds, so every stay is free.
const char* const kParkingTariff = R"({"name":"Bench parking","timezone":"Asia/Shanghai","modes":["time"],)"
                                   R"("time":{"fen_per_hour":100,"options_minutes":[60]},)"
                                   R"("parking":{"free_minutes":30,"fen_per_hour":600,"raise_delay_s":30}})";

std::vector<std::string> camera_ids(int n) {
    std::vector<std::string> v;
    for (int i = 1; i <= n; ++i)
        v.push_back(fmt::format("cam-{:04d}", i));
    return v;
}

/// The core database: one station with the parking tariff and `ids` registered as cameras with
/// kSpaces spaces each (every space gets a ground lock), with their broker password hashes.
void seed_parking(const std::string& dir, const std::vector<std::string>& ids, const test::Broker& broker) {
    db::Database core(dir + "/pilehub.db");
    db::migrate(core, db::core_migrations());
    const auto station = add_station_with_tariff(core, "Bench Car Park", kParkingTariff).first;
    registry::Store reg(core);
    const auto now = SystemClock::instance().now_ms();
    for (const auto& id : ids) {
        registry::Device d;
        d.id = id;
        d.kind = registry::DeviceKind::Camera;
        d.station_id = station;
        d.ports = kSpaces;
        reg.add_device(d, broker::hash_password(broker.password(id)), now);
    }
}

/// One camera's MQTT connection (raw: no Paho), written only by the driving thread.
struct Camera {
    std::string id;
    std::unique_ptr<RawPublisher> conn;
    std::int64_t seq = 0;
};

/// A green plate for arrival `k`, unique for the first 2.6 million.
std::string nev_plate(std::int64_t k) {
    return fmt::format("京{}D{:05d}", static_cast<char>('A' + k / 100000 % 26), k % 100000);
}

std::string plate_event(Camera& c, int space, const std::string& plate, payloads::PlateDirection dir,
                        const std::string& id) {
    payloads::CameraPlate p;
    p.space = space;
    p.plate = plate;
    p.color = payloads::PlateColor::Green;
    p.direction = dir;
    p.confidence = 96;
    p.image_url = fmt::format("http://cam.local/{}/{}.jpg", c.id, id);
    return payloads::encode(payloads::Message<payloads::CameraPlate>{
        payloads::make_event_envelope(SystemClock::instance().now_ms(), 1, ++c.seq, id), p});
}

/// A lock command seen by the monitor, for the camera to answer.
struct LockSeen {
    std::size_t camera = 0;
    int space = 0;
    std::string rid;
    payloads::LockAction action = payloads::LockAction::Raise;
};

/// What the monitor (svc.monitor, Paho's receive thread) shares with the driving thread.
struct Monitor {
    std::mutex m;
    std::unordered_map<std::string, std::size_t> camera_of;
    // evt/plate: sent at (µs) by envelope id, and the round trips seen (ms)
    std::unordered_map<std::string, std::int64_t> plates_sent;
    std::vector<double> plate_ms;
    // cmd/lock lower: the arrival waiting for it by camera * kSpaces + space - 1, its round trip
    std::unordered_map<std::size_t, std::int64_t> waiting;
    std::vector<double> lock_ms;
    std::vector<std::pair<std::int64_t, double>> lock_at; ///< each lock_ms with its arrival's send time (µs)
    std::uint64_t lowers = 0, raises = 0, unmatched_lowers = 0, undecodable = 0;
    std::deque<LockSeen> to_answer;

    void on_message(const mqtt::Message& msg) {
        const auto t = now_us();
        const auto dt = topics::parse_device_topic(msg.topic);
        if (!dt)
            return;
        if (dt->leaf == topics::Leaf::Evt && dt->name == "plate") {
            auto env = payloads::peek_envelope(msg.payload);
            std::lock_guard l(m);
            if (!env.ok() || !env.value().id) {
                ++undecodable;
                return;
            }
            if (auto it = plates_sent.find(*env.value().id); it != plates_sent.end()) {
                plate_ms.push_back(static_cast<double>(t - it->second) / 1000.0);
                plates_sent.erase(it);
            }
            return;
        }
        if (dt->leaf != topics::Leaf::Cmd || dt->name != "lock")
            return;
        auto c = payloads::decode<payloads::CameraLockCmd>(msg.payload);
        std::lock_guard l(m);
        const auto cam = camera_of.find(dt->device_id);
        if (!c.ok() || !c.value().env.rid || cam == camera_of.end()) {
            ++undecodable;
            return;
        }
        const auto& cmd = c.value();
        if (cmd.data.action == payloads::LockAction::Lower) {
            ++lowers;
            const auto key = cam->second * kSpaces + static_cast<std::size_t>(cmd.data.space - 1);
            if (auto it = waiting.find(key); it != waiting.end()) {
                lock_ms.push_back(static_cast<double>(t - it->second) / 1000.0);
                lock_at.emplace_back(it->second, lock_ms.back());
                waiting.erase(it);
            } else {
                ++unmatched_lowers;
            }
        } else {
            ++raises;
        }
        to_answer.push_back({cam->second, cmd.data.space, *cmd.env.rid, cmd.data.action});
    }
};

/// The cameras' side: paced publishing over their raw connections, in 1 ms slots, and flushing.
class Fleet {
public:
    explicit Fleet(std::vector<Camera>& cams) : cams_(cams), dirty_(cams.size(), 0) {}

    void publish(std::size_t cam, const std::string& topic, const std::string& payload, bool retained = false) {
        cams_[cam].conn->publish(topic, payload, kQos, retained);
        if (!dirty_[cam]) {
            dirty_[cam] = 1;
            pending_.push_back(cam);
        }
    }
    /// Hands what was published to the kernel; every 500 ms every connection (PINGREQ, PUBACKs).
    void flush() {
        std::vector<std::size_t> still;
        for (const auto cam : pending_) {
            cams_[cam].conn->flush();
            if (cams_[cam].conn->unsent_bytes() > 0)
                still.push_back(cam);
            else
                dirty_[cam] = 0;
        }
        pending_.swap(still);
        if (now_us() - last_sweep_ > 500'000) {
            last_sweep_ = now_us();
            for (auto& c : cams_)
                c.conn->flush();
        }
    }
    std::size_t broken() const {
        return static_cast<std::size_t>(
            std::count_if(cams_.begin(), cams_.end(), [](const Camera& c) { return !c.conn->ok(); }));
    }

private:
    std::vector<Camera>& cams_;
    std::vector<char> dirty_;
    std::vector<std::size_t> pending_;
    std::int64_t last_sweep_ = 0;
};

void answer_locks(Monitor& mon, std::vector<Camera>& cams, Fleet& fleet, std::deque<std::size_t>& free_spaces,
                  std::vector<char>& leaving) {
    std::deque<LockSeen> todo;
    {
        std::lock_guard l(mon.m);
        todo.swap(mon.to_answer);
    }
    for (const auto& s : todo) {
        auto& c = cams[s.camera];
        payloads::Message<payloads::Reply<payloads::LockState>> r;
        r.env = payloads::make_envelope(SystemClock::instance().now_ms(), 1, ++c.seq);
        r.env.rid = s.rid;
        r.data.status = payloads::ReplyStatus::Ok;
        r.data.data = payloads::LockState{s.action == payloads::LockAction::Lower ? payloads::LockStatus::Lowered
                                                                                  : payloads::LockStatus::Raised,
                                          false};
        fleet.publish(s.camera, topics::cmd_reply(c.id, "lock"), payloads::encode(r));
        const auto key = s.camera * kSpaces + static_cast<std::size_t>(s.space - 1);
        if (s.action == payloads::LockAction::Raise && key < leaving.size() && leaving[key]) {
            leaving[key] = 0;
            free_spaces.push_back(key);
        }
    }
}

void sleep_until_us(std::int64_t t) {
    if (const auto d = t - now_us(); d > 0)
        std::this_thread::sleep_for(std::chrono::microseconds(d));
}

/// Phase 1: `evt/plate in` at `rate` for `secs`, round trip to svc.monitor. Returns lost.
std::uint64_t bare_phase(const ParkingBenchOptions& o, std::vector<Camera>& cams, Fleet& fleet, Monitor& mon) {
    const auto n = static_cast<std::int64_t>(o.rate * o.bare_s);
    const auto t_begin = now_us();
    for (std::int64_t k = 0; k < n; ++k) {
        sleep_until_us(t_begin + static_cast<std::int64_t>(static_cast<double>(k) / o.rate * 1e6));
        const auto cam = static_cast<std::size_t>(k) % cams.size();
        const int space = static_cast<int>(k / static_cast<std::int64_t>(cams.size()) % kSpaces) + 1;
        const auto id = fmt::format("b-{}", k);
        const auto text = plate_event(cams[cam], space, nev_plate(k), payloads::PlateDirection::In, id);
        {
            std::lock_guard l(mon.m);
            mon.plates_sent[id] = now_us();
        }
        fleet.publish(cam, topics::evt(cams[cam].id, "plate"), text);
        fleet.flush();
    }
    const auto deadline = now_us() + o.lost_after_s * 1'000'000;
    while (now_us() < deadline) {
        {
            std::lock_guard l(mon.m);
            if (mon.plates_sent.empty())
                break;
        }
        fleet.flush();
        std::this_thread::sleep_for(10ms);
    }
    std::lock_guard l(mon.m);
    const auto lost = mon.plates_sent.size();
    mon.plates_sent.clear();
    return lost;
}

} // namespace

int run_parking_bench(const ParkingBenchOptions& o) {
    if (o.cameras < 1 || o.rate <= 0 || o.window_s < 1)
        throw std::runtime_error("--cameras, --rate and --window-s must be positive");
    const auto dir = make_temp_dir("pilehub-bench-parking");
    struct DirGuard {
        std::string dir;
        ~DirGuard() { remove_temp_dir(dir); }
    } guard{dir};
    const auto ids = camera_ids(o.cameras);
    say(fmt::format("parking: {} cameras, hashing their passwords", o.cameras));
    std::vector<test::Credential> users;
    for (const auto& id : ids)
        users.push_back({id, ""});
    test::Broker broker(users);
    seed_parking(dir, ids, broker);
    say(fmt::format("parking: broker on port {}, data {}, {} cameras x {} spaces seeded", broker.port(), dir, o.cameras,
                    kSpaces));

    // --- the fleet: every camera connected as itself, presence and its spaces' states retained ---
    Monitor mon;
    std::vector<Camera> cams;
    const auto t_connect = now_us();
    for (std::size_t i = 0; i < ids.size(); ++i) {
        cams.push_back(
            {ids[i],
             std::make_unique<RawPublisher>(broker.port(), ids[i], broker.password(ids[i]), std::chrono::seconds(60)),
             0});
        mon.camera_of[ids[i]] = i;
    }
    const double connect_s = static_cast<double>(now_us() - t_connect) / 1e6;
    Fleet fleet(cams);
    for (std::size_t i = 0; i < cams.size(); ++i) {
        auto& c = cams[i];
        const auto now = SystemClock::instance().now_ms();
        payloads::Presence pr;
        pr.online = true;
        pr.boot = 1;
        pr.ts = now;
        pr.fw = "bench";
        fleet.publish(i, topics::presence(c.id), payloads::encode_presence(pr), true);
        for (int n = 1; n <= kSpaces; ++n) {
            payloads::CameraSpaceState s;
            s.occupied = false;
            s.since = now - 3'600'000;
            s.lock = payloads::LockState{payloads::LockStatus::Raised, false};
            fleet.publish(i, topics::space_state(c.id, n),
                          payloads::encode(payloads::Message<payloads::CameraSpaceState>{
                              payloads::make_envelope(now, 1, ++c.seq), s}),
                          true);
        }
        fleet.flush();
    }
    for (int i = 0; i < 100; ++i) {
        fleet.flush();
        std::this_thread::sleep_for(10ms);
    }
    say(fmt::format("parking: {} cameras connected in {:.1f} s (raw MQTT 3.1.1, events QoS {}), presence and {} "
                    "space states retained",
                    cams.size(), connect_s, kQos, cams.size() * kSpaces));

    auto monitor = mqtt::make_client(broker.client_options("svc.monitor"));
    monitor->subscribe(topics::evt("+", "plate"), 1);
    monitor->subscribe(topics::cmd("+", "lock"), 1);
    monitor->on_message([&mon](const mqtt::Message& m) { mon.on_message(m); });
    monitor->start();
    if (!monitor->wait_ready(10s))
        throw std::runtime_error("svc.monitor did not connect");

    // --- 1. bare: the same evt/plate, same rate, to a plain subscriber ---
    const auto bare_lost = bare_phase(o, cams, fleet, mon);
    std::vector<double> bare_ms;
    {
        std::lock_guard l(mon.m);
        bare_ms.swap(mon.plate_ms);
    }
    say(fmt::format("parking bare: evt/plate → svc.monitor at {:.0f}/s for {} s: {} (n = {}, {} lost)", o.rate,
                    o.bare_s, q3(bare_ms), bare_ms.size(), bare_lost));
    {
        Result r("parking_bare");
        r.num("cameras", o.cameras).num("rate_per_s", o.rate).num("qos", kQos);
        r.num("n", static_cast<double>(bare_ms.size())).num("lost", static_cast<double>(bare_lost));
        add_quantiles(r, "rtt", bare_ms);
        r.print();
    }

    // --- 2. parkingd ---
    const auto slot_count = cams.size() * kSpaces;
    // The last camera's last space is the start-up probe's; the others take the window's cars,
    // camera-major: consecutive arrivals go to different cameras.
    const auto probe_key = slot_count - 1;
    std::deque<std::size_t> free_spaces;
    for (std::size_t s = 0; s < kSpaces; ++s)
        for (std::size_t c = 0; c < cams.size(); ++c)
            if (c * kSpaces + s != probe_key)
                free_spaces.push_back(c * kSpaces + s);
    std::vector<char> leaving(slot_count, 0);

    Daemon parkingd(o.bin_dir, "parkingd", broker, dir, {"log.level=warn"});
    parkingd.start();
    const auto rss_ready = sample_proc(parkingd.pid()).rss;
    // At its start parkingd takes every camera's retained presence and space states (nothing to
    // synchronise: every lock is up on a free space). A car arriving right after ready waits
    // behind them: the probe measures how long, and the window starts once it is answered.
    double startup_ms = -1;
    {
        const auto cam = probe_key / kSpaces;
        const int space = static_cast<int>(probe_key % kSpaces) + 1;
        const auto text = plate_event(cams[cam], space, nev_plate(9'999'999), payloads::PlateDirection::In, "probe-1");
        {
            std::lock_guard l(mon.m);
            mon.waiting[probe_key] = now_us();
        }
        fleet.publish(cam, topics::evt(cams[cam].id, "plate"), text);
        fleet.flush();
        const auto deadline = now_us() + 300'000'000;
        while (now_us() < deadline) {
            answer_locks(mon, cams, fleet, free_spaces, leaving);
            fleet.flush();
            {
                std::lock_guard l(mon.m);
                if (!mon.waiting.count(probe_key)) {
                    startup_ms = mon.lock_ms.empty() ? -1 : mon.lock_ms.back();
                    break;
                }
            }
            std::this_thread::sleep_for(1ms);
        }
        if (startup_ms < 0)
            throw std::runtime_error("parkingd did not lower the probe's lock in 300 s; see " + parkingd.log_path());
    }
    for (int i = 0; i < 100; ++i) {
        answer_locks(mon, cams, fleet, free_spaces, leaving);
        fleet.flush();
        std::this_thread::sleep_for(10ms);
    }
    std::uint64_t sync_commands = 0;
    {
        std::lock_guard l(mon.m);
        sync_commands = mon.lowers + mon.raises - 1; // all but the probe's
        mon.lowers = mon.raises = mon.unmatched_lowers = 0;
        mon.lock_ms.clear();
        mon.lock_at.clear();
        mon.plate_ms.clear();
    }
    say(fmt::format("parking: parkingd pid {} ready; a car arriving just after waited {:.0f} ms for its lock (behind "
                    "{} retained presence and space states); {} other lock commands meanwhile",
                    parkingd.pid(), startup_ms, cams.size() * (kSpaces + 1), sync_commands));

    struct Departure {
        std::int64_t due;
        std::size_t key;
        std::string plate;
    };
    std::deque<Departure> departures;
    std::uint64_t arrivals = 0, departed = 0, no_free_space = 0;

    const auto p0 = sample_proc(parkingd.pid());
    const auto th0 = sample_threads(parkingd.pid());
    const auto b0 = sample_proc(broker.pid());
    const auto n = static_cast<std::int64_t>(o.rate * o.window_s);
    const auto t_begin = now_us();
    auto serve = [&] {
        answer_locks(mon, cams, fleet, free_spaces, leaving);
        while (!departures.empty() && departures.front().due <= now_us()) {
            const auto d = departures.front();
            departures.pop_front();
            const auto cam = d.key / kSpaces;
            const int space = static_cast<int>(d.key % kSpaces) + 1;
            fleet.publish(
                cam, topics::evt(cams[cam].id, "plate"),
                plate_event(cams[cam], space, d.plate, payloads::PlateDirection::Out, fmt::format("q-{}", ++departed)));
            leaving[d.key] = 1;
        }
        fleet.flush();
    };
    for (std::int64_t k = 0; k < n; ++k) {
        const auto due = t_begin + static_cast<std::int64_t>(static_cast<double>(k) / o.rate * 1e6);
        while (now_us() < due) {
            serve();
            sleep_until_us(std::min(due, now_us() + 1000));
        }
        if (free_spaces.empty()) {
            ++no_free_space;
            continue;
        }
        const auto key = free_spaces.front();
        free_spaces.pop_front();
        const auto cam = key / kSpaces;
        const int space = static_cast<int>(key % kSpaces) + 1;
        const auto plate = nev_plate(k);
        const auto id = fmt::format("p-{}", k);
        const auto text = plate_event(cams[cam], space, plate, payloads::PlateDirection::In, id);
        {
            std::lock_guard l(mon.m);
            const auto t0 = now_us();
            mon.waiting[key] = t0;
            mon.plates_sent[id] = t0;
        }
        fleet.publish(cam, topics::evt(cams[cam].id, "plate"), text);
        fleet.flush();
        ++arrivals;
        departures.push_back({now_us() + o.stay_s * 1'000'000, key, plate});
    }
    const double secs = static_cast<double>(now_us() - t_begin) / 1e6;
    const auto p1 = sample_proc(parkingd.pid());
    const auto th1 = sample_threads(parkingd.pid());
    const auto b1 = sample_proc(broker.pid());
    // The last arrivals' commands: whatever has not come `lost_after_s` after the window is lost.
    const auto deadline = now_us() + o.lost_after_s * 1'000'000;
    while (now_us() < deadline) {
        serve();
        std::this_thread::sleep_for(1ms);
    }
    std::vector<double> lock_ms, plate_ms;
    std::vector<std::pair<std::int64_t, double>> lock_at;
    std::uint64_t lowers = 0, raises = 0, unmatched = 0, lost = 0, undecodable = 0;
    {
        std::lock_guard l(mon.m);
        lock_ms = mon.lock_ms;
        lock_at = mon.lock_at;
        plate_ms = mon.plate_ms;
        lowers = mon.lowers;
        raises = mon.raises;
        unmatched = mon.unmatched_lowers;
        lost = mon.waiting.size();
        undecodable = mon.undecodable;
    }
    // The latency over the window, 5 s at a time: a stall shows where it happened.
    std::map<std::int64_t, std::vector<double>> by_5s;
    for (const auto& [t0, v] : lock_at)
        by_5s[(t0 - t_begin) / 5'000'000].push_back(v);
    for (const auto& [bucket, v] : by_5s)
        say(fmt::format("  arrivals {:3d}-{:3d} s: n {:4d}, {}", bucket * 5, bucket * 5 + 5, v.size(), q3(v)));
    const double cpu_pct = (p1.cpu_s - p0.cpu_s) / secs * 100;
    const double busiest = busiest_thread(th0, th1, secs) * 100;
    const double broker_pct = (b1.cpu_s - b0.cpu_s) / secs * 100;
    say(fmt::format("parking: {} arrivals in {:.1f} s ({:.1f}/s, {} with no free space), {} departures; cmd/lock "
                    "lower {} ({} matched, {} unmatched, {} lost after {} s), raise {}; {} undecodable; {} camera "
                    "connections broken",
                    arrivals, secs, static_cast<double>(arrivals) / secs, no_free_space, departed, lowers,
                    lock_ms.size(), unmatched, lost, o.lost_after_s, raises, undecodable, fleet.broken()));
    say(fmt::format("parking: evt/plate in → cmd/lock lower at svc.monitor: {}; bare evt/plate round trip: {}",
                    q3(lock_ms), q3(bare_ms)));
    say(fmt::format("parking: parkingd CPU {:.1f} % of a core (busiest thread {:.1f} %), RSS {:.1f} MB ({:.1f} MB "
                    "when ready); mosquitto {:.1f} %",
                    cpu_pct, busiest, mb(p1.rss), mb(rss_ready), broker_pct));
    Result r("parking");
    r.num("cameras", o.cameras)
        .num("spaces", static_cast<double>(slot_count))
        .num("rate_per_s", o.rate)
        .num("window_s", secs)
        .num("qos", kQos)
        .num("arrivals", static_cast<double>(arrivals))
        .num("no_free_space", static_cast<double>(no_free_space))
        .num("departures", static_cast<double>(departed))
        .num("lowers", static_cast<double>(lowers))
        .num("matched", static_cast<double>(lock_ms.size()))
        .num("unmatched_lowers", static_cast<double>(unmatched))
        .num("lost", static_cast<double>(lost))
        .num("raises", static_cast<double>(raises))
        .num("sync_commands", static_cast<double>(sync_commands))
        .num("startup_ms", startup_ms);
    add_quantiles(r, "lock", lock_ms);
    add_quantiles(r, "bare", bare_ms);
    add_quantiles(r, "plate_hop", plate_ms);
    r.num("bare_lost", static_cast<double>(bare_lost))
        .num("cpu_pct", cpu_pct)
        .num("busiest_thread_pct", busiest)
        .num("rss_mb", mb(p1.rss))
        .num("rss_ready_mb", mb(rss_ready))
        .num("broker_cpu_pct", broker_pct)
        .print();

    monitor->stop();
    const int rc = parkingd.stop();
    if (rc != 0)
        say(fmt::format("parking: parkingd exited with {}; see {}", rc, parkingd.log_path()));
    cams.clear();
    return lost == 0 && arrivals > 0 && lock_ms.size() == arrivals ? 0 : 1;
}

} // namespace pilehub::bench
