#include "tls/session_cache.hpp"

#include <map>
#include <mutex>

namespace rtconn::tls {
namespace {

// The newest session per peer; a context's cache lives as long as the context.
class SessionCache {
 public:
  ~SessionCache() {
    for (auto& [peer, session] : sessions_) SSL_SESSION_free(session);
  }

  void store(const std::string& peer, SSL_SESSION* session) {
    std::lock_guard lock(mutex_);
    auto& slot = sessions_[peer];
    if (slot) SSL_SESSION_free(slot);
    slot = session;
  }

  // A new reference the caller frees, or null.
  SSL_SESSION* find(const std::string& peer) {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(peer);
    if (it == sessions_.end() || !SSL_SESSION_is_resumable(it->second)) return nullptr;
    SSL_SESSION_up_ref(it->second);
    return it->second;
  }

 private:
  std::mutex mutex_;  // guards sessions_
  std::map<std::string, SSL_SESSION*> sessions_;
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

// OpenSSL hands over a reference to each new session (with TLS 1.3, when the ticket arrives
// after the handshake); returning 1 keeps it.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* cache = cache_of(ssl);
  const auto* peer = static_cast<const std::string*>(SSL_get_ex_data(ssl, connection_index()));
  if (!cache || !peer) return 0;
  cache->store(*peer, session);
  return 1;
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
