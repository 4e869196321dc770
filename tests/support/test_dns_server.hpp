#pragma once
// A DNS server a test plays itself on a loopback UDP socket: it answers the queries it is given a
// policy for, with records built by dns_message.hpp, and leaves the others unanswered, standing
// in for a slow or dead server.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include "dns_message.hpp"
#include "rtconn/ip_endpoint.hpp"

namespace rtconn::test {

// A DNS server in the test: `policy` gives the answers to a question (name, type), or nullopt
// to leave it unanswered.
class TestDnsServer {
 public:
  using Policy = std::function<std::optional<std::vector<dns::Bytes>>(const std::string& name,
                                                                      std::uint16_t type)>;

  explicit TestDnsServer(asio::io_context& io)
      : socket_(io, {asio::ip::make_address("127.0.0.1"), 0}) {}

  IpEndpoint endpoint() const {
    return {socket_.local_endpoint().address(), socket_.local_endpoint().port()};
  }
  void set_policy(Policy policy) { policy_ = std::move(policy); }
  void set_ttl(std::uint32_t ttl) { ttl_ = ttl; }
  /// An answer with no records carries an SOA whose MINIMUM is this (none: no SOA).
  void set_negative_ttl(std::optional<std::uint32_t> ttl) { negative_ttl_ = ttl; }
  /// An answer with no records says the name does not exist (NXDOMAIN), not that it has no
  /// records of the type asked (NODATA).
  void set_names_missing(bool missing) { names_missing_ = missing; }
  const std::vector<std::string>& asked() const { return asked_; }

  // Takes what has arrived and answers what the policy now answers (a query left unanswered
  // is kept, to be answered once the policy says so); call from run_until's predicate.
  void serve() {
    while (socket_.available() > 0) {
      Query q;
      q.bytes.resize(512);
      q.bytes.resize(socket_.receive_from(asio::buffer(q.bytes), q.from));
      std::size_t i = 12;
      while (i < q.bytes.size() && q.bytes[i] != 0 && i + 1u + q.bytes[i] <= q.bytes.size()) {
        if (!q.name.empty()) q.name += '.';
        q.name.append(reinterpret_cast<const char*>(&q.bytes[i + 1]), q.bytes[i]);
        i += q.bytes[i] + 1u;
      }
      if (i + 5 > q.bytes.size()) continue;
      q.type = static_cast<std::uint16_t>(q.bytes[i + 1] << 8 | q.bytes[i + 2]);
      asked_.push_back(q.name + (q.type == dns::type_srv ? " SRV"
                                 : q.type == dns::type_a ? " A"
                                                         : " other"));
      pending_.push_back(std::move(q));
    }
    std::erase_if(pending_, [this](const Query& q) { return answer(q); });
  }

 private:
  struct Query {
    dns::Bytes bytes;
    asio::ip::udp::endpoint from;
    std::string name;
    std::uint16_t type = 0;
  };

  bool answer(const Query& q) {
    const auto answers = policy_ ? policy_(q.name, q.type) : std::nullopt;
    if (!answers) return false;
    std::vector<dns::Record> records;
    for (const auto& rdata : *answers) records.push_back({q.type, ttl_, rdata});
    std::vector<dns::Record> authority;
    if (answers->empty() && negative_ttl_) {
      authority.push_back({dns::type_soa, 3600, dns::soa_record(*negative_ttl_)});
    }
    const auto id = static_cast<std::uint16_t>(q.bytes[0] << 8 | q.bytes[1]);
    const auto rcode = answers->empty() && names_missing_ ? dns::name_error : dns::no_error;
    const auto reply = dns::response(id, q.name, q.type, records, authority, rcode);
    socket_.send_to(asio::buffer(reply), q.from);
    return true;
  }

  asio::ip::udp::socket socket_;
  Policy policy_;
  std::uint32_t ttl_ = 60;
  std::optional<std::uint32_t> negative_ttl_;
  bool names_missing_ = false;
  std::vector<std::string> asked_;
  std::vector<Query> pending_;
};

}  // namespace rtconn::test
