// fuzz_ocpp: what an OCPP 1.6-J charger sends the gateway. Byte 0 picks: the frame parser (a frame read
// and written again reads the same), the schema check of an action's payload ("Action\npayload"; the
// next byte picks .req or .conf), the MeterValue decoder, or a booted charge point (gateway/
// charge_point.hpp, on a migrated database) fed the text as one WebSocket message, the clock moving on
// a second and tick() run after each.
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "gateway/charge_point.hpp"
#include "gateway/ocpp_frame.hpp"
#include "gateway/ocpp_meter.hpp"
#include "gateway/ocpp_schema.hpp"
#include "tests/fuzz/entries.hpp"
#include "tests/support/registry_seed.hpp"

#include <fmt/format.h>

#include <memory>

namespace pilehub::fuzz {
namespace {

std::string frame_round_trip(std::string_view text) {
    auto first = ocpp::read_frame(text);
    if (auto* problem = std::get_if<ocpp::FrameProblem>(&first)) {
        if (auto a = problem->answer()) {
            auto back = ocpp::read_frame(ocpp::write(*a));
            if (!std::holds_alternative<ocpp::Frame>(back))
                return "the CALLERROR answering a bad frame is not a frame itself";
        }
        return {};
    }
    const auto& frame = std::get<ocpp::Frame>(first);
    const auto text2 = ocpp::write(frame);
    auto second = ocpp::read_frame(text2);
    if (!std::holds_alternative<ocpp::Frame>(second))
        return "a frame written again does not read: " + text2;
    if (!(std::get<ocpp::Frame>(second) == frame))
        return "a frame written and read again differs: " + text2;
    return {};
}

std::string schema_check(std::string_view text) {
    if (text.empty())
        return {};
    const auto d = (text[0] & 1) ? ocpp::Direction::Response : ocpp::Direction::Request;
    text.remove_prefix(1);
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos)
        return {};
    const auto action = text.substr(0, nl);
    auto v = ocpp::validate(action, d, text.substr(nl + 1));
    if (!ocpp::known_action(action) && (!v || v->code != ocpp::ErrorCode::NotImplemented))
        return "an unknown action was not refused NotImplemented";
    return {};
}

std::string meter_value(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc)
        return {};
    auto r = ocpp::read_meter_value(doc.value());
    if (r && r.value().soc_pct && (*r.value().soc_pct < 0 || *r.value().soc_pct > 100))
        return "a SoC outside 0..100 was read";
    if (r && r.value().register_wh && *r.value().register_wh < 0)
        return "a negative energy register was read";
    return {};
}

/// One OCPP charger `FZ1` with two guns on a migrated database, booted.
struct Charger {
    db::Database db{scratch_db("ocpp")};
    ManualClock clock{1'796'000'000'000};
    ocpp::GatewayStore store{db};
    std::unique_ptr<ocpp::ChargePoint> cp;
    Charger() {
        db::migrate(db, db::core_migrations());
        test::register_piles(db, {"FZ1"}, 2);
        db.exec("UPDATE devices SET kind = 'ev_charger', protocol = 'ocpp1.6' WHERE id = 'FZ1'");
        db.exec("INSERT INTO ocpp_credentials (device_id, key_hash, issued_at) VALUES ('FZ1', '$7$x', 1)");
        cp = std::make_unique<ocpp::ChargePoint>("FZ1", 2, store.next_boot("FZ1", clock.now_ms()), store, clock);
        (void)cp->connected();
        (void)cp->on_text(R"([2,"boot","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"DC60"}])");
    }
};

std::string charge_point(std::string_view text) {
    static Charger c;
    auto fx = c.cp->on_text(text);
    for (const auto& s : fx.send)
        if (!std::holds_alternative<ocpp::Frame>(ocpp::read_frame(s)))
            return "the gateway sent a charger something that is not a frame: " + s;
    for (const auto& m : fx.publish)
        if (!m.payload.empty() && !json::parse(m.payload))
            return "the gateway published something that is not JSON on " + m.topic;
    c.clock.advance_ms(1000);
    (void)c.cp->tick();
    return {};
}

} // namespace

std::string ocpp(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = (log::set_level(log::Level::Error), true);
    (void)quiet;
    if (size == 0)
        return {};
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
    case 0:
        return frame_round_trip(text);
    case 1:
        return schema_check(text);
    case 2:
        return meter_value(text);
    default:
        return charge_point(text);
    }
}

} // namespace pilehub::fuzz
