// SPDX-License-Identifier: MIT
#pragma once
// The write-ahead log, as four parts (LevelDB's split): the format (wal_format.hpp), the writer
// (wal_writer.hpp), the reader (segment_reader.hpp) and the recovery policy (recovery.hpp); plus the
// file layer (file_io.hpp) and snapshots with the MANIFEST (snapshot.hpp). Spec: docs/wal-format.md.
#include "rewardpool/file_io.hpp"
#include "rewardpool/recovery.hpp"
#include "rewardpool/segment_reader.hpp"
#include "rewardpool/snapshot.hpp"
#include "rewardpool/wal_format.hpp"
#include "rewardpool/wal_writer.hpp"
