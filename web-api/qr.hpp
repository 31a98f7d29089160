#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

/// QR codes for sockets (Debian libqrencode), as SVG or PNG.
namespace pilehub::api::qr {

/// The modules of a QR code: `size` × `size`, true = dark. Error correction level M.
struct Matrix {
    int size = 0;
    std::vector<bool> dark;
    bool at(int x, int y) const { return dark[static_cast<std::size_t>(y * size + x)]; }
};

/// Encodes `text` (UTF-8, up to ~1 KB); nothing if it does not fit a QR code.
std::optional<Matrix> encode(const std::string& text);
/// An SVG image of the code with a 4-module quiet zone, each module `module_px` units wide, and
/// an optional caption under it.
std::string svg(const Matrix& m, int module_px, const std::string& caption = {});
/// A grayscale PNG of the code with a 4-module quiet zone, each module `module_px` pixels wide.
std::string png(const Matrix& m, int module_px);
/// One printable SVG sheet: every (text, caption) code in a grid, `columns` per row.
std::string svg_sheet(const std::vector<std::pair<Matrix, std::string>>& codes, int columns, int module_px);

} // namespace pilehub::api::qr
