#pragma once
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

/// Child processes for integration tests: the broker, real MQTT clients (mosquitto_sub), our
/// own daemons, scripts.
namespace pilehub::test {

/// How a child is started.
struct SpawnOptions {
    /// Extra environment entries "NAME=value", added to (or replacing entries of) ours.
    std::vector<std::string> env;
    /// File that receives the child's stdout and stderr (appended, created if missing). Empty:
    /// /dev/null. stdin is always /dev/null.
    std::string output;
    /// Ask the kernel to SIGTERM the child when the test process dies without running
    /// destructors (a crash, an abort): no broker outlives its test. Uses `setpriv --pdeathsig`
    /// (util-linux), which execs the program, so the PID stays the program's. The signal is tied
    /// to the spawning THREAD: spawn long-lived children from the thread that outlives them.
    bool die_with_parent = true;
};

/// One child process, started with posix_spawnp, so it is safe to start while other threads
/// (Paho's) exist, unlike fork() followed by arbitrary code. The child gets the default signal
/// dispositions and an empty signal mask, whatever the test process has blocked.
///
/// Signals go to this child's PID only, and never after the child has been reaped (a reaped PID
/// may belong to someone else): an unreaped child cannot have its PID reused.
class Process {
public:
    /// Starts `argv` (argv[0] looked up in PATH). Throws std::runtime_error if it cannot start.
    static Process spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

    Process() = default;
    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    /// Stops the child (stop()) if it is still running.
    ~Process();

    /// The child's PID; 0 for an empty Process.
    pid_t pid() const { return pid_; }
    /// Whether the child is still running (reaps it if it has exited).
    bool running();
    /// Sends `sig` to the child. false if it has already exited.
    bool signal(int sig);
    /// Waits up to `timeout` for the child to exit. Its exit code, 128 + signal number if a
    /// signal ended it, or nullopt if it is still running.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    /// SIGTERM, waits up to `grace`, then SIGKILL. Returns the exit code as wait() does.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
    /// SIGKILL (an abrupt death: no clean disconnect, no flushing) and reap.
    int kill();

private:
    bool reap(bool block);
    pid_t pid_ = 0;
    bool reaped_ = true;
    int status_ = 0;
};

/// What run() returns.
struct RunResult {
    /// Exit code; 128 + signal if killed; -1 if it ran past the timeout (it is then killed).
    int exit_code = -1;
    /// stdout and stderr, interleaved.
    std::string output;
};

/// Runs a command to completion, capturing its output. Does not throw on a non-zero exit.
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(30),
              const std::vector<std::string>& env = {});

} // namespace pilehub::test
