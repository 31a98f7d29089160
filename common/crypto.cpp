#include "common/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <fstream>
#include <stdexcept>
#include <vector>

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

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct DecoderFree {
    void operator()(OSSL_DECODER_CTX* c) const { OSSL_DECODER_CTX_free(c); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) {
    return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free);
}

bool has_pem_header(std::string_view text) {
    return text.find("-----BEGIN ") != std::string_view::npos;
}

std::string without_whitespace(std::string_view text) {
    std::string out;
    for (char c : text)
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            out.push_back(c);
    return out;
}

// OpenSSL 3 decoders: PEM or DER, PKCS#8 / PKCS#1 / SPKI alike, RSA only. The error queue is
// cleared whatever happens, so that a refused key leaves nothing for the next caller to trip on.
EVP_PKEY* decode_rsa(std::string_view text, int selection) {
    std::string der;
    const char* input_type = "PEM";
    std::string_view data = text;
    if (!has_pem_header(text)) {
        der = unbase64(without_whitespace(text));
        if (der.empty())
            return nullptr;
        input_type = "DER";
        data = der;
    }
    EVP_PKEY* pkey = nullptr;
    std::unique_ptr<OSSL_DECODER_CTX, DecoderFree> ctx(
        OSSL_DECODER_CTX_new_for_pkey(&pkey, input_type, nullptr, "RSA", selection, nullptr, nullptr));
    if (!ctx) {
        ERR_clear_error();
        return nullptr;
    }
    const auto* p = bytes_of(data);
    std::size_t len = data.size();
    if (OSSL_DECODER_from_data(ctx.get(), &p, &len) != 1) {
        EVP_PKEY_free(pkey);
        pkey = nullptr;
    }
    ERR_clear_error();
    return pkey;
}

template <typename Write> std::string to_pem(Write write) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1)
        throw std::runtime_error("crypto: cannot write PEM");
    char* p = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &p);
    return std::string(p, static_cast<std::size_t>(n));
}

const EVP_CIPHER* cbc_cipher(std::size_t key_size) {
    switch (key_size) {
    case 16:
        return EVP_aes_128_cbc();
    case 24:
        return EVP_aes_192_cbc();
    case 32:
        return EVP_aes_256_cbc();
    default:
        return nullptr;
    }
}

constexpr std::size_t kGcmTagSize = 16;

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

std::string sha256_file_hex(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("crypto: cannot read " + path);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("crypto: SHA-256 failed");
    std::vector<char> buf(1 << 16);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0 && EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount())) != 1)
            throw std::runtime_error("crypto: SHA-256 failed");
    }
    if (in.bad())
        throw std::runtime_error("crypto: cannot read " + path);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
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

std::string hmac_sha1(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), bytes_of(data), data.size(), out, &len))
        throw std::runtime_error("crypto: HMAC-SHA1 failed");
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string percent_encode(std::string_view s) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '_' || c == '.' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kDigits[c >> 4]);
            out.push_back(kDigits[c & 0x0f]);
        }
    }
    return out;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size())
                return std::nullopt;
            const int hi = digit(s[i + 1]), lo = digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// ---- RSA ----------------------------------------------------------------------------------------

PrivateKey::PrivateKey(std::string_view pem) {
    EVP_PKEY* k = decode_rsa(pem, EVP_PKEY_KEYPAIR);
    if (!k)
        throw std::invalid_argument("not an unencrypted RSA private key (PEM PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 "
                                    "`BEGIN RSA PRIVATE KEY`, or bare base64 of either)");
    key_ = own(k);
}

std::string PrivateKey::sign_sha256_base64(std::string_view data) const {
    MdCtx ctx(EVP_MD_CTX_new());
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, bytes_of(data), data.size()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("crypto: SHA256withRSA signing failed");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes_of(data), data.size()) !=
        1) {
        ERR_clear_error();
        throw std::runtime_error("crypto: SHA256withRSA signing failed");
    }
    sig.resize(len);
    return base64(sig);
}

std::string PrivateKey::public_pem() const {
    return to_pem([&](BIO* b) { return PEM_write_bio_PUBKEY(b, key_.get()); });
}

std::string PrivateKey::generate_pem(int bits) {
    auto k = own(EVP_RSA_gen(static_cast<unsigned int>(bits)));
    if (!k)
        throw std::runtime_error("crypto: RSA key generation failed");
    return to_pem([&](BIO* b) { return PEM_write_bio_PrivateKey(b, k.get(), nullptr, nullptr, 0, nullptr, nullptr); });
}

PublicKey::PublicKey(std::string_view pem) {
    EVP_PKEY* k = nullptr;
    if (pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
        Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        std::unique_ptr<X509, X509Free> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
        if (cert) {
            k = X509_get_pubkey(cert.get());
            if (k && !EVP_PKEY_is_a(k, "RSA")) {
                EVP_PKEY_free(k);
                k = nullptr;
            }
        }
        ERR_clear_error();
    } else {
        k = decode_rsa(pem, EVP_PKEY_PUBLIC_KEY);
    }
    if (!k)
        throw std::invalid_argument("not an RSA public key (PEM `BEGIN PUBLIC KEY`, `BEGIN RSA PUBLIC KEY` or "
                                    "`BEGIN CERTIFICATE`, or bare base64 of the first)");
    key_ = own(k);
}

