// Asio's out-of-line parts, compiled once for the library and everything linking it
// (ASIO_SEPARATE_COMPILATION), which keeps every other translation unit's build short.
#include <asio/impl/src.hpp>
#include <asio/ssl/impl/src.hpp>
