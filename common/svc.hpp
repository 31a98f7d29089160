#pragma once
/// The single entry point for the platform's own contract, `ph/v1/svc/...` (docs/topics.md):
/// session states, transitions, running costs, presence verdicts and the presence view, recorderd's
/// device reports, the `data` of sessiond's and parkingd's RPC requests and replies, alerts, each with a codec and a
/// schema in schema/svc/.
///
/// - `svc::decode<T>(text)` / `svc::decode<T>(value)` → `Result<T>`; `svc::encode(x)` → text.
/// - `svc::codecs()` lists every payload by schema name (`schema/svc/<name>.json`).
#include "common/svc/codec.hpp"
#include "common/svc/device_report.hpp"
#include "common/svc/parkingd_rpc.hpp"
#include "common/svc/presence.hpp"
#include "common/svc/session.hpp"
#include "common/svc/session_state.hpp"
#include "common/svc/sessiond_rpc.hpp"
