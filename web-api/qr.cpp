#include "web-api/qr.hpp"

#include <fmt/format.h>
#include <qrencode.h>
#include <zlib.h>

#include <stdexcept>

namespace pilehub::api::qr {
namespace {

constexpr int kQuiet = 4;

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

/// The dark modules as one SVG path, offset by (ox, oy) units.
std::string path_of(const Matrix& m, int module_px, int ox, int oy) {
    std::string d;
    for (int y = 0; y < m.size; ++y)
        for (int x = 0; x < m.size; ++x)
            if (m.at(x, y))
                d += fmt::format("M{} {}h{}v{}h-{}z", ox + (x + kQuiet) * module_px, oy + (y + kQuiet) * module_px,
                                 module_px, module_px, module_px);
    return d;
}

void put_u32(std::string& out, std::uint32_t v) {
    out += static_cast<char>((v >> 24) & 0xff);
    out += static_cast<char>((v >> 16) & 0xff);
    out += static_cast<char>((v >> 8) & 0xff);
    out += static_cast<char>(v & 0xff);
}

void chunk(std::string& out, const char* type, const std::string& data) {
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    std::string body = std::string(type, 4) + data;
    out += body;
    put_u32(out, static_cast<std::uint32_t>(
                     crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

} // namespace

std::optional<Matrix> encode(const std::string& text) {
    if (text.empty() || text.size() > 1024)
        return std::nullopt;
    QRcode* code = QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M);
    if (!code)
        return std::nullopt;
    Matrix m;
    m.size = code->width;
    m.dark.resize(static_cast<std::size_t>(m.size * m.size));
    for (int i = 0; i < m.size * m.size; ++i)
        m.dark[static_cast<std::size_t>(i)] = (code->data[i] & 1) != 0;
    QRcode_free(code);
    return m;
}

std::string svg(const Matrix& m, int module_px, const std::string& caption) {
    const int side = (m.size + 2 * kQuiet) * module_px;
    const int caption_h = caption.empty() ? 0 : module_px * 6;
    std::string out =
        fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\">"
                    "<rect width=\"{0}\" height=\"{1}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{2}\"/>",
                    side, side + caption_h, path_of(m, module_px, 0, 0));
    if (!caption.empty())
        out += fmt::format(
            "<text x=\"{}\" y=\"{}\" font-family=\"monospace\" font-size=\"{}\" text-anchor=\"middle\">{}</text>",
            side / 2, side + caption_h / 2, module_px * 3, xml_escape(caption));
    out += "</svg>";
    return out;
}

std::string png(const Matrix& m, int module_px) {
    const auto side = static_cast<std::uint32_t>((m.size + 2 * kQuiet) * module_px);
    std::string raw;
    raw.reserve(static_cast<std::size_t>(side) * (side + 1));
    for (std::uint32_t py = 0; py < side; ++py) {
        raw += '\0'; // filter: none
        const int y = static_cast<int>(py) / module_px - kQuiet;
        for (std::uint32_t px = 0; px < side; ++px) {
            const int x = static_cast<int>(px) / module_px - kQuiet;
            const bool dark = x >= 0 && y >= 0 && x < m.size && y < m.size && m.at(x, y);
            raw += static_cast<char>(dark ? 0x00 : 0xff);
        }
    }
    uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
    std::string z(zlen, '\0');
    if (compress2(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
                  static_cast<uLong>(raw.size()), 9) != Z_OK)
        throw std::runtime_error("zlib compress failed");
    z.resize(zlen);
    std::string out("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    put_u32(ihdr, side);
    put_u32(ihdr, side);
    ihdr += static_cast<char>(8); // bit depth
    ihdr += static_cast<char>(0); // grayscale
    ihdr += std::string(3, '\0'); // compression, filter, interlace
    chunk(out, "IHDR", ihdr);
    chunk(out, "IDAT", z);
    chunk(out, "IEND", "");
    return out;
}

std::string svg_sheet(const std::vector<std::pair<Matrix, std::string>>& codes, int columns, int module_px) {
    int cell = 0;
    for (const auto& [m, caption] : codes)
        cell = std::max(cell, (m.size + 2 * kQuiet) * module_px);
    const int cell_h = cell + module_px * 6;
    const int cols = std::max(1, std::min(columns, static_cast<int>(codes.size())));
    const int rows = (static_cast<int>(codes.size()) + cols - 1) / cols;
    const int w = std::max(1, cols * cell), h = std::max(1, rows * cell_h);
    std::string out =
        fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\">"
                    "<rect width=\"{0}\" height=\"{1}\" fill=\"#fff\"/>",
                    w, h);
    for (std::size_t i = 0; i < codes.size(); ++i) {
        const int ox = static_cast<int>(i % static_cast<std::size_t>(cols)) * cell;
        const int oy = static_cast<int>(i / static_cast<std::size_t>(cols)) * cell_h;
        const auto& [m, caption] = codes[i];
        out += fmt::format("<path fill=\"#000\" d=\"{}\"/>", path_of(m, module_px, ox, oy));
        out += fmt::format(
            "<text x=\"{}\" y=\"{}\" font-family=\"monospace\" font-size=\"{}\" text-anchor=\"middle\">{}</text>",
            ox + cell / 2, oy + cell + module_px * 3, module_px * 3, xml_escape(caption));
    }
    out += "</svg>";
    return out;
}

} // namespace pilehub::api::qr
