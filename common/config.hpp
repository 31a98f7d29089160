#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub {

/// A bad configuration: unknown key, wrong type, out of range. Daemons exit with code 2.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class ConfigType { Int, String, Bool };

/// One documented key.
struct ConfigKey {
    std::string name;
    ConfigType type;
    std::string default_value;
    std::string doc;
    std::int64_t min = 0;
    std::int64_t max = 0;
};

/// The keys one program accepts. Values may refer to other keys as `${key}`
/// (e.g. `db.path` defaults to `${data_dir}/pilehub.db`).
class ConfigSchema {
public:
    /// The keys every PileHub process has (data_dir, db.*, mqtt.*, log.level, run_dir),
    /// with MQTT identity defaults for `process` (user `svc.<process>`).
    static ConfigSchema common(std::string process);

    ConfigSchema& add_int(std::string name, std::int64_t def, std::int64_t min, std::int64_t max, std::string doc);
    ConfigSchema& add_string(std::string name, std::string def, std::string doc);
    ConfigSchema& add_bool(std::string name, bool def, std::string doc);

    const std::string& process() const { return process_; }
    const std::vector<ConfigKey>& keys() const { return keys_; }
    const ConfigKey* find(std::string_view name) const;
    /// Every key with its default and description, as written in docs/config.md.
    std::string describe() const;

private:
    std::string process_;
    std::vector<ConfigKey> keys_;
};

/// Configuration values of one process, checked against its schema.
///
/// The file format is `key = value` lines; `#` starts a comment. One file may serve a whole
/// installation: a key prefixed with another PileHub program's name (`sessiond.x` read by
/// `billingd`) is skipped; any other unknown key is refused.
class Config {
public:
    /// Loads defaults, then the file (if any), then `overrides` ("key=value"), then validates.
    static Config load(const ConfigSchema& schema, const std::optional<std::string>& file,
                       const std::vector<std::string>& overrides);
    /// Only defaults and overrides (tests, tools).
    static Config from_overrides(const ConfigSchema& schema, const std::vector<std::string>& overrides) {
        return load(schema, std::nullopt, overrides);
    }

    std::int64_t get_int(std::string_view key) const;
    int get_int32(std::string_view key) const { return static_cast<int>(get_int(key)); }
    const std::string& get_string(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    const std::string& process() const { return process_; }
    /// All values after substitution, one `key = value` per line (secrets are not values: they are files).
    std::string dump() const;

private:
    void set(const ConfigSchema& schema, const std::string& key, const std::string& value, const std::string& where);
    std::string process_;
    std::map<std::string, std::string, std::less<>> values_;
    std::map<std::string, ConfigType, std::less<>> types_;
};

/// The PileHub programs; their names are the prefixes of per-program keys.
const std::vector<std::string>& known_programs();

/// Reads a whole small file (a secret, a pid), trimming the trailing newline. Throws ConfigError.
std::string read_secret_file(const std::string& path);

} // namespace pilehub
