// Registering OCPP 1.6-J chargers (CONTRACT D.2 "Registration", issue 11) against the running stack: real
// Mosquitto, the real pilehub-api and pilehubctl, real SQLite. An OCPP charger gets a URL and a key (its HTTP
// Basic password at the gateway); the broker knows it only by the MQTT password the gateway derives from its
// own key (common/ocpp_identity.hpp), never by the key the charger holds.
#include "api_stack.hpp"

#include "common/ocpp_identity.hpp"

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

/// Registers an EV charger with two guns speaking `protocol` (empty: none given).
Http charger(const Stack& st, const std::string& admin, const std::string& id, std::int64_t station,
             const std::string& protocol, const std::string& kind = "ev_charger") {
    return st.post("/api/v1/admin/devices",
                   fmt::format(R"({{"id":"{}","kind":"{}","station_id":{},"sockets":2{}}})", id, kind, station,
                               protocol.empty() ? "" : R"(,"protocol":")" + protocol + "\""),
                   admin);
}

/// The MQTT password the gateway uses for charger `id`, from the gateway key in the stack's data directory.
std::string gateway_password(const Stack& st, const std::string& id) {
    const auto key_file = ocpp_identity::key_path(st.dir());
    REQUIRE_MESSAGE(fs::exists(key_file), key_file);
    return ocpp_identity::mqtt_password(ocpp_identity::load_or_create_key(key_file), id);
}

/// The stored hash of charger `id`'s OCPP key.
std::string ocpp_key_hash(const Stack& st, const std::string& id) {
    auto d = st.db();
    registry::Store reg(d);
    return reg.ocpp_key_hash(id).value_or("");
}

/// Whether the broker accepts `user` with `password` (once it has reloaded the password file).
bool accepted(Stack& st, const std::string& user, const std::string& password) {
    return eventually([&] { return st.broker().connack(user, password) == 0; });
}

/// pilehubctl on the stack's data directory.
RunResult ctl(const Stack& st, std::vector<std::string> words) {
    std::vector<std::string> argv{std::string(PILEHUB_BINARY_DIR) + "/workers/pilehubctl/pilehubctl", "--set",
                                  "data_dir=" + st.dir(), "--set", "ocpp.public_url=ws://ocpp.test:9000/ocpp"};
    argv.insert(argv.end(), words.begin(), words.end());
    return test::run(argv, 60s);
}

/// The `key=value` line of pilehubctl's output, or empty.
std::string line_value(const std::string& output, const std::string& key) {
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + "=", 0) == 0)
            return line.substr(key.size() + 1);
    return {};
}

} // namespace

TEST_CASE("api ocpp: an OCPP charger registers with its URLs and key; the broker accepts only the gateway's "
          "password for it, never the charger's key") {
    StackOptions o;
    o.sets = {"ocpp.public_url=ws://ocpp.example.test:9000/ocpp/"};
    Stack st(o);
    const auto admin = st.admin();
    const auto station = st.station(admin, "Cars");
    CHECK_FALSE(fs::exists(ocpp_identity::key_path(st.dir())));

    auto reg = charger(st, admin, "cp-o1", station, "ocpp1.6");
    REQUIRE_MESSAGE(reg.status == 201, reg);
    CHECK(reg.str("id") == "cp-o1");
    CHECK(reg.str("kind") == "ev_charger");
    CHECK(reg.str("protocol") == "ocpp1.6");
    CHECK(reg.i64("station_id") == station);
    CHECK(reg.size("guns") == 2);
    CHECK(reg.str("ocpp_url") == "ws://ocpp.example.test:9000/ocpp/cp-o1");
    CHECK(reg.str("ocpps_url") == "wss://localhost:18453/ocpp/cp-o1"); // the default TLS base
    const auto key = reg.str("ocpp_password");
    CHECK(key.size() >= 24);
    CHECK(reg.boolean("broker_reloaded"));
    // The charger never speaks MQTT: it is handed no MQTT credentials.
    CHECK(reg.at("mqtt_username") == nullptr);
    CHECK(reg.at("mqtt_password") == nullptr);
    CHECK(broker::verify_password(key, ocpp_key_hash(st, "cp-o1")));

    // Registration created the gateway key; the broker accepts the password derived from it.
    const auto derived = gateway_password(st, "cp-o1");
    CHECK(derived != key);
    CHECK(accepted(st, "cp-o1", derived));
    CHECK(st.broker().connack("cp-o1", key) == 5);

    // Pages and lists show the protocol; an MQTT device says mqtt.
    st.device(admin, "eb-1", station, 2);
    CHECK(st.get("/api/v1/admin/devices/cp-o1", admin).str("protocol") == "ocpp1.6");
    CHECK(st.get("/api/v1/admin/devices/eb-1", admin).str("protocol") == "mqtt");
    auto list = st.get(fmt::format("/api/v1/admin/devices?station_id={}", station), admin);
    REQUIRE(list.size("devices") == 2);
    CHECK(list.str("devices.0.id") == "cp-o1");
    CHECK(list.str("devices.0.protocol") == "ocpp1.6");
    CHECK(list.str("devices.1.protocol") == "mqtt");

    // Without protocol, or with mqtt, a charger speaks MQTT as before.
    auto plain = charger(st, admin, "cp-m1", station, "mqtt");
    REQUIRE_MESSAGE(plain.status == 201, plain);
    CHECK(plain.str("protocol") == "mqtt");
    CHECK(plain.str("mqtt_username") == "cp-m1");
    CHECK(plain.at("ocpp_password") == nullptr);
    CHECK(accepted(st, "cp-m1", plain.str("mqtt_password")));
}

