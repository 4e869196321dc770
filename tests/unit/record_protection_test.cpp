// RecordProtection against OpenSSL's own record layer: an OpenSSL client and an OpenSSL server
// shake hands in memory; then one side is carried on by RecordProtection from the captured
// secrets, in each TLS 1.3 suite, while the other stays OpenSSL.

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "../support/in_memory_tls.hpp"
#include "tls/record_protection.hpp"
#include "tls/traffic_secrets.hpp"

namespace rtconn::tls {
namespace {

using Kind = RecordProtection::Opened::Kind;

// What the server's OpenSSL consumed (from its input BIO) and wrote (to its output BIO), as the
// connection's BIO feeds it.
template <int Operation, RecordCounter TrafficSecretCapture::*Counter>
long feed_capture(BIO* bio, int operation, const char* data, std::size_t, int, long, int result,
                  std::size_t* processed) {
  if (operation == (Operation | BIO_CB_RETURN) && result > 0 && processed) {
    auto* capture = reinterpret_cast<TrafficSecretCapture*>(BIO_get_callback_arg(bio));
    (capture->*Counter).feed(data, *processed);
  }
  return result;
}

struct Opened {
  std::string text;
  std::string reply;
  bool peer_closed = false;
  std::size_t controls = 0;  // records handled inside: KeyUpdates, skipped tickets
  std::error_code ec;
};

// Opens the whole records at the front of `wire` (dropping them) until an error or the end.
Opened open_all(RecordProtection& protection, std::string& wire) {
  Opened result;
  while (!result.ec && !result.peer_closed) {
    const auto size = RecordProtection::record_size(wire, result.ec);
    if (result.ec || size == 0 || size > wire.size()) break;
    const auto opened = protection.open(std::span(wire).first(size), result.reply, result.ec);
    if (!result.ec && opened.kind == Kind::data) {
      result.text.append(opened.data.data(), opened.data.size());
    }
    result.peer_closed = opened.kind == Kind::peer_closed;
    if (opened.kind == Kind::control) ++result.controls;
    wire.erase(0, size);
  }
  return result;
}

// Gives `capture` one side's secrets and every byte its OpenSSL reads from `in` and writes to
// `out`, as a connection's BIO does.
void capture_traffic(SSL_CTX* context, SSL* ssl, BIO* in, BIO* out, TrafficSecretCapture& capture) {
  SSL_CTX_set_keylog_callback(context, on_key_logged);
  BIO_set_callback_ex(in, feed_capture<BIO_CB_READ, &TrafficSecretCapture::read>);
  BIO_set_callback_ex(out, feed_capture<BIO_CB_WRITE, &TrafficSecretCapture::written>);
  for (BIO* bio : {in, out}) BIO_set_callback_arg(bio, reinterpret_cast<char*>(&capture));
  capture.attach(ssl);
}

class RecordProtectionTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    capture_traffic(pair_.server_context, pair_.server, pair_.server_in, pair_.server_out,
                    capture_);
    ASSERT_TRUE(pair_.handshake());  // the server's tickets wait for the client's first read
    capture_.release(pair_.server);
    const auto secrets = capture_.secrets();
    ASSERT_TRUE(secrets);
    const auto suite = RecordProtection::suite_of(
        SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(pair_.server)));
    ASSERT_TRUE(suite);
    protection_.emplace(*suite, secrets->read, secrets->write);
  }

  void client_writes(const std::string& text) {
    std::size_t written = 0;
    ASSERT_EQ(SSL_write_ex(pair_.client, text.data(), text.size(), &written), 1);
    from_client_ += test::InMemoryTlsPair::drain(pair_.client_out);
  }

  // Everything the client can read now; `status` gets SSL_get_error's verdict at the end.
  std::string client_reads(int* status = nullptr) {
    std::string text;
    char buffer[4096];
    for (;;) {
      std::size_t got = 0;
      const int result = SSL_read_ex(pair_.client, buffer, sizeof buffer, &got);
      if (result != 1) {
        if (status) *status = SSL_get_error(pair_.client, result);
        return text;
      }
      text.append(buffer, got);
    }
  }

  // Opens every whole record the client sent.
  Opened server_opens() { return open_all(*protection_, from_client_); }

  void server_seals(const std::vector<std::string>& pieces) {
    std::vector<asio::const_buffer> buffers;
    for (const auto& piece : pieces) buffers.push_back(asio::buffer(piece));
    std::string wire;
    protection_->seal(buffers, wire);
    pair_.to_client(wire);
  }

  test::InMemoryTlsPair pair_{GetParam()};
  TrafficSecretCapture capture_;
  std::optional<RecordProtection> protection_;
  std::string from_client_;  // what the client sent since the handshake
};

