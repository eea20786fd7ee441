// SPDX-License-Identifier: MIT
#include "ttlog_cat.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "ringkit/telemetry/text_format.hpp"
#include "ringkit/telemetry/ttlog.hpp"

namespace ringkit::telemetry {

namespace {
constexpr const char* kUsage =
    "usage: ttlog-cat FILE [--json] [-f|--follow] [--level L] [--since T] [--until T]\n"
    "  --level L   show events at level L and above (trace debug info warn error critical)\n"
    "  --since T / --until T   time bounds, UTC: 2026-12-02T09:43:00[.123][Z], or Unix seconds\n";

bool parse_level(const std::string& s, Level& l) {
  for (int i = 0; i <= static_cast<int>(Level::critical); ++i) {
    if (s == to_string(static_cast<Level>(i))) {
      l = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}
}  // namespace

int ttlog_cat(const std::vector<std::string>& args, std::FILE* out, std::FILE* err) {
  std::string file;
  bool json = false, follow = false;
  Level min_level = Level::trace;
  std::uint64_t since = 0, until = ~std::uint64_t{0};
  double follow_idle_exit = -1;  // hidden, for tests: stop following after this many idle seconds
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* what) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(err, "ttlog-cat: %s needs a value\n%s", what, kUsage);
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "--json") json = true;
    else if (a == "-f" || a == "--follow") follow = true;
    else if (a == "--level") {
      const std::string* v = value("--level");
      if (!v) return 2;
      if (!parse_level(*v, min_level)) {
        std::fprintf(err, "ttlog-cat: unknown level '%s' (trace debug info warn error critical)\n", v->c_str());
        return 2;
      }
    } else if (a == "--since" || a == "--until") {
      const std::string* v = value(a.c_str());
      if (!v) return 2;
      std::uint64_t ns = 0;
      if (!parse_time(*v, ns)) {
        std::fprintf(err, "ttlog-cat: cannot read time '%s' for %s (want 2026-12-02T09:43:00Z or Unix seconds)\n",
                     v->c_str(), a.c_str());
        return 2;
      }
      (a == "--since" ? since : until) = ns;
    } else if (a == "--follow-idle-exit") {
      const std::string* v = value(a.c_str());
      if (!v) return 2;
      follow_idle_exit = std::stod(*v);
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, out);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(err, "ttlog-cat: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    } else if (file.empty()) {
      file = a;
    } else {
      std::fprintf(err, "ttlog-cat: more than one FILE ('%s', '%s')\n", file.c_str(), a.c_str());
      return 2;
    }
  }
  if (file.empty()) {
    std::fputs(kUsage, err);
    return 2;
  }
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(err, "ttlog-cat: cannot open %s: %s\n", file.c_str(), std::strerror(errno));
    return 2;
  }
  bool damaged = false;
  auto on_entry = [&](const ttlog::Entry& e) {
    if (e.kind != ttlog::RecordKind::Note) {
      if (e.level < min_level || e.ts_ns < since || e.ts_ns > until) return;
    }
    const std::string line = json ? ttlog::to_json(e) : ttlog::to_text(e);
    std::fwrite(line.data(), 1, line.size(), out);
    std::fputc('\n', out);
  };
  auto on_damage = [&](const ttlog::Damage& d) {
    damaged = true;
    std::fprintf(err, "ttlog-cat: %s: damaged data at offset %llu (%llu bytes): %s; continuing at the next good block\n",
                 file.c_str(), static_cast<unsigned long long>(d.offset), static_cast<unsigned long long>(d.length),
                 d.reason.c_str());
  };
  std::vector<std::byte> pending;  // bytes read but not yet consumed (an incomplete tail)
  std::uint64_t base = 0;          // file offset of pending[0]
  std::vector<std::byte> chunk(1 << 20);
  auto idle_since = std::chrono::steady_clock::now();
  for (;;) {
    bool got = false;
    for (;;) {
      const ssize_t n = ::read(fd, chunk.data(), chunk.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        std::fprintf(err, "ttlog-cat: read error on %s: %s\n", file.c_str(), std::strerror(errno));
        ::close(fd);
        return 2;
      }
      if (n == 0) break;
      got = true;
      pending.insert(pending.end(), chunk.begin(), chunk.begin() + n);
    }
    const ttlog::ParseResult r = ttlog::parse(pending, base, !follow, on_entry, on_damage);
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(r.consumed));
    base += r.consumed;
    std::fflush(out);
    if (!follow) break;
    const auto now = std::chrono::steady_clock::now();
    if (got) idle_since = now;
    if (follow_idle_exit >= 0 && std::chrono::duration<double>(now - idle_since).count() > follow_idle_exit) {
      if (!pending.empty()) ttlog::parse(pending, base, true, on_entry, on_damage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::close(fd);
  std::fflush(out);
  return damaged ? 1 : 0;
}

}  // namespace ringkit::telemetry