bool PublicKey::verify_sha256_base64(std::string_view data, std::string_view signature_base64) const {
    const std::string sig = unbase64(signature_base64);
    if (sig.empty())
        return false;
    MdCtx ctx(EVP_MD_CTX_new());
    const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
                    EVP_DigestVerify(ctx.get(), bytes_of(sig), sig.size(), bytes_of(data), data.size()) == 1;
    ERR_clear_error();
    return ok;
}

PrivateKey private_key_from(std::string_view config_key, std::string_view pem) {
    try {
        return PrivateKey(pem);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string(config_key) + ": " + e.what());
    }
}

PublicKey public_key_from(std::string_view config_key, std::string_view pem) {
    try {
        return PublicKey(pem);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string(config_key) + ": " + e.what());
    }
}

// ---- symmetric ciphers ----------------------------------------------------------------------------

std::string aes256_gcm_encrypt(std::string_view key, std::string_view nonce, std::string_view aad,
                               std::string_view plaintext) {
    if (key.size() != 32 || nonce.empty())
        throw std::invalid_argument("crypto: AES-256-GCM needs a 32-byte key and a nonce");
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    std::string out(plaintext.size() + kGcmTagSize, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    int len = 0, total = 0;
    const bool ok =
        ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) == 1 &&
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key), bytes_of(nonce)) == 1 &&
        (aad.empty() ||
         EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) == 1) &&
        EVP_EncryptUpdate(ctx.get(), o, &len, bytes_of(plaintext), static_cast<int>(plaintext.size())) == 1 &&
        (total = len, EVP_EncryptFinal_ex(ctx.get(), o + total, &len) == 1) &&
        (total += len, EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, o + total) == 1);
    ERR_clear_error();
    if (!ok)
        throw std::runtime_error("crypto: AES-256-GCM encryption failed");
    out.resize(static_cast<std::size_t>(total) + kGcmTagSize);
    return out;
}

std::optional<std::string> aes256_gcm_decrypt(std::string_view key, std::string_view nonce, std::string_view aad,
                                              std::string_view ciphertext_and_tag) {
    if (key.size() != 32 || nonce.empty() || ciphertext_and_tag.size() < kGcmTagSize)
        return std::nullopt;
    const auto ct = ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kGcmTagSize);
    std::string tag(ciphertext_and_tag.substr(ct.size()));
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    std::string out(ct.size() + 16, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    int len = 0, total = 0;
    const bool ok =
        ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) == 1 &&
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key), bytes_of(nonce)) == 1 &&
        (aad.empty() ||
         EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) == 1) &&
        EVP_DecryptUpdate(ctx.get(), o, &len, bytes_of(ct), static_cast<int>(ct.size())) == 1 &&
        (total = len, EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag.data()) == 1) &&
        EVP_DecryptFinal_ex(ctx.get(), o + total, &len) == 1;
    ERR_clear_error();
    if (!ok)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(total + len));
    return out;
}

std::string aes_cbc_encrypt(std::string_view key, std::string_view iv, std::string_view plaintext) {
    const EVP_CIPHER* cipher = cbc_cipher(key.size());
    if (!cipher || iv.size() != 16)
        throw std::invalid_argument("crypto: AES-CBC needs a 16, 24 or 32-byte key and a 16-byte IV");
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    std::string out(plaintext.size() + 16, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    int len = 0, total = 0;
    const bool ok =
        ctx && EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, bytes_of(key), bytes_of(iv)) == 1 &&
        EVP_EncryptUpdate(ctx.get(), o, &len, bytes_of(plaintext), static_cast<int>(plaintext.size())) == 1 &&
        (total = len, EVP_EncryptFinal_ex(ctx.get(), o + total, &len) == 1);
    ERR_clear_error();
    if (!ok)
        throw std::runtime_error("crypto: AES-CBC encryption failed");
    out.resize(static_cast<std::size_t>(total + len));
    return out;
}

std::optional<std::string> aes_cbc_decrypt(std::string_view key, std::string_view iv, std::string_view ciphertext) {
    const EVP_CIPHER* cipher = cbc_cipher(key.size());
    if (!cipher || iv.size() != 16 || ciphertext.empty() || ciphertext.size() % 16 != 0)
        return std::nullopt;
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    std::string out(ciphertext.size() + 16, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    int len = 0, total = 0;
    const bool ok =
        ctx && EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, bytes_of(key), bytes_of(iv)) == 1 &&
        EVP_DecryptUpdate(ctx.get(), o, &len, bytes_of(ciphertext), static_cast<int>(ciphertext.size())) == 1 &&
        (total = len, EVP_DecryptFinal_ex(ctx.get(), o + total, &len) == 1);
    ERR_clear_error();
    if (!ok)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(total + len));
    return out;
}

} // namespace pilehub::crypto
