#include "dns/server_locator.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>
#include <asio/post.hpp>
#include <asio/strand.hpp>

#include "common/light_strand.hpp"
#include "dns/answer_ttl.hpp"
#include "dns/ares_channel.hpp"
#include "rtconn/errors.hpp"
#include "sip/text.hpp"

namespace rtconn::dns {
namespace {

using Endpoint = asio::ip::tcp::endpoint;

std::string srv_name(const LocateQuery& query) {
  // RFC 3263 4.2: SIPS (here: the TLS transport) asks for _sips._tcp, SIP over TCP _sip._tcp.
  return (query.transport == TransportType::Tls ? "_sips._tcp." : "_sip._tcp.") + query.host;
}

// RFC 6761 6.3: localhost names are not asked of DNS servers, SRV included.
bool is_localhost(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  constexpr std::string_view name = "localhost";
  if (host.size() < name.size()) return false;
  const std::size_t at = host.size() - name.size();
  return sip::iequals(host.substr(at), name) && (at == 0 || host[at - 1] == '.');
}

std::optional<Endpoint> endpoint_of(const ares_addrinfo_node& node) {
  if (node.ai_family == AF_INET && node.ai_addrlen >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, node.ai_addr, sizeof in);
    return Endpoint(asio::ip::address_v4(ntohl(in.sin_addr.s_addr)), ntohs(in.sin_port));
  }
  if (node.ai_family == AF_INET6 && node.ai_addrlen >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, node.ai_addr, sizeof in6);
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), in6.sin6_addr.s6_addr, bytes.size());
    return Endpoint(asio::ip::address_v6(bytes, in6.sin6_scope_id), ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

// Calls each waiter filed under `key` once, with what `read` makes of the answer, or with
// ARES_ENOMEM when reading it runs out of memory (ARES_EBADRESP when it fails otherwise). The
// waiters are taken out first: one may ask again, and waiters left filed would be joined by every
// later lookup of the name, which none would then ask.
template <class Result, class Waiting, class Read>
void hand_out(Waiting& waiting, const std::string& key, int status, const char* what, Read&& read) {
  auto waiters = waiting.extract(key);
  Result result;
  try {
    read(status, result);
  } catch (const std::bad_alloc&) {
    status = ARES_ENOMEM;
    result = {};
  } catch (const std::exception&) {
    status = ARES_EBADRESP;
    result = {};
  }
  if (!waiters) return;
  for (auto& waiter : waiters.mapped()) {
    not_unwinding_into_c(what, [&] { waiter(status, result); });
  }
}

}  // namespace

struct Lookup {
  LocateQuery query;
  asio::any_io_executor handler_executor;
  ServerLocator::Handler handler;                // the one waiting for a batch, if any
  std::vector<SrvRecord> targets;                // where the addresses are looked up, in order
  std::vector<std::vector<Endpoint>> addresses;  // each target's
  std::vector<bool> answered;                    // each target's
  std::vector<bool> handed;                      // each target's addresses handed out
  bool impatient = false;  // half the time left when the servers were asked for has passed
  std::uint64_t patience_timer = 0;  // its number while it runs
  std::error_code first_error;
};

// What c-ares is handed for one query: the key its waiters are filed under, and the locator,
// weakly: the locator owns the channel that owns the query, and a manager whose executor never
// runs again (its shutdown never run) must still free them.
struct ServerLocator::Query {
  std::weak_ptr<ServerLocator> locator;
  std::string question;
  std::string key;
  AresChannel* channel;      // the one it runs on, alive until it calls back
  std::uint64_t generation;  // answers_generation_ when asked
};

namespace {
// Names (SRV and host) kept at once, of each kind: a bound on names, not bytes, as an answer
// holds what one DNS message does; typical ones take some hundred bytes each.
constexpr std::size_t kept_answers = 4096;
}  // namespace

