// SPDX-License-Identifier: MIT
#pragma once
// Test helper: runs `rewardpool <args>` as a child process and reads the address from its
// "listening on HOST:PORT" line (serve prints it on stdout once it accepts connections).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace svctest {

using rewardpool::test::read_text;

struct Process {
  pid_t pid = -1;
  int out = -1;         // the child's stdout (read end)
  std::string stderr_path;
  std::string stdout_text;

  Process(std::vector<std::string> args, const std::string& err_path) : stderr_path(err_path) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid = rewardpool::test::spawn_rewardpool(std::move(args), err_path, fds[1], fds[0]);
    ::close(fds[1]);
    out = fds[0];
  }
  ~Process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out >= 0) ::close(out);
  }
  // Reads stdout until a line starting with `prefix`; returns the rest of it. Throws after `timeout`.
  std::string wait_line(const std::string& prefix, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (std::size_t pos = 0, nl; (nl = stdout_text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        if (stdout_text.compare(pos, prefix.size(), prefix) == 0) return stdout_text.substr(pos + prefix.size(), nl - pos - prefix.size());
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no '" + prefix + "' line: " + read_text(stderr_path));
      pollfd p{out, POLLIN, 0};
      ::poll(&p, 1, 100);
      if (p.revents & (POLLIN | POLLHUP)) {
        char buf[4096];
        const ssize_t n = ::read(out, buf, sizeof buf);
        if (n > 0) stdout_text.append(buf, static_cast<std::size_t>(n));
        else if (n == 0) throw std::runtime_error("the child exited before '" + prefix + "': " + read_text(stderr_path));
      }
    }
  }
  // Waits for the exit; returns the exit code (128 + signal if killed).
  int wait_exit() {
    const int code = rewardpool::test::wait_exit(pid);
    pid = -1;
    return code;
  }
};

}  // namespace svctest
