#include "tests/support/mqtt_frames.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pilehub::test;

namespace {
std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b)
        s.push_back(static_cast<char>(c));
    return s;
}
} // namespace

TEST_CASE("mqtt_frames: the remaining length is 7 bits a byte, low first, at every boundary of MQTT 3.1.1 §2.2.3") {
    const struct {
        std::size_t n;
        std::string encoded;
    } table[] = {
        {0, bytes({0x00})},
        {127, bytes({0x7f})},
        {128, bytes({0x80, 0x01})},
        {16'383, bytes({0xff, 0x7f})},
        {16'384, bytes({0x80, 0x80, 0x01})},
        {2'097'151, bytes({0xff, 0xff, 0x7f})},
        {2'097'152, bytes({0x80, 0x80, 0x80, 0x01})},
        {268'435'455, bytes({0xff, 0xff, 0xff, 0x7f})},
    };
    for (const auto& row : table) {
        CAPTURE(row.n);
        std::string out;
        mqtt_frames::put_remaining_length(out, row.n);
        CHECK(out == row.encoded);
        CHECK(mqtt_frames::remaining_length_size(row.n) == row.encoded.size());
        const auto h = mqtt_frames::read_header(bytes({0x30}) + out);
        REQUIRE(h);
        CHECK(h->remaining == row.n);
        CHECK(h->size == 1 + row.encoded.size());
    }
    std::string out;
    CHECK_THROWS_AS(mqtt_frames::put_remaining_length(out, 268'435'456), std::length_error);
}

TEST_CASE("mqtt_frames: a fixed header cut short needs more bytes; a fifth length byte is not MQTT") {
    CHECK_FALSE(mqtt_frames::read_header(""));
    CHECK_FALSE(mqtt_frames::read_header(bytes({0x30})));
    CHECK_FALSE(mqtt_frames::read_header(bytes({0x30, 0x80})));
    CHECK_THROWS_AS(mqtt_frames::read_header(bytes({0x30, 0x80, 0x80, 0x80, 0x80, 0x01})), std::runtime_error);
}

TEST_CASE("mqtt_frames: CONNECT carries protocol level 4, the flags, the keep-alive and the login in order") {
    mqtt_frames::Connect c;
    c.client_id = "a";
    c.username = "u";
    c.password = "p";
    c.keepalive_s = 60;
    const auto expected = bytes({0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xc2, 0, 60, 0, 1, 'a', 0, 1, 'u', 0, 1, 'p'});
    CHECK(mqtt_frames::connect(c) == expected);

    mqtt_frames::Connect anonymous;
    anonymous.client_id = "a";
    anonymous.keepalive_s = 300;
    anonymous.clean_session = false;
    CHECK(mqtt_frames::connect(anonymous) == bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x00, 1, 44, 0, 1, 'a'}));
}

TEST_CASE("mqtt_frames: a QoS 0 PUBLISH is the topic with its length, then the payload parts, no packet id") {
    std::string out;
    mqtt_frames::append_publish_qos0(out, "a/b", "x", "12", "y");
    CHECK(out == bytes({0x30, 9, 0, 3, 'a', '/', 'b', 'x', '1', '2', 'y'}));

    // Frames append: a batch is frames back to back, each readable from its header.
    const std::string payload(200, 'z');
    mqtt_frames::append_publish_qos0(out, "ph/v1/dev/d1/tele", payload);
    const auto second = std::string_view(out).substr(11);
    const auto h = mqtt_frames::read_header(second);
    REQUIRE(h);
    CHECK(h->type_and_flags == mqtt_frames::kPublish);
    CHECK(h->remaining == 2 + 17 + 200);
    CHECK(h->size == 3);
    CHECK(second.size() == h->size + h->remaining);
    CHECK(second.substr(h->size + 2, 17) == "ph/v1/dev/d1/tele");
    CHECK(second.substr(h->size + 2 + 17) == payload);
}

TEST_CASE("mqtt_frames: PINGREQ and DISCONNECT are two bytes; CONNACK gives its return code or nothing") {
    CHECK(mqtt_frames::pingreq() == bytes({0xc0, 0}));
    CHECK(mqtt_frames::disconnect() == bytes({0xe0, 0}));
    CHECK(mqtt_frames::connack_code(bytes({0x20, 2, 0, 0})) == 0);
    CHECK(mqtt_frames::connack_code(bytes({0x20, 2, 1, 5})) == 5);
    CHECK_FALSE(mqtt_frames::connack_code(bytes({0x20, 2, 0})));
    CHECK_FALSE(mqtt_frames::connack_code(bytes({0xd0, 0, 0, 0})));
}

TEST_CASE("mqtt_frames: a CONNECT with a Will sets the Will flag, its QoS and retain, and carries topic and message "
          "after the client id") {
    mqtt_frames::Connect c;
    c.client_id = "a";
    c.keepalive_s = 60;
    c.clean_session = false;
    c.will = mqtt_frames::Will{"w", "x", 1, true};
    CHECK(mqtt_frames::connect(c) ==
          bytes({0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x2c, 0, 60, 0, 1, 'a', 0, 1, 'w', 0, 1, 'x'}));
}

TEST_CASE("mqtt_frames: QoS 1 PUBLISH carries its packet id (DUP settable later), PUBACK and SUBSCRIBE as in MQTT "
          "3.1.1 §3.3, §3.4, §3.8") {
    std::string out;
    mqtt_frames::append_publish(out, "t", "p", 1, true, false, 0x0102);
    CHECK(out == bytes({0x33, 6, 0, 1, 't', 1, 2, 'p'}));
    mqtt_frames::set_dup(out);
    CHECK(static_cast<std::uint8_t>(out[0]) == 0x3b);
    std::string q0;
    mqtt_frames::append_publish(q0, "t", "p", 0, false, false, 7);
    CHECK(q0 == bytes({0x30, 4, 0, 1, 't', 'p'}));
    CHECK(mqtt_frames::puback(0x0102) == bytes({0x40, 2, 1, 2}));
    CHECK(mqtt_frames::subscribe(5, "a/+", 1) == bytes({0x82, 8, 0, 5, 0, 3, 'a', '/', '+', 1}));
    CHECK(mqtt_frames::read_u16(bytes({0xff, 0x01, 0x02}), 1) == 0x0102);
}
