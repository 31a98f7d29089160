// `pilehub-bench ingest` (see ingest.hpp and docs/benchmarks.md, "How each figure is measured" 1).
#include "ingest.hpp"

#include "discard_sink.hpp"
#include "ingest_rules.hpp"
#include "platform.hpp"
#include "shared_counter.hpp"
#include "tests/support/loopback.hpp"

#include "common/broker_auth.hpp"
#include "common/config.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <sstream>

namespace pilehub::bench {
namespace {

using namespace ingest;

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : " ") + s;
    return out;
}

/// The broker logs every SUBSCRIBE and UNSUBSCRIBE from now on (consumers_of() reads them).
void log_subscriptions(test::Broker& broker) {
    std::ofstream(broker.config_file(), std::ios::app) << "\nlog_type subscribe\nlog_type unsubscribe\n";
    broker.restart();
}

/// The inodes of a process's sockets, from /proc/<pid>/fd.
std::set<std::uint64_t> socket_inodes(pid_t pid) {
    std::set<std::uint64_t> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fmt::format("/proc/{}/fd", pid), ec)) {
        std::error_code ec2;
        const auto target = fs::read_symlink(e.path(), ec2).string();
        if (!ec2 && target.rfind("socket:[", 0) == 0)
            out.insert(std::stoull(target.substr(8)));
    }
    return out;
}

/// The latest retained status of every platform process, as an operator's monitor reads it.
class StatusBoard {
public:
    explicit StatusBoard(const test::Broker& broker) {
        client_ = mqtt::make_client(broker.client_options("svc.monitor"));
        client_->subscribe(topics::any_svc_status(), 1);
        client_->on_message([this](const mqtt::Message& m) {
            // ph/v1/svc/<process>/status: the segment after the root, if the topic is its status.
            if (m.topic.rfind(topics::kSvcRoot, 0) != 0)
                return;
            const auto rest = m.topic.substr(topics::kSvcRoot.size());
            const auto process = rest.substr(0, rest.find('/'));
            if (process.empty() || m.topic != topics::svc_status(process))
                return;
            auto v = parse_status(m.payload);
            if (!v)
                return;
            std::lock_guard l(m_);
            latest_[process] = *v;
            if (v->queue)
                queue_reporters_.insert(process);
        });
        client_->start();
        if (!client_->wait_ready(10s))
            throw std::runtime_error("status monitor did not connect");
    }
    ~StatusBoard() { client_->stop(); }
    std::optional<StatusView> latest(const std::string& process) {
        std::lock_guard l(m_);
        const auto it = latest_.find(process);
        return it == latest_.end() ? std::nullopt : std::optional<StatusView>(it->second);
    }
    bool reports_queue(const std::string& process) {
        std::lock_guard l(m_);
        return queue_reporters_.count(process) != 0;
    }

private:
    std::mutex m_;
    std::map<std::string, StatusView> latest_;
    std::set<std::string> queue_reporters_;
    std::unique_ptr<mqtt::Client> client_;
};