std::shared_ptr<ServerLocator> ServerLocator::make(const asio::any_io_executor& executor,
                                                   Settings settings) {
  return std::make_shared<ServerLocator>(Passkey{}, detail::make_light_strand(executor),
                                         std::move(settings));
}

ServerLocator::ServerLocator(Passkey, asio::any_io_executor strand, Settings settings)
    : strand_(std::move(strand)),
      settings_(std::move(settings)),
      // Before the read: a change made while it is read is seen.
      configuration_stamp_(stamp_of(settings_.configuration)),
      hosts_stamp_(stamp_of(hosts_file())),
      channel_(std::make_shared<AresChannel>(strand_, settings_.servers, settings_.configuration)),
      random_(std::random_device{}()),
      srv_kept_(kept_answers),
      addresses_kept_(kept_answers) {}

ServerLocator::FileStamp ServerLocator::stamp_of(const std::filesystem::path& file) noexcept {
  struct stat status {};
  if (::stat(file.c_str(), &status) != 0) return {};
  return {true,
          static_cast<std::uint64_t>(status.st_dev),
          static_cast<std::uint64_t>(status.st_ino),
          static_cast<std::uint64_t>(status.st_size),
          static_cast<std::int64_t>(status.st_mtim.tv_sec),
          static_cast<std::int64_t>(status.st_mtim.tv_nsec),
          static_cast<std::int64_t>(status.st_ctim.tv_sec),
          static_cast<std::int64_t>(status.st_ctim.tv_nsec)};
}

std::filesystem::path ServerLocator::hosts_file() {
  // Where c-ares 1.18 reads it from, asked with ARES_AI_ENVHOSTS (set but empty: no file).
  const char* chosen = std::getenv("CARES_HOSTS");
  return chosen != nullptr ? chosen : "/etc/hosts";
}

void ServerLocator::follow_configuration() {
  if (!channel_) return;
  // A name the hosts file gains or changes must not wait for an answer kept from DNS to expire,
  // nor join a DNS query asked before (say, one c-ares is still retrying).
  if (auto hosts = stamp_of(hosts_file()); hosts != hosts_stamp_) {
    hosts_stamp_ = hosts;
    forget_answers();
  }
  const auto stamp = stamp_of(settings_.configuration);
  if (stamp == configuration_stamp_) return;
  configuration_stamp_ = stamp;  // one c-ares cannot use is not tried again until it changes
  std::shared_ptr<AresChannel> fresh;
  try {
    fresh = std::make_shared<AresChannel>(strand_, settings_.servers, settings_.configuration);
  } catch (const std::exception& e) {
    spdlog::warn("name lookup: {} changed, but cannot be used ({}): the settings before stay",
                 settings_.configuration.string(), e.what());
    return;
  }
  spdlog::info("name lookup: {} changed: read again", settings_.configuration.string());
  if (channel_->running_queries > 0) replaced_.push_back(std::move(channel_));
  channel_ = std::move(fresh);
  // What the servers before said need not be what the new ones say (a split-horizon network).
  forget_answers();
}

void ServerLocator::forget_answers() {
  ++answers_generation_;
  srv_kept_.clear();
  addresses_kept_.clear();
}

std::string ServerLocator::waiting_key(const std::string& question) const {
  // The generation first: a question asked again after the configuration changed, say because
  // its DNS server died, goes to the new servers rather than joining the old query.
  return std::to_string(answers_generation_) + ' ' + question;
}

void ServerLocator::drop_idle_channels() {
  // A channel dropped here from inside its own callback lives on until the wait or timer
  // handler that called into c-ares lets it go (see ~ServerLocator).
  std::erase_if(replaced_, [](const auto& channel) { return channel->running_queries == 0; });
}

// Not shut down (its executor stopped first), the channel ends here, its queries' callbacks
// finding the locator gone. This may run inside one of those callbacks (the last reference a
// callback's lock took): safe only because whoever calls into c-ares holds the channel too (the
// channel's waits and timer, and ask_*), so the channel itself never ends inside c-ares.
ServerLocator::~ServerLocator() = default;