INSTANTIATE_TEST_SUITE_P(Suites, RecordProtectionTest,
                         ::testing::Values("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"));

TEST_P(RecordProtectionTest, CarriesApplicationDataBothWaysAfterTheTickets) {
  const std::string request = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n";
  const std::string large(40'000, 'x');  // the client splits it into three records
  client_writes(request);
  client_writes(large);
  const auto opened = server_opens();
  ASSERT_FALSE(opened.ec) << opened.ec.message();
  EXPECT_EQ(opened.text, request + large);
  EXPECT_TRUE(opened.reply.empty());

  // Three buffers, 33,030 bytes: records of 16 KiB at most, the text cut across the buffers.
  server_seals({"SIP/2.0 200 OK\r\n", std::string(20'000, 'a'), std::string(13'000, 'b')});
  int status = 0;
  EXPECT_EQ(client_reads(&status),
            "SIP/2.0 200 OK\r\n" + std::string(20'000, 'a') + std::string(13'000, 'b'));
  EXPECT_EQ(status, SSL_ERROR_WANT_READ);
  // The client took the server's two tickets before our records: sequence numbers agreed.
  EXPECT_EQ(SSL_SESSION_is_resumable(SSL_get0_session(pair_.client)), 1);
}

TEST_P(RecordProtectionTest, AnswersAKeyUpdateThatAsksForOneWithItsOwn) {
  ASSERT_EQ(SSL_key_update(pair_.client, SSL_KEY_UPDATE_REQUESTED), 1);
  client_writes("after the update");
  auto opened = server_opens();
  ASSERT_FALSE(opened.ec) << opened.ec.message();
  EXPECT_EQ(opened.text, "after the update");
  ASSERT_FALSE(opened.reply.empty());  // our KeyUpdate, before anything else we send
  pair_.to_client(opened.reply);
  server_seals({"answer under the new key"});
  EXPECT_EQ(client_reads(), "answer under the new key");

  ASSERT_EQ(SSL_key_update(pair_.client, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
  client_writes("second update");
  opened = server_opens();
  ASSERT_FALSE(opened.ec) << opened.ec.message();
  EXPECT_EQ(opened.text, "second update");
  EXPECT_TRUE(opened.reply.empty());
  server_seals({"still fine"});
  EXPECT_EQ(client_reads(), "still fine");
}

TEST_P(RecordProtectionTest, AnswersRequestsThatComeWhileSilentWithOneUpdate) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(SSL_key_update(pair_.client, SSL_KEY_UPDATE_REQUESTED), 1);
    client_writes("update " + std::to_string(i));
  }
  const auto opened = server_opens();
  ASSERT_FALSE(opened.ec) << opened.ec.message();
  EXPECT_EQ(opened.text, "update 0update 1update 2");
  std::error_code ec;
  const auto size = RecordProtection::record_size(opened.reply, ec);
  EXPECT_EQ(size, opened.reply.size());  // one KeyUpdate record for the three requests
  pair_.to_client(opened.reply);
  server_seals({"after one update"});
  EXPECT_EQ(client_reads(), "after one update");

  // Having sent data since, the next request gets an update of its own.
  ASSERT_EQ(SSL_key_update(pair_.client, SSL_KEY_UPDATE_REQUESTED), 1);
  client_writes("update 3");
  const auto again = server_opens();
  ASSERT_FALSE(again.ec) << again.ec.message();
  EXPECT_FALSE(again.reply.empty());
  pair_.to_client(again.reply);
  server_seals({"after two"});
  EXPECT_EQ(client_reads(), "after two");
}

TEST_P(RecordProtectionTest, CloseNotifyEndsEachDirection) {
  std::string wire;
  protection_->seal_alert(0, wire);
  pair_.to_client(wire);
  int status = 0;
  EXPECT_EQ(client_reads(&status), "");
  EXPECT_EQ(status, SSL_ERROR_ZERO_RETURN);

  SSL_shutdown(pair_.client);
  from_client_ += test::InMemoryTlsPair::drain(pair_.client_out);
  const auto opened = server_opens();
  EXPECT_FALSE(opened.ec) << opened.ec.message();
  EXPECT_TRUE(opened.peer_closed);
}

TEST_P(RecordProtectionTest, RefusesATamperedRecord) {
  client_writes("INVITE sip:x SIP/2.0\r\n");
  from_client_[10] ^= 1;
  const auto opened = server_opens();
  EXPECT_EQ(opened.ec, make_error_code(RecordError::bad_record_mac));
  EXPECT_EQ(alert_for(opened.ec), 20);
  EXPECT_EQ(opened.text, "");
}

TEST_P(RecordProtectionTest, ReportsThePeersAlert) {
  std::string wire;
  protection_->seal({}, wire);
  EXPECT_TRUE(wire.empty());  // no empty records for nothing to say
  const std::string answer = "SIP/2.0 200 OK\r\n";
  const asio::const_buffer buffer = asio::buffer(answer);
  protection_->seal(std::span(&buffer, 1), wire);
  wire[wire.size() - 1] ^= 1;  // the tag: OpenSSL refuses it and says why
  pair_.to_client(wire);
  client_reads();
  from_client_ += test::InMemoryTlsPair::drain(pair_.client_out);
  const auto opened = server_opens();
  EXPECT_EQ(opened.ec.category(), record_category());
  EXPECT_EQ(opened.ec.value(), static_cast<int>(RecordError::peer_alert_base) + 20);
  EXPECT_FALSE(alert_for(opened.ec));  // no alert answers an alert
  EXPECT_NE(opened.ec.message().find("bad record mac"), std::string::npos) << opened.ec.message();
}

// The client's side: OpenSSL's client takes the server's tickets and first answer, as a client
// connection does before it sheds its SSL object; RecordProtection carries the client on.
class ClientRecordProtectionTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    capture_traffic(pair_.client_context, pair_.client, pair_.client_in, pair_.client_out,
                    capture_);
    ASSERT_TRUE(pair_.handshake());
    ssl_sends(pair_.client, pair_.client_out, "OPTIONS sip:a@b SIP/2.0\r\n");
    pair_.to_server(to_server_);
    to_server_.clear();
    ASSERT_EQ(server_reads(), "OPTIONS sip:a@b SIP/2.0\r\n");
    ssl_sends(pair_.server, pair_.server_out, "SIP/2.0 200 OK\r\n");
    pair_.to_client(to_client_);
    to_client_.clear();
    char buffer[64];
    std::size_t got = 0;
    ASSERT_EQ(SSL_read_ex(pair_.client, buffer, sizeof buffer, &got), 1);
    ASSERT_EQ(std::string(buffer, got), "SIP/2.0 200 OK\r\n");
    ASSERT_EQ(SSL_SESSION_is_resumable(SSL_get0_session(pair_.client)), 1);  // the tickets
    capture_.release(pair_.client);
    secrets_ = capture_.secrets();
    ASSERT_TRUE(secrets_);
    const auto suite = RecordProtection::suite_of(
        SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(pair_.client)));
    ASSERT_TRUE(suite);
    suite_ = *suite;
    protection_.emplace(suite_, secrets_->read, secrets_->write, Side::client);
  }

  // Writes through `ssl`; what it wrote goes to the other side's queue.
  void ssl_sends(SSL* ssl, BIO* out, const std::string& text) {
    std::size_t written = 0;
    ASSERT_EQ(SSL_write_ex(ssl, text.data(), text.size(), &written), 1);
    (ssl == pair_.client ? to_server_ : to_client_) += test::InMemoryTlsPair::drain(out);
  }

  std::string server_reads() {
    std::string text;
    char buffer[4096];
    std::size_t got = 0;
    while (SSL_read_ex(pair_.server, buffer, sizeof buffer, &got) == 1) text.append(buffer, got);
    return text;
  }

  // Opens every whole record the server sent.
  Opened client_opens() { return open_all(*protection_, to_client_); }

  void client_seals(const std::string& text) {
    const asio::const_buffer buffer = asio::buffer(text);
    std::string wire;
    protection_->seal(std::span(&buffer, 1), wire);
    pair_.to_server(wire);
  }

  test::InMemoryTlsPair pair_{GetParam()};
  TrafficSecretCapture capture_{Side::client};
  std::optional<TrafficSecretCapture::Secrets> secrets_;
  RecordProtection::Suite suite_{};
  std::optional<RecordProtection> protection_;
  std::string to_server_;
  std::string to_client_;
};

