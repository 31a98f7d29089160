#pragma once
// Helpers shared by the payload tests: the device payload schemas, their examples, and the
// examples of docs/contract.md (tests/support/json_schema.hpp does the work).
#include "common/payloads.hpp"
#include "tests/support/json_schema.hpp"

#include <string_view>
#include <vector>

namespace pilehub::payloads::test {

using pilehub::contract_test::CompiledSchema;
using pilehub::contract_test::DocBlock;
using pilehub::contract_test::read_source_file;
using pilehub::contract_test::to_text;

/// Every embedded device payload schema, parsed once.
inline const pilehub::contract_test::CompiledSchemas& schemas() {
    static const auto k = pilehub::contract_test::compile_schemas(pilehub::schema::payload_schemas());
    return k;
}

inline const CompiledSchema* find_schema(std::string_view name) {
    return pilehub::contract_test::find_schema(schemas(), name);
}

inline std::vector<DocBlock> contract_doc_blocks() {
    return pilehub::contract_test::json_doc_blocks("docs/contract.md");
}

} // namespace pilehub::payloads::test
