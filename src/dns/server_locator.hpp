#pragma once
// Where an outgoing connection goes (RFC 3263 4.2): the addresses of a host, or, when the
// destination names no port, of the servers its SRV records name (`_sip._tcp.host`, or
// `_sips._tcp.host` over TLS), in RFC 2782's order, falling back to the host's own addresses at
// the transport's default port when it has none. The transport is the pool's, so the NAPTR step
// that picks one (RFC 3263 4.1) is not taken. Names are looked up with c-ares: concurrently, as
// getaddrinfo (a blocking call Asio runs on one thread per io_context, one name after another)
// is not, so one slow name holds up no other, and with SRV, which getaddrinfo cannot ask for.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>

#include "dns/answer_cache.hpp"
#include "dns/srv_order.hpp"
#include "rtconn/clock.hpp"
#include "rtconn/detail/completion.hpp"
#include "rtconn/ip_endpoint.hpp"
#include "rtconn/transport_type.hpp"

struct ares_addrinfo;

namespace rtconn::dns {

class AresChannel;
/// One async_locate's state, held by the caller between its batches of addresses.
struct Lookup;

struct LocateQuery {
  std::string host;
  std::uint16_t port = 0;  // 0: none given, so SRV first
  TransportType transport = TransportType::Tcp;
  bool load_balancing = true;  // weighted draw among equal SRV priorities; off: heaviest first
  /// When the asker gives up (none: never). A server whose addresses are still being looked up
  /// holds up the answered servers after it (SRV backups) for half the time from the start of
  /// the servers' lookups to this; then they are handed out, and it comes after them if it
  /// answers. None: each server waits for those before it, however long c-ares takes.
  std::optional<Clock::time_point> deadline;
};

struct Located {
  std::vector<asio::ip::tcp::endpoint> addresses;  // in the order to try them
  /// How many of them are the first server's (all but SRV's backups): what a pool's turns go
  /// round (DNS load balancing) without reordering the servers.
  std::size_t spread = 0;
  /// The servers not among these, whose lookups had not answered yet (null: none): those after
  /// them, and any passed over when the query's patience ran out. async_more gives their
  /// addresses, once these are spent.
  std::shared_ptr<Lookup> later;
};

class ServerLocator : public std::enable_shared_from_this<ServerLocator> {
 public:
  using Handler = detail::UniqueFunction<void(std::error_code, Located)>;

  struct Settings {
    std::vector<IpEndpoint> servers;  // empty: the configuration's
    std::filesystem::path configuration;
    std::shared_ptr<Clock> clock;  // what answers' lifetimes are kept on
    Clock::duration longest_kept;  // the cap on a kept answer's TTL; zero keeps none
  };

  /// Looks names up on a strand of `executor` as the resolv.conf file `configuration` says,
  /// through `servers` unless empty. Throws std::system_error when c-ares cannot start or takes
  /// none of the servers.
  static std::shared_ptr<ServerLocator> make(const asio::any_io_executor& executor,
                                             Settings settings);
  ~ServerLocator();

  /// Runs `handler` on `handler_executor` with the addresses, or host_not_found (and the like,
  /// see ares_error) when there are none; errc::shutdown once shut down. Handed out as soon as
  /// the servers in order up to the first with an address have answered: a backup whose DNS
  /// hangs holds up only the servers after it, and any server only for half the time left to
  /// the query's deadline when the servers' addresses were asked for.
  void async_locate(LocateQuery query, asio::any_io_executor handler_executor, Handler handler);
  /// The next addresses of `later` (a Located's), as async_locate hands out its first.
  void async_more(std::shared_ptr<Lookup> later, asio::any_io_executor handler_executor,
                  Handler handler);
  /// Ends the lookups under way (errc::shutdown) and takes no more. From any thread.
  void shutdown();

 private:
  struct Query;
  struct Passkey {};
  struct SrvResult {
    int status = 0;
    std::vector<SrvRecord> records;
  };
  // What tells a file changed: a rewrite in place, or another file renamed over it.
  struct FileStamp {
    bool exists = false;
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t modified_s = 0, modified_ns = 0, changed_s = 0, changed_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static FileStamp stamp_of(const std::filesystem::path& file) noexcept;
  static std::filesystem::path hosts_file();
  using SrvAnswer = detail::UniqueFunction<void(int status, const std::vector<SrvRecord>&)>;
  using Endpoints = std::vector<asio::ip::tcp::endpoint>;
  using AddressAnswer = detail::UniqueFunction<void(int status, const Endpoints&)>;

