#pragma once
#include <cstddef>
#include <string>
#include <string_view>

/// The one place that asks OpenSSL for random bytes, digests, MACs and encodings. Every secret,
/// token, salt and signature of the platform comes from here.
namespace pilehub::crypto {

/// `n` bytes from OpenSSL's CSPRNG (seeded by the operating system); throws if none is available.
std::string random_bytes(std::size_t n);
/// Lowercase hexadecimal of `bytes` (two digits per byte).
std::string hex(std::string_view bytes);
/// `n` random bytes as lowercase hexadecimal (2n characters): ids and keys that travel as text.
std::string random_hex(std::size_t n);
/// `n` random bytes as URL-safe base64 without padding when `n` is a multiple of 3 (`-` and `_`
/// instead of `+` and `/`): bearer tokens and broker secrets.
std::string random_token(std::size_t n);
/// Standard base64 (with `=` padding) of `bytes`.
std::string base64(std::string_view bytes);
/// Decodes standard base64; empty for malformed input.
std::string unbase64(std::string_view text);
/// SHA-256 of `data`, lowercase hexadecimal (64 characters).
std::string sha256_hex(std::string_view data);
/// HMAC-SHA256 of `data` under `key`, lowercase hexadecimal (64 characters).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
/// Whether `a` and `b` are equal, in time that depends only on their lengths (signatures, hashes).
bool equal_constant_time(std::string_view a, std::string_view b);

} // namespace pilehub::crypto
