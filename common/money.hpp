#pragma once
#include <compare>
#include <cstdint>
#include <string>

namespace pilehub {

/// An amount of money in fen (0.01 CNY). Integer only: there is no constructor from double.
class Fen {
public:
    constexpr Fen() = default;
    constexpr explicit Fen(std::int64_t fen) : v_(fen) {}
    constexpr std::int64_t value() const { return v_; }
    constexpr auto operator<=>(const Fen&) const = default;
    Fen operator+(Fen o) const;
    Fen operator-(Fen o) const;
    Fen operator-() const;
    Fen& operator+=(Fen o) { return *this = *this + o; }
    Fen& operator-=(Fen o) { return *this = *this - o; }
    /// "12.34" (yuan with two decimals), for people; never parsed back.
    std::string yuan_string() const;

private:
    std::int64_t v_ = 0;
};

/// Energy in watt-hours. Integer only.
class Wh {
public:
    constexpr Wh() = default;
    constexpr explicit Wh(std::int64_t wh) : v_(wh) {}
    constexpr std::int64_t value() const { return v_; }
    constexpr auto operator<=>(const Wh&) const = default;
    Wh operator+(Wh o) const;
    Wh operator-(Wh o) const;
    Wh& operator+=(Wh o) { return *this = *this + o; }

private:
    std::int64_t v_ = 0;
};

/// An exact amount of money below fen precision, used while a bill is computed.
/// The unit is 1/900 000 000 fen: the least common multiple of what tariffs need
/// (fen per hour applied to whole seconds: /3600; 0.0001 yuan per kWh applied to mWh: /10^8),
/// so every tariff term is exact and a bill is rounded exactly once, by floor_fen().
class ExactFen {
public:
    static constexpr std::int64_t kUnitsPerFen = 900'000'000;

    constexpr ExactFen() = default;
    static ExactFen from_fen(Fen f);
    /// seconds × fen_per_hour / 3600, exactly.
    static ExactFen from_seconds_at(std::int64_t seconds, std::int64_t fen_per_hour);
    /// mWh × price (0.0001 yuan per kWh), exactly.
    static ExactFen from_mwh_at_e4(std::int64_t mwh, std::int64_t e4_per_kwh);
    static constexpr ExactFen from_units(std::int64_t units) { return ExactFen(units); }

    constexpr std::int64_t units() const { return u_; }
    constexpr auto operator<=>(const ExactFen&) const = default;
    ExactFen operator+(ExactFen o) const;
    ExactFen operator-(ExactFen o) const;
    ExactFen& operator+=(ExactFen o) { return *this = *this + o; }

    /// The one rounding rule of PileHub: down to whole fen (toward minus infinity).
    Fen floor_fen() const;
    /// Whether the amount is a whole number of fen.
    bool is_whole_fen() const { return u_ % kUnitsPerFen == 0; }

private:
    constexpr explicit ExactFen(std::int64_t u) : u_(u) {}
    std::int64_t u_ = 0;
};

/// UTC time in epoch milliseconds (storage and wire format).
using EpochMs = std::int64_t;

} // namespace pilehub
