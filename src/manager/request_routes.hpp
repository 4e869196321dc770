#pragma once
// Who takes an incoming request (UCMA's dispatch to the endpoints a manager hosts): the handler of
// the owner its To URI names, else the default handler. A table is never changed once published:
// a change makes a new one, so the per-request path reads it without a lock.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "rtconn/real_time_connection_manager.hpp"

namespace rtconn::detail {

class RequestRoutes {
 public:
  /// What `choose` found for a request.
  struct Choice {
    const RequestHandler* handler = nullptr;  ///< null: nothing takes it
    bool names_no_owner = false;              ///< owners are set and the To names none of them
  };

  /// The key an owner's URI is filed under: scheme, user, host (any case) and port, the parts
  /// of RFC 3261 19.1.4's comparison that name a user; a port written is not the same as none.
  /// URI parameters and escapes are not compared. Nullopt when `uri` is no sip/sips URI.
  static std::optional<std::string> owner_key(std::string_view uri);
  /// The same, written over `key`, whose capacity is reused; false when `uri` is no sip/sips URI.
  static bool write_owner_key(std::string_view uri, std::string& key);

  /// These return a changed copy; an empty handler removes.
  RequestRoutes with_default(RequestHandler handler) const;
  RequestRoutes with_owner(const std::string& key, RequestHandler handler) const;
  RequestRoutes with_strict_dispatching(bool strict) const;

  bool strict_dispatching() const noexcept { return strict_; }

  /// The handler of the owner the To URI names, else of the one the Request-URI names; with
  /// none named, the only owner's when dispatching is strict and there is exactly one, else the
  /// default one.
  Choice choose(const SipMessage& request) const;

 private:
  RequestHandler default_;
  std::unordered_map<std::string, RequestHandler> owners_;
  bool strict_ = false;
};

}  // namespace rtconn::detail
