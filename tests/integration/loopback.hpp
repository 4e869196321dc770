#pragma once
// A server manager and a client manager on one io_context the test owns, on 127.0.0.1 port 0,
// with the address read back from the server: the set-up most integration tests share.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "../support/test_support.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn::test {

class Loopback : public testing::Test {
 protected:
  // First member: outlives the managers and sockets made on it.
  asio::io_context io;
  std::unique_ptr<RealTimeServerTcpConnectionManager> server;
  std::unique_ptr<RealTimeClientConnectionManager> client;
  // Requests the server's answering handler saw, in arrival order.
  std::vector<SipMessage> served;
  // The request keep_requests() took last, for the test to answer (or not) when it wants.
  std::optional<IncomingRequest> kept;

  ~Loopback() override {
    // Handlers a test installed may refer to its (gone) locals: none may run from here on.
    if (server) server->set_request_handler({});
    if (client) {
      client->set_request_handler({});
      client->set_response_handler({});
    }
    kept.reset();
    client.reset();
    server.reset();
    drain(io);  // let the closes the destructors started run, so sanitizers see them
  }

  void start_server(ConnectionManagerOptions options = {}, const char* where = "127.0.0.1:0") {
    server = std::make_unique<RealTimeServerTcpConnectionManager>(io.get_executor(), options);
    server->start_listening(*IpEndpoint::parse(where));
  }

  void make_client(ConnectionManagerOptions options = {}) {
    client = std::make_unique<RealTimeClientConnectionManager>(io.get_executor(), options);
  }

  /// The server answers every request but ACK with 200 and records it.
  void answer_everything() {
    server->set_request_handler([this](IncomingRequest& request) {
      served.push_back(request.message());
      request.respond(200);
      return true;
    });
  }

  /// The server takes every request and answers none: the newest is in `kept`.
  void keep_requests() {
    server->set_request_handler([this](IncomingRequest& request) {
      kept.emplace(std::move(request));
      return true;
    });
  }

  IpEndpoint server_address() const { return server->listening_addresses().at(0); }
  PoolKey server_key() const { return key_for(server_address()); }

  /// Sends through the client's pool for `key` and waits for the completion.
  std::error_code send_and_wait(const PoolKey& key, SipMessage message) {
    const auto outcome = make_record();
    client->async_send(key, std::move(message), record(outcome));
    EXPECT_TRUE(run_until(io, [&] { return outcome->calls > 0; })) << "send never completed";
    return outcome->calls > 0 ? outcome->ec : make_error_code(errc::shutdown);
  }
  std::error_code send_and_wait(SipMessage message) {
    return send_and_wait(server_key(), std::move(message));
  }

  struct Answer {
    std::error_code ec;
    SipMessage response;
  };
  /// async_request through the client and waits for its completion.
  Answer request_and_wait(SipMessage request, const std::optional<PoolKey>& key = {}) {
    const auto outcome = make_record();
    client->async_request(key.value_or(server_key()), std::move(request), record_response(outcome));
    EXPECT_TRUE(run_until(io, [&] { return outcome->calls > 0; })) << "request never completed";
    if (outcome->calls == 0) return {make_error_code(errc::shutdown), {}};
    return {outcome->ec, outcome->response};
  }
};

}  // namespace rtconn::test
