#include "workers/pilehub-sim/curves.hpp"

#include <algorithm>
#include <cmath>

namespace pilehub::sim {

std::uint32_t Rng::seed_of(const char* s, std::uint32_t salt) {
    std::uint32_t h = 2166136261u ^ salt;
    for (; *s; ++s) {
        h ^= static_cast<unsigned char>(*s);
        h *= 16777619u;
    }
    return h ? h : 1u;
}

std::int64_t Rng::exponential(std::int64_t mean) {
    // 1 - u is in (0, 1]: the logarithm is finite.
    const double x = -static_cast<double>(mean) * std::log(1.0 - uniform(0, 1));
    return std::max<std::int64_t>(1, std::llround(x));
}

EbikeCurve::EbikeCurve(double cc_power_w, std::int64_t full_after_ms, double trickle_w)
    : cc_power_w_(cc_power_w), full_after_ms_(std::max<std::int64_t>(full_after_ms, 1000)), trickle_w_(trickle_w) {
    // Constant current for the first 60 %, then the charger's voltage phase tapers the current.
    cc_until_ms_ = full_after_ms_ * 6 / 10;
    const double taper_ms = static_cast<double>(full_after_ms_ - cc_until_ms_);
    taper_per_ms_ = std::log(cc_power_w_ / trickle_w_) / taper_ms;
}

EbikeCurve EbikeCurve::typical(Rng& rng) {
    const double p = rng.uniform(150, 250);
    const auto full_ms = rng.between(2 * 3600, 6 * 3600) * 1000;
    return EbikeCurve(p, full_ms, rng.uniform(1.0, 3.0));
}

double EbikeCurve::power_at(std::int64_t t) const {
    if (t < 0)
        return 0;
    if (t < cc_until_ms_)
        return cc_power_w_;
    if (t >= full_after_ms_)
        return trickle_w_;
    return cc_power_w_ * std::exp(-taper_per_ms_ * static_cast<double>(t - cc_until_ms_));
}

EvBattery EvBattery::arriving(Rng& rng) {
    return EvBattery(rng.uniform(40'000, 100'000), rng.uniform(10, 50));
}

double EvBattery::accepted_power_w(double charger_max_w, bool dc) const {
    if (soc_pct_ >= 100.0)
        return 0;
    if (!dc) {
        if (soc_pct_ < 95.0)
            return charger_max_w;
        // Linear from full power at 95 % to 15 % of it at 100 %.
        return charger_max_w * (1.0 - 0.85 * (soc_pct_ - 95.0) / 5.0);
    }
    if (soc_pct_ < kDcTaperFromPct)
        return charger_max_w;
    // DC: the car cuts the current hard above 80 %: to 10 % of full power at 100 %.
    return charger_max_w * (1.0 - 0.9 * (soc_pct_ - kDcTaperFromPct) / (100.0 - kDcTaperFromPct));
}

void EvBattery::set_soc_pct(double pct) {
    soc_pct_ = std::clamp(pct, 0.0, 100.0);
}

void EvBattery::charge_wh(double wh) {
    soc_pct_ = std::min(100.0, soc_pct_ + 100.0 * wh / capacity_wh_);
}

void EnergyMeter::add(double power_w, std::int64_t dt_ms) {
    if (power_w <= 0 || dt_ms <= 0)
        return;
    // W × ms / 3600 = mWh.
    mwh_ += std::llround(power_w * static_cast<double>(dt_ms) / 3600.0);
}

} // namespace pilehub::sim
