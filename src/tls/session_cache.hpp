#pragma once
// Client-side TLS session resumption: a pool's next connection to the same server resumes the
// session (or uses the ticket) of an earlier one instead of a full handshake.

#include <string>

#include <openssl/ssl.h>

namespace rtconn::tls {

/// Makes `context` remember the sessions its client connections establish, per peer.
void enable_client_session_cache(SSL_CTX* context);

/// Before a client handshake: offers the session last established with `peer` (any text naming
/// the server, e.g. "host:port"), and files this connection's new sessions under it. `peer`
/// must outlive `ssl`.
void offer_cached_session(SSL* ssl, const std::string* peer);

}  // namespace rtconn::tls
