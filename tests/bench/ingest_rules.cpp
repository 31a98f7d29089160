#include "ingest_rules.hpp"

#include "common/json.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace pilehub::bench::ingest {
namespace {

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        const auto start = i;
        while (i < line.size() && line[i] != ' ')
            ++i;
        if (i > start)
            out.push_back(line.substr(start, i - start));
    }
    return out;
}

/// A subscription (qos set) or unsubscription (qos empty) line, without its time stamp.
struct SubLine {
    std::string_view client;
    std::string_view qos;
    std::string_view filter;
};

std::optional<SubLine> sub_line(std::string_view line) {
    // "<ts>: <rest>": the time stamp format is ours (log_timestamp_format in mosquitto.conf), so
    // the rest starts after the first ": ".
    const auto colon = line.find(": ");
    if (colon == std::string_view::npos)
        return std::nullopt;
    const auto w = words(line.substr(colon + 2));
    const auto is_qos = [](std::string_view q) { return q == "0" || q == "1" || q == "2"; };
    const auto is_filter = [](std::string_view f) {
        return f.find('/') != std::string_view::npos || f == "#" || f == "+";
    };
    if (w.size() == 3 && is_qos(w[1]) && is_filter(w[2]))
        return SubLine{w[0], w[1], w[2]};
    if (w.size() == 2 && is_filter(w[1]) && w[1].back() != '.')
        return SubLine{w[0], {}, w[1]};
    return std::nullopt;
}

template <typename F> void each_line(std::string_view text, F f) {
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        f(text.substr(start, end - start));
        start = end + 1;
    }
}

