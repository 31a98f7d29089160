#include "workers/pilehub-sim/fleet.hpp"

#include "common/topics.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace pilehub::sim {

std::string_view to_string(Kind k) {
    switch (k) {
    case Kind::EbikePile:
        return "ebike_pile";
    case Kind::EvCharger:
        return "ev_charger";
    case Kind::Camera:
        return "camera";
    }
    return "?";
}

std::optional<Kind> parse_kind(std::string_view s) {
    if (s == "ebike_pile")
        return Kind::EbikePile;
    if (s == "ev_charger")
        return Kind::EvCharger;
    if (s == "camera")
        return Kind::Camera;
    return std::nullopt;
}

namespace {

// The same bounds as the registry accepts when a device is provisioned.
constexpr int kMaxSockets = 64;
constexpr int kMaxGunsOrSpaces = 16;

const char* port_key(Kind k) {
    switch (k) {
    case Kind::EbikePile:
        return "sockets";
    case Kind::EvCharger:
        return "guns";
    case Kind::Camera:
        return "spaces";
    }
    return "sockets";
}

// A camera's `guns` member: space number → `<charger id>-<n>`; whether the charger exists is checked
// once the whole file is read. Empty when fine, else why not.
std::string read_space_guns(const rapidjson::Value* v, FleetDevice& d) {
    if (!v)
        return {};
    if (!v->IsObject())
        return "guns is not an object {\"<space>\": \"<charger id>-<n>\"}";
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
        const std::string_view key(it->name.GetString(), it->name.GetStringLength());
        int space = 0;
        auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), space);
        if (ec != std::errc() || p != key.data() + key.size() || space < 1 || space > d.ports)
            return fmt::format("guns: space \"{}\" is not a space of this camera (1..{})", key, d.ports);
        if (!it->value.IsString())
            return fmt::format("guns[\"{}\"] is not a string \"<charger id>-<n>\"", key);
        const std::string_view text(it->value.GetString(), it->value.GetStringLength());
        auto gun = sockets::parse_socket_code(text);
        if (!gun)
            return fmt::format("guns[\"{}\"]: \"{}\" is not \"<charger id>-<n>\"", key, text);
        d.guns[space] = std::move(*gun);
    }
    return {};
}

// Every camera's guns name a gun of an ev_charger this file plays, and no gun serves two spaces.
std::string check_space_guns(const std::vector<FleetDevice>& devices, const std::set<std::string, std::less<>>& ocpp) {
    std::map<std::string, const FleetDevice*, std::less<>> by_id;
    for (const auto& d : devices)
        by_id.emplace(d.id, &d);
    std::map<sockets::SocketRef, std::string> served; // gun → "<camera>-<space>"
    for (const auto& cam : devices) {
        for (const auto& [space, gun] : cam.guns) {
            const auto where = fmt::format("fleet: {} guns[\"{}\"] = \"{}\"", cam.id, space, sockets::socket_code(gun));
            auto it = by_id.find(gun.device_id);
            if (it == by_id.end())
                return fmt::format("{}: {}", where,
                                   ocpp.count(gun.device_id) ? "an OCPP charger, which pilehub-sim does not play"
                                                             : "no such device in this file");
            const auto& ev = *it->second;
            if (ev.kind != Kind::EvCharger)
                return fmt::format("{}: {} is a {}, not an ev_charger", where, ev.id, to_string(ev.kind));
            if (gun.n > ev.ports)
                return fmt::format("{}: {} has guns 1..{}", where, ev.id, ev.ports);
            auto [at, fresh] = served.emplace(gun, sockets::socket_code({cam.id, space}));
            if (!fresh)
                return fmt::format("{}: that gun already serves space {}", where, at->second);
        }
    }
    return {};
}

} // namespace

