#include "workers/pilehub-sim/control.hpp"

#include "common/parking.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <vector>

namespace pilehub::sim {
namespace {

std::vector<std::string_view> words(std::string_view line) {
    if (auto hash = line.find('#'); hash != std::string_view::npos)
        line = line.substr(0, hash);
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            ++i;
        const auto start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            ++i;
        if (i > start)
            out.push_back(line.substr(start, i - start));
    }
    return out;
}

std::optional<std::int64_t> to_int(std::string_view s, std::int64_t lo, std::int64_t hi) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
        return std::nullopt;
    return v;
}

std::optional<double> to_num(std::string_view s, double lo, double hi) {
    // from_chars for double is in GCC 12's libstdc++.
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < lo || v > hi)
        return std::nullopt;
    return v;
}

bool snake(std::string_view s) {
    if (s.empty() || s.size() > 32)
        return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

bool alnum(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > max)
        return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    return true;
}

} // namespace

std::string_view control_usage() {
    return "noload <dev> <n> | overload <dev> <n> <watts> | fault <dev> <n|0> <code> [clear] | "
           "temp <dev> <celsius|auto> | disconnect <dev|all> <seconds> | unplug <dev> <n> | full <dev> <n> | "
           "swipe <dev> <n> <card_uid> | plate <cam> <space> <plate> in|out "
           "[blue|yellow|green|white|black|yellow_green] | "
           "speed <factor> | "
           "disable <dev> <n> on|off | plug <dev> <n> | lockjam <cam> <space> on|off | drop <dev> <command> <count> | "
           "soc <dev> <n> <pct> | traffic <cam|all> on|off | otafail <dev> checksum|install|refuse|off";
}

