// SPDX-License-Identifier: MIT
#include "service/top.hpp"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "rewardpool.grpc.pb.h"
#include "rewardpool_admin.grpc.pb.h"
// Last: curses defines macros (OK, ERR, timeout...) that would clash with the headers above.
#include <curses.h>

namespace rewardpool::net {

namespace pb = ::rewardpool;
namespace admin = ::ringkit::rewardpool::admin;

struct TopClient::Stubs {
  std::unique_ptr<pb::RewardPoolService::Stub> pool;
  std::unique_ptr<admin::RewardPoolAdmin::Stub> admin;
};

TopClient::TopClient(const std::string& target) : stubs_(std::make_unique<Stubs>()) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  stubs_->pool = pb::RewardPoolService::NewStub(channel);
  stubs_->admin = admin::RewardPoolAdmin::NewStub(channel);
}

TopClient::~TopClient() = default;

TopSample TopClient::fetch() {
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(2);
  admin::StatsResponse st;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    const grpc::Status s = stubs_->admin->Stats(&ctx, admin::StatsRequest{}, &st);
    if (!s.ok()) throw std::runtime_error("RewardPoolAdmin.Stats: " + s.error_message());
  }
  TopSample out;
  out.at = std::chrono::steady_clock::now();
  out.draws_ok = st.draws_ok();
  out.draws_empty = st.draws_empty();
  out.draws_failed = st.draws_failed();
  out.rejected = st.requests_rejected();
  out.in_flight = st.in_flight();
  out.streams = st.streams();
  out.queued = st.queued_responses();
  out.applied_lsn = st.applied_lsn();
  out.written_lsn = st.written_lsn();
  out.durable_lsn = st.durable_lsn();
  out.replicating = st.replicating();
  out.replicated_lsn = st.replicated_lsn();
  out.ack = st.ack();
  out.draining = st.draining();
  out.uptime_ms = st.uptime_ms();
  for (const auto& it : st.items()) out.items.push_back(TopItem{it.item_id(), it.remaining(), it.initial(), it.probability()});
  return out;
}

TopView view(const TopSample* previous, const TopSample& current) {
  TopView v;
  v.in_flight = current.in_flight;
  v.streams = current.streams;
  if (previous && current.at > previous->at && current.draws_ok >= previous->draws_ok) {
    const double dt = std::chrono::duration<double>(current.at - previous->at).count();
    v.draws_per_s = static_cast<double>(current.draws_ok - previous->draws_ok) / dt;
  }
  if (current.replicating) {
    v.replication_lag = current.applied_lsn > current.replicated_lsn ? current.applied_lsn - current.replicated_lsn : 0;
  }
  v.unsynced = current.applied_lsn > current.durable_lsn ? current.applied_lsn - current.durable_lsn : 0;
  return v;
}

std::vector<std::string> render(const TopSample& s, const TopView& v, const std::string& target, int width) {
  std::vector<std::string> lines;
  char buf[512];
  std::snprintf(buf, sizeof buf, "rewardpool top  %s  ack %s%s  up %llus", target.c_str(), s.ack.c_str(),
                s.draining ? "  DRAINING" : "", static_cast<unsigned long long>(s.uptime_ms / 1000));
  lines.emplace_back(buf);
  std::snprintf(buf, sizeof buf, "draws/s %.0f   in flight %llu   streams %llu   queued responses %llu", v.draws_per_s,
                static_cast<unsigned long long>(v.in_flight), static_cast<unsigned long long>(v.streams),
                static_cast<unsigned long long>(s.queued));
  lines.emplace_back(buf);
  std::snprintf(buf, sizeof buf, "draws ok %llu  empty %llu  failed %llu  rejected %llu",
                static_cast<unsigned long long>(s.draws_ok), static_cast<unsigned long long>(s.draws_empty),
                static_cast<unsigned long long>(s.draws_failed), static_cast<unsigned long long>(s.rejected));
  lines.emplace_back(buf);
  std::string repl = v.replication_lag ? "lag " + std::to_string(*v.replication_lag) + " records" : std::string("off");
  std::snprintf(buf, sizeof buf, "lsn applied %llu  written %llu  durable %llu (unsynced %llu)   replication %s",
                static_cast<unsigned long long>(s.applied_lsn), static_cast<unsigned long long>(s.written_lsn),
                static_cast<unsigned long long>(s.durable_lsn), static_cast<unsigned long long>(v.unsynced), repl.c_str());
  lines.emplace_back(buf);
  lines.emplace_back("");
  std::size_t id_width = 4;
  for (const auto& it : s.items) id_width = std::max(id_width, std::min<std::size_t>(it.id.size(), 24));
  const int label = static_cast<int>(id_width) + 28;  // id, then "  remaining/initial  "
  const int bar = std::max(10, width - label - 2);  // 2: the brackets
  for (const auto& it : s.items) {
    std::string line = it.id.substr(0, id_width);
    line.resize(id_width, ' ');
    if (it.initial < 0) {
      line += "  unlimited";
    } else {
      std::snprintf(buf, sizeof buf, "  %12lld/%-12lld ", static_cast<long long>(it.remaining), static_cast<long long>(it.initial));
      line += buf;
      const double frac = it.initial > 0 ? static_cast<double>(it.remaining) / static_cast<double>(it.initial) : 0.0;
      const int filled = static_cast<int>(std::clamp(frac, 0.0, 1.0) * bar + 0.5);
      line.push_back('[');
      line.append(static_cast<std::size_t>(filled), '#');
      line.append(static_cast<std::size_t>(bar - filled), '.');
      line.push_back(']');
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

int run_top(const std::string& target, std::chrono::milliseconds period) {
  TopClient client(target);
  std::optional<TopSample> prev;
  initscr();
  cbreak();
  noecho();
  curs_set(0);
  timeout(static_cast<int>(period.count()));
  int rc = 0;
  for (;;) {
    std::vector<std::string> lines;
    try {
      TopSample cur = client.fetch();
      lines = render(cur, view(prev ? &*prev : nullptr, cur), target, COLS);
      prev = std::move(cur);
    } catch (const std::exception& e) {
      lines = {"rewardpool top  " + target, std::string("cannot fetch: ") + e.what()};
    }
    lines.emplace_back("");
    lines.emplace_back("q: quit");
    erase();
    for (int i = 0; i < static_cast<int>(lines.size()) && i < LINES; ++i) mvaddnstr(i, 0, lines[static_cast<std::size_t>(i)].c_str(), COLS);
    refresh();
    const int ch = getch();  // waits up to `period`
    if (ch == 'q' || ch == 'Q') break;
  }
  endwin();
  return rc;
}

}  // namespace rewardpool::net
