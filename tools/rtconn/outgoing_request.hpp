#pragma once
// The OPTIONS request `rtconn ping` and `rtconn demo` send.

#include <cstdint>
#include <string>

#include "rtconn/sip_message.hpp"

namespace rtconn::cli {

/// An OPTIONS to `uri` with the given CSeq; the manager adds Via.
SipMessage make_options_request(const std::string& uri, const std::string& local_host,
                                std::uint32_t cseq);

}  // namespace rtconn::cli
