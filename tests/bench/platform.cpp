#include "platform.hpp"

#include "common/ledger.hpp"

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace pilehub::bench {

const char* const kTariff = R"({"name":"e-bike","timezone":"Asia/Shanghai","modes":["time","power"],)"
                            R"("time":{"fen_per_hour":100,"options_minutes":[60,120]},)"
                            R"("power":{"tiers":[{"up_to_w":300,"fen_per_hour":30},)"
                            R"({"up_to_w":2000,"fen_per_hour":100}],"ignore_first_s":60},)"
                            R"("cap":{"max_minutes":720,"max_fen":1000},"min_start_balance_fen":200,)"
                            R"("stop_below_balance_fen":0})";

std::string make_temp_dir(const std::string& prefix) {
    std::string templ = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(templ.data()))
        throw std::runtime_error("mkdtemp failed");
    return templ;
}

void remove_temp_dir(const std::string& dir) {
    const char* keep = std::getenv("PILEHUB_KEEP_TEST_DIRS");
    if (keep && std::string(keep) == "1")
        return;
    std::error_code ec;
    fs::remove_all(dir, ec);
}

std::string platform_binary(const std::string& bin_dir, const std::string& name) {
    for (const auto& p :
         {bin_dir + "/workers/" + name + "/" + name, bin_dir + "/web-api/" + name, bin_dir + "/gateway/" + name})
        if (fs::exists(p))
            return p;
    return {};
}

Daemon::Daemon(std::string bin_dir, std::string name, const test::Broker& broker, std::string data_dir,
               std::vector<std::string> sets, std::vector<std::string> env)
    : bin_(platform_binary(bin_dir, name)), name_(std::move(name)), data_dir_(std::move(data_dir)),
      sets_(std::move(sets)), env_(std::move(env)) {
    if (bin_.empty())
        throw std::runtime_error(name_ + " is not built in " + bin_dir);
    fs::create_directories(data_dir_ + "/secrets");
    std::ofstream(data_dir_ + "/secrets/svc." + name_ + ".pass") << broker.password("svc." + name_) << "\n";
    sets_.push_back("data_dir=" + data_dir_);
    sets_.push_back(fmt::format("mqtt.port={}", broker.port()));
}

std::vector<std::string> config_keys(const std::string& binary) {
    // `--help` lists one key a line: "name (type, default `v`…): doc".
    const auto r = test::run({binary, "--help"}, 10s);
    std::vector<std::string> keys;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
        const auto sp = line.find(" (");
        if (sp != std::string::npos && sp > 0 && line.find(' ') == sp)
            keys.push_back(line.substr(0, sp));
    }
    return keys;
}

void Daemon::start() {
    const auto ready = data_dir_ + "/run/" + name_ + ".ready";
    fs::remove(ready);
    std::vector<std::string> argv{bin_};
    for (const auto& s : sets_) {
        argv.push_back("--set");
        argv.push_back(s);
    }
    test::SpawnOptions o;
    o.output = log_path();
    o.env = env_;
    proc_ = test::Process::spawn(argv, o);
    for (int i = 0; i < 600 && !fs::exists(ready); ++i) {
        if (!proc_.running())
            throw std::runtime_error(name_ + " exited during start-up; see " + log_path());
        std::this_thread::sleep_for(50ms);
    }
    if (!fs::exists(ready))
        throw std::runtime_error(name_ + " not ready in 30 s; see " + log_path());
}

void Arrivals::add(const std::string& sid) {
    {
        std::lock_guard l(m_);
        seen_.emplace(sid, now_us());
    }
    cv_.notify_all();
}

std::optional<std::int64_t> Arrivals::wait(const std::string& sid, std::chrono::milliseconds timeout) {
    std::unique_lock l(m_);
    if (!cv_.wait_for(l, timeout, [&] { return seen_.count(sid) != 0; }))
        return std::nullopt;
    return seen_[sid];
}

ProbePile::ProbePile(const test::Broker& broker, std::string id, Arrivals& stops) : id_(std::move(id)) {
    auto o = broker.client_options(id_);
    client_ = mqtt::make_client(o);
    client_->subscribe(topics::cmd(id_, "+"), 1);
    client_->on_message([this, &stops](const mqtt::Message& m) {
        if (m.topic != topics::cmd(id_, "stop_port"))
            return;
        auto c = payloads::decode<payloads::EbikeStopPort>(m.payload);
        if (!c || !c->data.sid)
            return;
        stops.add(*c->data.sid);
        auto r = payloads::make_reply(*c, payloads::make_envelope(SystemClock::instance().now_ms(), 1, 0),
                                      payloads::ReplyStatus::Ok);
        client_->publish({topics::cmd_reply(id_, "stop_port"), payloads::encode(r), 1, false});
    });
}

