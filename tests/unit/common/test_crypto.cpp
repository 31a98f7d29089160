#include "common/crypto.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace pilehub;

TEST_CASE("crypto: hex, SHA-256 and HMAC-SHA256 match the published test vectors") {
    struct Row {
        const char* what;
        std::string got;
        std::string want;
    };
    const Row rows[] = {
        {"hex of bytes", crypto::hex(std::string("\x00\x01\xab\xff", 4)), "0001abff"},
        {"hex of nothing", crypto::hex(""), ""},
        {"sha256 of nothing (FIPS 180-2)", crypto::sha256_hex(""),
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"sha256 of abc (FIPS 180-2)", crypto::sha256_hex("abc"),
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"hmac-sha256 RFC 4231 case 2", crypto::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"hmac-sha256 RFC 4231 case 1", crypto::hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"base64 (RFC 4648)", crypto::base64("foobar"), "Zm9vYmFy"},
        {"base64 with padding", crypto::base64("fo"), "Zm8="},
        {"base64 back", crypto::unbase64("Zm8="), "fo"},
        {"base64 back without padding", crypto::unbase64("Zm9vYmFy"), "foobar"},
    };
    for (const auto& r : rows)
        CHECK_MESSAGE(r.got == r.want, r.what);
}

TEST_CASE("crypto: random bytes, hex and tokens have the asked size and never repeat") {
    CHECK(crypto::random_bytes(0).empty());
    CHECK(crypto::random_bytes(16).size() == 16);
    std::set<std::string> hexes, tokens;
    for (int i = 0; i < 200; ++i) {
        const auto h = crypto::random_hex(16);
        CHECK(h.size() == 32);
        CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
        hexes.insert(h);
        const auto t = crypto::random_token(24);
        CHECK(t.size() == 32); // 24 bytes = 192 bits, no padding
        CHECK(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              std::string::npos);
        tokens.insert(t);
    }
    CHECK(hexes.size() == 200);
    CHECK(tokens.size() == 200);
}

TEST_CASE("crypto: constant-time comparison is equality, lengths included") {
    struct Row {
        std::string a, b;
        bool equal;
    };
    const Row rows[] = {
        {"", "", true},
        {"abc", "abc", true},
        {"abc", "abd", false},
        {"abc", "ab", false},
        {"ab", "abc", false},
        {"", "a", false},
        {std::string("a\0b", 3), std::string("a\0c", 3), false},
    };
    for (const auto& r : rows)
        CHECK_MESSAGE(crypto::equal_constant_time(r.a, r.b) == r.equal, r.a << " vs " << r.b);
}

namespace {

std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}

// One key pair for the whole program: RSA generation takes a while.
const std::string& test_private_pem() {
    static const std::string pem = crypto::PrivateKey::generate_pem();
    return pem;
}

// A PEM body without its armour: Alipay's console and key tool show keys as bare base64.
std::string bare(const std::string& pem) {
    std::string out;
    std::size_t i = 0;
    while (i < pem.size()) {
        const auto end = pem.find('\n', i);
        const auto line = pem.substr(i, end == std::string::npos ? std::string::npos : end - i);
        if (line.rfind("-----", 0) != 0)
            out += line;
        if (end == std::string::npos)
            break;
        i = end + 1;
    }
    return out;
}

} // namespace

