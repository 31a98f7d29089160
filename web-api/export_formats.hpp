#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

/// Tables written as CSV or XLSX (Debian libxlsxwriter) for the operators' exports.
namespace pilehub::api::exports {

/// A cell: an integer (money in fen, Wh, seconds) or text.
using Cell = std::variant<std::int64_t, std::string>;

struct Table {
    std::string name; ///< sheet name
    std::vector<std::string> headers;
    std::vector<std::vector<Cell>> rows;
};

/// RFC 4180 CSV with a UTF-8 byte-order mark (spreadsheets then read Chinese text right). Text
/// that a spreadsheet would run as a formula (leading = + - @) is prefixed with an apostrophe.
std::string to_csv(const Table& t);
/// An XLSX workbook with one sheet. Throws std::runtime_error if it cannot be written.
std::string to_xlsx(const Table& t);

} // namespace pilehub::api::exports
