// Who may do what: the RBAC matrix with station-scoped operators, the audit log, SMS code limits,
// login throttling, an SQL-injection corpus on every parameter of every route, and the OpenAPI
// document against the routes the server actually serves.
#include "api_stack.hpp"

#include "common/ledger.hpp"

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

std::string header(const Http& h, const std::string& name) {
    for (const auto& [k, v] : h.headers)
        if (k == name)
            return v;
    return {};
}

std::string url_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string json_string(const std::string& s) {
    json::Writer w;
    w.value(s);
    return w.str();
}

/// Nothing of the database may leak to a client.
void check_no_leak(const Http& r, const std::string& what) {
    CHECK_MESSAGE(r.status != 0, what << ": no answer");
    CHECK_MESSAGE(r.status != 500, what << ": " << r);
    // The corpus itself may be echoed (JSON-escaped) in a message; database words may not appear.
    for (const char* word :
         {"sqlite", "SQLITE", "syntax error", "no such table", "no such column", "constraint failed", "SQL logic error",
          "unrecognized token", "near \"", "database is locked", "password_hash\":"})
        CHECK_MESSAGE(r.body.find(word) == std::string::npos, what << " leaked `" << word << "`: " << r);
    if (r.status >= 400 && r.json.IsObject())
        CHECK_MESSAGE(!r.code().empty(), what << ": error without the error shape: " << r);
}

} // namespace

