#include "tls/session_cache.hpp"

#include <iterator>
#include <new>

namespace rtconn::tls {

void ClientSessionCache::store(const std::string& peer, SSL_SESSION* session) {
  const int size = i2d_SSL_SESSION(session, nullptr);
  if (size <= 0 || static_cast<std::size_t>(size) > max_session_bytes) return;
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  unsigned char* out = bytes.data();
  i2d_SSL_SESSION(session, &out);
  std::lock_guard lock(mutex_);
  if (const auto it = sessions_.find(peer); it != sessions_.end()) {
    it->second.bytes = std::move(bytes);
    oldest_first_.splice(oldest_first_.end(), oldest_first_, it->second.age);
    return;
  }
  if (capacity_ == 0) return;
  if (sessions_.size() >= capacity_) {
    sessions_.erase(oldest_first_.front());
    oldest_first_.pop_front();
  }
  // The map and the list grow together or not at all: a name in one only would undo the bound.
  const auto it = sessions_.emplace(peer, Entry{std::move(bytes), {}}).first;
  try {
    oldest_first_.push_back(peer);
  } catch (...) {
    sessions_.erase(it);
    throw;
  }
  it->second.age = std::prev(oldest_first_.end());
}

SSL_SESSION* ClientSessionCache::find(const std::string& peer) {
  std::vector<unsigned char> bytes;
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(peer);
    if (it == sessions_.end()) return nullptr;
    bytes = it->second.bytes;
  }
  const unsigned char* in = bytes.data();
  SSL_SESSION* session = d2i_SSL_SESSION(nullptr, &in, static_cast<long>(bytes.size()));
  const bool usable = session && SSL_SESSION_is_resumable(session);
  {
    // Decoded outside the lock; the entry may have been replaced meanwhile, and then stays.
    std::lock_guard lock(mutex_);
    if (const auto it = sessions_.find(peer); it != sessions_.end() && it->second.bytes == bytes) {
      if (usable) {
        oldest_first_.splice(oldest_first_.end(), oldest_first_, it->second.age);
      } else {
        oldest_first_.erase(it->second.age);
        sessions_.erase(it);
      }
    }
  }
  if (!usable) {
    SSL_SESSION_free(session);  // null is fine
    return nullptr;
  }
  return session;
}

std::size_t ClientSessionCache::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

namespace {

// A context's cache lives as long as the context.
int context_index() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* cache, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<ClientSessionCache*>(cache);
      });
  return index;
}

int connection_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

ClientSessionCache* cache_of(SSL* ssl) {
  return static_cast<ClientSessionCache*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
}

// OpenSSL shows each new session (with TLS 1.3, when the ticket arrives after the handshake);
// returning 0 leaves its reference with OpenSSL: the cache keeps a serialised copy.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* cache = cache_of(ssl);
  const auto* peer = static_cast<const std::string*>(SSL_get_ex_data(ssl, connection_index()));
  try {
    if (cache && peer) cache->store(*peer, session);
  } catch (const std::bad_alloc&) {
    // No exception may cross OpenSSL's C frames; a session not kept costs a full handshake.
  }
  return 0;
}

}  // namespace

void enable_client_session_cache(SSL_CTX* context) {
  SSL_CTX_set_ex_data(context, context_index(), new ClientSessionCache);
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
