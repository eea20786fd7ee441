// SPDX-License-Identifier: MIT
#pragma once
// Replication through NATS JetStream (issue 13).
//
// The primary (`serve --replicate nats://HOST:PORT --stream NAME`) runs a Shipper: a thread that tails
// the pool's WAL segments up to the LSN the I/O thread has published as written, and publishes the
// records to subject NAME.wal in batches. A batch's payload is 'B' followed by a mini WAL segment (a
// segment header whose base LSN is the batch's first LSN, then the records exactly as the log holds
// them, each with its CRC), so the replica decodes it with the log's own reader. Each message carries a
// message id "<epoch>-<first>-<last>" (epoch: random per primary process), so JetStream de-duplicates a
// retried publish. At start the shipper publishes 'S' + the encoded snapshot of the state the primary
// started from (catalog, LSN, draws, next request id) to subject NAME.snap, and again every N records
// (the state at that batch boundary, kept by applying the shipped records to a shadow pool), so a
// replica can rebuild from the stream alone, starting at the latest snapshot.
// The local WAL stays the durability point: the pool never waits for the shipper; the shipper retries
// (same bytes, same id) until JetStream acknowledges, and publishes the LSN acknowledged (the
// `replicated` ack level waits for it, in the gRPC layer).
//
// The replica (`rewardpool replica --nats URL --stream NAME --data-dir DIR [--once]`) reads the stream
// (NAME.*) with an ordered consumer, from the latest snapshot message when DIR is empty, else from the
// first message, writes every record into DIR with its own WalWriter
// (same LSNs; synced after each batch) and follows. A batch whose first LSN is past the next expected
// one (a gap) or whose records are not consecutive is reported and never applied: the replica stops
// with exit 1. A batch entirely at or below what it holds (a redelivery, or an older batch arriving
// late) is skipped. `rewardpool serve --data-dir DIR` on a stopped replica's directory continues from
// its LSN (promotion).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "rewardpool/service.hpp"

namespace rewardpool::repl {

struct NatsTarget {
  std::string url;     // nats://HOST:PORT
  std::string stream;  // JetStream stream name; the subject is <stream>.wal
};

struct ShipperStats {
  std::uint64_t replicated_lsn = 0;  // JetStream acknowledged every record up to here
  std::uint64_t batches = 0, records = 0, retries = 0;
  bool connected = false;
  std::string last_error;
};

class Shipper {
 public:
  // `start` is the state the pool was created from (its snapshot is published first); `data_dir` is
  // the pool's WAL directory (file or mmap backend). Connects in the background: a NATS server that is
  // down only delays replication.
  // Every `snapshot_every` records shipped (0: never) a snapshot of the state at that batch boundary
  // is published to <stream>.snap: a new replica starts from the latest one.
  Shipper(Service& svc, const ServiceState& start, std::string data_dir, NatsTarget target,
          std::uint64_t snapshot_every = 100'000);
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  [[nodiscard]] std::uint64_t replicated_lsn() const noexcept;
  [[nodiscard]] ShipperStats stats() const;
  // After the pool stopped: ships what is left (up to `timeout`), then closes. Idempotent.
  void stop(std::chrono::milliseconds timeout);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

struct ReplicaOptions {
  NatsTarget source;
  std::string data_dir;
  bool once = false;  // exit once caught up with the stream's last message at start
};

// Runs the replica until SIGTERM/SIGINT (or, with once, until caught up); returns the exit code
// (0 ok, 1 gap/divergence/error). Prints progress on stderr.
int run_replica(const ReplicaOptions& o);

}  // namespace rewardpool::repl
