#pragma once
#include <string>
#include <string_view>

/// Operator passwords: Argon2id (Debian libargon2), encoded with its parameters and salt.
namespace pilehub::password {

/// Argon2id with t=3, m=64 MiB, p=1 and a 16-byte random salt, as an encoded `$argon2id$...` string.
std::string hash(std::string_view password);
/// Checks a password against an encoded Argon2id hash; false for anything malformed.
bool verify(std::string_view password, const std::string& encoded);

} // namespace pilehub::password
