#pragma once
/// \file
/// Settings of a connection manager, with UCMA's defaults.

#include <chrono>
#include <climits>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtconn/certificate_id.hpp"
#include "rtconn/clock.hpp"
#include "rtconn/ip_endpoint.hpp"

namespace rtconn {

using namespace std::chrono_literals;

/// What `async_send` does when a connection's write queue is full.
enum class WriteQueueFullAction {
  fail,  ///< complete at once with errc::write_queue_full
  wait,  ///< hold the send, in order, until the queue has room (or the connection closes)
};

/// TLS settings of a manager: what it trusts and which certificate it presents.
struct TlsOptions {
  /// Where certificates are looked up; empty means CertificateStore::default_directory().
  std::filesystem::path certificate_store;
  /// Trust the system's CA bundle (beside the store's `trusted/` folder, always trusted): the
  /// file `$SSL_CERT_FILE` names, else OpenSSL's default, read once when the context is made.
  bool trust_system_bundle = true;
  /// More trust anchors: PEM files of CA certificates.
  std::vector<std::filesystem::path> trusted_ca_files;
  /// Certificate revocation lists (PEM, any number a file, or DER), beside the store's `crls/`
  /// folder. A peer's certificate, or a CA certificate above it, that a CRL of its issuer lists
  /// is refused (TlsFailureReason::RemoteCertificateRevoked), and so is every certificate of an
  /// issuer whose CRL is past its next update (UntrustedRemoteCertificate, "CRL has expired":
  /// renew it and call `reload_trust`). Certificates of issuers without a CRL here, and the
  /// trust anchor itself, are not checked; those of an issuer whose CRL OpenSSL cannot use (signed
  /// by another key under its name, a distribution point it does not handle) are refused, their
  /// revocation unknown. Delta CRLs are skipped (logged): the full CRL counts. Of two CRLs of one
  /// issuer issued at different times, OpenSSL takes the later. Read when a context is made, like
  /// the trust anchors.
  std::vector<std::filesystem::path> crl_files;
  /// This side's certificate (UCMA's issuer + serial): what a client presents to servers that
  /// ask for one (mutual TLS). A TLS server manager presents the one its constructor names in
  /// place of this, to its clients and, when for client use, to servers. `set_local_certificate`
  /// changes it later.
  std::optional<CertificateId> certificate;
};

/// Settings a manager is made with. Every limit a remote peer could make the manager spend lives
/// here, per manager (never process-wide). `validate()` throws std::invalid_argument naming the
/// offending field; managers call it on construction. Time-outs may be at most 100 years (a
/// deadline further off overflows the clock); "never" is zero where a time-out allows it.
struct ConnectionManagerOptions {
  static constexpr std::size_t max_event_loop_threads = 1024;
  static constexpr std::chrono::milliseconds longest_time_out = std::chrono::hours(24 * 36525);

  /// Host name used in the Via of requests the manager makes; empty = this machine's host name.
  std::string local_host_name;

  /// Event loops a manager runs when it is given no executor: one thread each, every connection
  /// pinned to one. With more than one, each loop listens on a socket of its own per address
  /// (SO_REUSEPORT; the kernel spreads new connections over them) and serves what it accepts.
  /// A completion handler run on one of them that throws is logged, and the loop goes on.
  /// At most max_event_loop_threads.
  std::size_t event_loop_threads = 1;