void ServerLocator::async_locate(LocateQuery query, asio::any_io_executor handler_executor,
                                 Handler handler) {
  auto lookup = std::make_shared<Lookup>();
  lookup->query = std::move(query);
  lookup->handler_executor = std::move(handler_executor);
  lookup->handler = std::move(handler);
  asio::post(strand_, [self = shared_from_this(), lookup] { self->start(lookup); });
}

void ServerLocator::async_more(std::shared_ptr<Lookup> later,
                               asio::any_io_executor handler_executor, Handler handler) {
  asio::post(strand_, [self = shared_from_this(), later = std::move(later),
                       handler_executor = std::move(handler_executor),
                       handler = std::move(handler)]() mutable {
    later->handler_executor = std::move(handler_executor);
    later->handler = std::move(handler);
    self->deliver(later);
  });
}

void ServerLocator::shutdown() {
  // The channels' destructors end the queries, whose callbacks run on this strand. Moved out
  // first: those callbacks look at replaced_.
  asio::post(strand_, [self = shared_from_this()] {
    auto ending = std::move(self->channel_);
    auto replaced = std::move(self->replaced_);
    self->patience_timers_.clear();
    self->srv_kept_.clear();
    self->addresses_kept_.clear();
  });
}

void ServerLocator::ask_srv(const std::string& name, bool search, SrvAnswer answer) {
  if (!channel_) return answer(ARES_EDESTRUCTION, {});
  if (auto kept = srv_kept_.find(name, settings_.clock->now())) {
    return answer(kept->status, kept->records);
  }
  std::string key = waiting_key(name);
  auto& waiting = srv_waiting_[key];
  waiting.push_back(std::move(answer));
  if (waiting.size() > 1) return;
  // The channel is held across the call: an answer run at once may shut nothing down under it.
  const auto channel = channel_;
  const auto ask = search ? &::ares_search : &::ares_query;
  auto* query =
      new Query{weak_from_this(), name, std::move(key), channel.get(), answers_generation_};
  ++channel->running_queries;  // before the call: a failure found at once comes inside it
  ask(channel->get(), name.c_str(), ns_c_in, ns_t_srv, &ServerLocator::on_srv, query);
  channel->arm_timer();
}

void ServerLocator::on_srv(void* arg, int status, int /*timeouts*/, unsigned char* answer,
                           int length) {
  const std::unique_ptr<Query> query(static_cast<Query*>(arg));
  --query->channel->running_queries;
  const auto locator = query->locator.lock();
  if (!locator) return;
  not_unwinding_into_c("an SRV answer",
                       [&] { locator->take_srv_answer(*query, status, answer, length); });
  locator->drop_idle_channels();
}

void ServerLocator::take_srv_answer(const Query& query, int status, const unsigned char* answer,
                                    int length) {
  hand_out<std::vector<SrvRecord>>(srv_waiting_, query.key, status, "an SRV answer",
                                   [&](int& read_status, std::vector<SrvRecord>& records) {
                                     read_srv_answer(query, read_status, answer, length, records);
                                   });
}

void ServerLocator::read_srv_answer(const Query& query, int& status, const unsigned char* answer,
                                    int length, std::vector<SrvRecord>& records) {
  if (status == ARES_SUCCESS) {
    ares_srv_reply* reply = nullptr;
    status = ::ares_parse_srv_reply(answer, length, &reply);
    const std::unique_ptr<ares_srv_reply, void (*)(void*)> owned(reply, &::ares_free_data);
    for (const auto* r = reply; r != nullptr; r = r->next) {
      records.push_back({r->host, r->port, r->priority, r->weight});
    }
  }
  const auto length_read = static_cast<std::size_t>(std::max(length, 0));
  const auto ttl = status == ARES_SUCCESS ? answer_ttl(answer, length_read)
                   : status == ARES_ENODATA || status == ARES_ENOTFOUND
                       ? negative_ttl(answer, length_read)
                       : std::nullopt;
  if (const auto until = kept_until(query, ttl)) {
    srv_kept_.store(query.question, {status, records}, *until, settings_.clock->now());
  }
}

