#pragma once
// Requests sent with async_request that wait for their final response: matched by the top Via
// branch and the CSeq method (RFC 3261 17.1.3), failed by time-out, send error or shutdown.
// One timer serves them all, armed for the earliest deadline of a heap: a timer per request
// cost two allocations, an arm and a cancel each time.
// The table is behind a mutex, not on a strand: a response is matched where it was read, so one
// that answers none goes to the application's response handler on its connection's strand, in
// order with the connection's other messages. Completions are called outside the lock, each in
// a handler of its own on the manager's executor.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "common/cached_allocator.hpp"
#include "rtconn/clock.hpp"
#include "rtconn/detail/completion.hpp"
#include "rtconn/sip_message.hpp"

namespace rtconn::detail {

class PendingRequests : public std::enable_shared_from_this<PendingRequests> {
 public:
  using Done = Completion<std::error_code, SipMessage>;

  PendingRequests(asio::any_io_executor executor, std::shared_ptr<Clock> clock);

  /// The key `request` is matched by ("branch method"); empty if it has no branch.
  static std::string key_of(const SipMessage& message);

  /// Waits up to `timeout` for the final response matching `key`, sent on connection
  /// `connection_id`. Returns the ticket `fail` takes; a request with the same key waiting
  /// already fails with errc::invalid_argument (it would steal this one's response). After
  /// `fail_all`, fails with its error at once (and returns 0): a request racing the manager's
  /// stop would otherwise wait out its time.
  std::uint64_t add(std::string key, std::uint64_t connection_id, std::chrono::milliseconds timeout,
                    Done done);
  /// Completes the request this final response, which came on `connection_id`, answers, taking
  /// the response, and returns true. Returns false, leaving the response alone, for provisional
  /// and stray ones, and for one that came on another connection than its request went on
  /// (RFC 3261 18.2.2: over a stream, the answer comes back on the request's connection while
  /// it is open, and a request whose connection closed has failed already): a peer that saw the
  /// request's Via, a proxy's next hop say, cannot answer it from a connection of its own.
  /// With `rejected` set, the request fails with it instead: the connection would not pass
  /// the response on (it breaks a limit), and its sender should not wait out its time.
  bool on_response(SipMessage& response, std::uint64_t connection_id,
                   std::error_code rejected = {});
  /// Fails the request `add` returned `ticket` for, if it still waits (and was not replaced by
  /// another with the same key).
  void fail(std::string_view key, std::uint64_t ticket, std::error_code ec);
  /// Fails the requests sent on a connection that closed: over a stream, their responses
  /// could only have come back on it (RFC 3261 18.1.2).
  void fail_connection(std::uint64_t connection_id, std::error_code ec);
  /// Fails every waiting request, and those added from now on.
  void fail_all(std::error_code ec);
  /// How many connections have a list of waiting requests: those with requests waiting, and
  /// open ones that had some.
  std::size_t connections_listed();

 private:
  /// A key as its two parts, to look a response up without building the string.
  struct KeyParts {
    std::string_view branch;
    std::string_view method;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept;
    std::size_t operator()(const KeyParts& key) const noexcept;
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
    bool operator()(const KeyParts& a, std::string_view b) const noexcept;
    bool operator()(std::string_view a, const KeyParts& b) const noexcept { return (*this)(b, a); }
  };
  struct Entry;
  using Node = std::pair<const std::string, Entry>;
  struct Entry {
    Done done;
    std::uint64_t ticket = 0;
    std::uint64_t connection_id = 0;
    Clock::time_point deadline;
    std::size_t heap_index = 0;  // where it is in deadlines_
    // Its place in the list of the requests waiting on its connection (by_connection_).
    Node** first_on_connection = nullptr;
    Node* previous_on_connection = nullptr;
    Node* next_on_connection = nullptr;
  };
  using Entries = std::unordered_map<std::string, Entry, KeyHash, KeyEqual, CachedAllocator<Node>>;

  /// Takes the entry out (the deadline heap and its connection's list too) and hands over its
  /// completion, to be called once the lock is released.
  Done take(Entries::iterator it);
  // The connection's list of waiting requests (`first`, its head in by_connection_): `link`
  // files a new entry first in it.
  void link(Node* node, Node*& first) noexcept;
  void unlink(Node* node) noexcept;
  /// Drops the list of `connection_id` if no request waits on it: after a request on it failed,
  /// timed out or was replaced from another connection, as it may have closed already (and
  /// fail_connection will not clear its list again).
  void forget_if_idle(std::uint64_t connection_id);
  /// Calls `done` later, in a handler of its own: one whose handler throws then takes nothing
  /// else with it, and none runs under the lock or inside the caller.
  void complete_later(Done done, std::error_code ec, SipMessage response = {});
  void complete_apart(std::vector<Done> completions, std::error_code ec);
  void on_timer();
  /// Arms the timer for the earliest deadline, if any; strand only.
  void arm_for_earliest();

  // The deadline heap (earliest first) over the entries; each entry knows its place.
  void heap_push(Node* node);
  void heap_remove(std::size_t index);
  void heap_place(std::size_t index);
  bool heap_before(std::size_t a, std::size_t b) const noexcept;
  void heap_swap(std::size_t a, std::size_t b) noexcept;

  asio::any_io_executor executor_;
  asio::any_io_executor strand_;
  std::shared_ptr<Clock> clock_;
  std::unique_ptr<Timer> timer_;  // strand-only

  std::mutex mutex_;  // guards everything below
  // The deadline the timer is (or is about to be) armed for; max when none.
  Clock::time_point armed_for_ = Clock::time_point::max();
  std::uint64_t next_ticket_ = 1;
  std::error_code failed_all_;
  Entries entries_;
  std::vector<Node*> deadlines_;
  // Each connection's waiting requests, newest first: a connection's close fails its own
  // without looking at the others'. An emptied list stays while its connection is open, so a
  // request at a time costs no insertion; fail_connection drops it, and so does a failure or
  // time-out that empties it (its connection may have closed before the request was filed).
  std::unordered_map<std::uint64_t, Node*, std::hash<std::uint64_t>, std::equal_to<>,
                     CachedAllocator<std::pair<const std::uint64_t, Node*>>>
      by_connection_;
};

}  // namespace rtconn::detail
