// SPDX-License-Identifier: MIT
#pragma once
// CsvWriter: RFC 4180 CSV with a fixed header; every row must have the header's width.
#include <cstddef>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ringbench {

// Quotes a field when it contains a comma, quote, CR or LF (doubling inner quotes).
inline std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

class CsvWriter {
 public:
  CsvWriter(std::ostream& out, std::vector<std::string> header) : out_(out), width_(header.size()) {
    if (header.empty()) throw std::invalid_argument("CsvWriter: the header needs at least one column");
    write(header);
  }

  void row(const std::vector<std::string>& fields) {
    if (fields.size() != width_) {
      throw std::invalid_argument("CsvWriter: row has " + std::to_string(fields.size()) + " fields, header has " +
                                  std::to_string(width_));
    }
    write(fields);
    ++rows_;
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }

 private:
  void write(const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) out_ << ',';
      out_ << csv_escape(fields[i]);
    }
    out_ << '\n';
  }

  std::ostream& out_;
  std::size_t width_;
  std::size_t rows_ = 0;
};

}  // namespace ringbench
