#include "common/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace pilehub {
namespace {

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos)
        return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

std::string substitute(const std::map<std::string, std::string, std::less<>>& values, const std::string& v, int depth) {
    if (depth > 8)
        throw ConfigError("config: ${...} references nest too deeply in `" + v + "`");
    std::string out;
    std::size_t i = 0;
    while (i < v.size()) {
        auto p = v.find("${", i);
        if (p == std::string::npos) {
            out.append(v, i, std::string::npos);
            break;
        }
        auto e = v.find('}', p);
        if (e == std::string::npos)
            throw ConfigError("config: unterminated ${ in `" + v + "`");
        out.append(v, i, p - i);
        const auto ref = v.substr(p + 2, e - p - 2);
        auto it = values.find(ref);
        if (it == values.end())
            throw ConfigError("config: `" + v + "` refers to unknown key " + ref);
        out += substitute(values, it->second, depth + 1);
        i = e + 1;
    }
    return out;
}

} // namespace

const std::vector<std::string>& known_programs() {
    static const std::vector<std::string> k{"sessiond",   "autostopd",   "billingd",    "presenced",
                                            "parkingd",   "recorderd",   "pilehub-api", "pilehub-ocpp",
                                            "pilehubctl", "pilehub-sim", "alertd",      "otad"};
    return k;
}

ConfigSchema ConfigSchema::common(std::string process) {
    ConfigSchema s;
    s.process_ = process;
    s.add_string("data_dir", "/var/lib/pilehub", "Directory holding the databases, secrets and run files.");
    s.add_string("run_dir", "${data_dir}/run", "Where readiness files and pid files are written.");
    s.add_string("db.path", "${data_dir}/pilehub.db", "The core (business) SQLite database.");
    s.add_string("db.telemetry_path", "${data_dir}/telemetry.db", "The telemetry SQLite database (power curves).");
    s.add_int("db.busy_timeout_ms", 5000, 0, 600000, "How long a write waits for another writer's lock.");
    s.add_string("mqtt.host", "127.0.0.1", "Broker host (the loopback listener for our own processes).");
    s.add_int("mqtt.port", 1883, 1, 65535, "Broker port.");
    s.add_string("mqtt.username", "svc." + process, "MQTT username; one per process (broker-config/acl).");
    s.add_string("mqtt.password_file", "${data_dir}/secrets/svc." + process + ".pass",
                 "File holding this process's MQTT password.");
    s.add_string("mqtt.client_id", "svc." + process, "Stable MQTT client id (persistent session).");
    s.add_int("mqtt.keepalive_s", 60, 5, 1200, "MQTT keep-alive.");
    s.add_string("log.level", "info", "debug, info, warn or error.");
    s.add_string("log.file", "",
                 "Append log lines to this file instead of stderr, and open it again on SIGHUP (log rotation); "
                 "empty: stderr (under systemd: the journal).");
    s.add_bool("dev_mode", false,
               "Development mode (PILEHUB_DEV=1): dev SMS codes, sandbox payments. Never in production.");
    return s;
}

ConfigSchema& ConfigSchema::add_int(std::string name, std::int64_t def, std::int64_t min, std::int64_t max,
                                    std::string doc) {
    keys_.push_back({std::move(name), ConfigType::Int, std::to_string(def), std::move(doc), min, max});
    return *this;
}
ConfigSchema& ConfigSchema::add_string(std::string name, std::string def, std::string doc) {
    keys_.push_back({std::move(name), ConfigType::String, std::move(def), std::move(doc)});
    return *this;
}
ConfigSchema& ConfigSchema::add_bool(std::string name, bool def, std::string doc) {
    keys_.push_back({std::move(name), ConfigType::Bool, def ? "true" : "false", std::move(doc)});
    return *this;
}

const ConfigKey* ConfigSchema::find(std::string_view name) const {
    for (const auto& k : keys_)
        if (k.name == name)
            return &k;
    return nullptr;
}

