#include "rtconn/incoming_request.hpp"

#include <atomic>

#include <spdlog/spdlog.h>

#include "common/count_and_log.hpp"
#include "common/recycled_buffers.hpp"
#include "rtconn/errors.hpp"
#include "sip/identifiers.hpp"

namespace rtconn {

IncomingRequest::IncomingRequest(SipMessage request, std::shared_ptr<RealTimeConnection> connection,
                                 std::shared_ptr<void> transaction)
    : request_(std::move(request)),
      connection_(std::move(connection)),
      transaction_(std::move(transaction)) {
  // Inside a dialog the To tag exists already and response_to keeps it.
  if (!request_.has_to_tag()) to_tag_ = sip::make_tag();
}

SipMessage IncomingRequest::make_response(int status_code, std::string_view reason_phrase) const {
  return SipMessage::response_to(request_, status_code, reason_phrase, to_tag_);
}

void IncomingRequest::respond(int status_code, std::string_view reason_phrase) {
  if (request_.method() == "ACK") return;
  std::string wire = detail::RecycledStrings::take();
  SipMessage::serialize_response_to(request_, status_code, reason_phrase, to_tag_, wire);
  // Straight to the connection with a completion small enough to need no allocation; it runs
  // on the connection's executor, which is fine for a log line. Not held for room in a full
  // queue (see WhenQueueFull); a peer that sends and never reads could then make a refusal per
  // request, so those are counted, not each logged.
  connection_->start_send_serialized(
      std::move(wire),
      [id = connection_->id(), status_code](std::error_code ec) {
        static std::atomic<std::uint64_t> refused{0};
        if (ec == errc::write_queue_full) {
          detail::count_and_log(refused,
                                "a response was not sent: the connection's write "
                                "queue is full (its peer does not read)");
        } else if (ec) {
          spdlog::warn("connection {}: {} response not sent: {}", id, status_code, ec.message());
        }
      },
      RealTimeConnection::WhenQueueFull::refuse);
  // After the send is on its way: a draining connection ends once its last transaction does,
  // and must find this answer queued by then.
  if (status_code >= 200) transaction_.reset();
}

}  // namespace rtconn
