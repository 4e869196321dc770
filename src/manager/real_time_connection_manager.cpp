#include "rtconn/real_time_connection_manager.hpp"

#include <cstdio>
#include <exception>

#include "io/owned_event_loop.hpp"
#include "manager/manager_core.hpp"
#include "rtconn/errors.hpp"

namespace rtconn {
namespace {

constexpr std::chrono::seconds closes_posted_wait{1};

std::unique_ptr<detail::OwnedEventLoop> loop_unless_given(const asio::any_io_executor& executor,
                                                          const ConnectionManagerOptions& options) {
  if (executor) return nullptr;
  options.validate();  // before threads start: a bad setting throws without leaving any behind
  return std::make_unique<detail::OwnedEventLoop>(options.event_loop_threads);
}

}  // namespace

RealTimeConnectionManager::RealTimeConnectionManager(asio::any_io_executor executor,
                                                     ConnectionManagerOptions options)
    : loop_(loop_unless_given(executor, options)),
      core_(std::make_shared<detail::ManagerCore>(
          loop_ ? loop_->executor() : std::move(executor),
          loop_ ? loop_->executors() : std::vector<asio::any_io_executor>{},
          loop_ ? loop_->retired() : nullptr, std::move(options))),
      connection_pool_added(core_->events.pool_added),
      connection_pool_removed(core_->events.pool_removed) {
  core_->set_manager(this);
}

RealTimeConnectionManager::~RealTimeConnectionManager() {
  if (loop_ && loop_->runs_this_thread()) {
    // Documented as not allowed; going on would wait out the shutdown time-out for a loop that
    // cannot run (this thread is it), then join this very thread.
    std::fputs(
        "rtconn: a connection manager was destroyed from a handler on its own event loop: call "
        "stop() there and destroy it elsewhere\n",
        stderr);
    std::terminate();
  }
  core_->set_manager(nullptr);
  core_->events.clear_all();
  // The pools may outlive the manager (the application holds them); their handlers must not
  // run once it is gone, as the stop below closes their connections.
  core_->clear_pool_events();
  core_->stop();
  // The loop's threads are what write the draining connections out; the wait is bounded by the
  // shutdown time-out in real time, whatever clock the manager was given.
  if (loop_) {
    core_->wait_until_closed(core_->option(&ConnectionManagerOptions::shutdown_timeout));
    core_->close_all(make_error_code(errc::shutdown));
    // The closes just posted must run while the core is here to take each connection out of
    // its pool: run after it (as the loops end), one would stay in a pool the application
    // holds, its timer and socket outliving their io_context. A loop runs them at once unless
    // a handler holds it.
    core_->wait_until_closed(closes_posted_wait);
  }
}

asio::any_io_executor RealTimeConnectionManager::get_executor() const {
  return core_->executor();
}

ConnectionManagerOptions RealTimeConnectionManager::options() const {
  return core_->options();
}

std::string RealTimeConnectionManager::local_host_name() const {
  return core_->via_host();
}

std::optional<CertificateId> RealTimeConnectionManager::local_certificate() const {
  return core_->tls().certificate();
}

void RealTimeConnectionManager::set_local_certificate(const std::string& issuer_name,
                                                      const SerialNumber& serial_number) {
  core_->tls().set_certificate({issuer_name, serial_number});
}

void RealTimeConnectionManager::reload_trust() {
  core_->tls().reload_trust();
}

void RealTimeConnectionManager::set_default_maximum_number_of_connections_per_pool(int maximum) {
  core_->update_options(
      [maximum](auto& o) { o.default_maximum_number_of_connections_per_pool = maximum; });
}

void RealTimeConnectionManager::set_default_outgoing_connection_timeout(
    std::chrono::milliseconds timeout) {
  core_->update_options([timeout](auto& o) { o.default_outgoing_connection_timeout = timeout; });
}

void RealTimeConnectionManager::set_default_incoming_connection_timeout(
    std::chrono::milliseconds timeout) {
  core_->update_options([timeout](auto& o) { o.default_incoming_connection_timeout = timeout; });
}

void RealTimeConnectionManager::set_dns_load_balancing_disabled(bool disabled) {
  core_->update_options([disabled](auto& o) { o.dns_load_balancing_disabled = disabled; });
}

bool RealTimeConnectionManager::dns_load_balancing_disabled() const {
  return core_->option(&ConnectionManagerOptions::dns_load_balancing_disabled);
}

void RealTimeConnectionManager::set_connection_throttling_marks(int high_mark, int low_mark) {
  core_->set_connection_throttling_marks(high_mark, low_mark);
}

void RealTimeConnectionManager::set_message_throttling_marks(int high_mark, int low_mark) {
  core_->set_message_throttling_marks(high_mark, low_mark);
}

int RealTimeConnectionManager::message_throttling_high_mark() const {
  return core_->option(&ConnectionManagerOptions::message_throttling_high_mark);
}

int RealTimeConnectionManager::message_throttling_low_mark() const {
  return core_->option(&ConnectionManagerOptions::message_throttling_low_mark);
}

int RealTimeConnectionManager::current_message_throttling_count() const {
  return core_->messages_waiting();
}

ManagerCounters RealTimeConnectionManager::counters() const {
  return core_->counters();
}

std::vector<std::shared_ptr<ConnectionPool>> RealTimeConnectionManager::connection_pools() const {
  return core_->pools();
}

std::shared_ptr<ConnectionPool> RealTimeConnectionManager::connection_pool(const PoolKey& key) {
  std::error_code ec;
  auto pool = core_->pool(key, ec);
  if (!pool) throw RealTimeException(ec, "cannot make a connection pool for " + key.to_string());
  return pool;
}

ConnectionReference RealTimeConnectionManager::acquire_connection(const PoolKey& key,
                                                                  std::error_code& ec) {
  return core_->acquire(key, ec);
}

void RealTimeConnectionManager::set_request_handler(RequestHandler handler) {
  core_->set_request_handler(std::move(handler));
}

void RealTimeConnectionManager::set_request_handler(std::string_view owner_uri,
                                                    RequestHandler handler) {
  core_->set_request_handler(owner_uri, std::move(handler));
}

void RealTimeConnectionManager::set_strict_dispatching(bool strict) {
  core_->set_strict_dispatching(strict);
}

bool RealTimeConnectionManager::strict_dispatching() const {
  return core_->strict_dispatching();
}

void RealTimeConnectionManager::set_response_handler(ResponseHandler handler) {
  core_->set_response_handler(std::move(handler));
}

void RealTimeConnectionManager::stop() {
  core_->stop();
}

void RealTimeConnectionManager::start_send(const PoolKey& key, SipMessage message,
                                           detail::Completion<std::error_code> done) {
  core_->send(key, std::move(message), std::move(done));
}

void RealTimeConnectionManager::start_request(
    const PoolKey& key, SipMessage request, detail::Completion<std::error_code, SipMessage> done) {
  core_->request(key, std::move(request), std::move(done));
}

void RealTimeConnectionManager::start_request_on(
    const std::shared_ptr<RealTimeConnection>& connection, SipMessage request,
    detail::Completion<std::error_code, SipMessage> done) {
  core_->request_on(connection, std::move(request), std::move(done));
}

}  // namespace rtconn
