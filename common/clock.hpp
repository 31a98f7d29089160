#pragma once
#include "common/money.hpp"

#include <atomic>

namespace pilehub {

/// Where time comes from. Rules take a Clock so time-outs are tested without sleeping.
class Clock {
public:
    virtual ~Clock() = default;
    /// Wall-clock UTC epoch milliseconds.
    virtual EpochMs now_ms() const = 0;
};

/// The real wall clock.
class SystemClock final : public Clock {
public:
    EpochMs now_ms() const override;
    static const SystemClock& instance();
};

/// A clock that moves only when told to, for tests.
class ManualClock final : public Clock {
public:
    explicit ManualClock(EpochMs start = 1'732'183'200'000) : t_(start) {}
    EpochMs now_ms() const override { return t_.load(); }
    void set(EpochMs t) { t_.store(t); }
    void advance_ms(EpochMs d) { t_.fetch_add(d); }

private:
    std::atomic<EpochMs> t_;
};

/// Monotonic milliseconds for measuring intervals (never stored).
std::int64_t monotonic_ms();

} // namespace pilehub
