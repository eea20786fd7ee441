// SPDX-License-Identifier: MIT
#pragma once
// Test helpers: an in-process server on a free loopback port, and small synchronous gRPC clients.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "rewardpool.grpc.pb.h"
#include "rewardpool_admin.grpc.pb.h"
#include "rewardpool/service.hpp"
#include "rewardpool/wal.hpp"
#include "rewardpool_test.hpp"
#include "service/server.hpp"

namespace svctest {

namespace pb = ::rewardpool;
namespace admin = ::ringkit::rewardpool::admin;

inline rewardpool::Catalog catalog(std::vector<rewardpool::Item> items) { return rewardpool::Catalog{std::move(items)}; }

// A pool (file WAL in a scratch directory, or none) behind a DrawServer on 127.0.0.1:0.
struct InProcess {
  rewardpool::test::TempDir dir;
  std::unique_ptr<rewardpool::Service> svc;
  std::unique_ptr<rewardpool::net::DrawServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::RewardPoolService::Stub> stub;
  std::unique_ptr<admin::RewardPoolAdmin::Stub> admin_stub;

  InProcess(const rewardpool::Catalog& c, rewardpool::Ack ack, rewardpool::net::ServerOptions so = {}, bool wal = true) {
    rewardpool::ServiceOptions o;
    rewardpool::ServiceState state;
    if (wal) {
      o.wal.backend = rewardpool::wal::Backend::File;
      o.wal.dir = dir.str();
      std::vector<std::string> warnings;
      state = rewardpool::open_data_dir(dir.str(), &c, false, warnings);
    } else {
      o.wal.backend = rewardpool::wal::Backend::Null;
      state.catalog = c;
    }
    o.default_ack = ack;
    svc = rewardpool::make_service(rewardpool::MailboxKind::Ring, rewardpool::BufferKind::Ring, std::move(state), o);
    so.listen = "127.0.0.1:0";
    so.ack = ack;
    server = std::make_unique<rewardpool::net::DrawServer>(*svc, so);
    channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
    stub = pb::RewardPoolService::NewStub(channel);
    admin_stub = admin::RewardPoolAdmin::NewStub(channel);
  }
  ~InProcess() { stop(); }
  void stop() {
    if (server) server->drain(std::chrono::seconds(5));
    server.reset();
    if (svc) svc->stop();
  }
  admin::StatsResponse stats() {
    grpc::ClientContext ctx;
    admin::StatsResponse out;
    const grpc::Status st = admin_stub->Stats(&ctx, admin::StatsRequest{}, &out);
    if (!st.ok()) throw std::runtime_error("Stats failed: " + st.error_message());
    return out;
  }
};

inline std::shared_ptr<grpc::Channel> connect(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

inline pb::GetStateResponse get_state(pb::RewardPoolService::Stub& stub) {
  grpc::ClientContext ctx;
  pb::GetStateResponse out;
  const grpc::Status st = stub.GetState(&ctx, pb::GetStateRequest{}, &out);
  if (!st.ok()) throw std::runtime_error("GetState failed: " + st.error_message());
  return out;
}

// One stream: writes every count in `counts`, half-closes, reads every response until the end.
struct StreamResult {
  std::vector<pb::DrawResponse> responses;
  grpc::Status status;
};
inline StreamResult draw_stream(pb::RewardPoolService::Stub& stub, const std::vector<int>& counts) {
  grpc::ClientContext ctx;
  auto stream = stub.Draw(&ctx);
  for (int c : counts) {
    pb::DrawRequest r;
    r.set_count(c);
    if (!stream->Write(r)) break;
  }
  stream->WritesDone();
  StreamResult out;
  pb::DrawResponse resp;
  while (stream->Read(&resp)) out.responses.push_back(resp);
  out.status = stream->Finish();
  return out;
}

}  // namespace svctest
