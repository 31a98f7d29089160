#include "web-api/export_formats.hpp"

#include <unistd.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pilehub::api::exports {
namespace {

std::string csv_text(const std::string& s) {
    std::string v = s;
    if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r'))
        v = "'" + v;
    if (v.find_first_of(",\"\r\n") == std::string::npos)
        return v;
    std::string out = "\"";
    for (char c : v) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

} // namespace

std::string to_csv(const Table& t) {
    std::string out = "\xEF\xBB\xBF";
    for (std::size_t i = 0; i < t.headers.size(); ++i)
        out += (i ? "," : "") + csv_text(t.headers[i]);
    out += "\r\n";
    for (const auto& row : t.rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i)
                out += ',';
            if (const auto* n = std::get_if<std::int64_t>(&row[i]))
                out += std::to_string(*n);
            else
                out += csv_text(std::get<std::string>(row[i]));
        }
        out += "\r\n";
    }
    return out;
}

std::string to_xlsx(const Table& t) {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/pilehub-export-XXXXXX";
    const int fd = ::mkstemp(path.data());
    if (fd < 0)
        throw std::runtime_error("cannot create a temporary file for the export");
    ::close(fd);
    lxw_workbook* wb = workbook_new(path.c_str());
    if (!wb) {
        std::remove(path.c_str());
        throw std::runtime_error("cannot create the workbook");
    }
    lxw_worksheet* ws = workbook_add_worksheet(wb, t.name.empty() ? nullptr : t.name.c_str());
    lxw_format* bold = workbook_add_format(wb);
    format_set_bold(bold);
    for (std::size_t c = 0; c < t.headers.size(); ++c)
        worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), t.headers[c].c_str(), bold);
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
        const auto row = static_cast<lxw_row_t>(r + 1);
        for (std::size_t c = 0; c < t.rows[r].size(); ++c) {
            const auto col = static_cast<lxw_col_t>(c);
            if (const auto* n = std::get_if<std::int64_t>(&t.rows[r][c]))
                worksheet_write_number(ws, row, col, static_cast<double>(*n), nullptr); // integers, exact below 2^53
            else
                worksheet_write_string(ws, row, col, std::get<std::string>(t.rows[r][c]).c_str(), nullptr);
        }
    }
    const auto err = workbook_close(wb);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::remove(path.c_str());
    if (err != LXW_NO_ERROR)
        throw std::runtime_error(std::string("the workbook could not be written: ") + lxw_strerror(err));
    return ss.str();
}

} // namespace pilehub::api::exports