TEST_CASE("api ocpp: protocol ocpp1.6 is for ev_charger; other words are refused") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Cars");
    for (const char* kind : {"ebike_pile", "camera"}) {
        CAPTURE(kind);
        auto r = charger(st, admin, "x-1", station, "ocpp1.6", kind);
        CHECK(r.status == 400);
        CHECK(r.code() == "invalid_request");
        CHECK_MESSAGE(r.str("error.message") == "protocol ocpp1.6 is for ev_charger", r);
    }
    for (const char* word : {"ocpp2.0.1", "OCPP1.6", ""}) {
        CAPTURE(word);
        auto r = st.post("/api/v1/admin/devices",
                         fmt::format(R"({{"id":"x-1","kind":"ev_charger","station_id":{},"guns":2,"protocol":"{}"}})",
                                     station, word),
                         admin);
        CHECK(r.code() == "invalid_request");
    }
    CHECK(st.get("/api/v1/admin/devices/x-1", admin).code() == "unknown_device");
}

TEST_CASE("api ocpp: rotating an OCPP charger's credentials replaces its key and keeps its MQTT identity") {
    StackOptions o;
    o.sets = {"ocpp.tls_port=-1"}; // a gateway without its TLS listener
    Stack st(o);
    const auto admin = st.admin();
    const auto station = st.station(admin, "Cars");
    auto reg = charger(st, admin, "cp-o2", station, "ocpp1.6");
    REQUIRE_MESSAGE(reg.status == 201, reg);
    REQUIRE(reg.at("ocpps_url"));
    CHECK(reg.at("ocpps_url")->IsNull());
    const auto old_key = reg.str("ocpp_password");

    auto rot = st.post("/api/v1/admin/devices/cp-o2/credentials", "{}", admin);
    REQUIRE_MESSAGE(rot.status == 200, rot);
    CHECK(rot.str("ocpp_url") == "ws://127.0.0.1:18090/ocpp/cp-o2"); // the default plain base
    REQUIRE(rot.at("ocpps_url"));
    CHECK(rot.at("ocpps_url")->IsNull());
    const auto new_key = rot.str("ocpp_password");
    CHECK(new_key.size() >= 24);
    CHECK(new_key != old_key);
    CHECK(rot.at("mqtt_password") == nullptr);
    const auto hash = ocpp_key_hash(st, "cp-o2");
    CHECK(broker::verify_password(new_key, hash));
    CHECK_FALSE(broker::verify_password(old_key, hash));
    CHECK(accepted(st, "cp-o2", gateway_password(st, "cp-o2")));
}

TEST_CASE("api ocpp: the OpenAPI document describes protocol and the OCPP answers") {
    Stack st;
    auto doc = st.get("/api/v1/openapi.json");
    REQUIRE(doc.status == 200);
    const auto create = "paths./api/v1/admin/devices.post.";
    const auto* words =
        doc.at(std::string(create) + "requestBody.content.application/json.schema.properties.protocol.enum");
    REQUIRE(words);
    REQUIRE(words->IsArray());
    REQUIRE(words->Size() == 2);
    CHECK(std::string((*words)[0].GetString()) == "mqtt");
    CHECK(std::string((*words)[1].GetString()) == "ocpp1.6");
    for (const auto& [path, member] :
         {std::pair{std::string(create) + "responses.201.description", "ocpp_password"},
          std::pair{std::string(create) + "responses.201.description", "ocpps_url"},
          std::pair{std::string("paths./api/v1/admin/devices/{id}/credentials.post.responses.200.description"),
                    "ocpp_url"}}) {
        CAPTURE(path);
        CHECK(doc.str(path).find(member) != std::string::npos);
    }
}

