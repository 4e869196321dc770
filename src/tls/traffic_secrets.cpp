#include "tls/traffic_secrets.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>

namespace rtconn::tls {
namespace {

int capture_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_to_key_log_file(const char* line) {
  static std::mutex mutex;
  const char* path = std::getenv("SSLKEYLOGFILE");
  if (!path || !*path) return;
  std::lock_guard lock(mutex);
  if (FILE* file = std::fopen(path, "a")) {
    std::fprintf(file, "%s\n", line);
    std::fclose(file);
  }
}

}  // namespace

void RecordCounter::feed(const char* data, std::size_t size) noexcept {
  while (size > 0) {
    if (header_seen_ < header_.size()) {
      header_[header_seen_++] = static_cast<unsigned char>(*data++);
      --size;
      if (header_seen_ < header_.size()) continue;
      body_left_ = (std::size_t{header_[3]} << 8) | header_[4];
    } else {
      const auto n = std::min(size, body_left_);
      data += n;
      size -= n;
      body_left_ -= n;
    }
    if (body_left_ == 0) {
      ++records_;
      header_seen_ = 0;
    }
  }
}

void TrafficSecretCapture::attach(SSL* ssl) noexcept {
  SSL_set_ex_data(ssl, capture_index(), this);
}

void TrafficSecretCapture::release(SSL* ssl) noexcept {
  SSL_set_ex_data(ssl, capture_index(), nullptr);
}

void TrafficSecretCapture::note(const char* line) noexcept {
  // "LABEL <client random, hex> <secret, hex>"
  const std::string_view text(line);
  const auto first_space = text.find(' ');
  const auto last_space = text.rfind(' ');
  if (first_space == std::string_view::npos || last_space == first_space) return;
  const auto label = text.substr(0, first_space);
  const bool client_secret = label == "CLIENT_TRAFFIC_SECRET_0";
  if (!client_secret && label != "SERVER_TRAFFIC_SECRET_0") return;
  Noted* noted = client_secret ? &client_ : &server_;
  // A secret's records pass the way its owner sends them.
  const bool ours = client_secret == (side_ == Side::client);
  const std::uint64_t records = ours ? written.records() : read.records();
  const auto hex = text.substr(last_space + 1);
  if (hex.size() % 2 != 0 || hex.size() / 2 > noted->secret.size()) return;
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return;
    noted->secret[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  noted->size = static_cast<std::uint8_t>(hex.size() / 2);
  noted->records_before = records;
}

std::optional<TrafficSecretCapture::Secrets> TrafficSecretCapture::secrets() const noexcept {
  if (client_.size == 0 || server_.size == 0 || !read.at_record_boundary() ||
      !written.at_record_boundary()) {
    return std::nullopt;
  }
  const Noted& theirs = side_ == Side::client ? server_ : client_;
  const Noted& ours = side_ == Side::client ? client_ : server_;
  return Secrets{
      {std::span(theirs.secret).first(theirs.size), read.records() - theirs.records_before},
      {std::span(ours.secret).first(ours.size), written.records() - ours.records_before},
  };
}

void on_key_logged(const SSL* ssl, const char* line) {
  if (auto* capture = static_cast<TrafficSecretCapture*>(SSL_get_ex_data(ssl, capture_index()))) {
    capture->note(line);
  }
  append_to_key_log_file(line);
}

}  // namespace rtconn::tls
