#pragma once
#include <cstdint>
#include <string>
#include <string_view>

/// What the API and otad share about firmware downloads (CONTRACT G "OTA"): where an image is kept,
/// the per-rollout download token and the absolute URL a device is sent in `cmd/ota`.
namespace pilehub::ota {

/// Where an image with this SHA-256 is kept: `<data_dir>/firmware/<sha256>`.
std::string image_path(const std::string& data_dir, std::string_view sha256);

/// The key both processes derive rollout tokens from: `<data_dir>/secrets/ota-token.key`, created
/// (random, 0600) by whichever process needs it first.
std::string token_key(const std::string& data_dir);

/// The download token of a rollout: HMAC-SHA256 of `ota-rollout:<id>` under `key`, hexadecimal. The
/// database keeps only its SHA-256 (`rollouts.token_hash`); otad derives it again to build the URL.
std::string rollout_token(std::string_view key, std::int64_t rollout_id);

/// `<base>/api/v1/firmware/<firmware_id>?token=<token>` (a trailing `/` of `base` is dropped).
std::string download_url(std::string_view base, std::int64_t firmware_id, std::string_view token);

} // namespace pilehub::ota
