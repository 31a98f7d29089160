#pragma once
// MQTT 3.1.1 packets as bytes, for clients that talk to the broker without Paho: the gateway's
// per-charger client (gateway/mqtt_asio.cpp), the broker fixture's CONNACK probe
// (tests/support/broker.cpp) and the benchmark's raw publisher (tests/bench/). What a client sends:
// CONNECT (with a Will), PUBLISH QoS 0/1, PUBACK, SUBSCRIBE, PINGREQ, DISCONNECT; what it reads: the
// fixed header, CONNACK, and the two-byte fields of the others.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pilehub::mqtt_frames {

/// Packet types (the high nibble of the first byte).
inline constexpr std::uint8_t kConnect = 0x10;
inline constexpr std::uint8_t kConnack = 0x20;
inline constexpr std::uint8_t kPublish = 0x30;
inline constexpr std::uint8_t kPuback = 0x40;
inline constexpr std::uint8_t kSubscribe = 0x80;
inline constexpr std::uint8_t kSuback = 0x90;
inline constexpr std::uint8_t kUnsuback = 0xb0;
inline constexpr std::uint8_t kPingreq = 0xc0;
inline constexpr std::uint8_t kPingresp = 0xd0;
inline constexpr std::uint8_t kDisconnect = 0xe0;

/// The largest remaining length MQTT can express (four length bytes).
inline constexpr std::size_t kMaxRemaining = 268'435'455;

/// Appends `n` as MQTT's remaining length (7 bits a byte, low first, high bit = more follows).
inline void put_remaining_length(std::string& out, std::size_t n) {
    if (n > kMaxRemaining)
        throw std::length_error("mqtt_frames: packet larger than MQTT allows");
    do {
        auto byte = static_cast<std::uint8_t>(n % 128);
        n /= 128;
        if (n > 0)
            byte |= 0x80;
        out.push_back(static_cast<char>(byte));
    } while (n > 0);
}

/// How many bytes put_remaining_length() writes for `n`.
inline std::size_t remaining_length_size(std::size_t n) {
    return n < 128 ? 1 : n < 16'384 ? 2 : n < 2'097'152 ? 3 : 4;
}

/// Appends a two-byte big-endian integer (packet ids).
inline void put_u16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

/// Appends a UTF-8 string with its two-byte big-endian length.
inline void put_string(std::string& out, std::string_view s) {
    if (s.size() > 0xffff)
        throw std::length_error("mqtt_frames: string longer than 65535 bytes");
    out.push_back(static_cast<char>((s.size() >> 8) & 0xff));
    out.push_back(static_cast<char>(s.size() & 0xff));
    out.append(s);
}

/// The Will a CONNECT may carry.
struct Will {
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retained = true;
};

/// What a CONNECT says.
struct Connect {
    std::string client_id;
    /// Empty: no username and no password (anonymous).
    std::string username;
    std::string password;
    std::uint16_t keepalive_s = 60;
    bool clean_session = true;
    std::optional<Will> will;
};

/// A whole CONNECT packet (protocol "MQTT", level 4 = 3.1.1).
inline std::string connect(const Connect& c) {
    std::string body;
    put_string(body, "MQTT");
    body.push_back(4);
    std::uint8_t flags = c.clean_session ? 0x02 : 0x00;
    if (!c.username.empty())
        flags |= 0x80 | 0x40; // username and password
    if (c.will)
        flags = static_cast<std::uint8_t>(flags | 0x04 | ((c.will->qos & 3) << 3) | (c.will->retained ? 0x20 : 0x00));
    body.push_back(static_cast<char>(flags));
    body.push_back(static_cast<char>(c.keepalive_s >> 8));
    body.push_back(static_cast<char>(c.keepalive_s & 0xff));
    put_string(body, c.client_id);
    if (c.will) {
        put_string(body, c.will->topic);
        put_string(body, c.will->payload);
    }
    if (!c.username.empty()) {
        put_string(body, c.username);
        put_string(body, c.password);
    }
    std::string packet(1, static_cast<char>(kConnect));
    put_remaining_length(packet, body.size());
    return packet + body;
}