ProbePile::~ProbePile() {
    client_->stop();
}

void ProbePile::tele(int n, const std::string& sid, double watts) {
    payloads::EbikeTele t;
    t.temp_c = 35;
    payloads::EbikeSocketTele s;
    s.n = n;
    s.st = payloads::EbikeSocketStatus::Charging;
    s.sid = sid;
    s.power_w = watts;
    s.voltage_v = 220;
    t.total_power_w = watts;
    t.sockets.push_back(s);
    const auto text = payloads::encode(payloads::Message<payloads::EbikeTele>{
        payloads::make_envelope(SystemClock::instance().now_ms(), 1, ++seq_), t});
    client_->publish({topics::tele(id_), text, 0, false});
}

std::pair<std::string, std::string> tele_template(int sockets, const std::string& device, int charging) {
    payloads::EbikeTele t;
    t.temp_c = 31.5;
    t.rssi_dbm = -67;
    for (int n = 1; n <= sockets; ++n) {
        payloads::EbikeSocketTele s;
        s.n = n;
        s.st = payloads::EbikeSocketStatus::Idle;
        s.voltage_v = 220.4;
        s.current_a = 0;
        s.power_w = 0;
        if (n <= charging) {
            s.st = payloads::EbikeSocketStatus::Charging;
            s.current_a = 0.82;
            s.power_w = 180;
            s.session_energy_wh = 6;
            s.sid = fmt::format("{}-{}", device, n);
            t.total_power_w += s.power_w;
        }
        t.sockets.push_back(s);
    }
    constexpr std::int64_t kMark = 987654321987;
    const auto text = payloads::encode(
        payloads::Message<payloads::EbikeTele>{payloads::make_envelope(SystemClock::instance().now_ms(), 1, kMark), t});
    const auto mark = std::to_string(kMark);
    const auto at = text.find(mark);
    return {text.substr(0, at), text.substr(at + mark.size())};
}

Blaster::Blaster(const test::Broker& broker, const std::vector<std::string>& devices, int threads, int charging)
    : Blaster(
          broker.port(), devices, [&broker](const std::string& d) { return broker.password(d); }, threads, charging) {}

Blaster::Blaster(int port, const std::vector<std::string>& devices,
                 const std::function<std::string(const std::string&)>& password, int threads, int charging) {
    for (const auto& d : devices) {
        auto [prefix, suffix] = tele_template(10, d, charging);
        devices_.push_back({topics::tele(d), std::make_unique<RawPublisher>(port, d, password(d)), std::move(prefix),
                            std::move(suffix), 0});
    }
    const auto n = static_cast<std::size_t>(std::clamp<int>(threads, 1, static_cast<int>(devices_.size())));
    for (std::size_t t = 0; t < n; ++t) {
        // Thread t owns devices t, t + n, ...: its share of the rate follows its share of devices.
        const auto owned = (devices_.size() - t + n - 1) / n;
        const double share = static_cast<double>(owned) / static_cast<double>(devices_.size());
        threads_.emplace_back([this, t, n, share] { run(t, n, share); });
    }
}

Blaster::~Blaster() {
    stop_ = true;
    for (auto& t : threads_)
        t.join();
}

void Blaster::set_rate(double rate) {
    rate_ = rate;
}

void Blaster::run(std::size_t first, std::size_t stride, double share) {
    // Paced in 1 ms slots: every slot adds what is due since the rate was set (rate x elapsed -
    // done), round-robin over this thread's devices, then hands every connection's bytes to the
    // kernel without blocking and waits for the next slot or for a full connection to drain.
    constexpr double kMaxBehindS = 0.05;
    // A connection holding this much unsent gets no more: the broker is not taking it.
    constexpr std::size_t kMaxUnsent = 256 * 1024;
    double base = 0; // messages done at t0
    std::int64_t t0 = now_us();
    double last_rate = 0;
    std::uint64_t done = 0; // added or given up by this thread
    std::size_t next = first;
    std::vector<pollfd> waiting;
    while (!stop_) {
        const double r = rate_ * share;
        if (r != last_rate) {
            t0 = now_us();
            base = static_cast<double>(done);
            last_rate = r;
        }
        if (r > 0) {
            const double due = base + r * static_cast<double>(now_us() - t0) / 1e6;
            auto owed = static_cast<std::uint64_t>(std::max(0.0, due - static_cast<double>(done)));
            if (const auto cap = static_cast<std::uint64_t>(r * kMaxBehindS) + 1; owed > cap) {
                skipped_ += owed - cap;
                done += owed - cap;
                owed = cap;
            }
            // Round-robin over this thread's devices, passing over connections the broker is
            // not emptying; what no connection can take is given up.
            const std::size_t mine = (devices_.size() - first + stride - 1) / stride;
            std::uint64_t placed = 0;
            for (std::size_t refused = 0; placed < owed && refused < mine;) {
                auto& d = devices_[next];
                next += stride;
                if (next >= devices_.size())
                    next = first;
                if (!d.conn->ok() || d.conn->unsent_bytes() >= kMaxUnsent) {
                    ++refused;
                    continue;
                }
                refused = 0;
                ++placed;
                char digits[24];
                const auto end = std::to_chars(digits, digits + sizeof digits, ++d.seq).ptr;
                d.conn->add(d.topic, d.prefix, std::string_view(digits, static_cast<std::size_t>(end - digits)),
                            d.suffix);
            }
            skipped_ += owed - placed;
            done += owed;
        }
        waiting.clear();
        for (std::size_t i = first; i < devices_.size(); i += stride) {
            auto& d = *devices_[i].conn;
            sent_ += d.flush();
            if (d.ok() && d.unsent_bytes() > 0)
                waiting.push_back({d.fd(), POLLOUT, 0});
        }
        if (waiting.empty())
            std::this_thread::sleep_for(r > 0 ? 1ms : 5ms);
        else
            ::poll(waiting.data(), waiting.size(), 1);
    }
}

