#include "common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace pilehub::crypto {
namespace {

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

std::string hex_of(const unsigned char* p, std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        s.push_back(kDigits[p[i] >> 4]);
        s.push_back(kDigits[p[i] & 0x0f]);
    }
    return s;
}

} // namespace

std::string random_bytes(std::size_t n) {
    std::string b(n, '\0');
    if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(b.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("crypto: no randomness available (RAND_bytes failed)");
    return b;
}

std::string hex(std::string_view bytes) {
    return hex_of(bytes_of(bytes), bytes.size());
}

std::string random_hex(std::size_t n) {
    return hex(random_bytes(n));
}

std::string random_token(std::size_t n) {
    auto s = base64(random_bytes(n));
    for (auto& c : s) {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    return s;
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(bytes), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(len));
    return out;
}

std::string unbase64(std::string_view s) {
    std::string out(3 * (s.size() / 4) + 3, '\0');
    const int len =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(s), static_cast<int>(s.size()));
    if (len < 0)
        return {};
    std::size_t n = static_cast<std::size_t>(len);
    // EVP_DecodeBlock counts padding as zero bytes.
    if (!s.empty() && s.back() == '=')
        --n;
    if (s.size() > 1 && s[s.size() - 2] == '=')
        --n;
    out.resize(n);
    return out;
}

std::string sha256_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("crypto: SHA-256 failed");
    return hex_of(md, len);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes_of(data), data.size(), out, &len))
        throw std::runtime_error("crypto: HMAC-SHA256 failed");
    return hex_of(out, len);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace pilehub::crypto
