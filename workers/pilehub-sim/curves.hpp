#pragma once
#include <cstdint>

/// Physical behaviour of simulated chargers: what a battery draws over a session.
namespace pilehub::sim {

/// A small deterministic random generator (xorshift32): four bytes per device, seeded from the id.
class Rng {
public:
    explicit Rng(std::uint32_t seed = 2463534242u) : s_(seed ? seed : 2463534242u) {}
    std::uint32_t next() {
        s_ ^= s_ << 13;
        s_ ^= s_ >> 17;
        s_ ^= s_ << 5;
        return s_;
    }
    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) { return lo + (hi - lo) * (next() / 4294967296.0); }
    /// Uniform integer in [lo, hi].
    std::int64_t between(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(next() % static_cast<std::uint32_t>(hi - lo + 1));
    }
    /// Exponentially distributed with this mean (the gaps between independent arrivals); at least 1.
    std::int64_t exponential(std::int64_t mean);
    /// A seed derived from a string (FNV-1a), so one device always behaves the same way.
    static std::uint32_t seed_of(const char* s, std::uint32_t salt = 0);

private:
    std::uint32_t s_;
};

/// An e-bike charger on one socket: constant current at `cc_power_w`, then an exponential taper
/// that reaches `trickle_w` (below the pile's 5 W full threshold) after `full_after_ms`, then trickle.
class EbikeCurve {
public:
    EbikeCurve() = default;
    EbikeCurve(double cc_power_w, std::int64_t full_after_ms, double trickle_w = 2.0);
    /// A typical charger: 150–250 W, full after 2–6 hours.
    static EbikeCurve typical(Rng& rng);
    /// Power drawn `elapsed_ms` (simulated) after the charger switched on, without noise.
    double power_at(std::int64_t elapsed_ms) const;
    double cc_power_w() const { return cc_power_w_; }
    std::int64_t full_after_ms() const { return full_after_ms_; }

private:
    double cc_power_w_ = 200;
    std::int64_t full_after_ms_ = 4 * 3600 * 1000LL;
    std::int64_t cc_until_ms_ = 0;
    double taper_per_ms_ = 0;
    double trickle_w_ = 2.0;
};

/// A car battery behind an EV charger: what it accepts depends on its state of charge.
class EvBattery {
public:
    EvBattery() = default;
    EvBattery(double capacity_wh, double soc_pct) : capacity_wh_(capacity_wh), soc_pct_(soc_pct) {}
    /// DC charging tapers above this state of charge.
    static constexpr double kDcTaperFromPct = 80;
    /// A car arriving: a 40–100 kWh battery, 10–50 % charged (one draw per session from `rng`).
    static EvBattery arriving(Rng& rng);
    /// The power the car takes from a charger able to give `charger_max_w`: AC chargers run flat to
    /// 95 %, DC ones taper above 80 % (linearly to a tenth of it at 100 %); 0 at 100 %.
    double accepted_power_w(double charger_max_w, bool dc) const;
    /// Adds `wh` to the battery: the state of charge rises by 100 × wh / capacity.
    void charge_wh(double wh);
    /// Sets the state of charge (0..100; tests and the `soc` control line).
    void set_soc_pct(double pct);
    double soc_pct() const { return soc_pct_; }
    double capacity_wh() const { return capacity_wh_; }
    bool full() const { return soc_pct_ >= 100.0; }

private:
    double capacity_wh_ = 50'000;
    double soc_pct_ = 30;
};

/// Accumulates energy in integer milliwatt-hours from measured power, so the reported
/// `session_energy_wh` is an integer that never decreases.
class EnergyMeter {
public:
    /// Adds `power_w` held for `dt_ms`.
    void add(double power_w, std::int64_t dt_ms);
    std::int64_t wh() const { return mwh_ / 1000; }
    std::int64_t mwh() const { return mwh_; }
    void reset() { mwh_ = 0; }

private:
    std::int64_t mwh_ = 0;
};

} // namespace pilehub::sim
