#include "common/device_lifecycle.hpp"

namespace pilehub::lifecycle {

const char* to_string(Stage s) {
    switch (s) {
    case Stage::Stock:
        return "stock";
    case Stage::Installed:
        return "installed";
    case Stage::Retired:
        return "retired";
    }
    return "?";
}

std::optional<Stage> parse_stage(std::string_view s) {
    for (auto st : {Stage::Stock, Stage::Installed, Stage::Retired})
        if (s == to_string(st))
            return st;
    return std::nullopt;
}

const char* to_string(Action a) {
    switch (a) {
    case Action::Install:
        return "install";
    case Action::Relocate:
        return "relocate";
    case Action::Retire:
        return "retire";
    }
    return "?";
}

namespace {
Outcome refuse(std::string why) {
    return Outcome{std::nullopt, ErrorCode::Conflict, std::move(why)};
}
Outcome to(Stage s) {
    return Outcome{s, std::nullopt, {}};
}
} // namespace

Outcome handle(Stage stage, Action action, const Facts& facts) {
    switch (stage) {
    case Stage::Stock:
        switch (action) {
        case Action::Install:
            return to(Stage::Installed);
        case Action::Relocate:
            return refuse("the device is in stock: install it first");
        case Action::Retire:
            return to(Stage::Retired);
        }
        break;
    case Stage::Installed:
        switch (action) {
        case Action::Install:
            return refuse("the device is installed already: relocate it");
        case Action::Relocate:
            if (facts.session_live)
                return refuse("a session is live on the device: relocate it once the session ended");
            return to(Stage::Installed);
        case Action::Retire:
            if (facts.session_live)
                return refuse("a session is live on the device: retire it once the session ended");
            return to(Stage::Retired);
        }
        break;
    case Stage::Retired:
        return refuse("the device is retired");
    }
    return refuse("unknown lifecycle stage");
}

Action placement_action(Stage stage) {
    return stage == Stage::Stock ? Action::Install : Action::Relocate;
}

} // namespace pilehub::lifecycle