TEST_CASE("api security: the RBAC matrix; a station-scoped operator never sees another station's anything") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    const auto s1 = st.station(admin, "North"), s2 = st.station(admin, "South", 22.50, 114.00);
    st.device(admin, "n-p1", s1, 10);
    st.device(admin, "s-p1", s2, 10);
    auto u1 = st.post("/api/v1/admin/users", fmt::format(R"({{"phone":"13300000001","station_id":{}}})", s1), admin);
    auto u2 = st.post("/api/v1/admin/users", fmt::format(R"({{"phone":"13300000002","station_id":{}}})", s2), admin);
    REQUIRE(
        st.money("/api/v1/admin/cards", fmt::format(R"({{"card_no":"NORTH001","station_id":{}}})", s1), admin).status ==
        201);
    REQUIRE(
        st.money("/api/v1/admin/cards", fmt::format(R"({{"card_no":"SOUTH001","station_id":{}}})", s2), admin).status ==
        201);
    const auto r1 = st.rider("13300000001"), r2 = st.rider("13300000002");
    auto sess1 = st.post("/api/v1/sessions", R"({"socket":"n-p1-1","mode":"power"})", r1);
    auto sess2 = st.post("/api/v1/sessions", R"({"socket":"s-p1-1","mode":"power"})", r2);
    REQUIRE(sess1.status == 202);
    REQUIRE(sess2.status == 202);
    {
        auto d = st.db();
        db::Statement(d, "INSERT INTO presence_log(device_id, online, at) VALUES ('n-p1', 1, 1), ('s-p1', 1, 2)").run();
    }
    const auto op1 = st.staff(admin, "op1", "operator", fmt::format(R"("station_ids":[{}])", s1));
    const auto viewer = st.staff(admin, "viewer", "viewer", R"("all_stations":true)");
    const auto fin = st.staff(admin, "fin", "finance", fmt::format(R"("station_ids":[{}])", s2));
    const auto maint = st.staff(admin, "maint", "maintenance", fmt::format(R"("station_ids":[{}])", s2));
    CHECK(st.post("/api/v1/admin/admins", R"({"username":"x","password":"password-x","role":"operator"})", admin)
              .code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/admins",
                  R"({"username":"y","password":"password-y","role":"nope","all_stations":true})", admin)
              .code() == "not_found");

    struct Row {
        std::string method, path, body;
        std::vector<int> expect; // admin, op1, viewer, fin, maint
    };
    const auto S1 = std::to_string(s1), S2 = std::to_string(s2);
    const auto U2 = std::to_string(u2.i64("id"));
    const auto SID2 = sess2.str("session.id");
    const std::vector<Row> matrix{
        {"GET", "/api/v1/admin/stations/" + S2, "", {200, 404, 200, 200, 200}},
        {"GET", "/api/v1/admin/stations/" + S1, "", {200, 200, 200, 404, 404}},
        {"POST", "/api/v1/admin/stations", R"({"name":"New","lat":1,"lon":1})", {201, 403, 403, 403, 403}},
        {"PUT", "/api/v1/admin/stations/" + S2, R"({"address":"2 Road"})", {200, 404, 403, 403, 403}},
        {"GET", "/api/v1/admin/devices/s-p1", "", {200, 404, 200, 403, 200}},
        {"PUT", "/api/v1/admin/devices/n-p1/config", R"({"full_stop_w":6})", {200, 200, 403, 403, 404}},
        {"PUT", "/api/v1/admin/devices/s-p1/config", R"({"full_stop_w":7})", {200, 404, 403, 403, 200}},
        {"GET", "/api/v1/admin/users/" + U2, "", {200, 404, 200, 200, 403}},
        {"POST", "/api/v1/admin/users/" + U2 + "/recharge", R"({"amount_fen":100})", {200, 404, 403, 200, 403}},
        {"POST", "/api/v1/admin/users/" + U2 + "/freeze", "", {200, 404, 403, 403, 403}},
        {"POST", "/api/v1/admin/users/" + U2 + "/unfreeze", "", {200, 404, 403, 403, 403}},
        {"GET", "/api/v1/admin/sessions/" + SID2, "", {200, 404, 200, 200, 200}},
        {"POST", "/api/v1/admin/devices/s-p1/commands/query_port", R"({"data":{"n":1}})", {200, 404, 403, 403, 200}},
        {"POST", "/api/v1/admin/cards/SOUTH001/report-lost", "", {200, 404, 403, 403, 403}},
        {"GET", "/api/v1/admin/dashboard", "", {200, 200, 200, 200, 403}},
        {"GET", "/api/v1/admin/dashboard?station_id=" + S2, "", {200, 404, 200, 200, 403}},
        {"GET", "/api/v1/admin/incidents", "", {200, 200, 200, 403, 200}},
        {"GET", "/api/v1/admin/audit-log", "", {200, 403, 403, 403, 403}},
        {"GET", "/api/v1/admin/admins", "", {200, 403, 403, 403, 403}},
        {"GET", "/api/v1/admin/exports/sessions", "", {200, 200, 200, 200, 403}},
        {"PUT",
         "/api/v1/admin/stations/" + S2 + "/tariff",
         R"({"tariff":{"name":"t","timezone":"Asia/Shanghai","modes":["time"],"time":{"fen_per_hour":100,"options_minutes":[60]}}})",
         {200, 404, 403, 403, 403}},
    };
    const std::vector<std::pair<std::string, std::string>> who{
        {"admin", admin}, {"op1", op1}, {"viewer", viewer}, {"fin", fin}, {"maint", maint}};
    int requests = 0;
    for (const auto& row : matrix)
        for (std::size_t i = 0; i < who.size(); ++i) {
            // Reset what a previous column changed, so each column sees the same state.
            if (row.path.find("report-lost") != std::string::npos) {
                auto d = st.db();
                db::Statement(d, "UPDATE cards SET status = 'unbound' WHERE card_no = 'SOUTH001'").run();
            }
            // (every request carries a fresh Idempotency-Key: money routes require one)
            auto r = st.request(row.method, row.path, row.body.empty() ? "{}" : row.body, who[i].second,
                                {{"Idempotency-Key", fmt::format("matrix-{}", ++requests)}});
            if (row.path == "/api/v1/admin/stations" && r.status == 201) {
                auto d = st.db();
                db::Statement(d, "DELETE FROM stations WHERE name = 'New'").run();
            }
            CHECK_MESSAGE(r.status == row.expect[i],
                          who[i].first << " " << row.method << " " << row.path << " → " << r);
            if (r.status >= 400)
                CHECK(!r.code().empty());
        }

    // What a scoped operator's lists contain: its station only.
    auto stations = st.get("/api/v1/admin/stations", op1);
    REQUIRE(stations.size("stations") == 1);
    CHECK(stations.i64("stations.0.id") == s1);
    auto devices = st.get("/api/v1/admin/devices", op1);
    REQUIRE(devices.size("devices") == 1);
    CHECK(devices.str("devices.0.id") == "n-p1");
    auto sessions = st.get("/api/v1/admin/sessions", op1);
    REQUIRE(sessions.size("sessions") == 1);
    CHECK(sessions.str("sessions.0.id") == sess1.str("session.id"));
    auto users = st.get("/api/v1/admin/users", op1);
    REQUIRE(users.size("users") == 1);
    CHECK(users.i64("users.0.id") == u1.i64("id"));
    auto cards = st.get("/api/v1/admin/cards", op1);
    REQUIRE(cards.size("cards") == 1);
    CHECK(cards.str("cards.0.card_no") == "NORTH001");
    auto presence = st.get("/api/v1/admin/presence-log", op1);
    REQUIRE(presence.size("entries") == 1);
    CHECK(presence.str("entries.0.device_id") == "n-p1");
    CHECK(st.get("/api/v1/admin/ledger", op1).code() == "forbidden");
    CHECK(st.get("/api/v1/admin/sessions?station_id=" + S2, op1).size("sessions") == 0);
    CHECK(st.get("/api/v1/admin/qr-sheet?station_id=" + S2, op1).status == 404);
    CHECK(st.get("/api/v1/admin/sockets/s-p1-1/qr", op1).code() == "unknown_socket");
    CHECK(st.post("/api/v1/admin/users", R"({"phone":"13300000009"})", op1).code() == "invalid_request");
    CHECK(st.post("/api/v1/admin/users", fmt::format(R"({{"phone":"13300000009","station_id":{}}})", s2), op1).status ==
          404);
    CHECK(st.post("/api/v1/admin/users", fmt::format(R"({{"phone":"13300000009","station_id":{}}})", s1), op1).status ==
          201);
    CHECK(st.get("/api/v1/admin/me", op1).size("station_ids") == 1);

    // The audit log holds a row for every change an operator made, without secrets.
    auto audit = st.get("/api/v1/admin/audit-log?action=admin.users.recharge", admin);
    REQUIRE(audit.size("entries") == 2);
    std::set<std::string> names{audit.str("entries.0.username"), audit.str("entries.1.username")};
    CHECK(names == std::set<std::string>{"admin", "fin"});
    CHECK(audit.i64("entries.0.detail.amount_fen") == 100);
    auto created = st.get("/api/v1/admin/audit-log?action=admin.admins.create", admin);
    REQUIRE(created.size("entries") == 4);
    CHECK(created.str("entries.0.detail.password") == "***");
    CHECK(created.body.find("password-op1") == std::string::npos);
    CHECK(st.get("/api/v1/admin/audit-log?action=admin.devices.config.put", admin).size("entries") == 4);
    CHECK(st.get("/api/v1/admin/audit-log?username=op1", admin).size("entries") >= 2);
    CHECK(st.get("/api/v1/admin/audit-log?action=admin.login", admin).size("entries") >= 5);

    // A custom role; a disabled operator is locked out at once.
    auto role =
        st.post("/api/v1/admin/roles", R"({"name":"cashier","permissions":["users.read","wallet.recharge"]})", admin);
    REQUIRE_MESSAGE(role.status == 201, role);
    CHECK(st.post("/api/v1/admin/roles", R"({"name":"bad","permissions":["fly"]})", admin).code() == "invalid_request");
    CHECK(st.put("/api/v1/admin/roles/admin", R"({"permissions":[]})", admin).code() == "conflict");
    auto ops = st.get("/api/v1/admin/admins", admin);
    std::int64_t op1_id = 0;
    for (rapidjson::SizeType i = 0; i < ops.size("admins"); ++i)
        if (ops.str(fmt::format("admins.{}.username", i)) == "op1")
            op1_id = ops.i64(fmt::format("admins.{}.id", i));
    REQUIRE(op1_id > 0);
    REQUIRE(st.put(fmt::format("/api/v1/admin/admins/{}", op1_id), R"({"role":"cashier"})", admin).status == 200);
    CHECK(st.get("/api/v1/admin/stations", op1).status == 403);
    CHECK(st.get("/api/v1/admin/users", op1).status == 200);
    REQUIRE(st.put(fmt::format("/api/v1/admin/admins/{}", op1_id), R"({"enabled":false})", admin).status == 200);
    CHECK(st.get("/api/v1/admin/users", op1).status == 401);
    auto locked = st.post("/api/v1/admin/login", R"({"username":"op1","password":"password-op1"})");
    CHECK(locked.status == 403);
    CHECK(st.put(fmt::format("/api/v1/admin/admins/{}", 1), R"({"enabled":false})", admin).code() == "conflict");
}