/// CPU samples of one process over the drain window: is it idle yet?
class IdleWatch {
public:
    explicit IdleWatch(pid_t pid) : pid_(pid) {}
    /// Samples now; true once the process used < kIdleCpu of a core over the last 300 ms, all
    /// of them after `since_us`.
    bool idle(std::int64_t since_us) {
        const auto t = now_us();
        samples_.push_back({t, sample_proc(pid_).cpu_s});
        while (samples_.size() > 1 && samples_[1].first <= t - 300'000)
            samples_.pop_front();
        const auto& [t0, c0] = samples_.front();
        if (t0 < since_us || t - t0 < 300'000)
            return false;
        return (samples_.back().second - c0) / (static_cast<double>(t - t0) / 1e6) < kIdleCpu;
    }

private:
    pid_t pid_;
    std::deque<std::pair<std::int64_t, double>> samples_;
};

/// A bare QoS 0 Paho subscriber on raw telemetry in a process of its own (this program's
/// `subscriber` subcommand), counting what it receives into a SharedCounter. Its own process
/// because Paho serves every client of a process from one receive thread.
class BareSubscriber {
public:
    BareSubscriber(const test::Broker& broker, const std::string& user, const std::string& dir)
        : counter_path_(dir + "/" + user + ".count"), counter_(counter_path_, true) {
        const auto pass = dir + "/" + user + ".pass";
        std::ofstream(pass) << broker.password(user) << "\n";
        test::SpawnOptions so;
        so.output = dir + "/" + user + ".log";
        log_ = so.output;
        proc_ = test::Process::spawn({fs::read_symlink("/proc/self/exe").string(), "subscriber", "--port",
                                      std::to_string(broker.port()), "--user", user, "--password-file", pass,
                                      "--counter", counter_path_},
                                     so);
    }
    ~BareSubscriber() { proc_.stop(5s); }
    std::int64_t n() const { return counter_.count().load(std::memory_order_relaxed); }
    /// 1 ready, 0 not yet, -1 failed (its log says why).
    int state() {
        const auto s = counter_.state().load();
        return s == 0 && !proc_.running() ? -1 : static_cast<int>(s);
    }
    const std::string& log() const { return log_; }
    pid_t pid() const { return proc_.pid(); }

private:
    std::string counter_path_;
    SharedCounter counter_;
    std::string log_;
    test::Process proc_;
};

using Subscribers = std::vector<std::unique_ptr<BareSubscriber>>;

Subscribers subscribers(const test::Broker& broker, const std::vector<std::string>& users, const std::string& dir) {
    Subscribers out;
    for (const auto& u : users)
        out.push_back(std::make_unique<BareSubscriber>(broker, u, dir));
    for (int i = 0; i < 600; ++i) {
        bool all = true;
        for (std::size_t k = 0; k < out.size(); ++k) {
            const auto st = out[k]->state();
            if (st < 0)
                throw std::runtime_error("bare subscriber " + users[k] + " failed; see " + out[k]->log());
            all = all && st == 1;
        }
        if (all)
            return out;
        std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("bare subscribers not ready within 30 s");
}

/// What one ramp found.
struct RampOutcome {
    double best = 0;
    bool unbounded = false;
};

/// One bare ramp: `subs` must each receive everything within kDrainMs (none: the generator
/// alone). `broker` null: the generator writes into a DiscardSink.
RampOutcome bare_ramp(const std::string& phase, const IngestOptions& o, std::vector<double> rates, Blaster& blaster,
                      const test::Broker* broker, const Subscribers& subs) {
    const pid_t broker_pid = broker ? broker->pid() : ::getpid();
    const auto drop_lines = [broker] { return broker ? broker_drop_lines(*broker) : 0; };
    Ramp ramp(std::move(rates), o.refine);
    while (const auto rate = ramp.next()) {
        std::vector<std::int64_t> n0;
        for (const auto& s : subs)
            n0.push_back(s->n());
        const auto sent0 = blaster.sent();
        const auto drops0 = drop_lines();
        const auto subs_cpu = [&subs] {
            double c = 0;
            for (const auto& s : subs)
                c += sample_proc(s->pid()).cpu_s;
            return c;
        };
        const auto broker_cpu0 = sample_proc(broker_pid).cpu_s, self_cpu0 = sample_proc(::getpid()).cpu_s;
        const auto subs_cpu0 = subs_cpu();
        const auto t0 = now_us();
        blaster.set_rate(*rate);
        std::this_thread::sleep_for(std::chrono::seconds(o.step_s));
        blaster.set_rate(0);
        const double secs = static_cast<double>(now_us() - t0) / 1e6;
        const auto sent = static_cast<std::int64_t>(blaster.sent() - sent0);
        const double broker_cpu = broker ? (sample_proc(broker_pid).cpu_s - broker_cpu0) / secs : 0;
        const double self_cpu = (sample_proc(::getpid()).cpu_s - self_cpu0) / secs;
        const double sub_cpu = (subs_cpu() - subs_cpu0) / secs;
        std::vector<std::int64_t> got(subs.size());
        for (int waited = 0;; waited += 50) {
            bool all = true;
            for (std::size_t i = 0; i < subs.size(); ++i)
                all = (got[i] = subs[i]->n() - n0[i]) >= sent && all;
            if (all || waited >= kDrainMs)
                break;
            std::this_thread::sleep_for(50ms);
        }
        const double achieved = static_cast<double>(sent) / secs;
        const auto why = why_behind_bare(*rate, achieved, sent, got, drop_lines() != drops0);
        const auto least = got.empty() ? sent : *std::min_element(got.begin(), got.end());
        say(fmt::format("{}: offered {:.0f}/s, sent {:.0f}/s ({:.1f} %), {} subscriber(s), fewest received {}/{}; "
                        "mosquitto {:.0f}%, bench {:.0f}%, subscribers {:.0f}% -> {}",
                        phase, *rate, achieved, 100 * achieved / *rate, subs.size(), least, sent, 100 * broker_cpu,
                        100 * self_cpu, 100 * sub_cpu, why.empty() ? "keeps up" : "FALLS BEHIND: " + why));
        Result("ingest_step")
            .str("phase", phase)
            .num("offered", *rate)
            .num("sent_per_s", achieved)
            .num("offered_share", achieved / *rate)
            .num("subscribers", double(subs.size()))
            .num("fewest_received", double(least))
            .num("cpu_mosquitto", broker_cpu)
            .num("cpu_pilehub-bench", self_cpu)
            .num("cpu_subscribers", sub_cpu)
            .num("sent", double(sent))
            .num("pass", why.empty())
            .str("why", why)
            .print();
        ramp.record(why.empty(), achieved);
        // Let every subscriber drain what is left before the next step.
        for (int i = 0; i < 600; ++i) {
            std::vector<std::int64_t> a;
            for (const auto& s : subs)
                a.push_back(s->n());
            std::this_thread::sleep_for(300ms);
            bool still = false;
            for (std::size_t k = 0; k < subs.size(); ++k)
                still = still || subs[k]->n() != a[k];
            if (!still)
                break;
        }
        std::this_thread::sleep_for(1s);
    }
    return {ramp.best(), ramp.unbounded()};
}

/// The platform: broker, seeded databases, every platform process.
struct Platform {
    std::string dir;
    std::vector<std::unique_ptr<Daemon>> procs;
    ~Platform() {
        for (auto it = procs.rbegin(); it != procs.rend(); ++it)
            (*it)->stop();
        if (!dir.empty())
            remove_temp_dir(dir);
    }
};

void start_platform(Platform& p, const IngestOptions& o, const test::Broker& broker,
                    const std::vector<std::string>& devices) {
    p.dir = make_temp_dir("pilehub-bench-ingest");
    const auto [tariff, station] = seed_core(p.dir + "/pilehub.db", devices, 10);
    if (o.charging > 0)
        add_charging_sessions(p.dir + "/pilehub.db", devices, o.charging, tariff, station);
    {
        db::Database tele(p.dir + "/telemetry.db");
        db::migrate(tele, db::telemetry_migrations());
    }
    auto names = kDaemons;
    if (o.api)
        names.push_back("pilehub-api");
    for (const auto& name : names) {
        const auto bin = platform_binary(o.bin_dir, name);
        if (bin.empty())
            throw std::runtime_error(name + " is not built in " + o.bin_dir + " (pass --api 0 to leave the API out)");
        std::vector<std::string> sets{"log.level=warn"};
        std::vector<std::string> env;
        // Every process that publishes a periodic status does so twice a second here.
        for (const auto& k : config_keys(bin))
            if (k.size() > 10 && k.substr(k.size() - 10) == ".status_ms")
                sets.push_back(k + "=500");
        if (name == "pilehub-api") {
            sets.push_back(fmt::format("pilehub-api.http_port={}", test::free_tcp_port()));
            sets.push_back("dev_mode=true");
            env.push_back("PILEHUB_ADMIN_PASSWORD=bench-admin-password-1");
        }
        p.procs.push_back(std::make_unique<Daemon>(o.bin_dir, name, broker, p.dir, sets, env));
    }
    for (auto& d : p.procs)
        d->start();
}

/// The processes (client ids) holding a subscription that receives raw telemetry, once the
/// subscription log has stopped growing for a second.
std::vector<std::string> raw_tele_consumers(const test::Broker& broker, const std::string& sample_topic) {
    std::size_t last = 0;
    auto changed = now_us();
    for (int i = 0; i < 200; ++i) {
        const auto n = subscription_lines(broker.log());
        if (n != last)
            last = n, changed = now_us();
        else if (n > 0 && now_us() - changed > 1'000'000)
            break;
        std::this_thread::sleep_for(50ms);
    }
    return consumers_of(broker.log(), sample_topic);
}

RampOutcome platform_ramp(const IngestOptions& o, Blaster& blaster, const test::Broker& broker, Platform& p,
                          StatusBoard& board) {
    Ramp ramp(o.platform_rates, o.refine);
    std::map<std::string, pid_t> pids{{"mosquitto", broker.pid()}, {"pilehub-bench", ::getpid()}};
    for (auto& d : p.procs)
        pids[d->name()] = d->pid();
    // One drain window: polls every process until each has caught up or kDrainMs has passed.
    const auto drain = [&](std::vector<ProcessStep>& steps, const std::map<std::string, StatusView>& s0,
                           std::int64_t sent, std::int64_t end_us, std::int64_t end_wall_ms, int window_ms) {
        std::vector<IdleWatch> idle;
        for (auto& d : p.procs)
            idle.emplace_back(d->pid());
        for (;;) {
            const auto tcp = parse_proc_net_tcp(slurp("/proc/net/tcp"));
            const auto elapsed_ms = static_cast<int>((now_us() - end_us) / 1000);
            bool all = true;
            for (std::size_t i = 0; i < p.procs.size(); ++i) {
                auto& ps = steps[i];
                const auto b = backlog_toward(tcp, socket_inodes(p.procs[i]->pid()), broker.port());
                if (b >= 0 && (ps.backlog_bytes < 0 || b < ps.backlog_bytes))
                    ps.backlog_bytes = b;
                if (ps.idle_after_ms < 0 && idle[i].idle(end_us))
                    ps.idle_after_ms = elapsed_ms;
                ps.reports_queue = board.reports_queue(ps.name);
                if (auto now = board.latest(ps.name); now && now->ts_ms >= end_wall_ms) {
                    ps.after = now;
                    const auto before = s0.find(ps.name);
                    if (now->tele_received && before != s0.end() && before->second.tele_received)
                        ps.received = *now->tele_received - *before->second.tele_received;
                    if (now->reports && before != s0.end() && before->second.reports)
                        ps.reports = *now->reports - *before->second.reports;
                    ps.dropped = now->dropped - (before != s0.end() ? before->second.dropped : 0);
                }
                all = caught_up(ps, sent) && all;
            }
            if (all || elapsed_ms >= window_ms)
                return all;
            std::this_thread::sleep_for(50ms);
        }
    };
    while (const auto rate = ramp.next()) {
        std::map<std::string, StatusView> s0;
        for (auto& d : p.procs)
            if (auto s = board.latest(d->name()))
                s0[d->name()] = *s;
        std::map<std::string, double> cpu0;
        std::map<std::string, std::map<pid_t, double>> threads0;
        for (auto& [name, pid] : pids) {
            cpu0[name] = sample_proc(pid).cpu_s;
            threads0[name] = sample_threads(pid);
        }
        const auto sent0 = blaster.sent();
        const auto drops0 = broker_drop_lines(broker);
        const auto t0 = now_us();
        blaster.set_rate(*rate);
        std::this_thread::sleep_for(std::chrono::seconds(o.step_s));
        blaster.set_rate(0);
        const auto end_us = now_us();
        const auto end_wall = SystemClock::instance().now_ms();
        const double secs = static_cast<double>(end_us - t0) / 1e6;
        std::map<std::string, double> cpu, thread_cpu;
        for (auto& [name, pid] : pids) {
            cpu[name] = (sample_proc(pid).cpu_s - cpu0[name]) / secs;
            thread_cpu[name] = busiest_thread(threads0[name], sample_threads(pid), secs);
        }
        PlatformStep step;
        step.offered = *rate;
        step.sent = static_cast<std::int64_t>(blaster.sent() - sent0);
        step.achieved = static_cast<double>(step.sent) / secs;
        for (auto& d : p.procs) {
            ProcessStep ps;
            ps.name = d->name();
            ps.cpu = cpu[d->name()];
            ps.busiest_thread = thread_cpu[d->name()];
            step.processes.push_back(ps);
        }
        drain(step.processes, s0, step.sent, end_us, end_wall, kDrainMs);
        step.broker_dropped = broker_drop_lines(broker) != drops0;
        const auto why = why_behind(step);
        std::string detail;
        Result r("ingest_step");
        r.str("phase", "platform")
            .num("offered", *rate)
            .num("sent_per_s", step.achieved)
            .num("offered_share", step.achieved / *rate)
            .num("sent", double(step.sent))
            .num("pass", why.empty());
        for (const auto& ps : step.processes) {
            detail += fmt::format("{} {:.0f}% (thread {:.0f}%) idle@{}ms backlog {}B{}{}{}; ", ps.name, 100 * ps.cpu,
                                  100 * ps.busiest_thread, ps.idle_after_ms, ps.backlog_bytes,
                                  ps.after && ps.after->queue ? fmt::format(" queue {}", *ps.after->queue) : "",
                                  ps.received ? fmt::format(" took {}", *ps.received) : "",
                                  ps.reports ? fmt::format(" reported {}", *ps.reports) : "");
            r.num("cpu_" + ps.name, ps.cpu)
                .num("thread_cpu_" + ps.name, ps.busiest_thread)
                .num("idle_ms_" + ps.name, ps.idle_after_ms)
                .num("backlog_" + ps.name, double(ps.backlog_bytes));
            if (ps.after && ps.after->queue)
                r.num("queue_" + ps.name, double(*ps.after->queue));
            if (ps.reports)
                r.num("reports_" + ps.name, double(*ps.reports));
        }
        r.num("cpu_mosquitto", cpu["mosquitto"])
            .num("cpu_pilehub-bench", cpu["pilehub-bench"])
            .num("thread_cpu_pilehub-bench", thread_cpu["pilehub-bench"]);
        r.str("why", why).print();
        say(fmt::format(
            "platform: offered {:.0f}/s, sent {:.0f}/s ({:.1f} %); mosquitto {:.0f}%, bench {:.0f}%; {}-> {}", *rate,
            step.achieved, 100 * step.achieved / *rate, 100 * cpu["mosquitto"], 100 * cpu["pilehub-bench"], detail,
            why.empty() ? "keeps up" : "FALLS BEHIND: " + why));
        ramp.record(why.empty(), step.achieved);
        if (!why.empty() && ramp.next()) {
            // A step that fell behind leaves backlogs: wait them out before the next one.
            std::vector<ProcessStep> settle = step.processes;
            for (auto& ps : settle) {
                ProcessStep fresh;
                fresh.name = ps.name;
                ps = fresh;
            }
            if (!drain(settle, s0, 0, now_us(), 0, 120'000)) {
                say("platform: the processes did not settle within 120 s; the ramp stops here");
                break;
            }
        }
        std::this_thread::sleep_for(1s);
    }
    return {ramp.best(), ramp.unbounded()};
}

/// The MQTT users of the K bare subscribers: the consumers' own users where they are service
/// users (the ACL lets them read raw telemetry), else other service users.
std::vector<std::string> bare_users(const test::Broker& broker, const std::vector<std::string>& consumers, int k) {
    std::vector<std::string> users;
    const auto known = [&](const std::string& u) {
        try {
            broker.password(u);
            return true;
        } catch (const std::runtime_error&) {
            return false;
        }
    };
    for (const auto& c : consumers)
        if (static_cast<int>(users.size()) < k && c != "svc.monitor" && known(c))
            users.push_back(c);
    for (const auto& u : broker::service_users())
        if (static_cast<int>(users.size()) < k && u != "svc.monitor" &&
            std::find(users.begin(), users.end(), u) == users.end())
            users.push_back(u);
    if (static_cast<int>(users.size()) < k)
        throw std::runtime_error(fmt::format("only {} service users for {} bare subscribers", users.size(), k));
    return users;
}

} // namespace

int run_bare_subscriber(const BareSubscriberOptions& o) {
    // Before Paho starts a thread, so that only sigwait sees SIGTERM.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    SharedCounter counter(o.counter_path, false);
    mqtt::Options mo;
    mo.host = "127.0.0.1";
    mo.port = o.port;
    mo.client_id = o.user;
    mo.username = o.user;
    mo.password = read_secret_file(o.password_file);
    mo.clean_session = false;
    mo.reconnect_min = 100ms;
    mo.reconnect_max = 1000ms;
    auto client = mqtt::make_client(mo);
    client->subscribe(topics::any_device::tele(), 0);
    client->on_message([&counter](const mqtt::Message&) { counter.count().fetch_add(1, std::memory_order_relaxed); });
    client->start();
    if (!client->wait_ready(20s)) {
        fmt::print(stderr, "subscriber {}: not connected and subscribed within 20 s\n", o.user);
        counter.state().store(-1);
        client->stop();
        return 1;
    }
    counter.state().store(1);
    int sig = 0;
    sigwait(&stop, &sig);
    client->stop();
    return 0;
}

int run_ingest_bench(const IngestOptions& o) {
    std::vector<std::string> devices;
    std::vector<test::Credential> creds;
    for (int i = 1; i <= o.devices; ++i) {
        devices.push_back(fmt::format("blast-{}", i));
        creds.push_back({devices.back(), ""});
    }
    const auto sample_topic = topics::tele(devices.front());
    Result("ingest_tele")
        .num("payload_bytes", double(tele_template(10, devices.front(), o.charging).first.size() +
                                     tele_template(10, devices.front(), o.charging).second.size() + 1))
        .num("charging_sockets_per_device", o.charging)
        .print();

    // --- the platform: every platform process, the consumers of raw telemetry, the ramp ---
    double platform = 0;
    bool platform_unbounded = false;
    std::vector<std::string> consumers;
    int k = o.consumers;
    if (o.platform) {
        test::Broker broker(creds);
        log_subscriptions(broker);
        Platform p;
        start_platform(p, o, broker, devices);
        std::vector<std::string> names;
        for (auto& d : p.procs)
            names.push_back(d->name());
        say(fmt::format("ingest: broker on port {}, data {}; running {}", broker.port(), p.dir, joined(names)));
        consumers = raw_tele_consumers(broker, sample_topic);
        k = static_cast<int>(consumers.size());
        say(fmt::format("ingest: {} consumer(s) of raw telemetry ({}): {}", k, sample_topic, joined(consumers)));
        Result("ingest_consumers")
            .num("k", k)
            .str("consumers", joined(consumers))
            .str("processes", joined(names))
            .print();
        StatusBoard board(broker);
        Blaster blaster(broker, devices, o.blast_threads, o.charging);
        std::this_thread::sleep_for(2s); // every retained status in
        const auto r = platform_ramp(o, blaster, broker, p, board);
        platform = r.best;
        platform_unbounded = r.unbounded;
        std::vector<std::string> gaps;
        for (const auto& n : names)
            if (!board.reports_queue(n))
                gaps.push_back(n);
        if (!gaps.empty())
            say("ingest: no queue in the status of " + joined(gaps) +
                ": their lag is judged by their socket backlog, their CPU after each step and the broker's drops only");
        Result("ingest_gaps").str("no_queue_in_status", joined(gaps)).print();
    }
    if (k < 1)
        k = 1;

    // --- the load generator alone: into a sink that discards (its own ceiling), then into a
    // fresh broker with nothing subscribed (the broker's intake) ---
    RampOutcome gen{}, intake{};
    // Coarser: these only show that the generator is not the limit.
    auto calibration = o;
    calibration.refine = std::min(o.refine, 1);
    calibration.step_s = std::min(o.step_s, 5);
    if (o.calibrate) {
        DiscardSink sink;
        Blaster to_sink(
            sink.port(), devices, [](const std::string&) { return std::string("any"); }, o.blast_threads, o.charging);
        gen = bare_ramp("generator", calibration, o.bare_rates, to_sink, nullptr, {});
    }
    // --- the bare baselines, on that fresh broker: 1 subscriber, K subscribers ---
    test::Broker broker(creds);
    say(fmt::format("ingest: bare broker on port {}", broker.port()));
    Blaster blaster(broker, devices, o.blast_threads, o.charging);
    if (o.calibrate) {
        intake = bare_ramp("intake", calibration, o.bare_rates, blaster, &broker, {});
        Result("ingest_generator")
            .num("generator_msgs_per_s", gen.best)
            .num("generator_unbounded", gen.unbounded)
            .num("intake_msgs_per_s", intake.best)
            .num("intake_unbounded", intake.unbounded)
            .print();
    }
    RampOutcome bare1{}, barek{};
    const auto sub_dir = make_temp_dir("pilehub-bench-subs");
    {
        auto subs = subscribers(broker, {"svc.monitor"}, sub_dir);
        bare1 = bare_ramp("bare_1", o, o.bare_rates, blaster, &broker, subs);
    }
    {
        const auto users = bare_users(broker, consumers, k);
        say(fmt::format("ingest: {} bare subscribers (one process each) as {}", k, joined(users)));
        auto subs = subscribers(broker, users, sub_dir);
        barek = bare_ramp("bare_k", o, o.bare_rates, blaster, &broker, subs);
    }
    remove_temp_dir(sub_dir);

    Result res("ingest");
    res.num("platform_msgs_per_s", platform)
        .num("bare_1_msgs_per_s", bare1.best)
        .num("bare_k_msgs_per_s", barek.best)
        .num("k", k)
        .num("charging", o.charging)
        .num("ratio_k", barek.best > 0 ? platform / barek.best : 0)
        .num("ratio_1", bare1.best > 0 ? platform / bare1.best : 0)
        .num("piles_at_30s", platform * 30)
        .num("generator_msgs_per_s", gen.best)
        .num("intake_msgs_per_s", intake.best)
        .num("platform_unbounded", platform_unbounded)
        .num("bare_1_unbounded", bare1.unbounded)
        .num("bare_k_unbounded", barek.unbounded)
        .num("generator_unbounded", gen.unbounded)
        .num("intake_unbounded", intake.unbounded)
        .str("consumers", joined(consumers))
        .print();
    say(fmt::format("ingest: platform {:.0f} msg/s ({:.0f} piles at one report per 30 s); bare 1 subscriber {:.0f}; "
                    "bare {} subscribers {:.0f}; platform / bare-{} = {:.0f} %; the generator alone {:.0f} (into a "
                    "discard sink), the broker's intake with nothing subscribed {:.0f}",
                    platform, platform * 30, bare1.best, k, barek.best, k,
                    barek.best > 0 ? 100 * platform / barek.best : 0, gen.best, intake.best));
    return 0;
}

} // namespace pilehub::bench
