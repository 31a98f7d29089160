#pragma once
#include "common/clock.hpp"
#include "common/money.hpp"
#include "common/payloads/camera.hpp"
#include "common/tariff.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The parking words and rules more than one process needs (CONTRACT E.1): plates as they are
/// matched, plate colours, space ids, the fee of a stay, reservation states. Pure: no SQL, no MQTT.
namespace pilehub::parking {

/// The longest plate, in bytes of UTF-8 (payloads' kMaxPlateLen).
inline constexpr std::size_t kMaxPlateLen = 32;
/// The shortest plate, in characters (plates and occupancies: CHECK length(plate) BETWEEN 2 AND 32).
inline constexpr std::size_t kMinPlateChars = 2;

/// A plate as it is stored and matched: ASCII letters upper-cased; spaces, `-` and the middle dot
/// `·` removed; any other character kept (`京a 12345` → `京A12345`). Nothing when the result is
/// shorter than kMinPlateChars characters, longer than kMaxPlateLen bytes, or holds a control character or invalid
/// UTF-8.
std::optional<std::string> normalise_plate(std::string_view raw);

/// `green` and `yellow_green` are new-energy (NEV) plates (CONTRACT E.1).
bool is_nev(payloads::PlateColor c);
/// `blue|yellow|green|white|black|yellow_green`; nothing for any other word (and for `unknown`).
std::optional<payloads::PlateColor> parse_plate_color(std::string_view s);

/// A parking space: space `n` of camera `camera`; its id is `<camera>-<n>`.
struct SpaceId {
    std::string camera;
    int n = 1;
    std::string str() const;
    bool operator==(const SpaceId&) const = default;
    auto operator<=>(const SpaceId&) const = default;
};
/// The most spaces a camera watches (the registry's bound).
inline constexpr int kMaxSpaces = 16;
/// Reads `<camera id>-<n>` (n 1..kMaxSpaces; sockets::parse_socket_code splits it).
std::optional<SpaceId> parse_space_id(std::string_view s);

/// Reservation states: reserved → occupying → completed; cancelled; timed_out.
enum class ReservationState { Reserved, Occupying, Completed, Cancelled, TimedOut };
std::string_view to_string(ReservationState s);
std::optional<ReservationState> parse_reservation_state(std::string_view s);
/// reserved or occupying: holds its space and counts as the account's one active reservation.
bool is_active(ReservationState s);
/// The active states as an SQL list, equal to the partial unique indexes of schema/core/009.
inline constexpr std::string_view kActiveReservationSql = "('reserved', 'occupying')";

/// Occupancy (parking order) states: open while the car is there, then paid, unpaid or free.
enum class OccupancyState { Open, Paid, Unpaid, Free };
std::string_view to_string(OccupancyState s);
std::optional<OccupancyState> parse_occupancy_state(std::string_view s);

/// The parking section that applies when a station's tariff has none: nothing to pay, locks rise
/// 30 s after departure, reservations are held 120 minutes.
billing::ParkingPricing default_parking();

/// What a stay costs (CONTRACT E.1): billable = duration − charging − free minutes (≥ 0; 0 for a
/// whitelisted plate); fee = billable × fen_per_hour / 3600, capped by max_fen, rounded down once.
struct Fee {
    std::int64_t duration_s = 0;
    std::int64_t charging_s = 0;
    std::int64_t billable_s = 0;
    Fen fee_fen;
    bool operator==(const Fee&) const = default;
};
Fee stay_fee(const billing::ParkingPricing& p, EpochMs arrived_at, EpochMs left_at, std::int64_t charging_s,
             bool whitelisted);

/// The seconds of [from, to) covered by [a, b) (0 when they do not meet).
std::int64_t overlap_s(EpochMs from, EpochMs to, EpochMs a, EpochMs b);

} // namespace pilehub::parking
