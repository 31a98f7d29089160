#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

/// Operator passwords: the rules a new one must meet, and Argon2id (Debian libargon2), encoded with
/// its parameters and salt.
namespace pilehub::password {

/// Shortest password accepted (bytes).
inline constexpr std::size_t kMinLength = 8;
/// Longest password accepted (bytes): bounds the hashing work one request can ask for.
inline constexpr std::size_t kMaxLength = 256;

/// Why `pw` cannot be a new password ("must have at least 8 characters", "must have at most 256
/// characters"), or nothing if it is acceptable. Callers prefix the field's name. Used by every
/// place that sets a password (API routes, the first admin, pilehubctl).
std::optional<std::string> password_problem(std::string_view pw);

/// Argon2id with t=3, m=64 MiB, p=1 and a 16-byte random salt, as an encoded `$argon2id$...` string.
std::string hash(std::string_view password);
/// Checks a password against an encoded Argon2id hash; false for anything malformed.
bool verify(std::string_view password, const std::string& encoded);

} // namespace pilehub::password