std::int64_t hex(std::string_view s) {
    std::int64_t v = 0;
    for (char c : s) {
        v *= 16;
        if (c >= '0' && c <= '9')
            v += c - '0';
        else if (c >= 'a' && c <= 'f')
            v += c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v += c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

} // namespace

std::vector<std::string> consumers_of(std::string_view broker_log, std::string_view topic) {
    // (consumer, filter) pairs alive at the end of the log, and the order consumers appeared in.
    std::map<std::pair<std::string, std::string>, bool> live;
    std::vector<std::string> order;
    each_line(broker_log, [&](std::string_view line) {
        const auto s = sub_line(line);
        if (!s)
            return;
        std::string consumer(s->client);
        std::string_view filter = s->filter;
        if (filter.rfind("$share/", 0) == 0) {
            const auto slash = filter.find('/', 7);
            if (slash == std::string_view::npos)
                return;
            // The group is one consumer; a member's own unsubscription does not end the group,
            // so members are told apart by client id inside the key.
            consumer = std::string(filter.substr(0, slash));
            filter = filter.substr(slash + 1);
            consumer += '\n';
            consumer += s->client;
        }
        const auto key = std::make_pair(consumer, std::string(filter));
        if (!s->qos.empty()) {
            live[key] = true;
            if (std::find(order.begin(), order.end(), consumer) == order.end())
                order.push_back(consumer);
        } else {
            live.erase(key);
        }
    });
    std::vector<std::string> out;
    for (const auto& c : order) {
        bool receives = false;
        for (const auto& [key, alive] : live)
            if (key.first == c && alive && topics::matches(key.second, topic))
                receives = true;
        if (!receives)
            continue;
        const auto nl = c.find('\n');
        const auto name = nl == std::string::npos ? c : c.substr(0, nl);
        if (std::find(out.begin(), out.end(), name) == out.end())
            out.push_back(name);
    }
    return out;
}

std::size_t subscription_lines(std::string_view broker_log) {
    std::size_t n = 0;
    each_line(broker_log, [&](std::string_view line) { n += sub_line(line).has_value(); });
    return n;
}

std::vector<TcpSocket> parse_proc_net_tcp(std::string_view text) {
    // "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode"
    //  "0: 0100007F:2B67 0100007F:D3C2 01 00000000:00000000 00:00000000 00000000  0  0 123456 ..."
    std::vector<TcpSocket> out;
    each_line(text, [&](std::string_view line) {
        const auto w = words(line);
        if (w.size() < 10 || w[0].back() != ':')
            return;
        const auto port = [](std::string_view addr) -> std::int64_t {
            const auto c = addr.find(':');
            return c == std::string_view::npos ? -1 : hex(addr.substr(c + 1));
        };
        const auto queues = w[4];
        const auto c = queues.find(':');
        const auto lp = port(w[1]), rp = port(w[2]);
        if (c == std::string_view::npos || lp < 0 || rp < 0)
            return;
        TcpSocket s;
        s.local_port = static_cast<std::uint16_t>(lp);
        s.remote_port = static_cast<std::uint16_t>(rp);
        s.tx_queue = hex(queues.substr(0, c));
        s.rx_queue = hex(queues.substr(c + 1));
        std::uint64_t inode = 0;
        for (char ch : w[9]) {
            if (ch < '0' || ch > '9')
                return;
            inode = inode * 10 + static_cast<std::uint64_t>(ch - '0');
        }
        s.inode = inode;
        if (s.tx_queue >= 0 && s.rx_queue >= 0)
            out.push_back(s);
    });
    return out;
}

std::int64_t backlog_toward(const std::vector<TcpSocket>& sockets, const std::set<std::uint64_t>& inodes,
                            int broker_port) {
    std::int64_t total = -1;
    for (const auto& mine : sockets) {
        if (mine.inode == 0 || !inodes.count(mine.inode) || mine.remote_port != broker_port)
            continue;
        total = std::max<std::int64_t>(total, 0) + mine.rx_queue;
        for (const auto& theirs : sockets)
            if (theirs.local_port == broker_port && theirs.remote_port == mine.local_port)
                total += theirs.tx_queue;
    }
    return total;
}

std::optional<StatusView> parse_status(std::string_view payload) {
    auto doc = json::parse(payload);
    if (!doc || !doc->IsObject())
        return std::nullopt;
    StatusView v;
    for (auto it = doc->MemberBegin(); it != doc->MemberEnd(); ++it) {
        if (!it->value.IsInt64())
            continue;
        const std::string_view k(it->name.GetString(), it->name.GetStringLength());
        const auto n = it->value.GetInt64();
        if (k == "ts")
            v.ts_ms = n;
        else if (k == "queue")
            v.queue = n;
        else if (k == "lag_ms")
            v.lag_ms = n;
        else if (k == "tele_received")
            v.tele_received = n;
        else if (k == "reports")
            v.reports = n;
        else if (k.size() >= 7 && k.substr(k.size() - 7) == "dropped")
            v.dropped += n;
    }
    return v;
}

bool caught_up(const ProcessStep& p, std::int64_t sent) {
    const bool queue_ok = !p.reports_queue || (p.after && p.after->queue.value_or(0) == 0 &&
                                               (!p.after->tele_received || !p.received || *p.received >= sent));
    return p.idle_after_ms >= 0 && p.backlog_bytes <= kBacklogSlackBytes && queue_ok;
}

std::string why_behind(const PlatformStep& step) {
    std::string why;
    const auto add = [&why](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
    if (step.achieved < kMinOffered * step.offered)
        add(fmt::format("only {:.0f} % of the rate was sent (the generator or the broker's intake)",
                        100 * step.achieved / step.offered));
    if (step.broker_dropped)
        add("the broker dropped messages");
    for (const auto& p : step.processes) {
        if (p.busiest_thread > kSaturatedCpu)
            add(fmt::format("{} saturated (a thread at {:.0f} % of a core)", p.name, 100 * p.busiest_thread));
        if (p.reports_queue && !p.after)
            add(fmt::format("{} published no status within {} ms", p.name, kDrainMs));
        if (p.after && p.after->queue && *p.after->queue > 0)
            add(fmt::format("{} queue {}", p.name, *p.after->queue));
        if (p.received && *p.received < step.sent)
            add(fmt::format("{} took in {}/{}", p.name, *p.received, step.sent));
        if (p.dropped > 0)
            add(fmt::format("{} dropped {}", p.name, p.dropped));
        if (p.backlog_bytes > kBacklogSlackBytes)
            add(fmt::format("{}: {} bytes still on the way", p.name, p.backlog_bytes));
        if (p.idle_after_ms < 0)
            add(fmt::format("{} still busy {} ms after the step", p.name, kDrainMs));
    }
    return why;
}

std::string why_behind_bare(double offered, double achieved, std::int64_t sent,
                            const std::vector<std::int64_t>& received, bool broker_dropped) {
    std::string why;
    const auto add = [&why](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
    if (achieved < kMinOffered * offered)
        add(fmt::format("only {:.0f} % of the rate was sent (the generator or the broker's intake)",
                        100 * achieved / offered));
    if (broker_dropped)
        add("the broker dropped messages");
    for (std::size_t i = 0; i < received.size(); ++i)
        if (received[i] < sent)
            add(fmt::format("subscriber {} received {}/{}", i + 1, received[i], sent));
    return why;
}

Ramp::Ramp(std::vector<double> rates, int refine) : rates_(std::move(rates)), refine_left_(refine) {}

std::optional<double> Ramp::next() const {
    if (refining_)
        return refine_left_ > 0 ? std::optional<double>(std::round((lo_ + hi_) / 200) * 100) : std::nullopt;
    if (index_ < rates_.size())
        return rates_[index_];
    return std::nullopt;
}

void Ramp::record(bool kept_up, double achieved) {
    const auto rate = next();
    if (!rate)
        return;
    if (kept_up)
        best_achieved_ = std::max(best_achieved_, achieved);
    if (refining_) {
        (kept_up ? lo_ : hi_) = *rate;
        --refine_left_;
        // Nothing left to tell apart at 100 msg/s resolution.
        if (hi_ - lo_ < 200)
            refine_left_ = 0;
        return;
    }
    if (kept_up) {
        lo_ = *rate;
        if (++index_ == rates_.size())
            unbounded_ = true;
        return;
    }
    hi_ = *rate;
    refining_ = true;
    if (hi_ - lo_ < 200)
        refine_left_ = 0;
}

} // namespace pilehub::bench::ingest
