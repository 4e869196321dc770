#pragma once
// What `ping` and `bench` share: the target URI and the client manager made for it.

#include <string>
#include <vector>

#include "commands.hpp"
#include "rtconn/connection_manager_options.hpp"
#include "rtconn/pool_key.hpp"

namespace rtconn::cli {

/// The pool key `arguments.uri` names; throws std::invalid_argument when it names none.
PoolKey target_of(const ClientArguments& arguments);
/// A client manager's settings: a pool of `connections`, the request and connect time-outs, TLS
/// trust and the client certificate.
ConnectionManagerOptions client_options(const ClientArguments& arguments);

}  // namespace rtconn::cli
