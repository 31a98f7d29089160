#pragma once
#include "common/config.hpp"
#include "common/db.hpp"
#include "common/mqtt.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace pilehub::daemon {

/// Exit codes of every PileHub daemon.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadConfig = 2;

/// Handed to a daemon's start function.
class Context {
public:
    Context(const Config& cfg, std::string name) : config(cfg), name_(std::move(name)) {}
    const Config& config;
    /// Marks the daemon ready: writes `<run_dir>/<name>.ready` holding the pid (scripts/up waits on it).
    void ready();
    /// Asks main to stop and exit with code 1 (a runtime failure seen on another thread).
    void fail(const std::string& reason);
    bool failed() const { return failed_; }
    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::atomic<bool> failed_{false};
};

/// What runs between start and stop. Destroyed (after stop()) before main returns.
class Service {
public:
    virtual ~Service() = default;
    /// Stop cleanly: publish offline status, disconnect, drain, close.
    virtual void stop() = 0;
    /// SIGHUP: re-read what can be re-read (default: nothing).
    virtual void reload() {}
};

struct Spec {
    std::string name;
    /// Adds the daemon's own keys to the common schema.
    std::function<void(ConfigSchema&)> add_keys;
    /// Starts the daemon's threads and connections; throws on failure (exit 1).
    std::function<std::unique_ptr<Service>(Context&)> start;
    /// Optional: checks combinations of keys the schema cannot express; throws ConfigError (exit 2,
    /// also under `--check-config`).
    std::function<void(const Config&)> validate = {};
};

/// The whole life of a daemon. Blocks SIGINT/SIGTERM/SIGHUP before any thread starts, parses
/// `--config FILE`, `--set key=value`, `--check-config`, `--print-config`, `--help`, runs
/// `spec.start`, and sigwaits. Returns the exit code.
int run(int argc, char** argv, const Spec& spec);

/// MQTT options for a platform process from its config (reads the password file), with a
/// retained Will `{"online":false,"reason":"lwt"}` on the process's status topic.
mqtt::Options mqtt_options(const Config& cfg);
/// The retained status message of a process.
mqtt::Message status_message(const std::string& process, bool online, const std::string& reason = "");

/// Database options from the common `db.*` keys (the busy time-out).
db::Database::Options db_options(const Config& cfg);
/// The same with synchronous=FULL: for a connection that writes money or acknowledges what a device
/// may then forget (common/ledger.hpp), i.e. billingd, sessiond and parkingd.
db::Database::Options durable_db_options(const Config& cfg);

/// Brings the core database (`db.path`) up to this build's migrations, as every daemon does at start.
void migrate_core(const Config& cfg);

} // namespace pilehub::daemon
