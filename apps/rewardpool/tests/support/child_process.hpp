// SPDX-License-Identifier: MIT
#pragma once
// Runs the real `rewardpool` binary (REWARDPOOL_BIN, set by the tests' CMakeLists.txt) as a child
// process: the crash test (rewardpool_crash_test.cpp) and the service tests (service/service_process.hpp).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef REWARDPOOL_BIN
#error "REWARDPOOL_BIN (the rewardpool binary) is set by the rewardpool tests' CMakeLists.txt"
#endif

namespace rewardpool::test {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Forks and execs `rewardpool <args>`. The child's stderr goes to the file `log_path` (created or
// truncated), its stdout to `stdout_fd` if >= 0, else to that file too; the child closes `close_in_child`
// (a pipe end that is the parent's) if >= 0. Returns the child's pid.
inline pid_t spawn_rewardpool(std::vector<std::string> args, const std::string& log_path, int stdout_fd = -1,
                              int close_in_child = -1) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (close_in_child >= 0) ::close(close_in_child);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) ::dup2(log, 2);
    if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
    else if (log >= 0) ::dup2(log, 1);
    std::vector<char*> argv;
    static std::string bin = REWARDPOOL_BIN;
    argv.push_back(bin.data());
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for the child; returns its exit code (128 + the signal if killed).
inline int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace rewardpool::test
