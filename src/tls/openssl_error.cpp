#include <openssl/err.h>

#include "tls/openssl_handles.hpp"

namespace rtconn::tls {

std::string take_openssl_error(const std::string& fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace rtconn::tls
