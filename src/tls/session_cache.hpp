#pragma once
// Client-side TLS session resumption: a pool's next connection to the same server resumes the
// session (or uses the ticket) of an earlier one instead of a full handshake.

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <openssl/ssl.h>

namespace rtconn::tls {

/// The newest session per peer, kept serialised: each connection that resumes it gets a session
/// object of its own. Sharing one SSL_SESSION between connections on different event loops lets
/// OpenSSL duplicate it on one thread (a TLS 1.3 ticket arriving) while another drops the last
/// reference: safe by OpenSSL's reference counts, but not something to build on across threads.
///
/// Pools come and go with their connections, but a session outlives its pool: at most
/// `capacity` peers are kept, and the one stored or offered longest ago makes room, so a client
/// sent to ever new destinations (a proxy following the URIs its callers choose) holds a bounded
/// number of sessions. A session that no longer decodes as resumable is dropped when found.
class ClientSessionCache {
 public:
  static constexpr std::size_t default_capacity = 4096;
  /// A session is a ticket and the server's certificate, 1-2 KB; a server may send a ticket of
  /// up to 64 KB, and 4,096 such would hold a quarter GB. Larger ones are not kept.
  static constexpr std::size_t max_session_bytes = 16 * 1024;

  explicit ClientSessionCache(std::size_t capacity = default_capacity) : capacity_(capacity) {}

  /// Keeps a serialised copy of `session` as `peer`'s newest (the caller keeps `session`).
  void store(const std::string& peer, SSL_SESSION* session);
  /// A session of the caller's own (to free), or null.
  SSL_SESSION* find(const std::string& peer);
  /// How many peers have a session kept.
  std::size_t size() const;

 private:
  struct Entry {
    std::vector<unsigned char> bytes;
    std::list<std::string>::iterator age;  // in oldest_first_
  };

  const std::size_t capacity_;
  mutable std::mutex mutex_;  // guards the two below
  std::unordered_map<std::string, Entry> sessions_;
  std::list<std::string> oldest_first_;
};

/// Makes `context` remember the sessions its client connections establish, per peer.
void enable_client_session_cache(SSL_CTX* context);

/// Before a client handshake: offers the session last established with `peer` (any text naming
/// the server, e.g. "host:port"), and files this connection's new sessions under it. `peer`
/// must outlive `ssl`.
void offer_cached_session(SSL* ssl, const std::string* peer);

}  // namespace rtconn::tls
