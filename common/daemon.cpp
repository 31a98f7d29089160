#include "common/daemon.hpp"

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/log_file.hpp"
#include "common/sd_notify.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace pilehub::daemon {

void Context::ready() {
    const auto dir = config.get_string("run_dir");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto path = fmt::format("{}/{}.ready", dir, name_);
    std::ofstream(path) << ::getpid() << "\n";
    // Under systemd (Type=notify, scripts/systemd): the same readiness as the file.
    std::string why;
    if (!sd_notify::notify(sd_notify::ready_message(::getpid(), "connected and subscribed"), &why) && !why.empty())
        log::warn("sd_notify: {}", why);
    log::info("ready (pid {})", ::getpid());
}

void Context::fail(const std::string& reason) {
    log::error("fatal: {}", reason);
    failed_ = true;
    ::kill(::getpid(), SIGTERM);
}

mqtt::Message status_message(const std::string& process, bool online, const std::string& reason) {
    json::Writer w;
    w.begin_object().field("v", 1).field("online", online);
    if (online)
        w.field("pid", static_cast<std::int64_t>(::getpid())).field("ts", SystemClock::instance().now_ms());
    if (!reason.empty())
        w.field("reason", reason);
    w.end_object();
    return {topics::svc_status(process), w.str(), 1, true};
}

mqtt::Options mqtt_options(const Config& cfg) {
    mqtt::Options o;
    o.host = cfg.get_string("mqtt.host");
    o.port = cfg.get_int32("mqtt.port");
    o.client_id = cfg.get_string("mqtt.client_id");
    o.username = cfg.get_string("mqtt.username");
    o.password = read_secret_file(cfg.get_string("mqtt.password_file"));
    o.keepalive_s = cfg.get_int32("mqtt.keepalive_s");
    o.clean_session = false;
    const auto process = cfg.process();
    o.make_will = [process] { return std::optional<mqtt::Message>(status_message(process, false, "lwt")); };
    return o;
}

db::Database::Options db_options(const Config& cfg) {
    db::Database::Options o;
    o.busy_timeout_ms = cfg.get_int32("db.busy_timeout_ms");
    return o;
}

db::Database::Options durable_db_options(const Config& cfg) {
    auto o = db_options(cfg);
    o.sync = db::Sync::Full;
    return o;
}

void migrate_core(const Config& cfg) {
    db::Database core(cfg.get_string("db.path"));
    db::migrate(core, db::core_migrations());
}

namespace {

void usage(const Spec& spec) {
    std::cout << fmt::format("usage: {} [--config FILE] [--set key=value]... [--check-config] [--print-config]\n\n"
                             "Configuration keys:\n",
                             spec.name);
    auto schema = ConfigSchema::common(spec.name);
    if (spec.add_keys)
        spec.add_keys(schema);
    std::cout << schema.describe();
}

} // namespace

int run(int argc, char** argv, const Spec& spec) {
    // Before any thread exists, so every thread inherits the mask and only sigwait sees them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    log::init(spec.name);
    std::optional<std::string> file;
    std::vector<std::string> overrides;
    bool check = false, print = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--config" && i + 1 < argc)
            file = argv[++i];
        else if (a == "--set" && i + 1 < argc)
            overrides.emplace_back(argv[++i]);
        else if (a == "--check-config")
            check = true;
        else if (a == "--print-config")
            print = true;
        else if (a == "--help" || a == "-h") {
            usage(spec);
            return kExitOk;
        } else {
            std::cerr << spec.name << ": unknown argument " << a << " (try --help)\n";
            return kExitBadConfig;
        }
    }

    auto schema = ConfigSchema::common(spec.name);
    if (spec.add_keys)
        spec.add_keys(schema);
    std::optional<Config> cfg;
    try {
        cfg.emplace(Config::load(schema, file, overrides));
        auto lvl = log::parse_level(cfg->get_string("log.level"));
        if (!lvl)
            throw ConfigError("config: log.level must be debug, info, warn or error");
        log::set_level(*lvl);
        if (std::string why; !cfg->get_string("log.file").empty() && !log::open_file(cfg->get_string("log.file"), &why))
            throw ConfigError("config: log.file: " + why);
        if (spec.validate)
            spec.validate(*cfg);
    } catch (const ConfigError& e) {
        log::error("{}", e.what());
        return kExitBadConfig;
    }
    if (print)
        std::cout << cfg->dump();
    if (check) {
        std::cout << spec.name << ": configuration OK\n";
        return kExitOk;
    }

    Context ctx(*cfg, spec.name);
    std::unique_ptr<Service> svc;
    try {
        svc = spec.start(ctx);
    } catch (const ConfigError& e) {
        log::error("{}", e.what());
        return kExitBadConfig;
    } catch (const std::exception& e) {
        log::error("start failed: {}", e.what());
        return kExitFailure;
    }

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            // The log file first: logrotate has just moved it away (scripts/logrotate/pilehub).
            if (std::string why;
                !cfg->get_string("log.file").empty() && !log::open_file(cfg->get_string("log.file"), &why))
                log::error("SIGHUP: the log file stays as it was: {}", why);
            log::info("SIGHUP: reloading");
            try {
                svc->reload();
            } catch (const std::exception& e) {
                log::error("reload failed: {}", e.what());
            }
            continue;
        }
        log::info("signal {}: stopping", sig);
        sd_notify::notify("STOPPING=1");
        break;
    }
    try {
        svc->stop();
        svc.reset();
    } catch (const std::exception& e) {
        log::error("stop failed: {}", e.what());
        return kExitFailure;
    }
    std::error_code ec;
    std::filesystem::remove(fmt::format("{}/{}.ready", cfg->get_string("run_dir"), spec.name), ec);
    log::info("stopped");
    return ctx.failed() ? kExitFailure : kExitOk;
}

} // namespace pilehub::daemon
