#pragma once
// The listening sockets of a server manager and their accept loops.

#include <future>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include "rtconn/ip_endpoint.hpp"
#include "rtconn/transport_type.hpp"

namespace rtconn::detail {

class ManagerCore;

/// Held by shared_ptr: a listener whose socket breaks tells its set, if the set is still there.
class ListenerSet : public std::enable_shared_from_this<ListenerSet> {
 public:
  ListenerSet(std::shared_ptr<ManagerCore> core, TransportType transport);
  ~ListenerSet();

  /// Listens on every endpoint or, on the first failure, on none.
  std::error_code start(const std::vector<IpEndpoint>& endpoints);
  /// Closes every listener; errc::not_listening when there was none.
  std::error_code stop();
  /// As stop(), for the manager's own stop(): no error when there was nothing to close.
  void shutdown();
  bool listening() const;
  std::vector<IpEndpoint> addresses() const;

 private:
  class Listener;
  // How a listener takes its address: the only socket on it; a probe that only binds, to learn
  // whether the address is free (and which port 0 gives); one of a group sharing the address
  // (SO_REUSEPORT).
  enum class Bind { alone, probe, shared };

  // Opens the listeners of one address (one per loop of the manager's own, or one) and adds
  // them and the address to `opened` and `addresses`; opens none on failure. mutex_ held.
  std::error_code open_address(const IpEndpoint& endpoint,
                               std::vector<std::shared_ptr<Listener>>& opened,
                               std::vector<IpEndpoint>& addresses);
  // Opens `listener` on `endpoint`; `just_closed`: this set has just closed a socket bound there,
  // so "in use" is tried again for a moment. mutex_ held.
  std::error_code open_after_close(Listener& listener, const IpEndpoint& endpoint, Bind bind,
                                   bool just_closed);
  // Drops a listener whose socket broke (`why`), and its address once no loop listens there
  // (raising ListeningAborted with `why`, then ListeningAddressesChanged).
  void forget(const Listener& aborted, std::error_code why);
  // Closes every listener and raises the events; mutex_ held, listeners_ not empty. Returns
  // what to wait on for the sockets of the manager's own loops to be closed.
  std::vector<std::future<void>> close_all();
  // Waits (bounded, without mutex_) for the sockets close_all closes on the manager's loops.
  void wait_until_closed(std::vector<std::future<void>>& closing) const;

  const std::shared_ptr<ManagerCore> core_;
  const TransportType transport_;
  mutable std::mutex mutex_;  // guards listeners_ and addresses_
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::vector<IpEndpoint> addresses_;  // one per address listened on
  std::vector<IpEndpoint> closed_;     // the addresses of the last close_all
};

}  // namespace rtconn::detail