Result<std::vector<FleetDevice>> parse_fleet(std::string_view text) {
    using R = Result<std::vector<FleetDevice>>;
    // A fleet of 100 000 devices is about 10 MB.
    auto doc = json::parse(text, 64u * 1024 * 1024);
    if (!doc)
        return R::failure("fleet: " + doc.error());
    std::string err;
    auto root = json::Object::root(*doc, &err);
    auto arr = root.req_arr("devices", 1'000'000);
    if (!err.empty())
        return R::failure("fleet: " + err);
    std::vector<FleetDevice> out;
    out.reserve(arr.size());
    std::set<std::string, std::less<>> seen;
    std::set<std::string, std::less<>> ocpp;
    for (std::size_t i = 0; i < arr.size(); ++i) {
        auto o = arr.obj(i);
        const auto where = fmt::format("fleet: devices[{}]", i);
        FleetDevice d;
        d.id = o.req_str("id", 48);
        const auto kind = o.req_str("kind", 32);
        const auto protocol = o.opt_str("protocol", 16).value_or("mqtt");
        if (!err.empty())
            return R::failure("fleet: " + err);
        if (!topics::valid_device_id(d.id))
            return R::failure(fmt::format("{}: id \"{}\" is not [A-Za-z0-9_-]{{1,48}}", where, d.id));
        if (!seen.insert(d.id).second)
            return R::failure(fmt::format("{}: id \"{}\" appears twice", where, d.id));
        if (protocol == "ocpp1.6") {
            // An OCPP charger (pilehubctl fleet provision --ocpp): the simulator does not speak OCPP yet.
            if (kind != "ev_charger")
                return R::failure(fmt::format("{} ({}): protocol ocpp1.6 is for ev_charger", where, d.id));
            ocpp.insert(d.id);
            continue;
        }
        if (protocol != "mqtt")
            return R::failure(fmt::format("{} ({}): protocol \"{}\" is not mqtt or ocpp1.6", where, d.id, protocol));
        d.password = o.req_str("password", 1024);
        if (!err.empty())
            return R::failure("fleet: " + err);
        auto k = parse_kind(kind);
        if (!k)
            return R::failure(
                fmt::format("{} ({}): kind \"{}\" is not ebike_pile, ev_charger or camera", where, d.id, kind));
        d.kind = *k;
        const int max = d.kind == Kind::EbikePile ? kMaxSockets : kMaxGunsOrSpaces;
        // The kind's own word; `sockets` is also accepted for every kind (the registry's name).
        const char* key = port_key(d.kind);
        std::optional<std::int64_t> ports = o.opt_int(key, 1, max);
        if (!ports && err.empty() && d.kind != Kind::EbikePile)
            ports = o.opt_int("sockets", 1, max);
        if (!err.empty())
            return R::failure(fmt::format("fleet: {} ({})", err, d.id));
        if (!ports)
            return R::failure(fmt::format("{} ({}): \"{}\" (1..{}) is required", where, d.id, key, max));
        d.ports = static_cast<int>(*ports);
        if (d.password.empty())
            return R::failure(fmt::format("{} ({}): password is empty", where, d.id));
        if (d.kind == Kind::EvCharger) {
            d.dc = o.opt_bool("dc").value_or(false);
            d.power_w = o.opt_int("power_w", 1'000, 400'000).value_or(0);
        }
        if (d.kind == Kind::Camera)
            if (auto why = read_space_guns(o.raw("guns"), d); !why.empty())
                return R::failure(fmt::format("{} ({}): {}", where, d.id, why));
        if (!err.empty())
            return R::failure(fmt::format("fleet: {} ({})", err, d.id));
        out.push_back(std::move(d));
    }
    if (out.empty())
        return R::failure(!ocpp.empty() ? "fleet: every device is an OCPP charger, which pilehub-sim does not play"
                                        : "fleet: devices is empty");
    if (auto why = check_space_guns(out, ocpp); !why.empty())
        return R::failure(why);
    return R(std::move(out));
}

Result<std::vector<FleetDevice>> load_fleet(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Result<std::vector<FleetDevice>>::failure(fmt::format("fleet: cannot read {}", path));
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_fleet(ss.str());
}

Result<std::vector<FleetDevice>> select_devices(std::vector<FleetDevice> all, std::string_view only) {
    using R = Result<std::vector<FleetDevice>>;
    if (only.empty())
        return R(std::move(all));
    std::set<std::string, std::less<>> want;
    std::size_t start = 0;
    while (start <= only.size()) {
        auto comma = only.find(',', start);
        auto item = only.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (!item.empty())
            want.emplace(item);
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    std::vector<FleetDevice> out;
    for (auto& d : all)
        if (want.erase(d.id))
            out.push_back(std::move(d));
    if (!want.empty())
        return R::failure(fmt::format("--only: {} is not in the fleet file", *want.begin()));
    return R(std::move(out));
}

} // namespace pilehub::sim
