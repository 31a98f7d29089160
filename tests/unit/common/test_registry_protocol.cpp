#include "common/broker_auth.hpp"
#include "common/ocpp_identity.hpp"
#include "common/registry.hpp"
#include "tests/unit/ledger/ledger_fixture.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

using namespace pilehub;
using registry::DeviceKind;
using registry::Protocol;

namespace {

/// A migrated core database in a data directory, with one station.
struct Registry {
    test::TempDir dir{"registry-protocol"};
    db::Database core{dir.file("pilehub.db")};
    registry::Store store{core};
    std::int64_t station = 0;

    Registry() {
        db::migrate(core, db::core_migrations());
        registry::Station st;
        st.operator_id = store.ensure_operator("op", 1);
        st.name = std::string(1, 'S'); // moved in: GCC 12 -O2 warns falsely (-Wrestrict) on assigning "S" here
        station = store.add_station(st, 1);
    }
    registry::Device device(const std::string& id, DeviceKind kind, Protocol protocol) const {
        registry::Device d;
        d.id = id;
        d.kind = kind;
        d.protocol = protocol;
        d.station_id = station;
        d.ports = 2;
        return d;
    }
    std::string data_dir() const { return dir.path().string(); }
    /// The broker password hash of `id`, as the password file gets it.
    std::string broker_hash(const std::string& id) {
        for (const auto& [user, hash] : store.broker_users())
            if (user == id)
                return hash;
        return {};
    }
};

} // namespace

TEST_CASE("registry: protocols are the words mqtt and ocpp1.6; only an ev_charger speaks ocpp1.6") {
    CHECK(registry::parse_protocol("mqtt") == Protocol::Mqtt);
    CHECK(registry::parse_protocol("ocpp1.6") == Protocol::Ocpp16);
    CHECK(std::string(registry::to_string(Protocol::Mqtt)) == "mqtt");
    CHECK(std::string(registry::to_string(Protocol::Ocpp16)) == "ocpp1.6");
    for (const char* bad : {"", "MQTT", "ocpp", "ocpp1.6j", "ocpp2.0.1"})
        CHECK_MESSAGE(!registry::parse_protocol(bad), bad);

    struct Row {
        DeviceKind kind;
        Protocol protocol;
        bool ok;
    };
    const Row rows[] = {
        {DeviceKind::EbikePile, Protocol::Mqtt, true},    {DeviceKind::EvCharger, Protocol::Mqtt, true},
        {DeviceKind::Camera, Protocol::Mqtt, true},       {DeviceKind::EvCharger, Protocol::Ocpp16, true},
        {DeviceKind::EbikePile, Protocol::Ocpp16, false}, {DeviceKind::Camera, Protocol::Ocpp16, false},
    };
    for (const auto& r : rows) {
        CAPTURE(registry::to_string(r.kind));
        CAPTURE(registry::to_string(r.protocol));
        const auto problem = registry::protocol_problem(r.kind, r.protocol);
        CHECK(!problem.has_value() == r.ok);
        if (problem)
            CHECK(*problem == "protocol ocpp1.6 is for ev_charger");
    }
}

TEST_CASE("registry: a device keeps its protocol; add_device refuses ocpp1.6 for other kinds") {
    Registry r;
    r.store.add_device(r.device("eb-1", DeviceKind::EbikePile, Protocol::Mqtt), "$7$x", 1);
    r.store.add_device(r.device("cp-1", DeviceKind::EvCharger, Protocol::Ocpp16), "$7$y", 1, "$7$key");
    CHECK(r.store.device("eb-1")->protocol == Protocol::Mqtt);
    CHECK(r.store.device("cp-1")->protocol == Protocol::Ocpp16);
    const auto all = r.store.devices();
    REQUIRE(all.size() == 2);
    CHECK(all[0].protocol == Protocol::Ocpp16); // ordered by id: cp-1, eb-1
    CHECK(all[1].protocol == Protocol::Mqtt);
    CHECK_THROWS_AS(r.store.add_device(r.device("eb-2", DeviceKind::EbikePile, Protocol::Ocpp16), "$7$x", 1),
                    std::invalid_argument);
    CHECK_FALSE(r.store.device("eb-2"));
}

