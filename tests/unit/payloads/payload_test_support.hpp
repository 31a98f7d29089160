#pragma once
// Helpers shared by the payload tests: embedded schemas, their examples, schema validation.
#include "common/payloads.hpp"
#include "schema/embedded.hpp"

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace pilehub::payloads::test {

/// Compact JSON text of a value.
inline std::string to_text(const rapidjson::Value &v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return std::string(b.GetString(), b.GetSize());
}

/// A payload schema compiled for validation, with its examples as text.
struct CompiledSchema {
    std::string name;
    rapidjson::Document doc;
    std::unique_ptr<rapidjson::SchemaDocument> schema;
    std::vector<std::string> examples;

    /// Whether `text` is JSON that validates; `why` gets the failing keyword and pointer.
    bool validates(const std::string &text, std::string *why = nullptr) const {
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

/// Every embedded payload schema, parsed once (throws only on a broken build).
inline const std::vector<std::unique_ptr<CompiledSchema>> &schemas() {
    static const auto k = [] {
        std::vector<std::unique_ptr<CompiledSchema>> out;
        for (const auto &f : pilehub::schema::payload_schemas()) {
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
    }();
    return k;
}

inline const CompiledSchema *find_schema(std::string_view name) {
    for (const auto &s : schemas())
        if (s->name == name)
            return s.get();
    return nullptr;
}

inline std::string read_source_file(const std::string &rel) {
    std::ifstream in(std::string(PILEHUB_SOURCE_DIR) + "/" + rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// A fenced block of docs/contract.md tagged ```json <name>.
struct DocBlock {
    std::string name;
    std::string text;
    int line = 0;
};

inline std::vector<DocBlock> contract_doc_blocks() {
    std::vector<DocBlock> out;
    std::istringstream in(read_source_file("docs/contract.md"));
    std::string line;
    int n = 0;
    DocBlock *open = nullptr;
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

} // namespace pilehub::payloads::test
