// Any bytes as a DNS server's answer: reading the lifetime of what it says (a positive answer's
// least TTL, a negative one's SOA) must give one or none, never read past the message.
#include <cstdint>

#include "dns/answer_ttl.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtconn::dns::answer_ttl(data, size);
  rtconn::dns::negative_ttl(data, size);
  return 0;
}
