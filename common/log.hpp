#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pilehub::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

/// Sets the process name every line carries, and the lowest level written. Call once in main.
void init(std::string process_name, Level level = Level::Info);
void set_level(Level level);
Level level();
std::optional<Level> parse_level(std::string_view s);

/// The device and session a line is about; empty fields are left out of the line.
struct Ctx {
    std::string_view dev;
    std::string_view sid;
};

/// Writes one line: `<UTC time> <process>[pid] <LEVEL> [dev=..] [sid=..] <message>` to stderr.
void write(Level level, const Ctx& ctx, std::string_view message);

template <typename... A> void debug(fmt::format_string<A...> f, A&&... a) {
    if (level() <= Level::Debug)
        write(Level::Debug, {}, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void info(fmt::format_string<A...> f, A&&... a) {
    if (level() <= Level::Info)
        write(Level::Info, {}, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void warn(fmt::format_string<A...> f, A&&... a) {
    write(Level::Warn, {}, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void error(fmt::format_string<A...> f, A&&... a) {
    write(Level::Error, {}, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void debug(const Ctx& c, fmt::format_string<A...> f, A&&... a) {
    if (level() <= Level::Debug)
        write(Level::Debug, c, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void info(const Ctx& c, fmt::format_string<A...> f, A&&... a) {
    if (level() <= Level::Info)
        write(Level::Info, c, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void warn(const Ctx& c, fmt::format_string<A...> f, A&&... a) {
    write(Level::Warn, c, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A> void error(const Ctx& c, fmt::format_string<A...> f, A&&... a) {
    write(Level::Error, c, fmt::format(f, std::forward<A>(a)...));
}

/// Lets at most `per_window` lines about one key (e.g. "pile-7/malformed") through in each window, so
/// that a device flooding bad messages costs a few log lines, not one per message. Thread-safe.
class RateLimiter {
public:
    explicit RateLimiter(std::int64_t window_ms = 10'000, int per_window = 5)
        : window_ms_(window_ms), per_window_(per_window) {}
    /// true if a line about `key` may be written at `now_ms` (any monotonic or wall-clock milliseconds).
    bool allow(std::string_view key, std::int64_t now_ms);
    /// true if a line about `dev`'s `what` may be written at `now_ms`.
    bool allow(std::string_view dev, std::string_view what, std::int64_t now_ms);

private:
    std::int64_t window_ms_;
    int per_window_;
    std::mutex m_;
    std::map<std::string, std::pair<std::int64_t, int>, std::less<>> seen_; ///< key → window start, lines
};

} // namespace pilehub::log