  /// Cap of each new connection pool (UCMA DefaultMaximumNumberOfConnectionsPerPool); > 0.
  int default_maximum_number_of_connections_per_pool = 5;
  /// Idle time-out of outgoing connections; zero never closes them (UCMA: about 15 minutes).
  std::chrono::milliseconds default_outgoing_connection_timeout = 15min;
  /// Idle time-out of incoming connections; zero never closes them (UCMA: about 15 minutes).
  std::chrono::milliseconds default_incoming_connection_timeout = 15min;
  /// A new incoming connection on which no valid message arrives in this time is closed.
  std::chrono::milliseconds new_incoming_connection_timeout = 1min;
  /// Time allowed to resolve and connect an outgoing connection (TLS handshake included). The
  /// host's addresses are tried one at a time, each cut at an even share of what is left (the
  /// last runs to the end); when all fail, the connection fails with the last one's error.
  std::chrono::milliseconds connect_timeout = 10s;
  /// UCMA DnsLoadBalancingDisabled. Off (the default), a pool spreads the connections it opens
  /// over its host's addresses, in turn from a random one: each starts with its turn's address
  /// and falls back to the others in the resolver's order. Turns are not load: a connection
  /// reopened takes the next turn, which may be a live one's address. On, every connection
  /// starts with the first address (the resolver's preference, RFC 6724). For a destination
  /// located by SRV (no port: see PoolKey), off draws each connection's order of a priority's
  /// targets by their weights (RFC 2782); on takes the heaviest first.
  bool dns_load_balancing_disabled = false;
  /// The DNS servers host names are looked up with (port 0: 53); empty, the system's
  /// (`resolver_configuration`). Names in /etc/hosts are found there first, as getaddrinfo would.
  std::vector<IpEndpoint> dns_servers;
  /// The resolver's configuration: its DNS servers (unless `dns_servers` names some), search
  /// list and options, in resolv.conf(5)'s format. Read again when it changes (looked at when
  /// a lookup starts), as glibc does: a DHCP lease or a container's new DNS server is followed
  /// without a restart. Queries under way finish on the settings they were sent with.
  std::filesystem::path resolver_configuration = "/etc/resolv.conf";
  /// The longest a DNS answer is kept and used again: each is kept for its TTL up to this, so a
  /// pool opening connections over minutes asks once per TTL, not once per connection. That a
  /// destination has no SRV records (NODATA, or NXDOMAIN for the SRV name) is kept as long as
  /// its zone's SOA says (RFC 2308), up to this too, except for a single-label host searched
  /// for under resolv.conf's search list (c-ares then hands over no message to read the SOA
  /// from). Never kept: the hosts file, `localhost` and numeric hosts, a failed lookup, a host
  /// that does not exist, and addresses of one family only (A or AAAA) when a try timed out on
  /// the way (the other family's may be missing). A change of `resolver_configuration` or of
  /// the hosts file (/etc/hosts, or the file CARES_HOSTS names) forgets everything kept. At
  /// most 4,096 SRV names and 4,096 host names are kept, the soonest to expire dropped first.
  /// Zero keeps nothing.
  std::chrono::milliseconds dns_cache_max_ttl = 1h;
  /// Time a request sent with `async_request` waits for its final response (RFC 3261 timer F).
  std::chrono::milliseconds request_timeout = 32s;
  /// Whether CRLF keep-alives count as activity for the idle time-out (RFC 5626 pings keep NAT
  /// bindings, not the application's interest, alive).
  bool keep_alive_counts_as_activity = false;
  /// RFC 5626 4.4.1 keep-alives on outgoing connections, once ready: a CRLFCRLF ping about this
  /// often (each wait a random 80-100% of it, so clients started together do not ping in step),
  /// and the connection closed with errc::keep_alive_timeout when no pong comes within
  /// `keep_alive_pong_timeout`: a dead server or a NAT binding gone is found before a send needs
  /// it. Zero (the default) sends none; RFC 5626 suggests 95-120 s over TCP, to servers that
  /// support outbound. The pings are no activity: the idle time-out still applies.
  std::chrono::milliseconds keep_alive_interval{0};
  /// RFC 5626 4.4.1's 10 seconds; > 0.
  std::chrono::milliseconds keep_alive_pong_timeout = 10s;

  /// Outstanding-message water marks per connection (UCMA ConnectionThrottlingHighMark/LowMark);
  /// INT_MAX switches throttling off; high must not be below low.
  int connection_throttling_high_mark = INT_MAX;
  int connection_throttling_low_mark = INT_MAX;