INSTANTIATE_TEST_SUITE_P(Suites, ClientRecordProtectionTest,
                         ::testing::Values("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"));

TEST_P(ClientRecordProtectionTest, CarriesDataBothWaysAndSkipsLaterTickets) {
  client_seals("MESSAGE sip:a@b SIP/2.0\r\n");
  EXPECT_EQ(server_reads(), "MESSAGE sip:a@b SIP/2.0\r\n");
  ASSERT_EQ(SSL_new_session_ticket(pair_.server), 1);
  ssl_sends(pair_.server, pair_.server_out, "SIP/2.0 200 OK\r\n");
  const auto opened = client_opens();
  ASSERT_FALSE(opened.ec) << opened.ec.message();
  EXPECT_EQ(opened.text, "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(opened.controls, 1u);  // the ticket's record
  client_seals("after the ticket");
  EXPECT_EQ(server_reads(), "after the ticket");
}

TEST_P(ClientRecordProtectionTest, SkipsATicketSplitAcrossRecords) {
  // Application data in the ticket makes it longer than the server's 512-byte records.
  const std::string appdata(1500, 'p');
  ASSERT_EQ(SSL_SESSION_set1_ticket_appdata(SSL_get_session(pair_.server), appdata.data(),
                                            appdata.size()),
            1);
  ASSERT_EQ(SSL_set_max_send_fragment(pair_.server, 512), 1);
  ASSERT_EQ(SSL_new_session_ticket(pair_.server), 1);
  ssl_sends(pair_.server, pair_.server_out, "after a long ticket");
  const auto opened = client_opens();
  ASSERT_FALSE(opened.ec) << opened.ec.message();
  EXPECT_EQ(opened.text, "after a long ticket");
  EXPECT_GE(opened.controls, 4u);  // 1,500 bytes and more over records of 512
}

TEST_P(ClientRecordProtectionTest, AnswersTheServersKeyUpdate) {
  ASSERT_EQ(SSL_key_update(pair_.server, SSL_KEY_UPDATE_REQUESTED), 1);
  ssl_sends(pair_.server, pair_.server_out, "under the new key");
  const auto opened = client_opens();
  ASSERT_FALSE(opened.ec) << opened.ec.message();
  EXPECT_EQ(opened.text, "under the new key");
  ASSERT_FALSE(opened.reply.empty());  // our KeyUpdate
  pair_.to_server(opened.reply);
  client_seals("ours under ours");
  EXPECT_EQ(server_reads(), "ours under ours");
}

TEST_P(ClientRecordProtectionTest, AServerSideRefusesATicket) {
  // The same keys on a server's side: no NewSessionTicket may reach a server (RFC 8446 4.6.1).
  protection_.emplace(suite_, secrets_->read, secrets_->write, Side::server);
  ASSERT_EQ(SSL_new_session_ticket(pair_.server), 1);
  ssl_sends(pair_.server, pair_.server_out, "after the ticket");
  const auto opened = client_opens();
  EXPECT_EQ(opened.ec, make_error_code(RecordError::unexpected_message));
  EXPECT_EQ(opened.text, "");
}

// Our own KeyUpdate, due every 2^24 records, read by a peer whose reading of KeyUpdates the
// tests above check against OpenSSL's.
TEST(RecordProtectionKeyUpdate, SealerRenewsItsKeyAfter2To24Records) {
  std::array<std::uint8_t, 32> one{};
  std::array<std::uint8_t, 32> two{};
  one.fill(1);
  two.fill(2);
  const auto suite = RecordProtection::Suite::aes_128_gcm_sha256;
  const std::uint64_t due = std::uint64_t{1} << 24;
  RecordProtection sealer(suite, {two, 0}, {one, due - 2});
  RecordProtection opener(suite, {one, due - 2}, {two, 0});
  std::string wire;
  const std::string text = "MESSAGE";
  const asio::const_buffer buffer = asio::buffer(text);
  for (int i = 0; i < 3; ++i) sealer.seal(std::span(&buffer, 1), wire);
  int records = 0;
  int data = 0;
  std::string reply;
  while (!wire.empty()) {
    std::error_code ec;
    const auto size = RecordProtection::record_size(wire, ec);
    ASSERT_FALSE(ec);
    const auto opened = opener.open(std::span(wire).first(size), reply, ec);
    ASSERT_FALSE(ec) << "record " << records << ": " << ec.message();
    if (opened.kind == Kind::data) {
      EXPECT_EQ(std::string(opened.data.data(), opened.data.size()), text);
      ++data;
    }
    wire.erase(0, size);
    ++records;
  }
  EXPECT_EQ(records, 4);  // the KeyUpdate before the third
  EXPECT_EQ(data, 3);
  EXPECT_TRUE(reply.empty());  // it asked for no update in return
}

TEST(RecordSize, RefusesWhatNoProtectedRecordIs) {
  std::error_code ec;
  EXPECT_EQ(RecordProtection::record_size(std::string("\x17\x03\x03"), ec), 0u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(RecordProtection::record_size(std::string("\x17\x03\x03\x00\x20", 5), ec), 37u);
  EXPECT_FALSE(ec);
  // A plaintext handshake record after the handshake (a ClientHello again, say).
  RecordProtection::record_size(std::string("\x16\x03\x01\x00\x20", 5), ec);
  EXPECT_EQ(ec, make_error_code(RecordError::unexpected_message));
  ec.clear();
  RecordProtection::record_size(std::string("\x17\x03\x03\x41\x01", 5), ec);  // 2^14 + 257
  EXPECT_EQ(ec, make_error_code(RecordError::record_overflow));
  ec.clear();
  RecordProtection::record_size(std::string("\x17\x03\x03\x00\x10", 5), ec);  // a tag, no type
  EXPECT_EQ(ec, make_error_code(RecordError::bad_record_mac));
}

TEST(RecordCounter, CountsWholeRecordsGivenInAnyPieces) {
  const std::string stream = std::string("\x16\x03\x01\x00\x02", 5) + "ab" +
                             std::string("\x14\x03\x03\x00\x00", 5) +  // empty body
                             std::string("\x17\x03\x03\x00\x03", 5) + "xyz";
  for (std::size_t piece = 1; piece <= stream.size(); ++piece) {
    RecordCounter counter;
    std::size_t at = 0;
    for (; at + piece <= stream.size() - 2; at += piece) counter.feed(stream.data() + at, piece);
    counter.feed(stream.data() + at, stream.size() - 2 - at);
    EXPECT_EQ(counter.records(), 2u) << piece;
    EXPECT_FALSE(counter.at_record_boundary());
    counter.feed(stream.data() + stream.size() - 2, 2);
    EXPECT_EQ(counter.records(), 3u);
    EXPECT_TRUE(counter.at_record_boundary());
  }
}

}  // namespace
}  // namespace rtconn::tls
