#pragma once
// `rewardpool` command line: run, inspect, bench.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rewardpool::cli {

// A bad command line: main prints the message and the help, exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --flag VALUE / --flag=VALUE / --switch. `switches` take no value.
struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> switches_set;
  bool has(const std::string& k) const;
  std::optional<std::string> get(const std::string& k) const;
  std::uint64_t get_u64(const std::string& k, std::uint64_t def, std::uint64_t min, std::uint64_t max) const;
};
Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& flags,
                const std::vector<std::string>& switches);

int cmd_run(const Args& a);
int cmd_inspect(const Args& a);
int cmd_bench(const Args& a);

}  // namespace rewardpool::cli
