// SPDX-License-Identifier: MIT
#pragma once
// `rewardpool serve --config FILE`: the Go original's YAML layout, read as it is (yaml-cpp):
//
//   working_dir: "tmp/working_dir"        -> --data-dir
//   pool:
//     catalog:                            -> the catalog (used when the directory holds no log yet)
//       - item_id: "gold"
//         quantity: 100                   (-1 = unlimited)
//         probability: 20                 (an integer weight)
//   wal:
//     max_file_size_kb: 1024              -> --segment-bytes (KiB * 1024)
//     max_request_buffer_size: 512        -> the actor's mailbox capacity (rounded up to a power of two)
//     formatter: "json"                   accepted and ignored: our WAL has one (binary, CRC'd) format
//     flush_after_n_draw: 20              -> N > 0: background sync after every group-commit batch
//                                            (at least as often as every N draws); 0: none
//   grpc:
//     enabled: true                       false: serve refuses unless --listen is given
//     listen_address: ":50051"            -> --listen (":PORT" means every interface, "[::]:PORT")
//
// Every key is optional; flags given on the command line override the file. An unknown key, or a
// value of the wrong type, is an error naming the file and the key's path (e.g. "wal.flush_after_n_draw").
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rewardpool/pool.hpp"

namespace rewardpool::service {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FileConfig {
  std::optional<std::string> working_dir;
  std::optional<Catalog> catalog;
  std::optional<std::uint64_t> segment_bytes;
  std::optional<std::size_t> mailbox_capacity;
  std::optional<std::string> formatter;
  std::optional<std::int64_t> flush_after_n_draw;
  std::optional<bool> grpc_enabled;
  std::optional<std::string> listen_address;  // normalized (":PORT" -> "[::]:PORT")
};

FileConfig parse_config(std::string_view yaml_text, const std::string& source_name);
FileConfig load_config(const std::string& path);

}  // namespace rewardpool::service
