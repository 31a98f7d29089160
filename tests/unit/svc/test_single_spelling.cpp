// The svc contract has one spelling of each of its facts. This test greps the sources for the old
// spellings that common/svc and common/topics replaced, so they cannot creep back in.
//
// Each rule is {what, pattern, where it is searched, where it may appear}. Paths are relative to
// the source tree; a path ending in '/' is a folder (searched recursively). Full-line comments are
// skipped (docs may quote a topic). Every rule searches common/, web-api/ and workers/: the workers
// read and write svc payloads through the codecs, ask the svc state questions and send svc
// requests through rpc::Client's typed call, like the API.
#include "tests/support/grep_rules.hpp"

#include <string>
#include <vector>

namespace {

namespace grep = pilehub::test::grep;
using grep::Rule;

#define PH_STATE_WORD "(starting|charging|stopping|suspended|settling|completed|failed)"

const std::vector<Rule>& rules() {
    static const std::vector<Rule> k{
        {"a SQL list of session states is spelled only in common/svc (PILEHUB_HOLDS_SOCKET_SQL; schema migrations "
         "are not searched)",
         "'" PH_STATE_WORD "'\\s*,\\s*'" PH_STATE_WORD "'",
         {"common/", "web-api/", "workers/", "tests/integration/api_stack.hpp"},
         {"common/svc/"},
         {R"(    "SELECT device_id, n FROM sessions WHERE state IN ('starting', 'charging', 'stopping', ")",
          R"~(#define PH_LIVE_STATES "('starting', 'charging', 'stopping', 'suspended', 'settling')")~",
          R"(AND state IN ('stopping','settling'))"},
         {R"(    "SELECT device_id, n FROM sessions WHERE station_id = ? AND state IN " PILEHUB_HOLDS_SOCKET_SQL;)",
          R"(db::Statement(d, "UPDATE sessions SET state = 'completed' WHERE id = ?"))"}},
        {"a list of session states is not spelled as a chain of comparisons (ask svc::holds_socket, is_running, "
         "is_ended, duration_grows)",
         "state\\s*==\\s*\"" PH_STATE_WORD "\"\\s*\\|\\|",
         {"common/", "web-api/", "workers/"},
         {},
         {R"(        return state == "starting" || state == "charging" || state == "stopping" ||)",
          R"(if (row.started_at && (row.state == "charging" || row.state == "stopping")))"},
         {R"(        if (row.state == svc::SessionState::Starting))", R"(if (st == "fault" || st == "faulted"))"}},
        {"ph/v1/svc topics are built by common/topics only (common/svc names them in its codec registry)",
         "\"ph/v1/svc/",
         {"common/", "web-api/", "workers/"},
         {"common/topics.hpp", "common/topics.cpp", "common/svc/"},
         {R"(    const std::string prefix = "ph/v1/svc/" + std::string(what) + "/";)"},
         {R"(    return {topics::any_device_presence(), topics::any_session_cost()};)"}},
        {"the ph/v1/svc root is used by common/topics only (a topic is never assembled from it elsewhere)",
         "kSvcRoot",
         {"common/", "web-api/", "workers/"},
         {"common/topics.hpp", "common/topics.cpp"},
         {R"(    const std::string prefix = std::string(topics::kSvcRoot) + std::string(what) + "/";)"},
         {R"(    if (auto dev = topics::device_of_presence(m.topic)) {)"}},
        {"a session transition's state is read as `state` only (svc::SessionTransition), never guessed as `to`",
         "(opt|req)_str\\(\\s*\"to\"",
         {"common/", "web-api/", "workers/"},
         {},
         {R"(        state = o.opt_str("to", 32);)"},
         {R"(                  f.to = query_time(s, req, "to");)",
          R"(                      w.field("to", e.to_state).field("reason", e.reason);)"}},
        {"a running cost is read as svc::RunningCost only, never guessed from `data.cost_fen`",
         "data\\s*\\.\\s*(opt|req)_int\\(\\s*\"cost_fen\"|data\\.cost_fen",
         {"common/", "web-api/", "workers/"},
         {},
         {R"(                cost = data.opt_int("cost_fen", 0, INT64_MAX / 2);)", R"(take data.cost_fen)"},
         {R"(    out.cost_fen = req_fen(o, "cost_fen");)", R"(    costs_[sid] = {c.value().cost_fen.value(), now};)"}},
        {"a session state is compared as svc::SessionState, never as a word",
         "state\\s*==\\s*\"" PH_STATE_WORD "\"",
         {"common/", "web-api/", "workers/"},
         {"common/svc/"},
         {R"(    if (s->state == "charging" && s->started_at && !s->record_msg_id) {)",
          R"(    } else if (*state == "stopping") {)", R"(        if (row->state == "stopping") {)"},
         {R"(        if (row->state == svc::SessionState::Stopping) {)",
          R"(    if (r.status == "timeout" || r.status == "failed" || r.status == "busy"))"}},
        {"svc broadcasts are written by their codec only (svc::encode), never field by field",
         "(field|key)\\(\\s*\"(prev|balance_low|cap_reached)\"",
         {"common/", "web-api/", "workers/"},
         {"common/svc/"},
         {R"(        .field("balance_low", u.balance_low))",
          R"(    w.begin_object().field("v", 1).field("sid", row.id).field("state", to_string(row.state)).key("prev");)"},
         {R"(    w.field("debited_fen", st.int64(1)).field("shortfall_fen", st.int64(2)).field("note", st.text(4));)"}},
        {"a sessiond rpc method is named by its request (svc::Traits<Req>::kMethod), never spelled by a requester "
         "or by sessiond",
         "(call|handle|handle_async)\\([^)]*\"(start|stop|force_end|device_command)\"",
         {"common/", "web-api/", "workers/"},
         {"common/svc/"},
         {R"(        return rpc_.call(opts_.service, "stop", data, opts_.rpc_timeout);)",
          R"(    server_->handle("force_end", [this](rpc::Request& r) { return rpc_force_end(r); });)"},
         {R"(    caller_ = [this](const svc::StopRequest& r) { return rpc_.call(opts_.service, r, opts_.rpc_timeout); };)",
          R"(    server_->handle(method(svc::StopRequest{}), [this](rpc::Request& r) { return rpc_start(r); });)"}},
    };
    return k;
}

#undef PH_STATE_WORD

} // namespace

TEST_CASE("single spelling: every rule's pattern catches the old spellings and lets legitimate lines pass") {
    grep::check_patterns(rules());
    // Comments may quote what code must not spell.
    CHECK(grep::comment_line(R"(/// Request: `{"reply_to":"ph/v1/svc/reply/svc.pilehub-api"}`)"));
    CHECK(grep::comment_line("    // state IN ('starting', 'charging')"));
    CHECK(grep::comment_line(" * 'starting', 'charging'"));
    CHECK_FALSE(grep::comment_line(R"~(    "AND state IN ('starting', 'charging')" // the live states)~"));
}

TEST_CASE("single spelling: the svc contract's facts are spelled in their one place only") {
    grep::check_tree(rules());
}