TEST_CASE("api ocpp: pilehubctl registers and rotates OCPP chargers and provisions them into fleet files; services "
          "init creates the gateway key") {
    Stack st;
    const auto admin = st.admin();
    const auto station = std::to_string(st.station(admin, "Cars"));
    const auto key_file = ocpp_identity::key_path(st.dir());

    auto init = ctl(st, {"services", "init"});
    REQUIRE_MESSAGE(init.exit_code == 0, init.output);
    REQUIRE(fs::exists(key_file));
    const auto gateway_key = ocpp_identity::load_or_create_key(key_file);

    auto add = ctl(st, {"device", "add", "cp-c1", "--kind", "ev_charger", "--station", station, "--guns", "2",
                        "--protocol", "ocpp1.6"});
    REQUIRE_MESSAGE(add.exit_code == 0, add.output);
    CHECK(line_value(add.output, "ocpp_url") == "ws://ocpp.test:9000/ocpp/cp-c1");
    CHECK(line_value(add.output, "ocpps_url") == "wss://localhost:18453/ocpp/cp-c1");
    const auto key = line_value(add.output, "ocpp_password");
    CHECK(key.size() >= 24);
    CHECK(add.output.find("mqtt_password") == std::string::npos);
    CHECK(broker::verify_password(key, ocpp_key_hash(st, "cp-c1")));
    CHECK(ocpp_identity::load_or_create_key(key_file) == gateway_key); // the key is kept, not replaced
    CHECK(accepted(st, "cp-c1", ocpp_identity::mqtt_password(gateway_key, "cp-c1")));
    CHECK(st.broker().connack("cp-c1", key) == 5);
    CHECK(st.get("/api/v1/admin/devices/cp-c1", admin).str("protocol") == "ocpp1.6");
    auto listed = ctl(st, {"device", "list"});
    CHECK_MESSAGE(listed.output.find("cp-c1\tev_charger\tocpp1.6") != std::string::npos, listed.output);

    auto rot = ctl(st, {"device", "rotate", "cp-c1"});
    REQUIRE_MESSAGE(rot.exit_code == 0, rot.output);
    const auto new_key = line_value(rot.output, "ocpp_password");
    CHECK(new_key.size() >= 24);
    CHECK(new_key != key);
    CHECK(broker::verify_password(new_key, ocpp_key_hash(st, "cp-c1")));
    CHECK(accepted(st, "cp-c1", ocpp_identity::mqtt_password(gateway_key, "cp-c1")));

    auto pile =
        ctl(st, {"device", "add", "eb-c1", "--kind", "ebike_pile", "--station", station, "--protocol", "ocpp1.6"});
    CHECK_MESSAGE(pile.exit_code == 2, pile.output);
    CHECK_MESSAGE(pile.output.find("protocol ocpp1.6 is for ev_charger") != std::string::npos, pile.output);
    auto word =
        ctl(st, {"device", "add", "cp-c2", "--kind", "ev_charger", "--station", station, "--protocol", "ocpp2"});
    CHECK_MESSAGE(word.exit_code == 2, word.output);

    const auto fleet_file = st.dir() + "/fleet.json";
    auto fleet = ctl(st, {"fleet", "provision", "--station", station, "--prefix", "f", "--ebike", "1", "--ocpp", "2",
                          "--guns", "3", "--out", fleet_file});
    REQUIRE_MESSAGE(fleet.exit_code == 0, fleet.output);
    rapidjson::Document doc;
    const auto text = slurp(fleet_file);
    doc.Parse(text.c_str());
    REQUIRE(doc.IsObject());
    CHECK(test::json_at(doc, "devices.0.id")->GetString() == std::string("f-e00001"));
    CHECK(test::json_at(doc, "devices.0.password") != nullptr);
    for (int k : {1, 2}) {
        const auto id = fmt::format("f-ocpp-{:03}", k);
        const auto entry = fmt::format("devices.{}.", k);
        CAPTURE(id);
        CHECK(std::string(test::json_at(doc, entry + "id")->GetString()) == id);
        CHECK(std::string(test::json_at(doc, entry + "kind")->GetString()) == "ev_charger");
        CHECK(std::string(test::json_at(doc, entry + "protocol")->GetString()) == "ocpp1.6");
        CHECK(test::json_at(doc, entry + "guns")->GetInt64() == 3);
        CHECK(std::string(test::json_at(doc, entry + "ocpp_url")->GetString()) == "ws://ocpp.test:9000/ocpp/" + id);
        CHECK(test::json_at(doc, entry + "password") == nullptr);
        const std::string fleet_key = test::json_at(doc, entry + "ocpp_password")->GetString();
        CHECK(broker::verify_password(fleet_key, ocpp_key_hash(st, id)));
        CHECK(accepted(st, id, ocpp_identity::mqtt_password(gateway_key, id)));
    }
}
