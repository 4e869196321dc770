#include "rtconn/connection_authorization.hpp"

#include <atomic>

namespace rtconn {

struct ConnectionAuthorization::State {
  std::shared_ptr<RealTimeConnection> connection;
  std::function<void(bool)> decide;
  std::atomic<bool> answered{false};
  std::atomic<bool> delayed{false};

  void answer(bool allowed) {
    if (!answered.exchange(true)) decide(allowed);
  }
};

ConnectionAuthorization::ConnectionAuthorization(std::shared_ptr<RealTimeConnection> connection,
                                                 std::function<void(bool allowed)> decide)
    : state_(std::make_shared<State>()) {
  state_->connection = std::move(connection);
  state_->decide = std::move(decide);
}

const std::shared_ptr<RealTimeConnection>& ConnectionAuthorization::connection() const noexcept {
  return state_->connection;
}

void ConnectionAuthorization::allow() const {
  state_->answer(true);
}

void ConnectionAuthorization::deny() const {
  state_->answer(false);
}

ConnectionAuthorization ConnectionAuthorization::delay_authorization() const {
  state_->delayed = true;
  return *this;
}

void ConnectionAuthorization::settle_default() const {
  if (!state_->delayed) state_->answer(true);
}

}  // namespace rtconn