TEST_CASE("api security: SMS codes are rate-limited per phone, allow 5 tries, and expire from use") {
    {
        Stack st(StackOptions{true, {"pilehub-api.sms_min_interval_s=60"}, {}});
        REQUIRE(st.post("/api/v1/auth/sms-code", R"({"phone":"13200000001"})").status == 200);
        auto soon = st.post("/api/v1/auth/sms-code", R"({"phone":"13200000001"})");
        CHECK(soon.status == 429);
        CHECK(soon.code() == "rate_limited");
        CHECK(std::stoi(header(soon, "Retry-After")) > 50);
        CHECK(st.post("/api/v1/auth/sms-code", R"({"phone":"13200000002"})").status == 200);
    }
    Stack st(StackOptions{true, {"pilehub-api.sms_max_per_hour=3"}, {}});
    auto c = st.post("/api/v1/auth/sms-code", R"({"phone":"13200000003"})");
    REQUIRE(c.status == 200);
    const auto right = c.str("dev_code");
    const auto wrong = right == "000000" ? std::string("111111") : std::string("000000");
    for (int i = 0; i < 4; ++i) {
        auto r = st.post("/api/v1/auth/login", fmt::format(R"({{"phone":"13200000003","code":"{}"}})", wrong));
        CHECK(r.status == 401);
    }
    auto fifth = st.post("/api/v1/auth/login", fmt::format(R"({{"phone":"13200000003","code":"{}"}})", wrong));
    CHECK(fifth.status == 429);
    auto late = st.post("/api/v1/auth/login", fmt::format(R"({{"phone":"13200000003","code":"{}"}})", right));
    CHECK(late.status == 429);
    CHECK(late.code() == "rate_limited");
    // A new code works; three codes an hour at most.
    auto c2 = st.post("/api/v1/auth/sms-code", R"({"phone":"13200000003"})");
    REQUIRE(c2.status == 200);
    CHECK(st.post("/api/v1/auth/login", fmt::format(R"({{"phone":"13200000003","code":"{}"}})", c2.str("dev_code")))
              .status == 200);
    CHECK(st.post("/api/v1/auth/sms-code", R"({"phone":"13200000003"})").status == 200);
    auto fourth = st.post("/api/v1/auth/sms-code", R"({"phone":"13200000003"})");
    CHECK(fourth.status == 429);
    CHECK(!header(fourth, "Retry-After").empty());
}

