#include "common/money.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace pilehub {
namespace {

std::int64_t checked_add(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        throw std::overflow_error("money: addition overflows int64");
    return r;
}
std::int64_t checked_sub(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        throw std::overflow_error("money: subtraction overflows int64");
    return r;
}
std::int64_t checked_mul(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        throw std::overflow_error("money: multiplication overflows int64");
    return r;
}

} // namespace

Fen Fen::operator+(Fen o) const { return Fen(checked_add(v_, o.v_)); }
Fen Fen::operator-(Fen o) const { return Fen(checked_sub(v_, o.v_)); }
Fen Fen::operator-() const { return Fen(checked_sub(0, v_)); }

std::string Fen::yuan_string() const {
    const std::int64_t a = v_ < 0 ? -v_ : v_;
    return fmt::format("{}{}.{:02}", v_ < 0 ? "-" : "", a / 100, a % 100);
}

Wh Wh::operator+(Wh o) const { return Wh(checked_add(v_, o.v_)); }
Wh Wh::operator-(Wh o) const { return Wh(checked_sub(v_, o.v_)); }

ExactFen ExactFen::from_fen(Fen f) { return ExactFen(checked_mul(f.value(), kUnitsPerFen)); }

ExactFen ExactFen::from_seconds_at(std::int64_t seconds, std::int64_t fen_per_hour) {
    // kUnitsPerFen / 3600 = 250 000 units per fen-second-per-hour.
    return ExactFen(checked_mul(checked_mul(seconds, fen_per_hour), kUnitsPerFen / 3600));
}

ExactFen ExactFen::from_mwh_at_e4(std::int64_t mwh, std::int64_t e4_per_kwh) {
    // fen = mWh × e4 / 10^8, and kUnitsPerFen / 10^8 = 9.
    return ExactFen(checked_mul(checked_mul(mwh, e4_per_kwh), kUnitsPerFen / 100'000'000));
}

ExactFen ExactFen::operator+(ExactFen o) const { return ExactFen(checked_add(u_, o.u_)); }
ExactFen ExactFen::operator-(ExactFen o) const { return ExactFen(checked_sub(u_, o.u_)); }

Fen ExactFen::floor_fen() const {
    std::int64_t q = u_ / kUnitsPerFen;
    if (u_ % kUnitsPerFen != 0 && u_ < 0)
        --q;
    return Fen(q);
}

} // namespace pilehub