void ServerLocator::ask_addresses(const std::string& host, std::uint16_t port,
                                  AddressAnswer answer) {
  if (!channel_) return answer(ARES_EDESTRUCTION, {});
  // Kept by host: the port is the asker's, not the answer's.
  if (auto kept = addresses_kept_.find(host, settings_.clock->now())) {
    for (auto& address : *kept) address.port(port);
    return answer(ARES_SUCCESS, *kept);
  }
  std::string key = waiting_key(host + ' ' + std::to_string(port));
  auto& waiting = addresses_waiting_[key];
  waiting.push_back(std::move(answer));
  if (waiting.size() > 1) return;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  // ENVHOSTS: CARES_HOSTS, when set, names the hosts file (as c-ares documents it).
  hints.ai_flags = ARES_AI_NUMERICSERV | ARES_AI_ENVHOSTS;
  const auto channel = channel_;
  auto* query =
      new Query{weak_from_this(), host, std::move(key), channel.get(), answers_generation_};
  ++channel->running_queries;
  ::ares_getaddrinfo(channel->get(), host.c_str(), std::to_string(port).c_str(), &hints,
                     &ServerLocator::on_addresses, query);
  channel->arm_timer();
}

void ServerLocator::on_addresses(void* arg, int status, int timeouts, ::ares_addrinfo* result) {
  const std::unique_ptr<Query> query(static_cast<Query*>(arg));
  const std::unique_ptr<::ares_addrinfo, void (*)(::ares_addrinfo*)> owned(result,
                                                                           &::ares_freeaddrinfo);
  --query->channel->running_queries;
  const auto locator = query->locator.lock();
  if (!locator) return;
  not_unwinding_into_c("an address answer",
                       [&] { locator->take_addresses_answer(*query, status, timeouts, result); });
  locator->drop_idle_channels();
}

void ServerLocator::take_addresses_answer(const Query& query, int status, int timeouts,
                                          const ::ares_addrinfo* result) {
  hand_out<Endpoints>(addresses_waiting_, query.key, status, "an address answer",
                      [&](int read_status, Endpoints& addresses) {
                        read_addresses_answer(query, read_status, timeouts, result, addresses);
                      });
}

void ServerLocator::read_addresses_answer(const Query& query, int status, int timeouts,
                                          const ::ares_addrinfo* result, Endpoints& addresses) {
  std::optional<std::chrono::seconds> ttl;
  const auto keep_within = [&ttl](int seconds) {
    const std::chrono::seconds limit(std::max(seconds, 0));
    ttl = ttl ? std::min(*ttl, limit) : limit;
  };
  for (const auto* node = result ? result->nodes : nullptr; node != nullptr; node = node->ai_next) {
    if (const auto endpoint = endpoint_of(*node)) addresses.push_back(*endpoint);
    keep_within(node->ai_ttl);
  }
  // An alias is good for no longer than its own record (RFC 1034 3.6.2).
  for (const auto* alias = result ? result->cnames : nullptr; alias != nullptr;
       alias = alias->next) {
    keep_within(alias->ttl);
  }
  // The hosts file and numeric hosts come with TTL 0: read again every time, as glibc does.
  // c-ares reports success once either family (A, AAAA) has answered, whatever became of the
  // other. An answer of one family with a try that timed out (even one answered on a retry, as
  // c-ares counts them) may lack the other's addresses, so it is not kept; with both, it is
  // whole, so a dead first DNS server does not keep everything from being kept.
  const auto is_v4 = [](const Endpoint& address) { return address.address().is_v4(); };
  const bool both_families = std::any_of(addresses.begin(), addresses.end(), is_v4) &&
                             !std::all_of(addresses.begin(), addresses.end(), is_v4);
  const bool whole =
      status == ARES_SUCCESS && !addresses.empty() && (timeouts == 0 || both_families);
  if (const auto until = kept_until(query, whole ? ttl : std::nullopt)) {
    addresses_kept_.store(query.question, addresses, *until, settings_.clock->now());
  }
}