TEST_CASE("api security: repeated failed operator logins are throttled, even with the right password afterwards") {
    Stack st(StackOptions{true, {"pilehub-api.login_max_failures=3", "pilehub-api.login_window_s=60"}, {}});
    const auto admin = st.admin();
    REQUIRE(st.post("/api/v1/admin/admins",
                    R"({"username":"ops2","password":"password-ops2","role":"viewer","all_stations":true})", admin)
                .status == 201);
    for (int i = 0; i < 3; ++i)
        CHECK(st.post("/api/v1/admin/login", R"({"username":"admin","password":"guess-guess"})").status == 401);
    auto blocked =
        st.post("/api/v1/admin/login", fmt::format(R"({{"username":"admin","password":"{}"}})", Stack::kAdminPassword));
    CHECK(blocked.status == 429);
    CHECK(blocked.code() == "rate_limited");
    CHECK(std::stoi(header(blocked, "Retry-After")) > 0);
    CHECK(st.post("/api/v1/admin/login", R"({"username":"ops2","password":"password-ops2"})").status == 200);
    CHECK(st.post("/api/v1/admin/login", R"({"username":"nobody","password":"whatever1"})").code() == "unauthorized");
    // Tokens issued before keep working.
    CHECK(st.get("/api/v1/admin/me", admin).status == 200);
}