/// Appends a QoS 0, not retained PUBLISH of `payload` to `topic`, the payload given in parts
/// (e.g. a template split around a counter) so that no part is copied twice.
inline void append_publish_qos0(std::string& out, std::string_view topic, std::string_view p1, std::string_view p2 = {},
                                std::string_view p3 = {}) {
    out.push_back(static_cast<char>(kPublish));
    put_remaining_length(out, 2 + topic.size() + p1.size() + p2.size() + p3.size());
    put_string(out, topic);
    out.append(p1);
    out.append(p2);
    out.append(p3);
}

/// Appends a PUBLISH; `packet_id` is written for QoS 1 and 2 only; `dup` marks a redelivery.
inline void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos, bool retained,
                           bool dup, std::uint16_t packet_id) {
    out.push_back(static_cast<char>(kPublish | (dup ? 0x08 : 0) | ((qos & 3) << 1) | (retained ? 0x01 : 0)));
    put_remaining_length(out, 2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size());
    put_string(out, topic);
    if (qos > 0)
        put_u16(out, packet_id);
    out.append(payload);
}

/// Sets the DUP flag of a whole PUBLISH packet (its first byte), for sending it again.
inline void set_dup(std::string& publish_packet) {
    if (!publish_packet.empty())
        publish_packet[0] = static_cast<char>(static_cast<std::uint8_t>(publish_packet[0]) | 0x08);
}

/// A PUBACK of `packet_id`.
inline std::string puback(std::uint16_t packet_id) {
    std::string out{static_cast<char>(kPuback), 2};
    put_u16(out, packet_id);
    return out;
}

/// A SUBSCRIBE of one filter (the reserved flags 0010 of MQTT 3.1.1 §3.8.1).
inline std::string subscribe(std::uint16_t packet_id, std::string_view filter, int qos) {
    std::string out(1, static_cast<char>(kSubscribe | 0x02));
    put_remaining_length(out, 2 + 2 + filter.size() + 1);
    put_u16(out, packet_id);
    put_string(out, filter);
    out.push_back(static_cast<char>(qos & 3));
    return out;
}

/// The big-endian two bytes at `bytes[at]` (packet ids, string lengths); the caller checks the size.
inline std::uint16_t read_u16(std::string_view bytes, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(bytes[at]) << 8) |
                                      static_cast<std::uint8_t>(bytes[at + 1]));
}

/// PINGREQ and DISCONNECT (both two bytes, no body).
inline std::string pingreq() {
    return std::string{static_cast<char>(kPingreq), 0};
}
inline std::string disconnect() {
    return std::string{static_cast<char>(kDisconnect), 0};
}

/// The return code of a CONNACK (0 accepted, 1..5 refused; Mosquitto says 5 for a bad login), or
/// nullopt if `bytes` does not start with a whole CONNACK.
inline std::optional<int> connack_code(std::string_view bytes) {
    if (bytes.size() < 4 || static_cast<std::uint8_t>(bytes[0]) != kConnack || bytes[1] != 2)
        return std::nullopt;
    return static_cast<std::uint8_t>(bytes[3]);
}

/// A fixed header read from the front of a byte stream.
struct Header {
    std::uint8_t type_and_flags = 0;
    std::size_t remaining = 0;
    /// Bytes of the fixed header itself (1 + the length bytes).
    std::size_t size = 0;
};

/// The fixed header at the front of `bytes`; nullopt if more bytes are needed. Throws
/// std::runtime_error on a length longer than four bytes (not MQTT).
inline std::optional<Header> read_header(std::string_view bytes) {
    Header h;
    if (bytes.empty())
        return std::nullopt;
    h.type_and_flags = static_cast<std::uint8_t>(bytes[0]);
    std::size_t multiplier = 1;
    for (std::size_t i = 1;; ++i) {
        if (i > 4)
            throw std::runtime_error("mqtt_frames: malformed remaining length");
        if (i >= bytes.size())
            return std::nullopt;
        const auto b = static_cast<std::uint8_t>(bytes[i]);
        h.remaining += (b & 0x7f) * multiplier;
        multiplier *= 128;
        if ((b & 0x80) == 0) {
            h.size = i + 1;
            return h;
        }
    }
}

} // namespace pilehub::mqtt_frames
