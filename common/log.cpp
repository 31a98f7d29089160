#include "common/log.hpp"
#include "common/log_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace pilehub::log {
namespace {

std::string g_process = "pilehub";
std::atomic<Level> g_level{Level::Info};
std::mutex g_mutex;

const char* level_name(Level l) {
    switch (l) {
    case Level::Debug:
        return "DEBUG";
    case Level::Info:
        return "INFO";
    case Level::Warn:
        return "WARN";
    case Level::Error:
        return "ERROR";
    }
    return "?";
}

} // namespace

void init(std::string process_name, Level lvl) {
    std::lock_guard lock(g_mutex);
    g_process = std::move(process_name);
    g_level = lvl;
}

void set_level(Level lvl) {
    g_level = lvl;
}
Level level() {
    return g_level.load(std::memory_order_relaxed);
}

std::optional<Level> parse_level(std::string_view s) {
    if (s == "debug")
        return Level::Debug;
    if (s == "info")
        return Level::Info;
    if (s == "warn")
        return Level::Warn;
    if (s == "error")
        return Level::Error;
    return std::nullopt;
}

void write(Level lvl, const Ctx& ctx, std::string_view message) {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
    std::lock_guard lock(g_mutex);
    fmt::format_to(std::back_inserter(buf), "{}[{}] {}", g_process, ::getpid(), level_name(lvl));
    if (!ctx.dev.empty())
        fmt::format_to(std::back_inserter(buf), " dev={}", ctx.dev);
    if (!ctx.sid.empty())
        fmt::format_to(std::back_inserter(buf), " sid={}", ctx.sid);
    buf.push_back(' ');
    buf.append(message);
    buf.push_back('\n');
    std::fwrite(buf.data(), 1, buf.size(), stderr);
    std::fflush(stderr);
}

bool RateLimiter::allow(std::string_view key, std::int64_t now_ms) {
    std::lock_guard lock(m_);
    auto it = seen_.find(key);
    if (it == seen_.end()) {
        if (seen_.size() >= 100'000) // forget keys whose window is over (a flood of distinct device ids)
            std::erase_if(seen_, [&](const auto& kv) { return now_ms - kv.second.first >= window_ms_; });
        it = seen_.emplace(std::string(key), std::make_pair(now_ms, 0)).first;
    }
    auto& [start, count] = it->second;
    if (now_ms - start >= window_ms_) {
        start = now_ms;
        count = 0;
    }
    return ++count <= per_window_;
}

bool RateLimiter::allow(std::string_view dev, std::string_view what, std::int64_t now_ms) {
    std::string key;
    key.reserve(dev.size() + 1 + what.size());
    key.append(dev).append("/").append(what);
    return allow(key, now_ms);
}

bool open_file(const std::string& path, std::string* why) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (why)
            *why = fmt::format("cannot open {}: {}", path, std::strerror(errno));
        return false;
    }
    std::lock_guard lock(g_mutex);
    std::fflush(stderr);
    const bool ok = ::dup2(fd, STDERR_FILENO) >= 0;
    if (!ok && why)
        *why = fmt::format("dup2 {}: {}", path, std::strerror(errno));
    ::close(fd);
    return ok;
}

} // namespace pilehub::log
