#pragma once
// JSON Schemas and documented examples for contract tests (device payloads, svc payloads): the
// embedded schemas compiled for validation with their `examples`, and the ```json <name> blocks
// of a document under docs/.
#include "schema/embedded.hpp"

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pilehub::contract_test {

/// Compact JSON text of a value.
inline std::string to_text(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return std::string(b.GetString(), b.GetSize());
}

/// A schema compiled for validation, with its examples as text.
struct CompiledSchema {
    std::string name;
    rapidjson::Document doc;
    std::unique_ptr<rapidjson::SchemaDocument> schema;
    std::vector<std::string> examples;

    /// Whether `text` is JSON that validates; `why` gets the failing keyword and pointer.
    bool validates(const std::string& text, std::string* why = nullptr) const {
        rapidjson::Document d;
        d.Parse(text.c_str(), text.size());
        if (d.HasParseError()) {
            if (why)
                *why = "not JSON";
            return false;
        }
        rapidjson::SchemaValidator v(*schema);
        if (d.Accept(v))
            return true;
        if (why) {
            rapidjson::StringBuffer sb;
            v.GetInvalidSchemaPointer().StringifyUriFragment(sb);
            *why = std::string(v.GetInvalidSchemaKeyword()) + " at " + sb.GetString();
        }
        return false;
    }
};

using CompiledSchemas = std::vector<std::unique_ptr<CompiledSchema>>;

/// Compiles embedded schema files (throws only on a broken build).
inline CompiledSchemas compile_schemas(const std::vector<schema::EmbeddedFile>& files) {
    CompiledSchemas out;
    for (const auto& f : files) {
        auto s = std::make_unique<CompiledSchema>();
        s->name = std::string(f.name);
        s->doc.Parse(f.text.data(), f.text.size());
        if (s->doc.HasParseError() || !s->doc.IsObject())
            throw std::runtime_error("schema " + s->name + " is not a JSON object");
        s->schema = std::make_unique<rapidjson::SchemaDocument>(s->doc);
        auto ex = s->doc.FindMember("examples");
        if (ex != s->doc.MemberEnd() && ex->value.IsArray())
            for (auto it = ex->value.Begin(); it != ex->value.End(); ++it)
                s->examples.push_back(to_text(*it));
        out.push_back(std::move(s));
    }
    return out;
}

/// The schema called `name` in `all`; nullptr if there is none.
inline const CompiledSchema* find_schema(const CompiledSchemas& all, std::string_view name) {
    for (const auto& s : all)
        if (s->name == name)
            return s.get();
    return nullptr;
}

/// A file of the source tree, by its path relative to the top.
inline std::string read_source_file(const std::string& rel) {
    std::ifstream in(std::string(PILEHUB_SOURCE_DIR) + "/" + rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// A fenced block of a document tagged ```json <name>.
struct DocBlock {
    std::string name;
    std::string text;
    int line = 0;
};

/// Every ```json <name> block of the document at `rel` (untagged ```json blocks are not examples).
inline std::vector<DocBlock> json_doc_blocks(const std::string& rel) {
    std::vector<DocBlock> out;
    std::istringstream in(read_source_file(rel));
    std::string line;
    int n = 0;
    DocBlock* open = nullptr;
    while (std::getline(in, line)) {
        ++n;
        if (!open && line.rfind("```json ", 0) == 0) {
            out.push_back({line.substr(8), {}, n});
            open = &out.back();
        } else if (open && line.rfind("```", 0) == 0) {
            open = nullptr;
        } else if (open) {
            open->text += line + "\n";
        }
    }
    return out;
}

} // namespace pilehub::contract_test
