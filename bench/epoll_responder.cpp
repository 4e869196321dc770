// epoll_sip_responder: the floor for bench/compare. A minimal single-thread epoll SIP-over-TCP
// responder, written without the rtconn library: it accepts connections, frames each message by
// its header end and Content-Length (long or compact `l`), and answers every request with a 200 OK
// that copies Via, From, To (adding a tag), Call-ID and CSeq. Responses and CRLF keep-alives are
// read and dropped. No header folding, no limits beyond a 64 KB message head; a reference, not a
// server.
//
//   epoll_sip_responder [ADDR:PORT]      (default 127.0.0.1:0; prints `listening tcp ADDR:PORT`)
//
// SIGTERM or SIGINT ends it with exit status 0.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t max_head = 64 * 1024;
constexpr std::size_t max_queued = 1024 * 1024;

struct Connection {
  bool open = false;
  bool want_write = false;
  std::string in;
  std::string out;
};

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The header's long name if it is one the response copies (or Content-Length), else empty.
std::string_view canonical(std::string_view name) {
  static constexpr std::string_view names[][2] = {
      {"via", "Via"},         {"v", "Via"},
      {"from", "From"},       {"f", "From"},
      {"to", "To"},           {"t", "To"},
      {"call-id", "Call-ID"}, {"i", "Call-ID"},
      {"cseq", "CSeq"},       {"content-length", "Content-Length"},
      {"l", "Content-Length"}};
  for (const auto& [alias, full] : names)
    if (iequals(name, alias)) return full;
  return {};
}

// Frames and answers every complete message at the front of c.in. Returns false on a framing
// error (the connection is then closed).
bool handle_input(Connection& c) {
  std::size_t start = 0;
  for (;;) {
    while (start < c.in.size() && (c.in[start] == '\r' || c.in[start] == '\n')) ++start;
    const std::size_t head_end = c.in.find("\r\n\r\n", start);
    if (head_end == std::string::npos) {
      if (c.in.size() - start > max_head) return false;
      break;
    }
    const std::string_view head(c.in.data() + start, head_end + 2 - start);
    std::size_t body_length = 0;
    std::string reply = "SIP/2.0 200 OK\r\n";
    const bool request = !head.starts_with("SIP/2.0 ");
    std::size_t line_start = head.find("\r\n") + 2;
    while (line_start < head.size()) {
      const std::size_t line_end = head.find("\r\n", line_start);
      const std::string_view line = head.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return false;
      const std::string_view name = canonical(trim(line.substr(0, colon)));
      const std::string_view value = trim(line.substr(colon + 1));
      if (name.empty()) continue;
      if (name == "Content-Length") {
        if (std::from_chars(value.data(), value.data() + value.size(), body_length).ec !=
            std::errc{})
          return false;
        continue;
      }
      reply.append(name).append(": ").append(value);
      if (name == "To" && value.find(";tag=") == std::string_view::npos) reply.append(";tag=floor");
      reply.append("\r\n");
    }
    const std::size_t end = head_end + 4 + body_length;
    if (end > c.in.size()) break;  // the body is still on its way
    if (request) c.out.append(reply).append("Content-Length: 0\r\n\r\n");
    start = end;
  }
  c.in.erase(0, start);
  return c.out.size() <= max_queued;
}

// Writes what it can; returns false if the connection failed.
bool flush(Connection& c, int fd) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.out.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

int listen_on(const std::string& address) {
  std::string host = "127.0.0.1", port = "0";
  if (!address.empty()) {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "usage: epoll_sip_responder [ADDR:PORT]\n");
      std::exit(2);
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    std::fprintf(stderr, "bad address %s: %s\n", address.c_str(), gai_strerror(rc));
    std::exit(2);
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd < 0) die("socket");
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, found->ai_addr, found->ai_addrlen) < 0) die("bind");
  ::freeaddrinfo(found);
  if (::listen(fd, SOMAXCONN) < 0) die("listen");

  sockaddr_storage local{};
  socklen_t length = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
  char text[INET6_ADDRSTRLEN] = {};
  int bound_port = 0;
  if (local.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&local);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    bound_port = ntohs(a->sin6_port);
    std::printf("listening tcp [%s]:%d\n", text, bound_port);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&local);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    bound_port = ntohs(a->sin_port);
    std::printf("listening tcp %s:%d\n", text, bound_port);
  }
  std::fflush(stdout);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: epoll_sip_responder [ADDR:PORT]\n");
    return 2;
  }
  rlimit files{};  // many-connection benchmarks need more than the usual 1,024 descriptors
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  const int signal_fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
  const int listen_fd = listen_on(argc == 2 ? argv[1] : "");
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (signal_fd < 0 || epoll_fd < 0) die("signalfd/epoll_create1");

  auto watch = [&](int op, int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    ::epoll_ctl(epoll_fd, op, fd, &event);
  };
  watch(EPOLL_CTL_ADD, signal_fd, EPOLLIN);
  watch(EPOLL_CTL_ADD, listen_fd, EPOLLIN);

  std::vector<Connection> connections;  // indexed by descriptor
  auto close_connection = [&](int fd) {
    ::close(fd);  // also removes it from the epoll set
    connections[static_cast<std::size_t>(fd)] = Connection{};
  };

  std::vector<epoll_event> events(256);
  char buffer[65536];
  for (;;) {
    const int ready = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
      if (fd == signal_fd) return 0;
      if (fd == listen_fd) {
        for (;;) {
          const int client = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client < 0) break;  // EAGAIN, or out of descriptors: try again later
          const int one = 1;
          ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          if (connections.size() <= static_cast<std::size_t>(client))
            connections.resize(static_cast<std::size_t>(client) + 1);
          connections[static_cast<std::size_t>(client)].open = true;
          watch(EPOLL_CTL_ADD, client, EPOLLIN | EPOLLRDHUP);
        }
        continue;
      }
      Connection& c = connections[static_cast<std::size_t>(fd)];
      if (!c.open) continue;
      bool ok = true;
      if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
          c.in.append(buffer, static_cast<std::size_t>(n));
          ok = handle_input(c);
        } else {
          ok = n < 0 && (errno == EAGAIN || errno == EINTR);
        }
      }
      if (ok) ok = flush(c, fd);
      if (!ok) {
        close_connection(fd);
        continue;
      }
      if (c.out.empty() == c.want_write) {  // start or stop waiting for writability
        c.want_write = !c.out.empty();
        watch(EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLRDHUP | (c.want_write ? EPOLLOUT : 0u));
      }
    }
  }
}
