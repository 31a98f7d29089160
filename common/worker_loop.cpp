#include "common/worker_loop.hpp"

#include "common/db.hpp"
#include "common/log.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pilehub::worker {
namespace {

constexpr std::string_view kSpoolMagic = "pilehub-spool 1\n";
constexpr std::int64_t kLagLogEveryMs = 10'000;

void write_all(int fd, std::string_view bytes, const std::string& path) {
    while (!bytes.empty()) {
        const auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void fsync_dir(const std::string& file) {
    auto dir = std::filesystem::path(file).parent_path();
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

} // namespace

bool retryable(const std::exception& e) {
    const auto* d = dynamic_cast<const db::Error*>(&e);
    if (!d)
        return false;
    switch (d->code() & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        return true;
    default:
        return false;
    }
}

// ---- spool -------------------------------------------------------------------------------------

void Spool::save(const std::vector<mqtt::Message>& messages) const {
    std::string text(kSpoolMagic);
    for (const auto& m : messages) {
        text += std::to_string(m.qos) + ' ' + (m.retained ? '1' : '0') + ' ' + std::to_string(m.topic.size()) + ' ' +
                std::to_string(m.payload.size()) + '\n';
        text += m.topic;
        text += m.payload;
        text += '\n';
    }
    const auto tmp = path_ + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
    try {
        write_all(fd, text, tmp);
        if (::fsync(fd) != 0)
            throw std::runtime_error("cannot fsync " + tmp + ": " + std::strerror(errno));
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path_.c_str()) != 0)
        throw std::runtime_error("cannot rename " + tmp + ": " + std::strerror(errno));
    fsync_dir(path_);
}

std::vector<mqtt::Message> Spool::load() const {
    std::vector<mqtt::Message> out;
    std::ifstream in(path_, std::ios::binary);
    if (!in)
        return out;
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    if (text.rfind(kSpoolMagic, 0) != 0) {
        log::error("spool {} is not a spool file: ignored", path_);
        return out;
    }
    std::size_t pos = kSpoolMagic.size();
    while (pos < text.size()) {
        const auto eol = text.find('\n', pos);
        if (eol == std::string::npos)
            break;
        std::istringstream head(text.substr(pos, eol - pos));
        int qos = 0, retained = 0;
        std::size_t topic_len = 0, payload_len = 0;
        if (!(head >> qos >> retained >> topic_len >> payload_len) || eol + 1 + topic_len + payload_len > text.size()) {
            log::error("spool {}: a damaged record at byte {}: the rest is ignored", path_, pos);
            break;
        }
        mqtt::Message m;
        m.qos = qos;
        m.retained = retained != 0;
        m.topic = text.substr(eol + 1, topic_len);
        m.payload = text.substr(eol + 1 + topic_len, payload_len);
        m.duplicate = true;
        out.push_back(std::move(m));
        pos = eol + 1 + topic_len + payload_len + 1;
    }
    return out;
}

void Spool::clear() const {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    fsync_dir(path_);
}

std::string spool_path(const std::string& data_dir, std::string_view process) {
    return (std::filesystem::path(data_dir) / (std::string(process) + ".spool")).string();
}

// ---- loop --------------------------------------------------------------------------------------

Loop::Loop(const Clock& clock, Options options, Handler on_message, Task on_tick)
    : clock_(clock), options_(std::move(options)), on_message_(std::move(on_message)), on_tick_(std::move(on_tick)) {
    if (!options_.give_up)
        options_.give_up = [] { std::_Exit(1); };
    if (!options_.sleep)
        options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
    if (options_.queue_max == 0)
        options_.queue_max = 1;
}

Loop::~Loop() {
    stop();
}

bool Loop::push(Item item, bool may_drop) {
    std::unique_lock l(m_);
    if (stopped_)
        return false;
    if (queue_.size() >= options_.queue_max) {
        if (may_drop) {
            ++stats_.dropped;
            if (stats_.dropped % 1000 == 1)
                log::warn("{} loop: falling behind: {} items queued, {} QoS 0 messages dropped so far", options_.name,
                          queue_.size(), stats_.dropped);
            return false;
        }
        // Back-pressure: the producer (Paho's callback thread) waits, and the broker queues for us.
        // Never from the consumer itself, nor before the consumer runs (tests drain by hand).
        if (thread_.joinable() && std::this_thread::get_id() != consumer_)
            room_cv_.wait(l, [&] { return queue_.size() < options_.queue_max || stopping_; });
    }
    item.posted_mono = monotonic_ms();
    item.posted_ms = clock_.now_ms();
    const bool was_empty = queue_.empty();
    queue_.push_back(std::move(item));
    l.unlock();
    if (was_empty)
        cv_.notify_one();
    return true;
}

bool Loop::post(mqtt::Message m) {
    try {
        const bool may_drop = m.qos == 0;
        Item item;
        item.message = std::move(m);
        return push(std::move(item), may_drop);
    } catch (const std::exception& e) {
        log::error("{} loop: cannot queue a message: {}", options_.name, e.what());
        return false;
    }
}

void Loop::post(Task task, std::vector<mqtt::Message> origin) {
    Item item;
    item.task = std::move(task);
    item.origin = std::move(origin);
    push(std::move(item), false);
}

std::size_t Loop::replay_spool() {
    if (!options_.spool)
        return 0;
    auto messages = options_.spool->load();
    if (messages.empty())
        return 0;
    log::warn("{} loop: replaying {} messages spooled by the last run from {}", options_.name, messages.size(),
              options_.spool->path());
    std::lock_guard l(m_);
    if (stopped_)
        return 0; // a loop that gave up takes nothing more (tests: the spool is for the next one)
    const auto now = monotonic_ms();
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
        Item item;
        item.message = std::move(*it);
        item.posted_mono = now;
        item.posted_ms = clock_.now_ms();
        item.replayed = true;
        queue_.push_front(std::move(item));
    }
    replay_left_ += messages.size();
    return messages.size();
}

void Loop::start() {
    if (thread_.joinable())
        return;
    replay_spool();
    std::lock_guard l(m_);
    stopping_ = false;
    stopped_ = false;
    thread_ = std::thread([this] { run(); });
    consumer_ = thread_.get_id();
}

void Loop::stop() {
    {
        std::lock_guard l(m_);
        if (stopped_ && !thread_.joinable())
            return;
        stopping_ = true;
    }
    cv_.notify_all();
    room_cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    } else {
        // Never started (tests, or a start-up failure): nothing runs what is queued.
        std::lock_guard l(m_);
        stopped_ = true;
    }
}

