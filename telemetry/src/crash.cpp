// SPDX-License-Identifier: MIT
#include "ringkit/telemetry/crash.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "registry.hpp"

namespace ringkit::telemetry {

namespace {
constexpr int kSignals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
struct sigaction g_previous[std::size(kSignals)];
char g_dir[3072];
std::atomic<bool> g_installed{false};
std::atomic<bool> g_in_handler{false};
std::byte g_block[64 * 1024];
alignas(8) std::byte g_scratch[kMaxPayload + 64];  // a payload, or a whole Lanes-mode record
alignas(16) std::byte g_altstack[64 * 1024];

// Async-signal-safe decimal.
char* put_uint(char* p, unsigned long v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}
char* put_str(char* p, const char* s) {
  while (*s) *p++ = *s++;
  return p;
}
const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
  }
  return "signal";
}

void handler(int sig, siginfo_t*, void*) {
  // A second fatal signal (in this handler or another thread): skip the dump and die.
  if (!g_in_handler.exchange(true, std::memory_order_acq_rel)) {  // acq_rel: one dumper
    char path[sizeof g_dir + 64];
    char* p = put_str(path, g_dir);
    p = put_str(p, "/flight-");
    p = put_uint(p, static_cast<unsigned long>(::getpid()));
    p = put_str(p, ".ttlog");
    *p = '\0';
    const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      flight::DumpWriter out(fd, g_block, sizeof g_block);
      out.header();
      char note[128];
      char* n = put_str(note, "flight recorder dump: fatal signal ");
      n = put_uint(n, static_cast<unsigned long>(sig));
      n = put_str(n, " (");
      n = put_str(n, signal_name(sig));
      n = put_str(n, "), pid ");
      n = put_uint(n, static_cast<unsigned long>(::getpid()));
      out.note(realtime_ns(), std::string_view(note, static_cast<std::size_t>(n - note)));
      const auto tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
      for (auto& slot : registry::loggers) {
        const Logger* lg = slot.load(std::memory_order_acquire);  // acquire: pairs with registry::add()
        if (lg != nullptr) lg->append_flight_records(out, g_scratch, sizeof g_scratch, tid);
      }
      out.flush();
      ::close(fd);
    }
  }
  // Default action, then re-raise: the signal is blocked while we run, so it is delivered (and kills
  // the process) when the handler returns. A hardware fault would also recur on return.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);
}
}  // namespace

void install_crash_handler(const std::filesystem::path& directory) {
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec))
    throw std::invalid_argument("telemetry: crash dump directory " + directory.string() + " is not a directory");
  const std::string d = std::filesystem::absolute(directory).string();
  if (d.size() + 1 > sizeof g_dir)
    throw std::invalid_argument("telemetry: crash dump directory path is too long: " + d);
  std::memcpy(g_dir, d.c_str(), d.size() + 1);
  stack_t ss{};
  ss.ss_sp = g_altstack;
  ss.ss_size = sizeof g_altstack;
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  const bool was = g_installed.exchange(true);
  for (std::size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &sa, was ? nullptr : &g_previous[i]);
}

void uninstall_crash_handler() noexcept {
  if (!g_installed.exchange(false)) return;
  for (std::size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
}

}  // namespace ringkit::telemetry
