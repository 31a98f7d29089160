#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace pilehub::test {
namespace {

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string entry(*e);
        const auto name = entry.substr(0, entry.find('='));
        bool replaced = false;
        for (const auto& x : extra)
            if (x.substr(0, x.find('=')) == name)
                replaced = true;
        if (!replaced)
            env.push_back(entry);
    }
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

int decode_status(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

bool setpriv_available() {
    static const bool ok = ::access("/usr/bin/setpriv", X_OK) == 0;
    return ok;
}

} // namespace

Process Process::spawn(const std::vector<std::string>& argv_in, const SpawnOptions& options) {
    if (argv_in.empty())
        throw std::runtime_error("Process::spawn: empty command");
    std::vector<std::string> argv;
    if (options.die_with_parent && setpriv_available())
        argv = {"/usr/bin/setpriv", "--pdeathsig", "TERM", "--"};
    argv.insert(argv.end(), argv_in.begin(), argv_in.end());
    auto env = merged_environment(options.env);
    auto c_argv = c_strings(argv);
    auto c_env = c_strings(env);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    const std::string out = options.output.empty() ? "/dev/null" : options.output;
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);

    // Whatever the test process blocks or ignores (a daemon under test may block SIGTERM and
    // SIGHUP to sigwait for them), the child starts with defaults, so SIGTERM/SIGHUP work on it.
    sigset_t empty;
    sigemptyset(&empty);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
        sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, c_argv[0], &fa, &attr, c_argv.data(), c_env.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw std::runtime_error("cannot start " + argv_in[0] + ": " + std::strerror(rc));
    Process p;
    p.pid_ = pid;
    p.reaped_ = false;
    return p;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)), reaped_(std::exchange(other.reaped_, true)), status_(other.status_) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        if (!reaped_)
            stop();
        pid_ = std::exchange(other.pid_, 0);
        reaped_ = std::exchange(other.reaped_, true);
        status_ = other.status_;
    }
    return *this;
}

Process::~Process() {
    if (!reaped_)
        stop();
}

bool Process::reap(bool block) {
    if (reaped_)
        return true;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            status_ = decode_status(status);
            return true;
        }
        if (r == 0)
            return false;
        if (errno == EINTR)
            continue;
        // ECHILD: someone else reaped it (should not happen); treat as gone, never signal it again.
        reaped_ = true;
        status_ = -1;
        return true;
    }
}

bool Process::running() {
    return pid_ != 0 && !reap(false);
}

bool Process::signal(int sig) {
    if (!running())
        return false;
    return ::kill(pid_, sig) == 0;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    if (pid_ == 0)
        return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reap(false)) {
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return status_;
}

int Process::stop(std::chrono::milliseconds grace) {
    if (pid_ == 0)
        return -1;
    if (signal(SIGTERM)) {
        if (auto s = wait(grace))
            return *s;
    }
    return kill();
}

int Process::kill() {
    if (pid_ == 0)
        return -1;
    if (!reaped_) {
        signal(SIGKILL);
        reap(true);
    }
    return status_;
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::vector<std::string>& env) {
    char path[] = "/tmp/pilehub-run-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0)
        throw std::runtime_error(std::string("run: mkstemp: ") + std::strerror(errno));
    ::close(fd);
    RunResult result;
    try {
        SpawnOptions so;
        so.env = env;
        so.output = path;
        so.die_with_parent = false;
        auto p = Process::spawn(argv, so);
        if (auto code = p.wait(timeout))
            result.exit_code = *code;
        else {
            p.kill();
            result.exit_code = -1;
        }
    } catch (...) {
        ::unlink(path);
        throw;
    }
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    result.output = ss.str();
    ::unlink(path);
    return result;
}

} // namespace pilehub::test
