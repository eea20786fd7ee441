// SPDX-License-Identifier: MIT
#include "ringkit/telemetry/text_format.hpp"

#include <charconv>
#include <cstdlib>

namespace ringkit::telemetry {

namespace {
// Howard Hinnant's days -> civil date.
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yy + (m <= 2));
}
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr std::string_view kColor[] = {"\x1b[37m", "\x1b[36m", "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1;41m", ""};
}  // namespace

void append_timestamp(fmt::memory_buffer& b, std::uint64_t ts_ns) {
  // The date and time to the second change rarely: cached per thread (the backend's), the nanoseconds
  // written digit by digit.
  struct Cache {
    std::uint64_t secs = ~std::uint64_t{0};
    char text[20];  // "2026-12-02T09:43:52"
  };
  thread_local Cache cache;
  const std::uint64_t secs = ts_ns / 1'000'000'000u;
  if (secs != cache.secs) {
    int y;
    unsigned mo, d;
    civil_from_days(static_cast<std::int64_t>(secs / 86400), y, mo, d);
    const std::uint64_t sod = secs % 86400;
    fmt::format_to_n(cache.text, sizeof cache.text, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, mo, d, sod / 3600,
                     (sod / 60) % 60, sod % 60);
    cache.secs = secs;
  }
  char tail[11];
  tail[0] = '.';
  std::uint64_t ns = ts_ns % 1'000'000'000u;
  for (int i = 9; i >= 1; --i) {
    tail[i] = static_cast<char>('0' + ns % 10);
    ns /= 10;
  }
  tail[10] = 'Z';
  b.append(cache.text, cache.text + 19);
  b.append(tail, tail + 11);
}

void append_text(fmt::memory_buffer& b, const Event& e, bool color) {
  static constexpr std::string_view kPadded[] = {"trace", "debug", "info ", "warn ", "error", "critical", "off  "};
  append_timestamp(b, e.ts_ns);
  b.push_back(' ');
  const auto li = static_cast<std::size_t>(e.level) < 7 ? static_cast<std::size_t>(e.level) : 6;
  if (color) b.append(kColor[li]);
  b.append(kPadded[li]);
  if (color) b.append(std::string_view("\x1b[0m"));
  b.append(std::string_view(" ["));
  const fmt::format_int tid(e.tid);
  b.append(tid.data(), tid.data() + tid.size());
  b.append(std::string_view("] "));
  b.append(e.message);
  for (const Field& f : e.fields) {
    b.push_back(' ');
    b.append(f.key);
    b.push_back('=');
    b.append(f.value);
  }
  if (!e.file.empty()) {
    const auto slash = e.file.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? e.file : e.file.substr(slash + 1);
    b.append(std::string_view(" ("));
    b.append(base);
    b.push_back(':');
    const fmt::format_int line(e.line);
    b.append(line.data(), line.data() + line.size());
    b.push_back(')');
  }
  b.push_back('\n');
}

void append_json_string(fmt::memory_buffer& b, std::string_view s) {
  b.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': b.append(std::string_view("\\\"")); break;
      case '\\': b.append(std::string_view("\\\\")); break;
      case '\n': b.append(std::string_view("\\n")); break;
      case '\r': b.append(std::string_view("\\r")); break;
      case '\t': b.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) fmt::format_to(std::back_inserter(b), "\\u{:04x}", static_cast<unsigned>(c));
        else b.push_back(c);
    }
  }
  b.push_back('"');
}

void append_json(fmt::memory_buffer& b, const Event& e) {
  b.append(std::string_view("{\"ts\":\""));
  append_timestamp(b, e.ts_ns);
  fmt::format_to(std::back_inserter(b), "\",\"level\":\"{}\",\"tid\":{},\"msg\":", to_string(e.level), e.tid);
  append_json_string(b, e.message);
  if (!e.file.empty()) {
    b.append(std::string_view(",\"file\":"));
    append_json_string(b, e.file);
    fmt::format_to(std::back_inserter(b), ",\"line\":{}", e.line);
  }
  if (!e.fields.empty()) {
    b.append(std::string_view(",\"fields\":{"));
    bool first = true;
    for (const Field& f : e.fields) {
      if (!first) b.push_back(',');
      first = false;
      append_json_string(b, f.key);
      b.push_back(':');
      // A numeric value is written bare only if it is a JSON number (not inf/nan).
      bool bare = f.numeric && !f.value.empty();
      if (bare) {
        for (char c : f.value) {
          if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) bare = false;
        }
      }
      if (bare) b.append(f.value);
      else append_json_string(b, f.value);
    }
    b.push_back('}');
  }
  b.append(std::string_view("}\n"));
}

bool parse_time(std::string_view s, std::uint64_t& ns) {
  if (s.empty()) return false;
  if (s.find('-') == std::string_view::npos) {  // Unix seconds
    std::string tmp(s);
    char* end = nullptr;
    const double v = std::strtod(tmp.c_str(), &end);
    if (end != tmp.c_str() + tmp.size() || v < 0) return false;
    ns = static_cast<std::uint64_t>(v * 1e9);
    return true;
  }
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, se = 0;
  auto num = [&](std::size_t pos, std::size_t len, auto& out) {
    if (pos + len > s.size()) return false;
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + pos + len;
  };
  if (!num(0, 4, y) || s.size() < 10 || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d)) return false;
  std::size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!num(11, 2, h) || s.size() < 19 || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' || !num(17, 2, se))
      return false;
    pos = 19;
  }
  std::uint64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    std::uint64_t scale = 100'000'000;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
      frac += static_cast<std::uint64_t>(s[pos] - '0') * scale;
      scale /= 10;
    }
  }
  if (pos < s.size() && s[pos] == 'Z') ++pos;
  if (pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  const std::int64_t days = days_from_civil(y, mo, d);
  if (days < 0) return false;
  ns = (static_cast<std::uint64_t>(days) * 86400 + h * 3600u + mi * 60u + se) * 1'000'000'000u + frac;
  return true;
}

}  // namespace ringkit::telemetry