void Loop::run() {
    try {
        for (;;) {
            bool have = false;
            {
                std::unique_lock l(m_);
                auto ready = [&] { return stopping_ || !queue_.empty(); };
                if (on_tick_ && options_.tick.count() > 0) {
                    const auto wait = std::clamp<std::int64_t>(next_tick_ - clock_.now_ms(), 0, options_.tick.count());
                    cv_.wait_for(l, std::chrono::milliseconds(wait), ready);
                } else {
                    cv_.wait(l, ready);
                }
                if (!queue_.empty()) {
                    current_ = std::move(queue_.front());
                    queue_.pop_front();
                    have = true;
                } else if (stopping_) {
                    stopped_ = true;
                    break;
                }
            }
            if (have) {
                room_cv_.notify_one();
                run_current();
            }
            maybe_tick();
            report_lag();
        }
        if (on_tick_)
            with_retry("the last tick", on_tick_);
    } catch (const GaveUp&) {
        // Only when give_up returned (tests): the loop is over.
    }
}

std::size_t Loop::drain() {
    std::size_t ran = 0;
    for (;;) {
        {
            std::lock_guard l(m_);
            if (queue_.empty())
                break;
            current_ = std::move(queue_.front());
            queue_.pop_front();
        }
        run_current();
        ++ran;
    }
    maybe_tick();
    return ran;
}

void Loop::tick_now() {
    if (!on_tick_)
        return;
    next_tick_ = clock_.now_ms() + options_.tick.count();
    {
        std::lock_guard l(m_);
        ++stats_.ticks;
    }
    with_retry("tick", on_tick_);
}

void Loop::maybe_tick() {
    if (!on_tick_ || options_.tick.count() <= 0)
        return;
    const auto now = clock_.now_ms();
    if (next_tick_ != 0 && now < next_tick_)
        return;
    tick_now();
}