 public:
  ServerLocator(Passkey, asio::any_io_executor strand, Settings settings);

 private:
  // Lookups that need one answer at the same time share its query: a pool opening its
  // connections together asks once, and a burst of answers cannot overrun the socket's buffer.
  // Answers still within their TTLs are taken from the caches instead.
  void ask_srv(const std::string& name, bool search, SrvAnswer answer);
  /// Starts a channel from the configuration file when it changed since the current one was.
  /// The one it replaces is kept until its queries are answered. The answers kept are forgotten
  /// then, and when the hosts file changes.
  void follow_configuration();
  /// Forgets the answers kept, and keeps queries asked from now on from joining those before.
  void forget_answers();
  /// Drops the channels follow_configuration replaced once their last query is answered.
  void drop_idle_channels();
  /// What a question's waiters are filed under: it and the channel it goes to.
  std::string waiting_key(const std::string& question) const;
  void ask_addresses(const std::string& host, std::uint16_t port, AddressAnswer answer);
  static void on_srv(void* arg, int status, int timeouts, unsigned char* answer, int length);
  void take_srv_answer(const Query& query, int status, const unsigned char* answer, int length);
  void read_srv_answer(const Query& query, int& status, const unsigned char* answer, int length,
                       std::vector<SrvRecord>& records);
  static void on_addresses(void* arg, int status, int timeouts, ::ares_addrinfo* result);
  void take_addresses_answer(const Query& query, int status, int timeouts,
                             const ::ares_addrinfo* result);
  void read_addresses_answer(const Query& query, int status, int timeouts,
                             const ::ares_addrinfo* result, Endpoints& addresses);
  /// When an answer a query brought, good for `ttl`, stops being good; none when it is not
  /// kept (no TTL, the cache off, or an answer from servers the configuration has since left).
  std::optional<Clock::time_point> kept_until(const Query& query,
                                              std::optional<std::chrono::seconds> ttl) const;

  void start(const std::shared_ptr<Lookup>& lookup);
  void run_out_of_patience(const std::shared_ptr<Lookup>& lookup, Clock::duration after);
  void take_srv(const std::shared_ptr<Lookup>& lookup, int status, std::vector<SrvRecord> records);
  void look_up_addresses(const std::shared_ptr<Lookup>& lookup);
  void take_addresses(const std::shared_ptr<Lookup>& lookup, std::size_t target, int status,
                      const Endpoints& addresses);
  /// Hands the next batch to the handler waiting, if there is one and a batch is ready.
  void deliver(const std::shared_ptr<Lookup>& lookup);
  void complete(const std::shared_ptr<Lookup>& lookup, std::error_code ec, Located located);

  asio::any_io_executor strand_;
  const Settings settings_;
  FileStamp configuration_stamp_;         // of the file as channel_ was made from it
  FileStamp hosts_stamp_;                 // of the hosts file, as the answers kept were had
  std::shared_ptr<AresChannel> channel_;  // reset by shutdown
  // Counts the changes (resolv.conf, the hosts file) that made what was asked before stale.
  std::uint64_t answers_generation_ = 0;
  std::vector<std::shared_ptr<AresChannel>> replaced_;  // with queries still running
  std::mt19937_64 random_;
  std::unordered_map<std::string, std::vector<SrvAnswer>> srv_waiting_;            // by SRV name
  std::unordered_map<std::string, std::vector<AddressAnswer>> addresses_waiting_;  // host + port
  std::unordered_map<std::uint64_t, std::unique_ptr<Timer>> patience_timers_;      // by number
  std::uint64_t patience_timers_made_ = 0;
  AnswerCache<SrvResult> srv_kept_;        // by SRV name; NODATA and NXDOMAIN too, when an SOA says
  AnswerCache<Endpoints> addresses_kept_;  // by host; c-ares gives no negative TTL here
};

}  // namespace rtconn::dns
