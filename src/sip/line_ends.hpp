#pragma once
// Where the lines of a header section end, handed from the stream framer to the parser so the
// section is searched for CRLFs once instead of twice (the two searches were a tenth of the
// instructions a request costs).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sip/text.hpp"

namespace rtconn::sip {

class LineEnds {
 public:
  /// None known: each line end is searched for.
  LineEnds() = default;
  /// `known` holds the offsets of the first CRLFs of the bytes to be parsed, in order and none
  /// left out, as StreamFramer found them; past its end they are searched for.
  explicit LineEnds(std::span<const std::uint32_t> known) noexcept : known_(known) {}

  /// The offset of the CRLF ending the line of `bytes` that starts at `from` (npos if none),
  /// `from` being where the previous line ended plus the CRLF, or 0 for the first.
  std::size_t next(std::string_view bytes, std::size_t from) noexcept {
    if (taken_ < known_.size()) return known_[taken_++];
    return bytes.find(crlf, from);
  }

 private:
  std::span<const std::uint32_t> known_;
  std::size_t taken_ = 0;
};

}  // namespace rtconn::sip
