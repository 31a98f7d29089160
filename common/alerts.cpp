#include "common/alerts.hpp"

#include <fmt/format.h>

namespace pilehub::alerts {

std::string_view to_string(State s) {
    return kStates[static_cast<std::size_t>(s)];
}

std::optional<State> parse_state(std::string_view s) {
    for (std::size_t i = 0; i < kStates.size(); ++i)
        if (kStates[i] == s)
            return static_cast<State>(i);
    return std::nullopt;
}

std::string_view to_string(Event e) {
    static constexpr std::array<std::string_view, 4> k{"raise", "clear", "ack", "resolve"};
    return k[static_cast<std::size_t>(e)];
}

std::string_view to_string(Slot s) {
    static constexpr std::array<std::string_view, 4> k{"none", "open", "acknowledged", "resolved"};
    return k[static_cast<std::size_t>(s)];
}

std::string_view to_string(Action a) {
    static constexpr std::array<std::string_view, 7> k{"nothing", "open",   "touch", "ack",
                                                       "resolve", "forget", "refuse"};
    return k[static_cast<std::size_t>(a)];
}

Step handle(Slot slot, Event event) {
    switch (slot) {
    case Slot::None:
        switch (event) {
        case Event::Raise:
            return {Action::Open, Slot::Open};
        case Event::Clear:
            return {Action::Nothing, Slot::None};
        case Event::Ack:
        case Event::Resolve:
            return {Action::Refuse, Slot::None};
        }
        break;
    case Slot::Open:
    case Slot::Acknowledged:
        switch (event) {
        case Event::Raise:
            return {Action::Touch, slot};
        case Event::Clear:
            return {Action::Resolve, Slot::None};
        case Event::Ack:
            if (slot == Slot::Acknowledged)
                return {Action::Refuse, slot};
            return {Action::Ack, Slot::Acknowledged};
        case Event::Resolve:
            return {Action::Resolve, Slot::Resolved};
        }
        break;
    case Slot::Resolved:
        switch (event) {
        case Event::Raise:
            return {Action::Nothing, Slot::Resolved};
        case Event::Clear:
            return {Action::Forget, Slot::None};
        case Event::Ack:
        case Event::Resolve:
            return {Action::Refuse, Slot::Resolved};
        }
        break;
    }
    return {Action::Nothing, slot};
}

std::string dedup_key(std::string_view kind, std::string_view device_id, std::int64_t n) {
    return fmt::format("{}:{}:{}", kind, device_id, n);
}

std::string dedup_key(std::string_view kind, std::string_view subject) {
    return fmt::format("{}:{}", kind, subject);
}

std::string_view severity_of(std::string_view kind) {
    if (kind == kOverTemp)
        return "critical";
    if (kind == kStuckSession)
        return "minor";
    return "major";
}

} // namespace pilehub::alerts
