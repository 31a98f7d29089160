#pragma once
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace pilehub {

/// A value or the reason there is none. Domain code returns this instead of throwing.
template <typename T> class Result {
public:
    Result(T v) : v_(std::move(v)) {}
    static Result failure(std::string reason) { return Result(Error{std::move(reason)}); }
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return std::get<0>(v_); }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const T* operator->() const { return &std::get<0>(v_); }
    const T& operator*() const { return std::get<0>(v_); }
    const std::string& error() const { return std::get<1>(v_).reason; }

private:
    struct Error {
        std::string reason;
    };
    explicit Result(Error e) : v_(std::move(e)) {}
    std::variant<T, Error> v_;
};

namespace json {

/// How deeply arrays and objects may nest in a document we accept. Writing and walking a value
/// recurse (RapidJSON's Accept, our codecs): 100 k levels from a device would overflow the stack.
inline constexpr std::size_t kMaxDepth = 64;

/// Parses untrusted text: UTF-8 validated, iterative (no recursion limit to overflow), size-capped,
/// and refused when arrays and objects nest deeper than kMaxDepth.
Result<rapidjson::Document> parse(std::string_view text, std::size_t max_bytes = 256 * 1024);

/// The offset of a `\u` escape of a low surrogate (DC00-DFFF) that does not follow the escape of a
/// high one, if the text has one. RapidJSON 1.1 decodes such an escape into bytes that are not UTF-8
/// (and its own validating parser then refuses the text we write back: fuzz_ocpp found it); parse()
/// refuses it.
std::optional<std::size_t> lone_low_surrogate(std::string_view text);

/// How deeply `text` nests arrays and objects (brackets inside strings do not count), without
/// parsing it; stops counting past `limit` and returns limit + 1.
std::size_t nesting_depth(std::string_view text, std::size_t limit = kMaxDepth);
/// How deeply a value nests (a scalar is 0, `[]` is 1), without recursion; stops past `limit`.
std::size_t nesting_depth(const rapidjson::Value& v, std::size_t limit = kMaxDepth);

class Array;

/// Reads fields of one JSON object without ever using RapidJSON's operator[] (undefined on
/// missing keys). The first problem is kept, with its path (`data.sockets[2].power_w`), and
/// every later read returns a neutral value; check ok() once at the end.
class Object {
public:
    /// `err` is shared by every Object/Array derived from this one.
    Object(const rapidjson::Value* v, std::string path, std::string* err);
    /// A reader over the root of `doc`; fails if it is not an object.
    static Object root(const rapidjson::Value& doc, std::string* err);

    bool ok() const { return err_->empty(); }
    bool present() const { return v_ != nullptr; }
    bool has(std::string_view key) const;
    const std::string& path() const { return path_; }
    /// Records a problem at `key` (first one wins).
    void fail(std::string_view key, std::string_view what);

    std::int64_t req_int(std::string_view key, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                         std::int64_t max = std::numeric_limits<std::int64_t>::max());
    std::optional<std::int64_t> opt_int(std::string_view key,
                                        std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                        std::int64_t max = std::numeric_limits<std::int64_t>::max());
    /// Measurements only (power_w, voltage_v, ...); never money or energy.
    double req_num(std::string_view key, double min, double max);
    std::optional<double> opt_num(std::string_view key, double min, double max);
    bool req_bool(std::string_view key);
    std::optional<bool> opt_bool(std::string_view key);
    std::string req_str(std::string_view key, std::size_t max_len = 256);
    std::optional<std::string> opt_str(std::string_view key, std::size_t max_len = 256);
    /// A nested object; an absent optional one gives an Object with present() == false.
    Object req_obj(std::string_view key);
    Object opt_obj(std::string_view key);
    Array req_arr(std::string_view key, std::size_t max_items = 1024);
    Array opt_arr(std::string_view key, std::size_t max_items = 1024);
    /// The raw value at key (nullptr if absent), for free-form members.
    const rapidjson::Value* raw(std::string_view key) const;

private:
    const rapidjson::Value* find(std::string_view key) const;
    std::string at(std::string_view key) const;
    const rapidjson::Value* v_;
    std::string path_;
    std::string* err_;
};

/// An array read in the same way as Object.
class Array {
public:
    Array(const rapidjson::Value* v, std::string path, std::string* err) : v_(v), path_(std::move(path)), err_(err) {}
    bool present() const { return v_ != nullptr; }
    std::size_t size() const { return v_ ? v_->Size() : 0; }
    Object obj(std::size_t i);
    std::optional<std::int64_t> int_at(std::size_t i, std::int64_t min, std::int64_t max);
    std::optional<std::string> str_at(std::size_t i, std::size_t max_len = 256);

private:
    std::string at(std::size_t i) const;
    const rapidjson::Value* v_;
    std::string path_;
    std::string* err_;
};

/// Builds JSON text. Keys are literals; values are written as given.
class Writer {
public:
    Writer();
    Writer& begin_object();
    Writer& end_object();
    Writer& begin_array();
    Writer& end_array();
    Writer& key(std::string_view k);
    Writer& value(std::int64_t v);
    Writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
    Writer& value(std::uint32_t v) { return value(static_cast<std::int64_t>(v)); }
    Writer& value(double v);
    Writer& value(bool v);
    Writer& value(std::string_view v);
    Writer& value(const char* v) { return value(std::string_view(v)); }
    Writer& null();
    /// Copies a parsed value verbatim (free-form members). A value nested deeper than kMaxDepth
    /// (json::parse never gives one) is written as null: copying it would recurse that deep.
    Writer& raw_value(const rapidjson::Value& v);
    template <typename T> Writer& field(std::string_view k, const T& v) { return key(k).value(v); }
    template <typename T> Writer& opt_field(std::string_view k, const std::optional<T>& v) {
        if (v)
            key(k).value(*v);
        return *this;
    }
    /// `k: v`, or `k: null` when v is empty (a member every reply has, known or not).
    template <typename T> Writer& nullable_field(std::string_view k, const std::optional<T>& v) {
        key(k);
        return v ? value(*v) : null();
    }
    /// The text written so far.
    std::string str() const;

private:
    rapidjson::StringBuffer buf_;
    rapidjson::Writer<rapidjson::StringBuffer> w_;
};

} // namespace json
} // namespace pilehub