  /// Incoming connections held at once; any more are closed as soon as they are accepted.
  std::size_t max_incoming_connections = 50000;
  /// Incoming connections held at once from one IP address; 0 means no limit.
  std::size_t max_incoming_connections_per_address = 5000;
  /// TLS handshakes of incoming connections in progress at once; more connections wait, unread,
  /// for a slot, so a storm of handshakes cannot take every core from established connections.
  /// A connection takes a slot once its peer has sent something: a silent one holds none.
  std::size_t max_concurrent_tls_handshakes = 256;
  /// Time a peer has to finish a message once its first bytes arrived, so a slow sender cannot
  /// hold a connection and its buffer forever; zero means no limit.
  std::chrono::milliseconds message_completion_timeout = 30s;

  /// Largest header section accepted from a peer.
  std::size_t max_header_bytes = 64 * 1024;
  /// Largest whole SIP message accepted from a peer; larger ones are answered 413 and skipped.
  std::size_t max_message_bytes = 256 * 1024;
  /// Largest message body accepted from a peer (UCMA MaxMessageBodyLength): a request with a
  /// larger one is answered 413 and its body skipped unread, as one over max_message_bytes (a
  /// response so, its request fails with errc::message_too_large). 0: no limit of its own.
  std::size_t max_body_bytes = 0;
  /// Longest header name, longest header value, and most ';' parameters in one header line
  /// (its URI's counted in) or in a request's URI, accepted from a peer (UCMA
  /// MaxHeaderNameLength, MaxHeaderValueLength, MaxParameterCount; per manager here, not
  /// process-wide). A request over one is answered 400 with a reason phrase that names it and is
  /// not dispatched; a response over one fails the request it answers with
  /// errc::header_limit_exceeded (for an INVITE's 2xx the peer's dialog exists all the same:
  /// its resent 2xx are refused alike). The connection stays: the message was framed whole.
  /// An ACK over one is dropped (nothing answers an ACK) and logged.
  std::size_t max_header_name_bytes = 256;
  std::size_t max_header_value_bytes = 16 * 1024;
  std::size_t max_parameter_count = 64;
  /// Bytes a connection may hold queued for writing; beyond it `async_send` fails with
  /// errc::write_queue_full, so a slow reader cannot make memory grow without bound.
  std::size_t max_write_queue_bytes = 4 * 1024 * 1024;
  /// Whether a send finding the queue full fails or waits its turn. Waiting sends still hold
  /// their bytes: a sender that waits for each completion before sending again is what keeps
  /// memory bounded then. `IncomingRequest::respond`, with no completion to wait for, is
  /// refused either way (see there).
  WriteQueueFullAction write_queue_full_action = WriteQueueFullAction::fail;

  /// Incoming requests dispatched to the application and not yet answered, across the whole
  /// manager (UCMA MessageThrottlingHighMark/LowMark): at the high mark new requests are
  /// answered 503 without being dispatched, until answers bring the count down to the low mark.
  /// INT_MAX switches it off; high must not be below low.
  int message_throttling_high_mark = INT_MAX;
  int message_throttling_low_mark = INT_MAX;

  /// New incoming connections accepted per second by each listener (a token bucket holding one
  /// second's worth); beyond it the rest wait in the kernel's backlog, so a connection storm
  /// cannot take the event loops from established connections. 0 means no limit.
  std::size_t max_accepts_per_second = 10000;

  /// Time `stop()` and the destructor give connections to write the messages already accepted
  /// for sending; what is still unwritten then fails with errc::shutdown. Also the time a
  /// connection whose peer ended its side (a half-close) is given to write what is queued and
  /// the answers the application owes, before it closes. Zero closes at once.
  std::chrono::milliseconds shutdown_timeout = 5s;

  /// TLS pools and listeners.
  TlsOptions tls;

  /// Source of time and timers; null means the real steady clock.
  std::shared_ptr<Clock> clock;

  /// Throws std::invalid_argument when a setting is out of range.
  void validate() const;
};

}  // namespace rtconn
