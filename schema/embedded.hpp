#pragma once
#include <string_view>
#include <vector>

namespace pilehub::schema {

/// One file of schema/ compiled into the binary: its name without extension and its text.
struct EmbeddedFile {
    std::string_view name;
    std::string_view text;
};

/// Numbered migrations of the core (business) database, in order (schema/core/NNN_*.sql).
const std::vector<EmbeddedFile>& core_migrations();
/// Numbered migrations of the telemetry database, in order (schema/telemetry/NNN_*.sql).
const std::vector<EmbeddedFile>& telemetry_migrations();
/// JSON Schemas (draft-04) of every device payload (schema/payloads/*.json).
const std::vector<EmbeddedFile>& payload_schemas();
/// JSON Schemas (draft-04) of every platform payload, `ph/v1/svc/...` (schema/svc/*.json).
const std::vector<EmbeddedFile>& svc_schemas();

} // namespace pilehub::schema
