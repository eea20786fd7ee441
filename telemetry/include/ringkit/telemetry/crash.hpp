// SPDX-License-Identifier: MIT
#pragma once
// The crash handler: on SIGSEGV, SIGABRT, SIGBUS, SIGFPE or SIGILL, write every live logger's flight
// recorder (the last records of each thread) to `<directory>/flight-<pid>.ttlog` using only
// async-signal-safe calls (open, write, close; no allocation, no locks), then restore the default
// action and re-raise the signal, so the process still dies of it (core dump, exit status).
// Read the dump with `ttlog-cat FILE`.
//
// The handler runs on an alternate signal stack for the thread that called install_crash_handler()
// (so a stack overflow in that thread can still be dumped); other threads use their own stack.
// Not chained: handlers installed before are replaced (and restored by uninstall_crash_handler()).
#include <filesystem>

namespace ringkit::telemetry {

// Throws std::invalid_argument if `directory` is not an existing directory or the path is too long.
void install_crash_handler(const std::filesystem::path& directory);
void uninstall_crash_handler() noexcept;

}  // namespace ringkit::telemetry
