#pragma once
// Shared by the benchmark programs: timing, percentiles, /proc sampling of our own children,
// JSON result lines. Every benchmark prints one line `RESULT {json}` per figure; scripts/bench
// collects them into its summary.
#include <fmt/format.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace pilehub::bench {

/// Progress on stderr: `bench: <text>`.
inline void say(const std::string& s) {
    fmt::print(stderr, "bench: {}\n", s);
}

/// A whole file as text (empty if it cannot be read).
inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Microseconds on the monotonic clock.
inline std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// The q-quantile (0..1) of `v` (nearest rank); 0 for an empty vector.
inline double quantile(std::vector<double> v, double q) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    auto idx = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
}

/// CPU time (user + system, seconds) and RSS (bytes) of one process, from /proc.
struct ProcSample {
    double cpu_s = 0;
    std::int64_t rss = 0;
    bool ok = false;
};

/// The same from any `stat` file of /proc (a process's, or one thread's under task/).
inline ProcSample sample_stat_file(const std::string& path) {
    ProcSample s;
    std::ifstream st(path);
    std::string line;
    if (!std::getline(st, line))
        return s;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    auto p = line.rfind(')');
    std::istringstream in(line.substr(p + 2));
    std::vector<std::string> f;
    std::string w;
    while (in >> w)
        f.push_back(w);
    if (f.size() < 22)
        return s;
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    s.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / tick; // utime, stime (fields 14, 15)
    s.rss = std::stoll(f[21]) * ::sysconf(_SC_PAGESIZE);    // rss pages (field 24)
    s.ok = true;
    return s;
}

inline ProcSample sample_proc(pid_t pid) {
    return sample_stat_file(fmt::format("/proc/{}/stat", pid));
}

/// CPU time (seconds) of each thread of a process, by thread id.
inline std::map<pid_t, double> sample_threads(pid_t pid) {
    std::map<pid_t, double> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
        const auto s = sample_stat_file(e.path().string() + "/stat");
        if (s.ok)
            out[static_cast<pid_t>(std::stol(e.path().filename().string()))] = s.cpu_s;
    }
    return out;
}

/// The largest share of one core any thread used between two sample_threads() `secs` apart.
inline double busiest_thread(const std::map<pid_t, double>& before, const std::map<pid_t, double>& after, double secs) {
    double top = 0;
    for (const auto& [tid, cpu] : after) {
        const auto b = before.find(tid);
        top = std::max(top, (cpu - (b == before.end() ? 0.0 : b->second)) / secs);
    }
    return top;
}

/// One result line for scripts/bench: `RESULT {"bench":..., ...}`.
class Result {
public:
    explicit Result(const std::string& bench) { body_ = fmt::format(R"("bench":"{}")", bench); }
    Result& num(const std::string& k, double v) {
        body_ += fmt::format(R"(,"{}":{:.3f})", k, v);
        return *this;
    }
    Result& str(const std::string& k, const std::string& v) {
        body_ += fmt::format(R"(,"{}":"{}")", k, v);
        return *this;
    }
    void print() const { fmt::print("RESULT {{{}}}\n", body_), std::fflush(stdout); }

private:
    std::string body_;
};

/// p50 / p99 / max of `v` (ms) into `r` as `<name>_p50_ms`, `<name>_p99_ms`, `<name>_max_ms`.
inline void add_quantiles(Result& r, const std::string& name, const std::vector<double>& v) {
    r.num(name + "_p50_ms", quantile(v, 0.5))
        .num(name + "_p99_ms", quantile(v, 0.99))
        .num(name + "_max_ms", quantile(v, 1.0));
}

/// "p50 … / p99 … / max … ms" of `v` (ms), for progress lines.
inline std::string q3(const std::vector<double>& v) {
    return fmt::format("p50 {:.2f} / p99 {:.2f} / max {:.2f} ms", quantile(v, 0.5), quantile(v, 0.99),
                       quantile(v, 1.0));
}

} // namespace pilehub::bench
