#pragma once
/// \file
/// How UCMA names a certificate: its issuer's distinguished name and its serial number.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rtconn {

/// A serial number as big-endian bytes, the order of the certificate's DER encoding and of
/// `openssl x509 -serial` (leading zero bytes are ignored when comparing).
using SerialNumber = std::vector<std::uint8_t>;

/// Issuer and serial number of a certificate (UCMA's constructor arguments).
struct CertificateId {
  /// RFC 4514 string, in either RDN order: "CN=rtconn Dev CA,O=rtconn" or "O=rtconn, CN=...".
  std::string issuer_name;
  SerialNumber serial_number;
};

/// From the little-endian bytes .NET's X509Certificate.GetSerialNumber() returns.
SerialNumber serial_from_little_endian(std::span<const std::uint8_t> bytes);
/// From hex as `openssl x509 -serial` prints it ("serial=0A1B..."), with or without colons or
/// the "serial=" prefix; nullopt when it is not hex.
std::optional<SerialNumber> serial_from_hex(std::string_view text);
/// Colon-separated upper-case hex: "0A:1B:2C".
std::string serial_to_hex(std::span<const std::uint8_t> serial);
/// True when both are the same number (leading zero bytes aside).
bool serials_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

/// Compares distinguished names as RFC 4514 strings: attribute types by name (CN, O, ...; case-
/// insensitive; long names such as commonName accepted), values case-insensitive with runs of
/// spaces folded, and the RDN sequence in either order. False when either does not parse.
bool distinguished_names_equal(std::string_view a, std::string_view b);

}  // namespace rtconn