std::pair<std::int64_t, std::int64_t> add_station_with_tariff(db::Database& core, const std::string& name,
                                                              const std::string& tariff) {
    registry::Store reg(core);
    registry::Station st;
    st.operator_id = reg.ensure_operator("bench", 1);
    st.name = name;
    const auto station = reg.add_station(st, 1);
    db::Statement(core, "INSERT INTO tariffs (station_id, version, document, effective_from, created_at) "
                        "VALUES (?1, 1, ?2, 0, 0)")
        .bind_all(station, tariff)
        .run();
    return {station, core.last_insert_rowid()};
}

std::pair<std::int64_t, std::int64_t> seed_core(const std::string& core_path, const std::vector<std::string>& devices,
                                                int ports) {
    db::Database core(core_path);
    db::migrate(core, db::core_migrations());
    const auto [station, tariff] = add_station_with_tariff(core, "Bench Garden", kTariff);
    registry::Store reg(core);
    // add_device is its own transaction; synchronous=NORMAL in WAL keeps this quick.
    for (const auto& id : devices) {
        registry::Device d;
        d.id = id;
        d.station_id = station;
        d.ports = ports;
        reg.add_device(d, "unused-hash", 1);
    }
    return {tariff, station};
}

void add_charging_sessions(const std::string& core_path, const std::vector<std::string>& piles, int ports,
                           std::int64_t tariff_id, std::int64_t station_id) {
    db::Database core(core_path);
    const auto now = SystemClock::instance().now_ms();
    db::Transaction tx(core);
    // New accounts after every existing one (above 1000), so that the function can be called again.
    db::Statement last(core, "SELECT coalesce(max(id), 0) FROM accounts");
    last.step();
    const std::int64_t first = std::max<std::int64_t>(1000, last.int64(0)) + 1;
    std::int64_t account = first - 1;
    for (const auto& pile : piles)
        for (int n = 1; n <= ports; ++n) {
            ++account;
            db::Statement(core, "INSERT INTO accounts (id, phone, created_at) VALUES (?1, ?2, 0)")
                .bind_all(account, fmt::format("139{:08d}", account))
                .run();
            db::Statement(core, "INSERT INTO wallets (account_id, updated_at) VALUES (?1, 0)").bind_all(account).run();
            db::Statement(core, "INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, "
                                "minutes, tariff_id, state, created_at, started_at, updated_at) VALUES (?1, ?2, "
                                "'app', ?3, ?4, ?5, 'power', NULL, ?6, 'charging', ?7, ?7, ?7)")
                .bind_all(fmt::format("{}-{}", pile, n), account, pile, std::int64_t{n}, station_id, tariff_id,
                          now - 120'000)
                .run();
        }
    tx.commit();
    // Funded through the ledger like a rider's recharge: with an empty wallet, autostopd rightly
    // stops every session as balance_low once billingd publishes its first running cost.
    ledger::Ledger money(core);
    for (std::int64_t a = first; a <= account; ++a) {
        ledger::Credit c;
        c.account_id = a;
        c.real_fen = Fen(100'000);
        c.meta.idempotency_key = fmt::format("bench-fund:{}", a);
        c.meta.operator_name = "pilehub-bench";
        if (!money.credit(c).ok())
            throw std::runtime_error(fmt::format("could not fund account {}", a));
    }
}

int broker_drop_lines(const test::Broker& broker) {
    const auto log = broker.log();
    int n = 0;
    for (std::size_t p = 0; (p = log.find("being dropped", p)) != std::string::npos; ++p)
        ++n;
    return n;
}

} // namespace pilehub::bench
