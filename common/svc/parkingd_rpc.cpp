#include "common/svc/codec_detail.hpp"

namespace pilehub::svc {
namespace detail {
namespace {

namespace pd = payloads::detail;

constexpr std::size_t kMaxImageUrlLen = 1024;
constexpr std::size_t kMaxAlertMsgLen = 512;
constexpr std::size_t kMaxSubjectLen = 64;

std::string req_space(json::Object& o) {
    return pd::req_token(o, "space", kMaxSpaceIdLen);
}

} // namespace

void read_body(json::Object& o, const rapidjson::Value& v, LockRequest& out) {
    refuse_unknown(o, v, {"space", "action", "operator"}, "a parkingd lock request");
    out.space = req_space(o);
    out.action = pd::req_enum<payloads::LockAction>(o, "action");
    out.operator_name = pd::req_text(o, "operator", kMaxActorLen);
}
void write_body(json::Writer& w, const LockRequest& x) {
    w.field("space", x.space).field("action", payloads::to_string(x.action)).field("operator", x.operator_name);
}

void read_body(json::Object& o, const rapidjson::Value&, LockReply& out) {
    out.space = req_space(o);
    auto l = o.req_obj("lock");
    if (l.present())
        pd::read_data(l, out.lock);
}
void write_body(json::Writer& w, const LockReply& x) {
    w.field("space", x.space).key("lock").begin_object();
    pd::write_data(w, x.lock);
    w.end_object();
}

void read_body(json::Object& o, const rapidjson::Value& v, SnapshotRequest& out) {
    refuse_unknown(o, v, {"space", "operator"}, "a parkingd snapshot request");
    out.space = req_space(o);
    out.operator_name = pd::req_text(o, "operator", kMaxActorLen);
}
void write_body(json::Writer& w, const SnapshotRequest& x) {
    w.field("space", x.space).field("operator", x.operator_name);
}

void read_body(json::Object& o, const rapidjson::Value&, SnapshotReply& out) {
    auto c = o.req_obj("capture");
    if (!c.present())
        return;
    out.capture_id = c.req_int("id", 1, std::numeric_limits<std::int64_t>::max());
    out.image_url = pd::req_text(c, "image_url", kMaxImageUrlLen);
}
void write_body(json::Writer& w, const SnapshotReply& x) {
    w.key("capture").begin_object().field("id", x.capture_id).field("image_url", x.image_url).end_object();
}

void read_body(json::Object& o, const rapidjson::Value&, Alert& out) {
    read_version(o);
    out.kind = pd::req_word(o, "kind");
    if (o.has("device_id"))
        out.device_id = req_device_id(o, "device_id");
    out.subject = pd::req_text(o, "subject", kMaxSubjectLen);
    const auto state = o.req_str("state", 16);
    if (o.ok() && state != "open" && state != "resolved")
        o.fail("state", "must be one of open|resolved");
    out.open = state == "open";
    out.msg = opt_quote(o, "msg", kMaxAlertMsgLen).value_or("");
    out.at = o.req_int("at", 0, std::numeric_limits<std::int64_t>::max());
    out.id = o.opt_int("id", 1, std::numeric_limits<std::int64_t>::max()).value_or(0);
    out.n = o.opt_int("n", 0, 1024).value_or(0);
    out.severity = o.opt_str("severity", 16).value_or("");
    if (o.ok() && !out.severity.empty() && out.severity != "critical" && out.severity != "major" &&
        out.severity != "minor")
        o.fail("severity", "must be one of critical|major|minor");
}
void write_body(json::Writer& w, const Alert& x) {
    w.field("v", kVersion);
    if (x.id > 0)
        w.field("id", x.id);
    w.field("kind", x.kind);
    if (!x.device_id.empty())
        w.field("device_id", x.device_id);
    if (x.n > 0)
        w.field("n", x.n);
    w.field("subject", x.subject).field("state", x.open ? "open" : "resolved");
    if (!x.severity.empty())
        w.field("severity", x.severity);
    if (!x.msg.empty())
        w.field("msg", x.msg);
    w.field("at", x.at);
}

} // namespace detail
} // namespace pilehub::svc

PILEHUB_SVC_INSTANTIATE(pilehub::svc::LockRequest)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::LockReply)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::SnapshotRequest)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::SnapshotReply)
PILEHUB_SVC_INSTANTIATE(pilehub::svc::Alert)