TEST_CASE("crypto: HMAC-SHA1 matches RFC 2202") {
    CHECK(crypto::hex(crypto::hmac_sha1("Jefe", "what do ya want for nothing?")) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST_CASE("crypto: AES-256-GCM matches the GCM specification's test case 16 and refuses anything tampered") {
    // McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test case 16 (256-bit key, 96-bit IV,
    // 20 bytes of AAD); the same vector is in NIST's GCM validation set.
    const auto key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const auto iv = unhex("cafebabefacedbaddecaf888");
    const auto aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const auto plain = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
                             "49a6b525b16aedf5aa0de657ba637b39");
    const auto want = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
                      "c5f61e6393ba7a0abcc9f662"
                      "76fc6ece0f4e1768cddf8853bb2d551b"; // ciphertext, then the tag
    const auto sealed = crypto::aes256_gcm_encrypt(key, iv, aad, plain);
    CHECK(crypto::hex(sealed) == want);
    CHECK(crypto::aes256_gcm_decrypt(key, iv, aad, sealed) == plain);

    auto flipped = sealed;
    flipped[3] ^= 1;
    auto bad_tag = sealed;
    bad_tag.back() ^= 1;
    auto other_key = key;
    other_key[0] ^= 1;
    CHECK_FALSE(crypto::aes256_gcm_decrypt(key, iv, aad, flipped));
    CHECK_FALSE(crypto::aes256_gcm_decrypt(key, iv, aad, bad_tag));
    CHECK_FALSE(crypto::aes256_gcm_decrypt(other_key, iv, aad, sealed));
    CHECK_FALSE(crypto::aes256_gcm_decrypt(key, iv, "other aad", sealed));
    CHECK_FALSE(crypto::aes256_gcm_decrypt(key, unhex("cafebabefacedbaddecaf889"), aad, sealed));
    CHECK_FALSE(crypto::aes256_gcm_decrypt(key.substr(0, 16), iv, aad, sealed));
    CHECK_FALSE(crypto::aes256_gcm_decrypt(key, iv, aad, sealed.substr(0, 15)));
}

TEST_CASE("crypto: AES-128-CBC matches NIST SP 800-38A F.2.1, pads with PKCS#7 and refuses bad padding") {
    const auto key = unhex("2b7e151628aed2a6abf7158809cf4f3c");
    const auto iv = unhex("000102030405060708090a0b0c0d0e0f");
    const auto plain = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    const auto sealed = crypto::aes_cbc_encrypt(key, iv, plain);
    REQUIRE(sealed.size() == 48); // two blocks, and a whole block of padding
    CHECK(crypto::hex(sealed.substr(0, 32)) == "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
    CHECK(crypto::aes_cbc_decrypt(key, iv, sealed) == plain);

    // Alipay's content encryption: IV of 16 zero bytes, any length of plaintext.
    const std::string zero_iv(16, '\0');
    const std::string text = R"({"code":"10000","msg":"Success","mobile":"13800000000"})";
    CHECK(crypto::aes_cbc_decrypt(key, zero_iv, crypto::aes_cbc_encrypt(key, zero_iv, text)) == text);

    auto last = sealed;
    last[last.size() - 1] ^= 0x55; // the padding block no longer ends in valid padding
    CHECK_FALSE(crypto::aes_cbc_decrypt(key, iv, last));
    CHECK_FALSE(crypto::aes_cbc_decrypt(key, iv, sealed.substr(0, 47)));
    CHECK_FALSE(crypto::aes_cbc_decrypt(key.substr(0, 15), iv, sealed));
    CHECK_FALSE(crypto::aes_cbc_decrypt(key, iv.substr(0, 8), sealed));
    CHECK_THROWS_AS(crypto::aes_cbc_encrypt(key.substr(0, 10), iv, plain), std::invalid_argument);
}

TEST_CASE("crypto: an RSA signature verifies with the public half and nothing tampered does") {
    const crypto::PrivateKey key(test_private_pem());
    const crypto::PublicKey pub(key.public_pem());
    const std::string data = "POST\n/v3/pay/transactions/jsapi\n1700000000\nnonce\n{\"a\":1}\n";
    const auto sig = key.sign_sha256_base64(data);
    CHECK(pub.verify_sha256_base64(data, sig));
    CHECK(key.sign_sha256_base64(data) == sig); // PKCS#1 v1.5 is deterministic

    auto raw = crypto::unbase64(sig);
    raw[10] ^= 1;
    CHECK_FALSE(pub.verify_sha256_base64(data, crypto::base64(raw)));
    CHECK_FALSE(pub.verify_sha256_base64(data + " ", sig));
    CHECK_FALSE(pub.verify_sha256_base64(data, ""));
    CHECK_FALSE(pub.verify_sha256_base64(data, "not base64!"));
    const crypto::PublicKey other(crypto::PrivateKey(crypto::PrivateKey::generate_pem()).public_pem());
    CHECK_FALSE(other.verify_sha256_base64(data, sig));
}

TEST_CASE("crypto: keys are read as PEM or as the bare base64 Alipay shows, and anything else is refused by key") {
    const crypto::PrivateKey key(bare(test_private_pem()));
    const crypto::PublicKey pub(bare(crypto::PrivateKey(test_private_pem()).public_pem()));
    CHECK(pub.verify_sha256_base64("x", key.sign_sha256_base64("x")));

    CHECK_THROWS_AS(crypto::PrivateKey("not a key"), std::invalid_argument);
    CHECK_THROWS_AS(crypto::PublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
                    std::invalid_argument);
    try {
        crypto::private_key_from("pilehub-api.alipay.app_private_key_file", "garbage");
        FAIL("a bad key was accepted");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).rfind("pilehub-api.alipay.app_private_key_file: ", 0) == 0);
    }
}

TEST_CASE("crypto: percent-encoding keeps RFC 3986's unreserved characters and encodes every other byte") {
    struct Row {
        std::string in, want;
    };
    const Row rows[] = {
        {"AZaz09-_.~", "AZaz09-_.~"},
        {"a b", "a%20b"},
        {"*", "%2A"},
        {"+/=&", "%2B%2F%3D%26"},
        {"{\"code\":\"1\"}", "%7B%22code%22%3A%221%22%7D"},
        {"充值", "%E5%85%85%E5%80%BC"},
        {"", ""},
    };
    for (const auto& r : rows) {
        CHECK_MESSAGE(crypto::percent_encode(r.in) == r.want, r.in);
        CHECK_MESSAGE(crypto::percent_decode(r.want, false) == r.in, r.want);
    }
    CHECK(crypto::percent_decode("a+b%2b", true) == "a b+");
    CHECK(crypto::percent_decode("a+b", false) == "a+b");
    CHECK(crypto::percent_decode("%e5%85%85", false) == "充");
    CHECK_FALSE(crypto::percent_decode("%G1", false));
    CHECK_FALSE(crypto::percent_decode("%4", false));
    CHECK_FALSE(crypto::percent_decode("abc%", false));
}
