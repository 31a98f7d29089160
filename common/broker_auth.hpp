#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Credentials as Mosquitto reads them: the password file and its reload.
namespace pilehub::broker {

/// The MQTT users of our own processes, one per program (broker-config/acl has their rights).
const std::vector<std::string>& service_users();

/// A random secret of 192 bits, URL-safe base64 (32 characters). Devices and services get one each.
std::string random_secret();

/// Hashes a password the way `mosquitto_passwd` does in Mosquitto 2.0:
/// `$7$101$<base64 salt of 12 bytes>$<base64 PBKDF2-HMAC-SHA512, 64 bytes>`.
std::string hash_password(std::string_view password);
/// The same with a given salt (tests compare with mosquitto_passwd output).
std::string hash_password_with_salt(std::string_view password, std::string_view salt_bytes, int iterations = 101);
/// Checks a password against a `$7$` hash.
bool verify_password(std::string_view password, std::string_view encoded);

/// Writes `user:hash` lines to `path` atomically (temp file, fsync, rename), mode 0600.
void write_password_file(const std::string& path, const std::vector<std::pair<std::string, std::string>>& user_hashes);

/// Sends SIGHUP to the broker whose pid is in `pid_file` (Mosquitto 2.0 then reloads the
/// password and ACL files). Returns false (with a reason) if there is no running broker.
bool reload_broker(const std::string& pid_file, std::string* reason);

/// Sends one more SIGHUP to that broker `after` the last call (a process-wide thread; calls in quick
/// succession give one signal). Mosquitto 2.0 clears its reload flag when a reload ends, so a SIGHUP
/// that arrives while it reloads is lost: credentials written just then would wait for the next
/// change. A signal pending at exit is dropped.
void reload_broker_later(const std::string& pid_file, std::chrono::milliseconds after = std::chrono::seconds(2));

} // namespace pilehub::broker