TEST_CASE("registry: an OCPP key hash is stored once per charger and replaced on rotation") {
    Registry r;
    r.store.add_device(r.device("cp-1", DeviceKind::EvCharger, Protocol::Ocpp16), "$7$y", 1);
    CHECK_FALSE(r.store.ocpp_key_hash("cp-1"));
    r.store.set_ocpp_key("cp-1", "$7$first", 10);
    CHECK(r.store.ocpp_key_hash("cp-1") == "$7$first");
    r.store.set_ocpp_key("cp-1", "$7$second", 20);
    CHECK(r.store.ocpp_key_hash("cp-1") == "$7$second");
    CHECK_FALSE(r.store.ocpp_key_hash("nope"));
    // Removing the charger removes its key.
    CHECK(r.store.remove_device("cp-1"));
    CHECK_FALSE(r.store.ocpp_key_hash("cp-1"));
}

TEST_CASE("registry: an OCPP charger is registered with an OCPP key and a broker password only the gateway "
          "derives; an MQTT device with a random broker secret") {
    Registry r;
    const auto key_file = ocpp_identity::key_path(r.data_dir());
    const auto mqtt =
        registry::register_device(r.store, r.device("cp-m", DeviceKind::EvCharger, Protocol::Mqtt), r.data_dir(), 1);
    CHECK_FALSE(mqtt.mqtt_password.empty());
    CHECK(mqtt.ocpp_password.empty());
    CHECK(broker::verify_password(mqtt.mqtt_password, r.broker_hash("cp-m")));
    CHECK_FALSE(r.store.ocpp_key_hash("cp-m"));
    CHECK_FALSE(std::filesystem::exists(key_file)); // MQTT devices need no gateway key

    const auto ocpp =
        registry::register_device(r.store, r.device("cp-o", DeviceKind::EvCharger, Protocol::Ocpp16), r.data_dir(), 1);
    CHECK(ocpp.mqtt_password.empty());
    REQUIRE_FALSE(ocpp.ocpp_password.empty());
    REQUIRE(std::filesystem::exists(key_file)); // created for the gateway to find
    const auto derived = ocpp_identity::mqtt_password(ocpp_identity::load_or_create_key(key_file), "cp-o");
    CHECK(registry::ocpp_mqtt_password(r.data_dir(), "cp-o") == derived);
    CHECK(broker::verify_password(derived, r.broker_hash("cp-o")));
    CHECK_FALSE(broker::verify_password(ocpp.ocpp_password, r.broker_hash("cp-o")));
    CHECK(broker::verify_password(ocpp.ocpp_password, r.store.ocpp_key_hash("cp-o").value()));
}

TEST_CASE("registry: rotation replaces an OCPP charger's key and keeps its MQTT identity; an MQTT device gets a new "
          "broker secret") {
    Registry r;
    const auto first =
        registry::register_device(r.store, r.device("cp-o", DeviceKind::EvCharger, Protocol::Ocpp16), r.data_dir(), 1);
    const auto mqtt_hash = r.broker_hash("cp-o");
    const auto rotated = registry::rotate_secret(r.store, "cp-o", 2);
    REQUIRE(rotated);
    CHECK(rotated->mqtt_password.empty());
    CHECK(rotated->ocpp_password != first.ocpp_password);
    const auto key_hash = r.store.ocpp_key_hash("cp-o").value();
    CHECK(broker::verify_password(rotated->ocpp_password, key_hash));
    CHECK_FALSE(broker::verify_password(first.ocpp_password, key_hash));
    CHECK(r.broker_hash("cp-o") == mqtt_hash);

    const auto pile =
        registry::register_device(r.store, r.device("eb-1", DeviceKind::EbikePile, Protocol::Mqtt), r.data_dir(), 1);
    const auto new_pile = registry::rotate_secret(r.store, "eb-1", 2);
    REQUIRE(new_pile);
    CHECK(new_pile->ocpp_password.empty());
    CHECK(broker::verify_password(new_pile->mqtt_password, r.broker_hash("eb-1")));
    CHECK_FALSE(broker::verify_password(pile.mqtt_password, r.broker_hash("eb-1")));
    CHECK_FALSE(registry::rotate_secret(r.store, "nope", 2));
}