std::string ConfigSchema::describe() const {
    std::string out;
    for (const auto& k : keys_) {
        const char* t = k.type == ConfigType::Int ? "int" : k.type == ConfigType::Bool ? "bool" : "string";
        out += fmt::format("{} ({}, default `{}`", k.name, t, k.default_value);
        if (k.type == ConfigType::Int)
            out += fmt::format(", {}..{}", k.min, k.max);
        out += fmt::format("): {}\n", k.doc);
    }
    return out;
}

void Config::set(const ConfigSchema& schema, const std::string& key, const std::string& value,
                 const std::string& where) {
    const auto* k = schema.find(key);
    if (!k) {
        const auto dot = key.find('.');
        if (dot != std::string::npos) {
            const auto prefix = key.substr(0, dot);
            for (const auto& p : known_programs())
                if (p == prefix && p != schema.process())
                    return; // another program's key in a shared file
            // Keys some programs share (the broker's files, the OCPP gateway's endpoints, alerts): a program
            // that reads none of the group skips them; one that reads the group refuses a typo in it.
            const bool shared_group = prefix == "broker" || prefix == "ocpp" || prefix == "alert";
            if (shared_group && std::none_of(schema.keys().begin(), schema.keys().end(),
                                             [&](const ConfigKey& c) { return c.name.rfind(prefix + ".", 0) == 0; }))
                return;
        }
        throw ConfigError(fmt::format("config {}: unknown key `{}` for {}", where, key, schema.process()));
    }
    values_[key] = value;
}

Config Config::load(const ConfigSchema& schema, const std::optional<std::string>& file,
                    const std::vector<std::string>& overrides) {
    Config c;
    c.process_ = schema.process();
    for (const auto& k : schema.keys()) {
        c.values_[k.name] = k.default_value;
        c.types_[k.name] = k.type;
    }
    if (file) {
        std::ifstream in(*file);
        if (!in)
            throw ConfigError("config: cannot read " + *file);
        std::string line;
        int no = 0;
        while (std::getline(in, line)) {
            ++no;
            const auto hash = line.find('#');
            const auto body = trim(hash == std::string::npos ? line : line.substr(0, hash));
            if (body.empty())
                continue;
            const auto eq = body.find('=');
            if (eq == std::string::npos)
                throw ConfigError(fmt::format("config {}:{}: expected `key = value`", *file, no));
            c.set(schema, trim(body.substr(0, eq)), trim(body.substr(eq + 1)), fmt::format("{}:{}", *file, no));
        }
    }
    for (const auto& o : overrides) {
        const auto eq = o.find('=');
        if (eq == std::string::npos)
            throw ConfigError("config: override `" + o + "` is not key=value");
        c.set(schema, trim(o.substr(0, eq)), trim(o.substr(eq + 1)), "override");
    }
    // Substitute ${...} and check types.
    auto raw = c.values_;
    for (auto& [name, v] : c.values_) {
        v = substitute(raw, v, 0);
        const auto* k = schema.find(name);
        if (k->type == ConfigType::Int) {
            std::int64_t x = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
            if (ec != std::errc() || p != v.data() + v.size())
                throw ConfigError(fmt::format("config: {} must be an integer, got `{}`", name, v));
            if (x < k->min || x > k->max)
                throw ConfigError(fmt::format("config: {} = {} is outside {}..{}", name, x, k->min, k->max));
        } else if (k->type == ConfigType::Bool) {
            if (v != "true" && v != "false")
                throw ConfigError(fmt::format("config: {} must be true or false, got `{}`", name, v));
        }
    }
    return c;
}

std::int64_t Config::get_int(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end() || types_.find(key)->second != ConfigType::Int)
        throw ConfigError(fmt::format("config: no int key {}", key));
    std::int64_t x = 0;
    std::from_chars(it->second.data(), it->second.data() + it->second.size(), x);
    return x;
}

const std::string& Config::get_string(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end())
        throw ConfigError(fmt::format("config: no key {}", key));
    return it->second;
}

bool Config::get_bool(std::string_view key) const {
    return get_string(key) == "true";
}

std::string Config::dump() const {
    std::string out;
    for (const auto& [k, v] : values_)
        out += fmt::format("{} = {}\n", k, v);
    return out;
}

std::string read_secret_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw ConfigError("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return trim(ss.str());
}

} // namespace pilehub
