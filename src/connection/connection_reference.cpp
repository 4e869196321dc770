#include "rtconn/connection_reference.hpp"

#include <utility>

namespace rtconn {

ConnectionReference::ConnectionReference(std::shared_ptr<RealTimeConnection> connection) noexcept
    : connection_(std::move(connection)) {
  if (connection_) connection_->references_.fetch_add(1, std::memory_order_acq_rel);
}

ConnectionReference& ConnectionReference::operator=(ConnectionReference&& other) noexcept {
  if (this != &other) {
    reset();
    connection_ = std::move(other.connection_);
  }
  return *this;
}

ConnectionReference::~ConnectionReference() {
  reset();
}

void ConnectionReference::reset() noexcept {
  if (!connection_) return;
  const auto connection = std::move(connection_);
  connection_ = nullptr;
  if (connection->references_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    connection->on_unreferenced();
  }
}

}  // namespace rtconn