void Loop::run_current() {
    // current_ changes only on this thread; other threads read it under m_ (fail_hard).
    const Item& item = *current_;
    if (item.message) {
        const auto& m = *item.message;
        with_retry(m.topic, [&] { on_message_(m); });
    } else if (item.task) {
        with_retry("queued work", item.task);
    }
    std::lock_guard l(m_);
    ++stats_.handled;
    if (item.replayed) {
        ++stats_.replayed;
        if (replay_left_ > 0 && --replay_left_ == 0 && options_.spool) {
            options_.spool->clear();
            log::info("{} loop: every spooled message is handled; spool removed", options_.name);
        }
    }
    current_.reset();
}

void Loop::count_error() {
    std::lock_guard l(m_);
    ++stats_.errors;
}

void Loop::with_retry(std::string_view what, const Task& step) {
    auto wait = options_.retry.first;
    const int attempts = options_.retry_failures ? std::max(1, options_.retry.attempts) : 1;
    for (int attempt = 1;; ++attempt) {
        try {
            step();
            return;
        } catch (const GaveUp&) {
            throw;
        } catch (const std::exception& e) {
            count_error();
            if (!options_.retry_failures || !retryable(e)) {
                log::error("{} loop: {} failed (skipped): {}", options_.name, what, e.what());
                return;
            }
            if (attempt >= attempts)
                fail_hard(what, e, attempt);
            log::warn("{} loop: {} failed (try {} of {}), trying again in {} ms: {}", options_.name, what, attempt,
                      attempts, wait.count(), e.what());
            {
                std::lock_guard l(m_);
                ++stats_.retries;
            }
            options_.sleep(wait);
            wait = std::min(options_.retry.longest, wait * 2);
        }
    }
}

void Loop::run_inline(const mqtt::Message& m, const Handler& handler) {
    with_retry(m.topic, [&] { handler(m); });
}

void Loop::fail_hard(std::string_view what, const std::exception& e, int tries) {
    std::vector<mqtt::Message> keep;
    {
        std::lock_guard l(m_);
        auto add = [&](const Item& item) {
            if (item.message)
                keep.push_back(*item.message);
            for (const auto& o : item.origin)
                keep.push_back(o);
        };
        if (current_)
            add(*current_);
        for (const auto& item : queue_)
            add(item);
        stopped_ = true; // nothing more is accepted
    }
    std::string spooled = "nothing to spool";
    if (options_.spool && !keep.empty()) {
        try {
            options_.spool->save(keep);
            spooled = fmt::format("{} messages spooled to {}", keep.size(), options_.spool->path());
        } catch (const std::exception& x) {
            spooled = fmt::format("{} messages LOST: {}", keep.size(), x.what());
        }
    } else if (!keep.empty()) {
        spooled = fmt::format("{} queued messages not kept (no spool)", keep.size());
    }
    log::error("{} loop: {} still fails after {} tries ({}); {}; exiting with code 1 so that the broker and "
               "the spool deliver it again",
               options_.name, what, tries, e.what(), spooled);
    options_.give_up();
    throw GaveUp{};
}

void Loop::report_lag() {
    const auto now = monotonic_ms();
    std::size_t n = 0;
    std::int64_t age = 0;
    {
        std::lock_guard l(m_);
        if (queue_.empty() || now < next_lag_log_)
            return;
        age = now - queue_.front().posted_mono;
        n = queue_.size();
        if (age < options_.lag_warn.count())
            return;
        next_lag_log_ = now + kLagLogEveryMs;
    }
    log::warn("{} loop: falling behind: {} items queued, the oldest {} ms old", options_.name, n, age);
}

EpochMs Loop::current_posted_ms() const {
    if (current_ && (!thread_.joinable() || std::this_thread::get_id() == consumer_))
        return current_->posted_ms;
    return clock_.now_ms();
}

Stats Loop::stats() const {
    std::lock_guard l(m_);
    Stats s = stats_;
    s.queued = queue_.size();
    s.lag_ms = queue_.empty() ? 0 : std::max<std::int64_t>(0, monotonic_ms() - queue_.front().posted_mono);
    return s;
}

std::size_t Loop::queued() const {
    std::lock_guard l(m_);
    return queue_.size();
}

} // namespace pilehub::worker