std::optional<Clock::time_point> ServerLocator::kept_until(
    const Query& query, std::optional<std::chrono::seconds> ttl) const {
  if (!ttl || *ttl <= std::chrono::seconds::zero() ||
      settings_.longest_kept <= Clock::duration::zero() || !channel_ ||
      query.generation != answers_generation_) {
    return std::nullopt;
  }
  return settings_.clock->now() +
         std::min(std::chrono::duration_cast<Clock::duration>(*ttl), settings_.longest_kept);
}

void ServerLocator::start(const std::shared_ptr<Lookup>& lookup) {
  const auto port =
      lookup->query.port != 0 ? lookup->query.port : default_port(lookup->query.transport);
  if (is_localhost(lookup->query.host)) {
    // RFC 6761 6.3: answered here, loopback always, never asked of the hosts file or a server.
    lookup->targets = {{lookup->query.host, port, 0, 0}};
    lookup->addresses = {
        {{asio::ip::address_v4::loopback(), port}, {asio::ip::address_v6::loopback(), port}}};
    lookup->answered = {true};
    lookup->handed = {false};
    return deliver(lookup);
  }
  follow_configuration();
  if (lookup->query.port != 0) {
    lookup->targets = {{lookup->query.host, port, 0, 0}};
    return look_up_addresses(lookup);
  }
  // A single-label host is searched for under resolv.conf's search list, as its addresses are
  // (`sip:pbx` finds the SRV records of `pbx.corp.example`); any other is asked as it is, so a
  // host without SRV records costs one query and a search domain's failure cannot keep it from
  // falling back to its addresses.
  const bool search = lookup->query.host.find('.') == std::string::npos;
  ask_srv(srv_name(lookup->query), search,
          // Kept in the locator's own table: `this` outlives it.
          [this, lookup](int status, const std::vector<SrvRecord>& records) {
            take_srv(lookup, status, records);
          });
}

void ServerLocator::run_out_of_patience(const std::shared_ptr<Lookup>& lookup,
                                        Clock::duration after) {
  // Kept here, not in the lookup, so that the timer is made, fired and destroyed on the strand:
  // the lookup's last owner may be a connection on another thread.
  const auto id = ++patience_timers_made_;
  auto& timer = patience_timers_[id];
  timer = settings_.clock->make_timer(strand_);
  lookup->patience_timer = id;
  timer->arm(after,
             [weak_self = weak_from_this(), weak_lookup = std::weak_ptr<Lookup>(lookup), id] {
               const auto self = weak_self.lock();
               if (!self) return;
               self->patience_timers_.erase(id);
               if (const auto waiting = weak_lookup.lock()) {
                 waiting->patience_timer = 0;
                 waiting->impatient = true;
                 self->deliver(waiting);
               }
             });
}

void ServerLocator::take_srv(const std::shared_ptr<Lookup>& lookup, int status,
                             std::vector<SrvRecord> records) {
  const bool none = status == ARES_ENODATA || status == ARES_ENOTFOUND ||
                    (status == ARES_SUCCESS && records.empty());
  if (none) {
    // No SRV records: the host itself, at the transport's default port (RFC 3263 4.2).
    lookup->targets = {{lookup->query.host, default_port(lookup->query.transport), 0, 0}};
    return look_up_addresses(lookup);
  }
  if (status != ARES_SUCCESS) return complete(lookup, ares_error(status), {});
  // RFC 2782: one record whose target is "." says the service is decidedly not offered.
  if (records.size() == 1 && (records.front().target.empty() || records.front().target == ".")) {
    return complete(lookup, asio::error::host_not_found, {});
  }
  lookup->targets = lookup->query.load_balancing ? order_srv(std::move(records), random_)
                                                 : order_srv_fixed(std::move(records));
  // Targets are looked up as given, not made absolute with a final dot: c-ares 1.18 would then
  // miss them in /etc/hosts (where labs and containers pin them), and a name with a dot is asked
  // as it is first anyway (resolv.conf's ndots, 1 unless set otherwise).
  look_up_addresses(lookup);
}

