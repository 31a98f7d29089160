#pragma once
#include "common/db.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/process.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Integration-test support: our own daemons (workers/<name>/<name>) as child processes, and the
/// small file and SQLite helpers their tests share.
namespace pilehub::test {

/// A new, empty directory `<system temp dir>/<prefix>-XXXXXX` (mkdtemp). Throws
/// std::runtime_error if it cannot be made. The caller removes it.
std::string make_temp_dir(const std::string& prefix);

/// The whole content of a text file ("" if it cannot be read).
std::string slurp(const std::string& path);

/// The last `lines` lines of `text` (all of it when it has fewer).
std::string tail(const std::string& text, std::size_t lines = 40);

/// How a Daemon is run.
struct DaemonOptions {
    /// The build tree holding workers/<name>/<name>.
    std::string bin_dir = PILEHUB_BINARY_DIR;
    /// How long start() waits for the ready file.
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
    /// How often start() looks for the ready file.
    std::chrono::milliseconds poll = std::chrono::milliseconds(50);
    /// stop(): how long after SIGTERM before SIGKILL.
    std::chrono::milliseconds stop_grace = std::chrono::seconds(5);
    /// How much of the log a start-up failure quotes: its last N lines, 0 for all of it.
    std::size_t failure_log_lines = 0;
};

/// A PileHub daemon run as our child process on a data directory: `<data_dir>/secrets/svc.<name>.pass`
/// holds its broker password, it runs with `--set data_dir=<data_dir> --set mqtt.port=<plain port>`
/// plus the `sets` given, writes its output to `<data_dir>/<name>.log`, and says it is ready (connected
/// and subscribed) with `<data_dir>/run/<name>.ready`. Signalled only by its own PID; stopped when the
/// object dies.
class Daemon {
public:
    /// Writes the password file; does not start the daemon.
    Daemon(std::string name, const Broker& broker, std::string data_dir, std::vector<std::string> sets = {},
           DaemonOptions options = {});
    /// stop().
    ~Daemon() { stop(); }
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    /// The program of daemon `name` in `bin_dir`: `<bin_dir>/workers/<name>/<name>`.
    static std::string binary(const std::string& name, const std::string& bin_dir = PILEHUB_BINARY_DIR);

    /// Starts it and waits for its ready file; on failure (it exited, or no ready file within
    /// ready_timeout) the reason with its log, else nullopt. No doctest needed (benchmarks).
    std::optional<std::string> try_start();
    /// try_start() as a doctest assertion: the test fails (REQUIRE) with the reason and the log.
    /// Defined in daemon_checks.cpp, part of pilehub_test_support.
    void start();
    /// SIGTERM to our child's PID (SIGKILL after stop_grace); its exit code, 0 if never started.
    int stop() { return proc_.pid() ? proc_.stop(options_.stop_grace) : 0; }
    /// SIGKILL to our child's PID: no clean disconnect, nothing flushed.
    int kill9() { return proc_.pid() ? proc_.kill() : 0; }
    /// Whether it was started and is still running.
    bool running() { return proc_.pid() && proc_.running(); }
    /// Its PID, 0 before start().
    pid_t pid() const { return proc_.pid(); }
    /// The daemon's name, e.g. "recorderd".
    const std::string& name() const { return name_; }
    /// Where its stdout and stderr go.
    std::string log_path() const { return data_dir_ + "/" + name_ + ".log"; }
    /// Its log so far.
    std::string log() const { return slurp(log_path()); }

private:
    std::string name_;
    std::string data_dir_;
    std::vector<std::string> sets_;
    DaemonOptions options_;
    Process proc_;
};

/// Writes one line to pilehub-sim's control FIFO `<state dir>/control` (workers/pilehub-sim/README.md);
/// REQUIREs that it is open and takes the whole line. Defined in daemon_checks.cpp.
void sim_control(const std::string& fifo, const std::string& line);

/// The first column of the first row of `sql` (a count); REQUIREs a row. Defined in daemon_checks.cpp.
std::int64_t count(db::Database& d, const std::string& sql);

/// Polls count() every 20 ms until it reaches `want` or `timeout` passes; the last count.
/// Defined in daemon_checks.cpp.
std::int64_t wait_count(db::Database& d, const std::string& sql, std::int64_t want, std::chrono::milliseconds timeout);

} // namespace pilehub::test
