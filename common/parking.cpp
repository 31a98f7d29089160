#include "common/parking.hpp"

#include "common/socket_code.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace pilehub::parking {
namespace {

constexpr std::array<std::string_view, 5> kReservationWords = {"reserved", "occupying", "completed", "cancelled",
                                                               "timed_out"};
constexpr std::array<std::string_view, 4> kOccupancyWords = {"open", "paid", "unpaid", "free"};
constexpr std::string_view kMiddleDot = "\xC2\xB7"; // U+00B7 ·

template <typename E, std::size_t N>
std::optional<E> word_to(const std::array<std::string_view, N>& words, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i)
        if (words[i] == s)
            return static_cast<E>(i);
    return std::nullopt;
}

/// The length of the UTF-8 sequence starting with `c`, or 0 for a byte that cannot start one.
std::size_t utf8_len(unsigned char c) {
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    if ((c & 0xF8) == 0xF0)
        return 4;
    return 0;
}

} // namespace

std::optional<std::string> normalise_plate(std::string_view raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size();) {
        const auto c = static_cast<unsigned char>(raw[i]);
        const auto len = utf8_len(c);
        if (len == 0 || i + len > raw.size())
            return std::nullopt;
        for (std::size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(raw[i + k]) & 0xC0) != 0x80)
                return std::nullopt;
        if (raw.substr(i, len) == kMiddleDot || c == ' ' || c == '-') {
            i += len;
            continue;
        }
        if (c < 0x20 || c == 0x7F)
            return std::nullopt;
        if (len == 1)
            out.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
        else
            out.append(raw.substr(i, len));
        i += len;
    }
    // At least kMinPlateChars characters (the tables' CHECK): a shorter one is no plate.
    std::size_t chars = 0;
    for (unsigned char c : out)
        chars += (c & 0xC0) != 0x80 ? 1 : 0;
    if (chars < kMinPlateChars || out.size() > kMaxPlateLen)
        return std::nullopt;
    return out;
}

bool is_nev(payloads::PlateColor c) {
    return c == payloads::PlateColor::Green || c == payloads::PlateColor::YellowGreen;
}

std::optional<payloads::PlateColor> parse_plate_color(std::string_view s) {
    using payloads::PlateColor;
    for (auto c : {PlateColor::Blue, PlateColor::Yellow, PlateColor::Green, PlateColor::White, PlateColor::Black,
                   PlateColor::YellowGreen})
        if (payloads::to_string(c) == s)
            return c;
    return std::nullopt;
}

std::string SpaceId::str() const {
    return fmt::format("{}-{}", camera, n);
}

std::optional<SpaceId> parse_space_id(std::string_view s) {
    auto ref = sockets::parse_socket_code(s);
    if (!ref || ref->n > kMaxSpaces)
        return std::nullopt;
    return SpaceId{std::move(ref->device_id), ref->n};
}

std::string_view to_string(ReservationState s) {
    return kReservationWords[static_cast<std::size_t>(s)];
}
std::optional<ReservationState> parse_reservation_state(std::string_view s) {
    return word_to<ReservationState>(kReservationWords, s);
}
bool is_active(ReservationState s) {
    return s == ReservationState::Reserved || s == ReservationState::Occupying;
}

std::string_view to_string(OccupancyState s) {
    return kOccupancyWords[static_cast<std::size_t>(s)];
}
std::optional<OccupancyState> parse_occupancy_state(std::string_view s) {
    return word_to<OccupancyState>(kOccupancyWords, s);
}

billing::ParkingPricing default_parking() {
    return billing::ParkingPricing{};
}

std::int64_t overlap_s(EpochMs from, EpochMs to, EpochMs a, EpochMs b) {
    const auto lo = std::max(from, a);
    const auto hi = std::min(to, b);
    return hi > lo ? (hi - lo) / 1000 : 0;
}

Fee stay_fee(const billing::ParkingPricing& p, EpochMs arrived_at, EpochMs left_at, std::int64_t charging_s,
             bool whitelisted) {
    Fee f;
    f.duration_s = std::max<EpochMs>(left_at - arrived_at, 0) / 1000;
    f.charging_s = std::clamp<std::int64_t>(charging_s, 0, f.duration_s);
    if (!whitelisted)
        f.billable_s = std::max<std::int64_t>(f.duration_s - f.charging_s - p.free_minutes * 60, 0);
    std::int64_t fee = f.billable_s * p.fen_per_hour / 3600; // rounded down, once
    if (p.max_fen)
        fee = std::min(fee, p.max_fen->value());
    f.fee_fen = Fen(fee);
    return f;
}

} // namespace pilehub::parking
