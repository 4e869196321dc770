#pragma once
// The requests the CLI's clients send: a new one (OPTIONS, INVITE), and the Via a request sent
// with async_send needs (async_request adds its own).

#include <cstdint>
#include <string>
#include <string_view>

#include "rtconn/sip_message.hpp"
#include "rtconn/transport_type.hpp"

namespace rtconn::cli {

/// `method` to `uri` outside any dialog: a fresh From tag and Call-ID, the given CSeq; no Via.
SipMessage make_request(std::string_view method, const std::string& uri,
                        const std::string& local_host, std::uint32_t cseq);

/// A top Via with a fresh branch (RFC 3261 8.1.1.7), for a request sent over `transport`.
std::string make_via(TransportType transport, const std::string& local_host);

}  // namespace rtconn::cli
