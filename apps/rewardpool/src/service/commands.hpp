// SPDX-License-Identifier: MIT
#pragma once
// The service's subcommands of `rewardpool`: serve, load, top. main.cpp hands argv over when argv[1]
// names one of them (they are not built under TSan: see service.cmake).
#include <string_view>

namespace rewardpool::service {

bool is_service_command(std::string_view name) noexcept;
// argv[1] is the subcommand. Returns the process exit code (2 for usage errors).
int main(int argc, char** argv);

}  // namespace rewardpool::service
