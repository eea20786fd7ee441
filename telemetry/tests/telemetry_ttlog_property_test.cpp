// SPDX-License-Identifier: MIT
// Properties of the ttlog format: any sequence of events written in blocks reads back equal; damaging
// any one byte of a block's region loses at most that block (every other block's events still read
// back, the damage is reported at or before the damaged byte's block), and never invents an event.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "ringkit/telemetry/ttlog.hpp"

using namespace ringkit::telemetry;

namespace {

struct Ev {
  std::uint64_t ts;
  int level;
  std::uint32_t tid, line;
  std::string file, message;
  std::vector<std::pair<std::string, std::string>> fields;
};

Ev gen_event() {
  return Ev{*rc::gen::arbitrary<std::uint64_t>(),
            *rc::gen::inRange(0, 6),
            *rc::gen::arbitrary<std::uint32_t>(),
            *rc::gen::arbitrary<std::uint32_t>(),
            *rc::gen::arbitrary<std::string>(),
            *rc::gen::arbitrary<std::string>(),
            *rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
                *rc::gen::inRange<std::size_t>(0, 4), rc::gen::arbitrary<std::pair<std::string, std::string>>())};
}

// Writes the events into a file image: blocks of `per_block` events each. Returns block start offsets.
std::vector<std::size_t> write_file(const std::vector<Ev>& evs, std::size_t per_block, std::vector<std::byte>& out) {
  out.resize(ttlog::kFileHeaderSize);
  ttlog::write_file_header(out.data());
  std::vector<std::byte> buf(1 << 20);
  ttlog::BlockBuilder b(buf.data(), buf.size());
  std::vector<std::size_t> starts;
  auto finish = [&] {
    if (b.empty()) return;
    const auto bytes = b.finish();
    starts.push_back(out.size());
    out.insert(out.end(), bytes.begin(), bytes.end());
    b.reset();
  };
  for (std::size_t i = 0; i < evs.size(); ++i) {
    const Ev& e = evs[i];
    std::vector<Field> fs;
    for (const auto& [k, v] : e.fields) fs.push_back(Field{k, v, false});
    Event ev{e.ts, static_cast<Level>(e.level), e.tid, e.file, e.line, e.message, fs};
    RC_ASSERT(b.add_event(ev));
    if ((i + 1) % per_block == 0) finish();
  }
  finish();
  return starts;
}

std::vector<ttlog::Entry> read_all(const std::vector<std::byte>& data, int& damages) {
  std::vector<ttlog::Entry> out;
  damages = 0;
  ttlog::parse(data, 0, true, [&](const ttlog::Entry& e) { out.push_back(e); }, [&](const ttlog::Damage&) { ++damages; });
  return out;
}

bool same(const ttlog::Entry& a, const Ev& e) {
  if (a.ts_ns != e.ts || static_cast<int>(a.level) != e.level || a.tid != e.tid || a.line != e.line ||
      a.file != e.file || a.message != e.message || a.fields.size() != e.fields.size())
    return false;
  for (std::size_t i = 0; i < e.fields.size(); ++i)
    if (a.fields[i].key != e.fields[i].first || a.fields[i].value != e.fields[i].second) return false;
  return true;
}

RC_GTEST_PROP(TtlogProperty, WrittenEventsReadBackEqual, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(0, 40);
  std::vector<Ev> evs;
  for (std::size_t i = 0; i < n; ++i) evs.push_back(gen_event());
  const auto per_block = *rc::gen::inRange<std::size_t>(1, 8);
  std::vector<std::byte> file;
  write_file(evs, per_block, file);
  int damages = 0;
  const auto got = read_all(file, damages);
  RC_ASSERT(damages == 0);
  RC_ASSERT(got.size() == evs.size());
  for (std::size_t i = 0; i < evs.size(); ++i) RC_ASSERT(same(got[i], evs[i]));
}

RC_GTEST_PROP(TtlogProperty, OneDamagedByteLosesAtMostItsBlock, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(2, 30);
  std::vector<Ev> evs;
  for (std::size_t i = 0; i < n; ++i) evs.push_back(gen_event());
  const auto per_block = *rc::gen::inRange<std::size_t>(1, 5);
  std::vector<std::byte> file;
  const auto starts = write_file(evs, per_block, file);
  const auto pos = *rc::gen::inRange<std::size_t>(ttlog::kFileHeaderSize, file.size());
  const auto flip = static_cast<std::byte>(*rc::gen::inRange(1, 256));
  file[pos] ^= flip;
  // The block holding the damaged byte.
  std::size_t hit = 0;
  while (hit + 1 < starts.size() && starts[hit + 1] <= pos) ++hit;
  int damages = 0;
  const auto got = read_all(file, damages);
  RC_ASSERT(damages >= 1);
  // Every event outside the damaged block is read back, in order; nothing else appears.
  std::vector<const Ev*> expect;
  for (std::size_t i = 0; i < evs.size(); ++i)
    if (i / per_block != hit) expect.push_back(&evs[i]);
  RC_ASSERT(got.size() == expect.size());
  for (std::size_t i = 0; i < expect.size(); ++i) RC_ASSERT(same(got[i], *expect[i]));
}

}  // namespace