void ServerLocator::look_up_addresses(const std::shared_ptr<Lookup>& lookup) {
  // Every target at once, so a slow one costs its own time, not the sum. Sized before the first
  // is asked: an answer may come at once (a name in the hosts file).
  lookup->addresses.resize(lookup->targets.size());
  lookup->answered.resize(lookup->targets.size());
  lookup->handed.resize(lookup->targets.size());
  for (std::size_t i = 0; i < lookup->targets.size(); ++i) {
    ask_addresses(lookup->targets[i].target, lookup->targets[i].port,
                  [this, lookup, i](int status, const Endpoints& addresses) {
                    take_addresses(lookup, i, status, addresses);
                  });
  }
  // From here, not from the start: a slow SRV answer must not leave the servers' lookups no
  // time to keep their order in, nor a server whose addresses were kept jump the queue.
  const bool waiting =
      std::find(lookup->answered.begin(), lookup->answered.end(), false) != lookup->answered.end();
  if (lookup->query.deadline && lookup->targets.size() > 1 && waiting) {
    const auto left =
        std::max(*lookup->query.deadline - settings_.clock->now(), Clock::duration::zero());
    run_out_of_patience(lookup, left / 2);
  }
}

void ServerLocator::take_addresses(const std::shared_ptr<Lookup>& lookup, std::size_t target,
                                   int status, const Endpoints& addresses) {
  lookup->addresses[target] = addresses;
  lookup->answered[target] = true;
  if (status != ARES_SUCCESS && !lookup->first_error) lookup->first_error = ares_error(status);
  const bool waiting =
      std::find(lookup->answered.begin(), lookup->answered.end(), false) != lookup->answered.end();
  if (!waiting && lookup->patience_timer != 0) {
    patience_timers_.erase(std::exchange(lookup->patience_timer, 0));
  }
  deliver(lookup);
}

void ServerLocator::deliver(const std::shared_ptr<Lookup>& lookup) {
  if (!lookup->handler) return;         // answers are kept for the next async_more
  if (lookup->targets.empty()) return;  // the SRV records are still to come
  Located located;
  // The servers in order, as far as they have answered; once impatient, past one still
  // unanswered, whose addresses then come after these if it answers.
  for (std::size_t i = 0; i < lookup->targets.size(); ++i) {
    if (lookup->handed[i]) continue;
    if (!lookup->answered[i]) {
      if (lookup->impatient) continue;
      break;
    }
    for (const auto& address : lookup->addresses[i]) {
      // Two targets on one address: the second adds nothing to try.
      if (std::find(located.addresses.begin(), located.addresses.end(), address) ==
          located.addresses.end()) {
        located.addresses.push_back(address);
      }
    }
    if (located.spread == 0) located.spread = located.addresses.size();
    lookup->handed[i] = true;
  }
  // Any server not handed out is still being looked up, and may have an address.
  const bool more =
      std::find(lookup->handed.begin(), lookup->handed.end(), false) != lookup->handed.end();
  if (located.addresses.empty()) {
    if (more) return;
    return complete(lookup, lookup->first_error ? lookup->first_error : asio::error::host_not_found,
                    {});
  }
  if (more) located.later = lookup;
  complete(lookup, {}, std::move(located));
}

void ServerLocator::complete(const std::shared_ptr<Lookup>& lookup, std::error_code ec,
                             Located located) {
  asio::post(lookup->handler_executor,
             [handler = std::move(lookup->handler), ec, located = std::move(located)]() mutable {
               handler(ec, std::move(located));
             });
}

}  // namespace rtconn::dns
