#pragma once
#include "common/error_codes.hpp"

#include <optional>
#include <string>
#include <string_view>

/// A device's lifecycle (CONTRACT G "Lifecycle", seed 004 设备管理; `devices.lifecycle`, schema/core/018):
/// registered without a station it is in `stock`; installing it at a station makes it `installed`;
/// relocating moves an installed device to another station; `retired` is final (the broker refuses it).
namespace pilehub::lifecycle {

enum class Stage { Stock, Installed, Retired };
/// `stock`, `installed`, `retired`.
const char* to_string(Stage s);
std::optional<Stage> parse_stage(std::string_view s);

/// What an operator asks of a device.
enum class Action {
    Install,  ///< put a device in stock at a station
    Relocate, ///< move an installed device to another station (or another area of its station)
    Retire,   ///< take a device out of service for good
};
const char* to_string(Action a);

/// What the transition needs to know besides the stage.
struct Facts {
    bool session_live = false; ///< a session holds one of the device's sockets or guns
};

/// The outcome: the next stage, or a refusal (conflict) with its reason.
struct Outcome {
    std::optional<Stage> next;
    std::optional<ErrorCode> refusal;
    std::string why;
};

/// The one transition table. Installed devices relocate and retire only while no session is live
/// (the live session keeps its device where it started); retired devices never move again.
Outcome handle(Stage stage, Action action, const Facts& facts);

/// The action a `PUT /admin/devices/{id} {station_id}` means for a device in `stage`: Install for a
/// device in stock, Relocate otherwise (a retired device is then refused by handle()).
Action placement_action(Stage stage);

} // namespace pilehub::lifecycle