Result<ControlCommand> parse_control(std::string_view line) {
    using R = Result<ControlCommand>;
    const auto w = words(line);
    if (w.empty())
        return R::failure("empty line");
    const auto verb = w[0];
    ControlCommand c;
    auto want = [&](std::size_t lo, std::size_t hi, std::string_view form) -> std::optional<std::string> {
        if (w.size() < lo || w.size() > hi)
            return fmt::format("usage: {}", form);
        return std::nullopt;
    };
    auto device = [&](std::string_view form) -> std::optional<std::string> {
        if (!topics::valid_device_id(w[1]))
            return fmt::format("\"{}\" is not a device id (usage: {})", w[1], form);
        c.device = std::string(w[1]);
        return std::nullopt;
    };
    auto device_or_all = [&](std::string_view form) -> std::optional<std::string> {
        if (w[1] != "all")
            return device(form);
        c.device = "all";
        return std::nullopt;
    };
    auto port = [&](std::string_view s, int lo, std::string_view form) -> std::optional<std::string> {
        auto n = to_int(s, lo, 64);
        if (!n)
            return fmt::format("\"{}\" is not a socket number {}..64 (usage: {})", s, lo, form);
        c.n = static_cast<int>(*n);
        return std::nullopt;
    };
    auto on_off = [&](std::string_view s, std::string_view form) -> std::optional<std::string> {
        if (s == "on")
            c.clear = false;
        else if (s == "off")
            c.clear = true;
        else
            return fmt::format("expected on or off (usage: {})", form);
        return std::nullopt;
    };
    std::optional<std::string> e;
    if (verb == "noload" || verb == "unplug" || verb == "full" || verb == "plug") {
        const auto form = fmt::format("{} <dev> <n>", verb);
        c.op = verb == "noload"   ? ControlOp::NoLoad
               : verb == "unplug" ? ControlOp::Unplug
               : verb == "full"   ? ControlOp::Full
                                  : ControlOp::Plug;
        if (!(e = want(3, 3, form)) && !(e = device(form)))
            e = port(w[2], 1, form);
    } else if (verb == "overload") {
        constexpr std::string_view form = "overload <dev> <n> <watts>";
        c.op = ControlOp::Overload;
        if (!(e = want(4, 4, form)) && !(e = device(form)) && !(e = port(w[2], 1, form))) {
            auto v = to_num(w[3], 0, 100000);
            if (!v)
                e = fmt::format("\"{}\" is not a power in watts (usage: {})", w[3], form);
            else
                c.watts = *v;
        }
    } else if (verb == "soc") {
        constexpr std::string_view form = "soc <dev> <n> <pct>";
        c.op = ControlOp::Soc;
        if (!(e = want(4, 4, form)) && !(e = device(form)) && !(e = port(w[2], 1, form))) {
            auto v = to_num(w[3], 0, 100);
            if (!v)
                e = fmt::format("\"{}\" is not a state of charge 0..100 (usage: {})", w[3], form);
            else
                c.soc_pct = *v;
        }
    } else if (verb == "fault") {
        constexpr std::string_view form = "fault <dev> <n|0> <code> [clear]";
        c.op = ControlOp::Fault;
        if (!(e = want(4, 5, form)) && !(e = device(form)) && !(e = port(w[2], 0, form))) {
            if (!snake(w[3]))
                e = fmt::format("\"{}\" is not a snake_case fault code (usage: {})", w[3], form);
            c.code = std::string(w[3]);
            if (w.size() == 5) {
                if (w[4] != "clear")
                    e = fmt::format("expected \"clear\" (usage: {})", form);
                c.clear = true;
            }
        }
    } else if (verb == "temp") {
        constexpr std::string_view form = "temp <dev> <celsius|auto>";
        c.op = ControlOp::Temp;
        if (!(e = want(3, 3, form)) && !(e = device(form))) {
            if (w[2] != "auto") {
                auto v = to_num(w[2], -50, 200);
                if (!v)
                    e = fmt::format("\"{}\" is not a temperature -50..200 (usage: {})", w[2], form);
                c.celsius = v;
            }
        }
    } else if (verb == "disconnect") {
        constexpr std::string_view form = "disconnect <dev|all> <seconds>";
        c.op = ControlOp::Disconnect;
        if (!(e = want(3, 3, form)) && !(e = device_or_all(form))) {
            auto s = to_int(w[2], 0, 86400);
            if (!s)
                e = fmt::format("\"{}\" is not a number of seconds 0..86400 (usage: {})", w[2], form);
            else
                c.seconds = *s;
        }
    } else if (verb == "swipe") {
        constexpr std::string_view form = "swipe <dev> <n> <card_uid>";
        c.op = ControlOp::Swipe;
        if (!(e = want(4, 4, form)) && !(e = device(form)) && !(e = port(w[2], 1, form))) {
            if (!alnum(w[3], 20))
                e = fmt::format("\"{}\" is not a card uid [A-Za-z0-9]{{1,20}} (usage: {})", w[3], form);
            c.card_uid = std::string(w[3]);
        }
    } else if (verb == "plate") {
        constexpr std::string_view form =
            "plate <cam> <space> <plate> in|out [blue|yellow|green|white|black|yellow_green]";
        c.op = ControlOp::Plate;
        if (!(e = want(5, 6, form)) && !(e = device(form)) && !(e = port(w[2], 1, form))) {
            if (w[3].empty() || w[3].size() > 32)
                e = fmt::format("a plate is 1..32 bytes (usage: {})", form);
            c.plate = std::string(w[3]);
            if (w[4] == "in")
                c.clear = false;
            else if (w[4] == "out")
                c.clear = true;
            else
                e = fmt::format("expected in or out (usage: {})", form);
            if (w.size() == 6 && !e) {
                c.plate_color = parking::parse_plate_color(w[5]);
                if (!c.plate_color)
                    e = fmt::format("\"{}\" is not a plate colour (usage: {})", w[5], form);
            }
        }
    } else if (verb == "traffic") {
        constexpr std::string_view form = "traffic <cam|all> on|off";
        c.op = ControlOp::Traffic;
        if (!(e = want(3, 3, form)) && !(e = device_or_all(form)))
            e = on_off(w[2], form);
    } else if (verb == "speed") {
        constexpr std::string_view form = "speed <factor>";
        c.op = ControlOp::Speed;
        if (!(e = want(2, 2, form))) {
            auto v = to_num(w[1], 0.01, 100000);
            if (!v)
                e = fmt::format("\"{}\" is not a factor 0.01..100000 (usage: {})", w[1], form);
            else
                c.speed = *v;
        }
    } else if (verb == "disable" || verb == "lockjam") {
        const auto form = fmt::format("{} <dev> <n> on|off", verb);
        c.op = verb == "disable" ? ControlOp::Disable : ControlOp::LockJam;
        if (!(e = want(4, 4, form)) && !(e = device(form)) && !(e = port(w[2], 1, form)))
            e = on_off(w[3], form);
    } else if (verb == "drop") {
        constexpr std::string_view form = "drop <dev> <command> <count>";
        c.op = ControlOp::Drop;
        if (!(e = want(4, 4, form)) && !(e = device(form))) {
            if (!snake(w[2]))
                e = fmt::format("\"{}\" is not a snake_case command name (usage: {})", w[2], form);
            c.command = std::string(w[2]);
            if (auto n = to_int(w[3], 0, 1000))
                c.count = static_cast<int>(*n);
            else if (!e)
                e = fmt::format("\"{}\" is not a count 0..1000 (usage: {})", w[3], form);
        }
    } else if (verb == "otafail") {
        constexpr std::string_view form = "otafail <dev> checksum|install|refuse|off";
        c.op = ControlOp::OtaFail;
        if (!(e = want(3, 3, form)) && !(e = device(form))) {
            c.code = std::string(w[2]);
            if (c.code != "checksum" && c.code != "install" && c.code != "refuse" && c.code != "off")
                e = fmt::format("\"{}\" is not checksum, install, refuse or off (usage: {})", w[2], form);
        }
    } else {
        return R::failure(fmt::format("unknown control \"{}\"; one of: {}", verb, control_usage()));
    }
    if (e)
        return R::failure(*e);
    return R(std::move(c));
}

} // namespace pilehub::sim
