#pragma once
// Helpers shared by the svc contract tests: the schemas of schema/svc and the examples of
// docs/topics.md (tests/support/json_schema.hpp does the work).
#include "common/svc.hpp"
#include "tests/support/json_schema.hpp"

#include <string_view>
#include <vector>

namespace pilehub::svc::test {

using pilehub::contract_test::CompiledSchema;
using pilehub::contract_test::DocBlock;

/// Every embedded svc schema, parsed once.
inline const pilehub::contract_test::CompiledSchemas& schemas() {
    static const auto k = pilehub::contract_test::compile_schemas(pilehub::schema::svc_schemas());
    return k;
}

inline const CompiledSchema* find_schema(std::string_view name) {
    return pilehub::contract_test::find_schema(schemas(), name);
}

/// The ```json <schema> blocks of docs/topics.md.
inline std::vector<DocBlock> topics_doc_blocks() {
    return pilehub::contract_test::json_doc_blocks("docs/topics.md");
}

} // namespace pilehub::svc::test
