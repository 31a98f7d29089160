#pragma once
// The decisions of the ingest benchmark (`pilehub-bench ingest`, ingest.cpp), kept pure so that
// tests/unit/bench/ can check them: who consumes raw telemetry (from the broker's subscription
// log), how many bytes are still on their way to a process (from /proc/net/tcp), what a
// process's retained status says about its lag, whether a step kept up, and which rate to try
// next.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::bench::ingest {

/// The share of the asked rate the load generator must really offer for a step to count.
inline constexpr double kMinOffered = 0.97;
/// How long after a step every consumer has to catch up.
inline constexpr int kDrainMs = 3000;
/// Bytes that may still be on the way to a process when it counts as caught up: the statuses
/// and other small messages of the platform keep flowing after the load stops.
inline constexpr std::int64_t kBacklogSlackBytes = 16 * 1024;
/// A process counts as idle (no backlog left in its own queues) below this share of a core.
inline constexpr double kIdleCpu = 0.10;
/// A process one of whose threads used more than this share of a core during a step is saturated
/// (the process as a whole may use more than one core).
inline constexpr double kSaturatedCpu = 0.95;

/// The consumers that receive `topic`, from Mosquitto's `log_type subscribe` and
/// `log_type unsubscribe` lines ("<ts>: <client id> <qos> <filter>", "<ts>: <client id> <filter>"),
/// in the order they first subscribed: the client id of each client holding a matching
/// subscription, and `$share/<group>` once per shared-subscription group (the broker delivers to
/// one member of a group).
std::vector<std::string> consumers_of(std::string_view broker_log, std::string_view topic);

/// How many subscription lines the log holds (to wait until the processes stop subscribing).
std::size_t subscription_lines(std::string_view broker_log);

/// One IPv4 TCP socket from /proc/net/tcp.
struct TcpSocket {
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;
    /// Bytes written and not yet acknowledged by the peer (tx_queue), and bytes received and not
    /// yet read by the owner (rx_queue).
    std::int64_t tx_queue = 0;
    std::int64_t rx_queue = 0;
    std::uint64_t inode = 0;
};

/// The rows of /proc/net/tcp (the header line and malformed lines skipped).
std::vector<TcpSocket> parse_proc_net_tcp(std::string_view text);

/// Bytes on their way from the broker (listening on `broker_port`) to the process owning the
/// sockets `inodes`: on each of its connections to the broker, what it has not read yet plus
/// what the broker's end has not had acknowledged. -1 if the process has no connection to the
/// broker.
std::int64_t backlog_toward(const std::vector<TcpSocket>& sockets, const std::set<std::uint64_t>& inodes,
                            int broker_port);

/// What the benchmark reads from a retained `ph/v1/svc/<process>/status` (see docs/benchmarks.md).
struct StatusView {
    /// Wall-clock ms of the report (`ts`); 0 if absent.
    std::int64_t ts_ms = 0;
    /// Messages waiting in the process's own queue (`queue`), if it reports one.
    std::optional<std::int64_t> queue;
    /// Age of the oldest unfinished message (`lag_ms`), if reported.
    std::optional<std::int64_t> lag_ms;
    /// Raw telemetry taken in since start (`tele_received`), if reported.
    std::optional<std::int64_t> tele_received;
    /// Device reports published since start (`reports`: recorderd's derived per-session reports), if reported.
    std::optional<std::int64_t> reports;
    /// Sum of every integer field whose name ends in `dropped` (messages given up).
    std::int64_t dropped = 0;
};

/// The status payload read as above; nullopt if it is not a JSON object.
std::optional<StatusView> parse_status(std::string_view payload);

/// What one platform process did in one step and the drain window after it.
struct ProcessStep {
    std::string name;
    /// Share of one core during the step: the whole process, and its busiest thread.
    double cpu = 0;
    double busiest_thread = 0;
    /// Whether its status reports a queue at all (else its lag is judged by the rest only).
    bool reports_queue = false;
    /// From the first status published after the step ended (nullopt: none came).
    std::optional<StatusView> after;
    /// `tele_received` growth over the step (nullopt: not reported).
    std::optional<std::int64_t> received;
    /// `reports` growth over the step (nullopt: not reported).
    std::optional<std::int64_t> reports;
    /// Growth of the status's dropped counters over the step.
    std::int64_t dropped = 0;
    /// The fewest bytes seen on the way to it during the drain window (-1: no connection found).
    std::int64_t backlog_bytes = -1;
    /// When, after the step, it was first idle (ms); -1: still busy at the end of the window.
    int idle_after_ms = -1;
};

/// Everything one step of the platform ramp saw.
struct PlatformStep {
    double offered = 0;
    double achieved = 0;
    std::int64_t sent = 0;
    bool broker_dropped = false;
    std::vector<ProcessStep> processes;
};

/// Whether the drain window may stop waiting for this process: idle, no backlog beyond the
/// slack, and, if it reports a queue, a fresh status with an empty queue that counted all `sent`.
bool caught_up(const ProcessStep& p, std::int64_t sent);

/// Why the platform fell behind in this step (empty: it kept up). A step keeps up only if the
/// generator offered >= 97 % of the rate, the broker dropped nothing, and for EVERY process:
/// no thread saturated, its status (if it reports a queue) fresh after the step with an empty queue,
/// every report counted (if it counts them), nothing dropped, no bytes left on the way to it,
/// and idle within the drain window.
std::string why_behind(const PlatformStep& step);

/// The bare baselines' rule: every subscriber received everything within the drain window.
std::string why_behind_bare(double offered, double achieved, std::int64_t sent,
                            const std::vector<std::int64_t>& received, bool broker_dropped);

/// The ramp of offered rates: the given rates in order while steps keep up, then `refine`
/// halvings of the interval between the last rate that kept up and the first that did not.
class Ramp {
public:
    Ramp(std::vector<double> rates, int refine);
    /// The next rate to offer; nullopt when the ramp is over.
    std::optional<double> next() const;
    /// The outcome of the step at next(): kept up or not, and the rate really achieved.
    void record(bool kept_up, double achieved);
    /// The achieved rate of the highest step that kept up (0: none did).
    double best() const { return best_achieved_; }
    /// true if even the last rate of the list kept up: the figure is then only a lower bound.
    bool unbounded() const { return unbounded_; }

private:
    std::vector<double> rates_;
    std::size_t index_ = 0;
    int refine_left_;
    bool refining_ = false;
    double lo_ = 0, hi_ = 0;
    double best_achieved_ = 0;
    bool unbounded_ = false;
};

} // namespace pilehub::bench::ingest
