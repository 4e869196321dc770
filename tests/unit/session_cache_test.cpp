// The client session cache: the newest session per peer, and a bounded number of peers.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <openssl/ssl.h>

#include "tls/openssl_handles.hpp"
#include "tls/session_cache.hpp"

namespace rtconn::tls {
namespace {

using Session = std::unique_ptr<SSL_SESSION, OpensslDeleter<SSL_SESSION, SSL_SESSION_free>>;

// A suite for the sessions below: OpenSSL will not serialise a session without one.
const SSL_CIPHER* tls12_suite() {
  static const SSL_CIPHER* suite = [] {
    SSL_CTX* context = SSL_CTX_new(TLS_method());
    SSL* ssl = SSL_new(context);
    const unsigned char ecdhe_ecdsa_aes128_gcm_sha256[] = {0xc0, 0x2b};
    const SSL_CIPHER* found = SSL_CIPHER_find(ssl, ecdhe_ecdsa_aes128_gcm_sha256);
    SSL_free(ssl);
    SSL_CTX_free(context);  // the suite is in OpenSSL's static table
    return found;
  }();
  return suite;
}

// A TLS 1.2 session known by its ID, which is all that makes one resumable.
Session session_with_id(const std::string& id) {
  Session session(SSL_SESSION_new());
  SSL_SESSION_set_protocol_version(session.get(), TLS1_2_VERSION);
  SSL_SESSION_set_cipher(session.get(), tls12_suite());
  SSL_SESSION_set1_id(session.get(), reinterpret_cast<const unsigned char*>(id.data()),
                      static_cast<unsigned int>(id.size()));
  const unsigned char master_key[48] = {1};
  SSL_SESSION_set1_master_key(session.get(), master_key, sizeof master_key);
  return session;
}

// The ID of the session the cache hands out for `peer`, or "" if it has none.
std::string found_id(ClientSessionCache& cache, const std::string& peer) {
  const Session found(cache.find(peer));
  if (!found) return "";
  unsigned int length = 0;
  const unsigned char* id = SSL_SESSION_get_id(found.get(), &length);
  return std::string(reinterpret_cast<const char*>(id), length);
}

TEST(ClientSessionCache, ASessionLargerThanTheLimitIsNotKept) {
  ClientSessionCache cache;
  cache.store("a.example:5061", session_with_id("small").get());
  auto large = session_with_id("large");
  const std::string padding(ClientSessionCache::max_session_bytes, 'x');
  ASSERT_EQ(SSL_SESSION_set1_ticket_appdata(large.get(), padding.data(), padding.size()), 1);
  cache.store("a.example:5061", large.get());
  cache.store("b.example:5061", large.get());
  EXPECT_EQ(found_id(cache, "a.example:5061"), "small");
  EXPECT_EQ(found_id(cache, "b.example:5061"), "");
}

TEST(ClientSessionCache, KeepsTheNewestSessionPerPeer) {
  ClientSessionCache cache;
  EXPECT_EQ(found_id(cache, "a.example:5061"), "");
  cache.store("a.example:5061", session_with_id("first").get());
  cache.store("a.example:5061", session_with_id("second").get());
  cache.store("b.example:5061", session_with_id("other").get());
  EXPECT_EQ(found_id(cache, "a.example:5061"), "second");
  EXPECT_EQ(found_id(cache, "b.example:5061"), "other");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ClientSessionCache, HoldsAtMostItsCapacityDroppingThePeerUsedLongestAgo) {
  ClientSessionCache cache(3);
  cache.store("a", session_with_id("a1").get());
  cache.store("b", session_with_id("b1").get());
  cache.store("c", session_with_id("c1").get());
  EXPECT_EQ(found_id(cache, "a"), "a1");          // offered: now the most recent
  cache.store("d", session_with_id("d1").get());  // b makes room
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(found_id(cache, "b"), "");
  cache.store("c", session_with_id("c2").get());  // a new ticket for c: recent too
  cache.store("e", session_with_id("e1").get());  // a makes room
  EXPECT_EQ(found_id(cache, "a"), "");
  EXPECT_EQ(found_id(cache, "c"), "c2");
  EXPECT_EQ(found_id(cache, "d"), "d1");
  EXPECT_EQ(found_id(cache, "e"), "e1");
  EXPECT_EQ(cache.size(), 3u);
}

TEST(ClientSessionCache, ASessionThatCannotResumeIsDroppedWhenFound) {
  ClientSessionCache cache;
  Session without_id(SSL_SESSION_new());  // neither an ID nor a ticket
  SSL_SESSION_set_protocol_version(without_id.get(), TLS1_2_VERSION);
  SSL_SESSION_set_cipher(without_id.get(), tls12_suite());
  cache.store("a", without_id.get());
  ASSERT_EQ(cache.size(), 1u);
  EXPECT_EQ(found_id(cache, "a"), "");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ClientSessionCache, ADefaultCacheHoldsThousandsOfPeersButNotWithoutEnd) {
  ClientSessionCache cache;
  const auto session = session_with_id("same");
  for (std::size_t i = 0; i < ClientSessionCache::default_capacity + 100; ++i) {
    cache.store("peer-" + std::to_string(i), session.get());
  }
  EXPECT_EQ(cache.size(), ClientSessionCache::default_capacity);
  EXPECT_EQ(found_id(cache, "peer-99"), "");
  EXPECT_EQ(found_id(cache, "peer-100"), "same");
}

}  // namespace
}  // namespace rtconn::tls
