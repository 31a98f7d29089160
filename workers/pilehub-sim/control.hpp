#pragma once
#include "common/json.hpp"
#include "common/payloads/camera.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pilehub::sim {

/// What a control line asks for (README "Control interface").
enum class ControlOp {
    NoLoad,     ///< `noload <dev> <n>`: the socket's charger draws nothing (now and for its next session)
    Overload,   ///< `overload <dev> <n> <watts>`: the socket draws `watts`
    Fault,      ///< `fault <dev> <n|0> <code> [clear]`: raise or clear a fault on a socket/gun or the device
    Temp,       ///< `temp <dev> <celsius>`: the device's temperature (`temp <dev> auto` goes back to the model)
    Disconnect, ///< `disconnect <dev|all> <seconds>`: drop the connection (Will), reconnect after `seconds`
    Unplug,     ///< `unplug <dev> <n>`: the plug is pulled out
    Full,       ///< `full <dev> <n>`: the battery is full now
    Swipe,      ///< `swipe <dev> <n> <card_uid>`: a card (EV: an id tag) at socket/gun n
    Plate,      ///< `plate <cam> <space> <plate> in|out [colour]`: a car enters or leaves a space
    Speed,      ///< `speed <factor>`: time acceleration of the whole fleet
    Disable,    ///< `disable <dev> <n> on|off`: take a socket out of service (st `disabled`)
    Plug,       ///< `plug <dev> <n>`: EV: a car is plugged in (gun `preparing`)
    LockJam,    ///< `lockjam <cam> <space> on|off`: the space's ground lock jams (next move fails)
    Drop,       ///< `drop <dev> <command> <count>`: the next `count` `cmd/<command>` are lost (0: none)
    Soc,        ///< `soc <dev> <n> <pct>`: EV: the state of charge of the car at gun n
    Traffic,    ///< `traffic <cam|all> on|off`: cars arrive at the camera's free spaces, park and leave
    OtaFail,    ///< `otafail <dev> checksum|install|refuse|off`: how the device's next firmware updates fail
};

/// One parsed control line.
struct ControlCommand {
    ControlOp op = ControlOp::Speed;
    /// Device id, or `all` (disconnect and traffic only).
    std::string device;
    /// Socket, gun or space; 0 = the whole device (fault only).
    int n = 0;
    double watts = 0;
    std::string code;
    /// fault: `clear`; disable/lockjam/traffic: `off`; plate: `out`.
    bool clear = false;
    /// temp: the temperature; nullopt = `auto`.
    std::optional<double> celsius;
    std::int64_t seconds = 0;
    std::string card_uid;
    std::string plate;
    /// plate: the colour given on the line; nullopt = guessed from the plate (8 characters: green, else blue).
    std::optional<payloads::PlateColor> plate_color;
    double speed = 1;
    /// otafail: `checksum` (the downloaded image does not match), `install` (the install is refused),
    /// `refuse` (cmd/ota is answered `rejected`), or `off` (updates succeed); in `code`.
    /// drop: the command name (`stop_port`) and how many of the next ones are lost.
    std::string command;
    int count = 0;
    /// soc: the car's state of charge, 0..100.
    double soc_pct = 0;
};

/// Parses one control line (words separated by blanks; `#` starts a comment). The failure says
/// what is wrong and the expected form.
Result<ControlCommand> parse_control(std::string_view line);

/// The usage text of every control line.
std::string_view control_usage();

} // namespace pilehub::sim
