#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct evp_pkey_st; // OpenSSL's EVP_PKEY: kept opaque so that only crypto.cpp includes OpenSSL

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
/// SHA-256 of the bytes of the file at `path`, read in blocks, lowercase hexadecimal (backups of
/// databases larger than memory); throws std::runtime_error if it cannot be read.
std::string sha256_file_hex(const std::string& path);
/// HMAC-SHA256 of `data` under `key`, lowercase hexadecimal (64 characters).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
/// Whether `a` and `b` are equal, in time that depends only on their lengths (signatures, hashes).
bool equal_constant_time(std::string_view a, std::string_view b);
/// HMAC-SHA1 of `data` under `key`, raw bytes (20): Aliyun's RPC signature.
std::string hmac_sha1(std::string_view key, std::string_view data);

// ---- encodings used by the providers' protocols ------------------------------------------------

/// RFC 3986 percent-encoding of UTF-8 bytes: the unreserved `A-Za-z0-9-_.~` kept, every other byte
/// `%XX` (upper-case hex); a space is `%20`, never `+`.
std::string percent_encode(std::string_view s);
/// Decodes `%XX` escapes (either case); with `plus_is_space` (HTML form bodies) `+` is a space.
/// Nothing for a malformed escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// ---- RSA signatures (SHA256withRSA, PKCS#1 v1.5: WeChat Pay API v3 and Alipay RSA2) ------------

/// An RSA private key, parsed once from PEM text: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
/// (`BEGIN RSA PRIVATE KEY`), or bare base64 of either as Alipay's key tool prints it. Immutable
/// and safe to share between threads.
class PrivateKey {
public:
    /// Throws std::invalid_argument saying what is wrong (not PEM, not RSA, encrypted).
    explicit PrivateKey(std::string_view pem);
    /// The SHA256withRSA (PKCS#1 v1.5) signature of `data`, standard base64.
    std::string sign_sha256_base64(std::string_view data) const;
    /// The public half as SPKI PEM (`BEGIN PUBLIC KEY`): tests and tools.
    std::string public_pem() const;
    /// A fresh 2048-bit key as PKCS#8 PEM: tests and tools.
    static std::string generate_pem(int bits = 2048);

private:
    std::shared_ptr<evp_pkey_st> key_;
};

/// An RSA public key, parsed once from PEM text: SPKI (`BEGIN PUBLIC KEY`), PKCS#1
/// (`BEGIN RSA PUBLIC KEY`), an X.509 certificate (`BEGIN CERTIFICATE`: its key; WeChat Pay's
/// platform certificate), or bare base64 SPKI as Alipay's console shows it. Immutable and safe to
/// share between threads.
class PublicKey {
public:
    /// Throws std::invalid_argument saying what is wrong.
    explicit PublicKey(std::string_view pem);
    /// Whether `signature_base64` is the SHA256withRSA (PKCS#1 v1.5) signature of `data`.
    bool verify_sha256_base64(std::string_view data, std::string_view signature_base64) const;

private:
    std::shared_ptr<evp_pkey_st> key_;
};

/// The key in `pem`, read from the configuration key `config_key`: throws std::invalid_argument
/// "`config_key`: <what is wrong>" (start-up refuses a bad key with a message naming the key).
PrivateKey private_key_from(std::string_view config_key, std::string_view pem);
PublicKey public_key_from(std::string_view config_key, std::string_view pem);

// ---- symmetric ciphers -------------------------------------------------------------------------

/// AES-256-GCM: `key` 32 bytes, any nonce length (WeChat Pay: 12), `aad` authenticated only.
/// Returns ciphertext followed by the 16-byte tag (WeChat Pay's `resource.ciphertext`, decoded).
std::string aes256_gcm_encrypt(std::string_view key, std::string_view nonce, std::string_view aad,
                               std::string_view plaintext);
/// The plaintext of `ciphertext_and_tag` (ciphertext ‖ 16-byte tag); nothing if the key is not 32
/// bytes, the input is shorter than the tag, or the tag does not authenticate it.
std::optional<std::string> aes256_gcm_decrypt(std::string_view key, std::string_view nonce, std::string_view aad,
                                              std::string_view ciphertext_and_tag);
/// AES-CBC with PKCS#7 padding; `key` 16 bytes (AES-128: Alipay's content key), 24 or 32; `iv` 16 bytes.
/// Throws std::invalid_argument for another key or IV size.
std::string aes_cbc_encrypt(std::string_view key, std::string_view iv, std::string_view plaintext);
/// The plaintext, or nothing for a bad key / IV size, a length that is not whole blocks, or bad padding.
std::optional<std::string> aes_cbc_decrypt(std::string_view key, std::string_view iv, std::string_view ciphertext);

} // namespace pilehub::crypto
