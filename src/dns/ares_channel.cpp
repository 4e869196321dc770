#include "dns/ares_channel.hpp"

#include <chrono>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>
#include <asio/error.hpp>

#include "rtconn/errors.hpp"

namespace rtconn::dns {
namespace {

void initialise_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const int status = ::ares_library_init(ARES_LIB_INIT_ALL); status != ARES_SUCCESS) {
      throw std::system_error(ares_error(status),
                              "c-ares: " + std::string(::ares_strerror(status)));
    }
  });
}

std::string server_list(const std::vector<IpEndpoint>& servers) {
  std::string csv;
  for (const auto& server : servers) {
    if (!csv.empty()) csv += ',';
    csv += IpEndpoint(server.address(), server.port() != 0 ? server.port() : 53).to_string();
  }
  return csv;
}

}  // namespace

std::error_code ares_error(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return {};
    case ARES_ENODATA:
    case ARES_ENOTFOUND:
    case ARES_ENONAME:
    case ARES_EBADNAME:
      return asio::error::host_not_found;
    case ARES_ESERVFAIL:
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
    case ARES_EREFUSED:
      return asio::error::host_not_found_try_again;
    case ARES_ECANCELLED:
      return asio::error::operation_aborted;
    case ARES_EDESTRUCTION:  // only ever by the manager's shutdown
      return make_error_code(errc::shutdown);
    case ARES_ENOMEM:
      return std::make_error_code(std::errc::not_enough_memory);
    default:
      return asio::error::no_recovery;
  }
}

AresChannel::AresChannel(asio::any_io_executor strand, const std::vector<IpEndpoint>& servers,
                         const std::filesystem::path& configuration)
    : strand_(std::move(strand)), timer_(strand_) {
  initialise_library();
  ares_options options{};
  options.sock_state_cb = &AresChannel::on_socket_state;
  options.sock_state_cb_data = this;
  std::string configuration_file = configuration.string();  // c-ares copies it
  options.resolvconf_path = configuration_file.data();
  if (const int status =
          ::ares_init_options(&channel_, &options, ARES_OPT_SOCK_STATE_CB | ARES_OPT_RESOLVCONF);
      status != ARES_SUCCESS) {
    throw std::system_error(ares_error(status),
                            "c-ares: cannot start: " + std::string(::ares_strerror(status)));
  }
  if (servers.empty()) return;
  if (const int status = ::ares_set_servers_ports_csv(channel_, server_list(servers).c_str());
      status != ARES_SUCCESS) {
    ::ares_destroy(channel_);
    throw std::system_error(ares_error(status),
                            "c-ares: DNS servers refused: " + std::string(::ares_strerror(status)));
  }
}

void log_lost_callback(const char* what, const std::exception& e) noexcept {
  spdlog::error("name lookup: {} lost: {}", what, e.what());
}

AresChannel::~AresChannel() {
  ::ares_destroy(channel_);  // closes its sockets: their watches are released meanwhile
  // Any it did not report are its to close, not the descriptors'.
  for (auto& [fd, watch] : watches_) (void)watch->descriptor.release();
}

void AresChannel::on_socket_state(void* self, ares_socket_t fd, int readable, int writable) {
  not_unwinding_into_c("a socket to watch", [&] {
    static_cast<AresChannel*>(self)->watch(fd, readable != 0, writable != 0);
  });
}

void AresChannel::watch(ares_socket_t fd, bool readable, bool writable) {
  auto found = watches_.find(fd);
  if (!readable && !writable) {
    if (found == watches_.end()) return;
    // c-ares closes the socket itself: taken back from the reactor, not closed. Waits still
    // under way complete with operation_aborted and find their watch gone.
    std::error_code ignored;
    found->second->descriptor.cancel(ignored);
    (void)found->second->descriptor.release();
    watches_.erase(found);
    return;
  }
  if (found == watches_.end()) {
    auto added = std::make_shared<Watch>(strand_);
    std::error_code ec;
    added->descriptor.assign(fd, ec);
    // Only when the reactor cannot take one more descriptor; the query then runs to its
    // time-out, as it would with its server silent.
    if (ec) return;
    found = watches_.emplace(fd, std::move(added)).first;
  }
  Watch& w = *found->second;
  w.want_read = readable;
  w.want_write = writable;
  if (readable && !w.reading) wait(fd, w, true);
  if (writable && !w.writing) wait(fd, w, false);
}

void AresChannel::wait(ares_socket_t fd, Watch& watch, bool for_read) {
  (for_read ? watch.reading : watch.writing) = true;
  const auto type = for_read ? asio::posix::stream_descriptor::wait_read
                             : asio::posix::stream_descriptor::wait_write;
  watch.descriptor.async_wait(
      type, [self = weak_from_this(), weak_watch = std::weak_ptr<Watch>(watches_.at(fd)), fd,
             for_read](std::error_code ec) {
        const auto channel = self.lock();
        const auto w = weak_watch.lock();
        if (!channel || !w) return;  // the channel or the socket is gone
        (for_read ? w->reading : w->writing) = false;
        if (ec) return;
        if (for_read) {
          channel->process(fd, ARES_SOCKET_BAD);
        } else {
          channel->process(ARES_SOCKET_BAD, fd);
        }
        // Still the same socket, and still wanted: wait again.
        const auto again = channel->watches_.find(fd);
        if (again == channel->watches_.end() || again->second != w) return;
        const bool wanted = for_read ? w->want_read : w->want_write;
        const bool waiting = for_read ? w->reading : w->writing;
        if (wanted && !waiting) channel->wait(fd, *w, for_read);
      });
}

void AresChannel::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  ::ares_process_fd(channel_, read_fd, write_fd);
  arm_timer();
}

void AresChannel::arm_timer() {
  timeval buffer{};
  const timeval* left = ::ares_timeout(channel_, nullptr, &buffer);
  if (left == nullptr) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(std::chrono::seconds(left->tv_sec) +
                       std::chrono::microseconds(left->tv_usec));
  timer_.async_wait([self = weak_from_this()](std::error_code ec) {
    const auto channel = self.lock();
    if (!channel || ec) return;
    channel->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // its time-outs
  });
}

}  // namespace rtconn::dns
