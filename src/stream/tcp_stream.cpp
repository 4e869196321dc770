#include <asio/post.hpp>
#include <asio/write.hpp>

#include "stream/byte_stream.hpp"

namespace rtconn::stream {
namespace {

class TcpStream final : public ByteStream {
 public:
  explicit TcpStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  asio::ip::tcp::socket& socket() noexcept override { return socket_; }

  // Called once connected (or accepted), when the socket is open.
  void async_handshake(bool, Handler handler) override {
    std::error_code ignored;
    // SIP over TCP is request/response: Nagle would hold a small response back for an ACK.
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    socket_.non_blocking(true, ignored);  // read_available must never block
    asio::post(socket_.get_executor(), [handler = std::move(handler)]() mutable { handler({}); });
  }

  void async_wait_readable(Handler handler) override {
    socket_.async_wait(asio::socket_base::wait_read, std::move(handler));
  }

  std::size_t read_available(asio::mutable_buffer buffer, std::error_code& ec) override {
    return socket_.read_some(buffer, ec);
  }

  void async_write(std::span<asio::const_buffer> buffers, IoHandler handler,
                   Completion completion) override {
    if (completion == Completion::posted) {
      asio::async_write(socket_, buffers, std::move(handler));
      return;
    }
    std::error_code ec;
    const std::size_t written = socket_.write_some(buffers, ec);  // non-blocking since set-up
    if (ec != asio::error::would_block && (ec || written == asio::buffer_size(buffers))) {
      return handler(ec, written);
    }
    // What the socket did not take goes through the event loop: the list is trimmed in place.
    const std::size_t before = ec ? 0 : written;
    std::size_t first = 0;
    std::size_t skip = before;
    for (; first < buffers.size() && skip >= buffers[first].size(); ++first) {
      skip -= buffers[first].size();
    }
    if (skip > 0) buffers[first] += skip;
    asio::async_write(socket_, buffers.subspan(first),
                      [handler = std::move(handler), before](
                          std::error_code e, std::size_t n) mutable { handler(e, before + n); });
  }

  void shutdown_send() noexcept override {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }

  void close() noexcept override {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  asio::ip::tcp::socket socket_;
};

}  // namespace

std::unique_ptr<ByteStream> make_tcp_stream(asio::ip::tcp::socket socket) {
  return std::make_unique<TcpStream>(std::move(socket));
}

}  // namespace rtconn::stream