TEST_CASE("api security: an SQL-injection corpus on every parameter of every route never reaches SQL") {
    Stack st;
    FakeSessiond fake(st.broker(), st.dir() + "/pilehub.db");
    const auto admin = st.admin();
    // A second full admin does the fuzzing, so a fuzzed change to `admin` cannot lock the test out.
    REQUIRE(st.post("/api/v1/admin/admins",
                    R"({"username":"fuzzer","password":"password-fuzzer","role":"admin","all_stations":true})", admin)
                .status == 201);
    const auto fuzzer = st.admin("fuzzer", "password-fuzzer");
    const auto station = st.station(admin, "Fuzz Station");
    st.device(admin, "fz-p1", station, 4);
    const auto rider = st.rider("13100000001");
    const std::vector<std::string> corpus{"' OR '1'='1",
                                          "1; DROP TABLE accounts; --",
                                          "\" OR 1=1 --",
                                          "1) UNION SELECT password_hash FROM admins --",
                                          "'; UPDATE wallets SET balance_fen = 999999; --",
                                          "%27%20OR%201%3D1",
                                          std::string(300, 'A') + "'",
                                          "\\'; --"};

    auto doc = st.get("/api/v1/openapi.json");
    REQUIRE(doc.status == 200);
    const auto& paths = doc.json["paths"];
    int requests = 0;
    for (auto p = paths.MemberBegin(); p != paths.MemberEnd(); ++p) {
        const std::string tmpl = p->name.GetString();
        for (auto m = p->value.MemberBegin(); m != p->value.MemberEnd(); ++m) {
            std::string method = m->name.GetString();
            for (auto& ch : method)
                ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            const auto& op = m->value;
            const std::string op_id = op["operationId"].GetString();
            if (op_id.find("logout") != std::string::npos || op_id == "admin.me.password")
                continue; // would end the fuzzer's own session
            const std::string access = op["x-access"].GetString();
            const auto token = access == "admin" ? fuzzer : access == "rider" ? rider : std::string();
            const auto& the_corpus = op_id == "admin.login" ? std::vector<std::string>{corpus[0], corpus[3]} : corpus;
            std::vector<std::pair<std::string, std::string>> params; // (name, in)
            if (op.HasMember("parameters"))
                for (const auto& q : op["parameters"].GetArray())
                    params.emplace_back(q["name"].GetString(), q["in"].GetString());
            auto fill = [&](const std::string& hit, const std::string& value) {
                std::string path = tmpl, query;
                for (const auto& [name, in] : params) {
                    const auto v =
                        name == hit ? url_encode(value) : std::string(name == "id" || name == "n" ? "1" : "fz-p1-1");
                    if (in == "path")
                        path.replace(path.find("{" + name + "}"), name.size() + 2, v);
                    else if (name == hit)
                        query += (query.empty() ? "?" : "&") + name + "=" + v;
                }
                return path + query;
            };
            for (const auto& v : the_corpus) {
                for (const auto& [name, in] : params) {
                    auto r = st.request(method, fill(name, v), method == "GET" ? "" : "{}", token);
                    check_no_leak(r, method + " " + tmpl + " " + name);
                    ++requests;
                }
                if (op.HasMember("requestBody") && op["requestBody"]["content"].HasMember("application/json")) {
                    const auto& props = op["requestBody"]["content"]["application/json"]["schema"]["properties"];
                    for (auto f = props.MemberBegin(); f != props.MemberEnd(); ++f) {
                        const std::string field = f->name.GetString();
                        auto r = st.request(method, fill("", ""), "{" + json_string(field) + ":" + json_string(v) + "}",
                                            token);
                        check_no_leak(r, method + " " + tmpl + " body." + field);
                        ++requests;
                    }
                }
            }
        }
    }
    MESSAGE(requests << " injection requests");
    CHECK(requests > 500);
    // Nothing was dropped or rewritten; everyone can still log in.
    auto d = st.db();
    db::Statement t(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('accounts', 'admins', "
                       "'wallets', 'ledger')");
    REQUIRE(t.step());
    CHECK(t.int64(0) == 4);
    db::Statement w(d, "SELECT count(*) FROM wallets WHERE balance_fen > 0");
    REQUIRE(w.step());
    CHECK(w.int64(0) == 0);
    CHECK(st.get("/api/v1/admin/me", fuzzer).status == 200);
    CHECK(st.get("/api/v1/me", rider).status == 200);
    CHECK(ledger::audit(d).empty());
}

TEST_CASE("api security: every route in the OpenAPI document is served, and every served route is documented") {
    Stack st;
    auto doc = st.get("/api/v1/openapi.json");
    REQUIRE(doc.status == 200);
    CHECK(doc.str("openapi") == "3.0.3");
    const auto& paths = doc.json["paths"];
    int operations = 0;
    for (auto p = paths.MemberBegin(); p != paths.MemberEnd(); ++p) {
        std::string path = p->name.GetString();
        for (auto m = p->value.MemberBegin(); m != p->value.MemberEnd(); ++m) {
            ++operations;
            std::string method = m->name.GetString();
            for (auto& ch : method)
                ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            std::string concrete = path;
            while (concrete.find('{') != std::string::npos) {
                const auto b = concrete.find('{'), e = concrete.find('}', b);
                concrete.replace(b, e - b + 1, "1");
            }
            auto r = st.request(method, concrete, method == "GET" ? "" : "{}");
            // A documented route is matched by the server: whatever it answers, it is not "no route".
            CHECK_MESSAGE(r.status != 0, method << " " << path);
            CHECK_MESSAGE(r.str("error.message").rfind("no route", 0) != 0, method << " " << path << " → " << r);
            CHECK(m->value.HasMember("responses"));
        }
    }
    CHECK(operations >= 80);
    // And an undocumented one is not served.
    auto none = st.get("/api/v1/admin/secret-backdoor");
    CHECK(none.status == 404);
    CHECK(none.str("error.message").rfind("no route", 0) == 0);
}

TEST_CASE("api security: only the payment's owner may confirm a sandbox payment; anyone else learns nothing") {
    Stack st;
    const auto admin = st.admin();
    const auto owner = st.rider("13300000021"), other = st.rider("13300000022");
    auto pay = st.post("/api/v1/wallet/recharge", R"({"amount_fen":3000})", owner);
    REQUIRE_MESSAGE(pay.status == 201, pay);
    const auto pid = pay.str("payment.id");
    // No token, an operator's token, another rider: refused; another rider's answer is that of a
    // payment that does not exist.
    CHECK(st.post("/api/v1/pay/sandbox/" + pid + "/confirm", "{}").status == 401);
    CHECK(st.post("/api/v1/pay/sandbox/" + pid + "/confirm", "{}", admin).status == 403);
    auto theirs = st.post("/api/v1/pay/sandbox/" + pid + "/confirm", "{}", other);
    auto nowhere = st.post("/api/v1/pay/sandbox/pay_00000000000000000000000000000000/confirm", "{}", other);
    CHECK(theirs.status == 404);
    CHECK(theirs.code() == "not_found");
    CHECK(theirs.body == nowhere.body);
    CHECK(st.get("/api/v1/payments/" + pid, owner).str("payment.status") == "pending");
    CHECK(st.get("/api/v1/me", owner).i64("wallet.balance_fen") == 0);
    CHECK(st.get("/api/v1/me", other).i64("wallet.balance_fen") == 0);
    // The owner may.
    auto mine = st.post("/api/v1/pay/sandbox/" + pid + "/confirm", "{}", owner);
    REQUIRE_MESSAGE(mine.status == 200, mine);
    CHECK(mine.str("status") == "credited");
    CHECK(st.get("/api/v1/me", owner).i64("wallet.balance_fen") == 3000);
}

TEST_CASE("api security: development mode listens on loopback only; anything else is refused at start (exit 2)") {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("pilehub-devbind-{}", ::getpid());
    struct Row {
        const char* bind;
        bool dev_mode;
        int exit_code;
    };
    const Row rows[] = {
        {"0.0.0.0", true, 2},   {"192.168.1.10", true, 2}, {"::", true, 2},  {"api.example.com", true, 2},
        {"127.0.0.1", true, 0}, {"127.0.0.2", true, 0},    {"::1", true, 0}, {"localhost", true, 0},
        {"0.0.0.0", false, 0},
    };
    // Production needs a rider login and a payment channel: Alipay gives both (key files are read at
    // start, not by --check-config).
    const std::vector<std::string> alipay{"--set", "pilehub-api.alipay.app_id=2021000000000001",
                                          "--set", "pilehub-api.alipay.app_private_key_file=/nonexistent/app.pem",
                                          "--set", "pilehub-api.alipay.alipay_public_key_file=/nonexistent/ali.pem",
                                          "--set", "pilehub-api.public_url=https://pay.example.com"};
    for (const auto& r : rows) {
        std::vector<std::string> argv{api_binary(),
                                      "--set",
                                      "data_dir=" + dir.string(),
                                      "--set",
                                      std::string("dev_mode=") + (r.dev_mode ? "true" : "false"),
                                      "--set",
                                      std::string("pilehub-api.bind=") + r.bind,
                                      "--check-config"};
        if (!r.dev_mode)
            argv.insert(argv.end() - 1, alipay.begin(), alipay.end());
        auto out = run(argv, 10s);
        CHECK_MESSAGE(out.exit_code == r.exit_code, r.bind << " dev_mode=" << r.dev_mode << ": " << out.output);
        if (r.exit_code == 2)
            CHECK_MESSAGE(out.output.find("loopback") != std::string::npos, out.output);
    }
    // Not only --check-config: a start is refused the same way, before it opens anything.
    auto start = run({api_binary(), "--set", "data_dir=" + dir.string(), "--set", "dev_mode=true", "--set",
                      "pilehub-api.bind=0.0.0.0"},
                     10s);
    CHECK_MESSAGE(start.exit_code == 2, start.output);
    CHECK(start.output.find("pilehub-api.bind") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir));
}
