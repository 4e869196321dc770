#include "tls/session_cache.hpp"

#include <map>
#include <mutex>
#include <vector>

namespace rtconn::tls {
namespace {

// The newest session per peer, kept serialised: each connection that resumes it gets a session
// object of its own. Sharing one SSL_SESSION between connections on different event loops lets
// OpenSSL duplicate it on one thread (a TLS 1.3 ticket arriving) while another drops the last
// reference: safe by OpenSSL's reference counts, but not something to build on across threads.
// A context's cache lives as long as the context.
class SessionCache {
 public:
  void store(const std::string& peer, SSL_SESSION* session) {
    const int size = i2d_SSL_SESSION(session, nullptr);
    if (size <= 0) return;
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    unsigned char* out = bytes.data();
    i2d_SSL_SESSION(session, &out);
    std::lock_guard lock(mutex_);
    sessions_[peer] = std::move(bytes);
  }

  // A session of the caller's own (to free), or null.
  SSL_SESSION* find(const std::string& peer) {
    std::vector<unsigned char> bytes;
    {
      std::lock_guard lock(mutex_);
      const auto it = sessions_.find(peer);
      if (it == sessions_.end()) return nullptr;
      bytes = it->second;
    }
    const unsigned char* in = bytes.data();
    SSL_SESSION* session = d2i_SSL_SESSION(nullptr, &in, static_cast<long>(bytes.size()));
    if (session && !SSL_SESSION_is_resumable(session)) {
      SSL_SESSION_free(session);
      return nullptr;
    }
    return session;
  }

 private:
  std::mutex mutex_;  // guards sessions_
  std::map<std::string, std::vector<unsigned char>> sessions_;
};

int context_index() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* cache, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<SessionCache*>(cache);
      });
  return index;
}

int connection_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

SessionCache* cache_of(SSL* ssl) {
  return static_cast<SessionCache*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
}

// OpenSSL shows each new session (with TLS 1.3, when the ticket arrives after the handshake);
// returning 0 leaves its reference with OpenSSL: the cache keeps a serialised copy.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* cache = cache_of(ssl);
  const auto* peer = static_cast<const std::string*>(SSL_get_ex_data(ssl, connection_index()));
  if (cache && peer) cache->store(*peer, session);
  return 0;
}

}  // namespace

void enable_client_session_cache(SSL_CTX* context) {
  SSL_CTX_set_ex_data(context, context_index(), new SessionCache);
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(context, on_new_session);
}

void offer_cached_session(SSL* ssl, const std::string* peer) {
  auto* cache = cache_of(ssl);
  if (!cache) return;
  SSL_set_ex_data(ssl, connection_index(), const_cast<std::string*>(peer));
  if (SSL_SESSION* session = cache->find(*peer)) {
    SSL_set_session(ssl, session);
    SSL_SESSION_free(session);
  }
}

}  // namespace rtconn::tls
