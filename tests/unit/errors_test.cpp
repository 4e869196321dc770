#include "rtconn/errors.hpp"

#include <gtest/gtest.h>

#include <asio/error.hpp>

namespace rtconn {
namespace {

TEST(Errors, CodesBelongToTheRtconnCategoryWithMessages) {
  const std::error_code ec = errc::idle_timeout;
  EXPECT_EQ(ec.category(), error_category());
  EXPECT_STREQ(ec.category().name(), "rtconn");
  EXPECT_FALSE(ec.message().empty());
  EXPECT_NE(ec.message(), "unknown rtconn error");
  EXPECT_TRUE(ec);  // every value is non-zero, so a set error code tests true
  for (int v = static_cast<int>(errc::shutdown); v <= static_cast<int>(errc::header_limit_exceeded);
       ++v) {
    EXPECT_NE(std::error_code(v, error_category()).message(), "unknown rtconn error") << v;
  }
}

TEST(Errors, TimeoutsMapToTheTimeoutCondition) {
  for (const auto e : {errc::idle_timeout, errc::new_connection_timeout, errc::connect_timeout,
                       errc::request_timeout, errc::message_timeout, errc::keep_alive_timeout}) {
    EXPECT_EQ(make_error_code(e), condition::timeout) << make_error_code(e).message();
    EXPECT_NE(make_error_code(e), condition::connection_lost);
  }
  EXPECT_EQ(std::error_code(asio::error::timed_out), condition::timeout);
}

TEST(Errors, LostConnectionsMapToConnectionLostWhateverLayerNoticed) {
  for (const auto e :
       {errc::shutdown, errc::connection_closed, errc::peer_closed, errc::framing_lost}) {
    EXPECT_EQ(make_error_code(e), condition::connection_lost) << make_error_code(e).message();
  }
  EXPECT_EQ(std::error_code(asio::error::connection_reset), condition::connection_lost);
  EXPECT_EQ(std::error_code(asio::error::eof), condition::connection_lost);
  EXPECT_EQ(std::error_code(asio::error::broken_pipe), condition::connection_lost);
  EXPECT_EQ(std::error_code(asio::error::connection_refused), condition::connection_lost);
  EXPECT_EQ(std::error_code(asio::error::operation_aborted), condition::connection_lost);
  EXPECT_NE(std::error_code(asio::error::connection_reset), condition::timeout);
  EXPECT_NE(std::error_code(asio::error::host_not_found), condition::connection_lost);
}

TEST(Errors, BadInputAndLimitsHaveTheirConditions) {
  for (const auto e :
       {errc::message_too_large, errc::headers_too_large, errc::missing_content_length,
        errc::invalid_content_length, errc::malformed_message, errc::header_limit_exceeded}) {
    EXPECT_EQ(make_error_code(e), condition::bad_message) << make_error_code(e).message();
  }
  EXPECT_EQ(make_error_code(errc::write_queue_full), condition::resource_limit);
  EXPECT_NE(make_error_code(errc::write_queue_full), condition::connection_lost);
}

TEST(Errors, SetUpErrorsBelongToNoCondition) {
  for (const auto e : {errc::not_listening, errc::already_listening, errc::invalid_argument,
                       errc::transport_not_supported, errc::pool_removed}) {
    const std::error_code ec = e;
    EXPECT_NE(ec, condition::timeout);
    EXPECT_NE(ec, condition::connection_lost);
    EXPECT_NE(ec, condition::bad_message);
    EXPECT_NE(ec, condition::resource_limit);
  }
}

TEST(Errors, ConditionsHaveTheirOwnCategory) {
  const std::error_condition c = condition::timeout;
  EXPECT_EQ(c.category(), condition_category());
  EXPECT_STREQ(c.category().name(), "rtconn.condition");
  EXPECT_FALSE(c.message().empty());
}

TEST(Errors, ExceptionsFormUcmasHierarchyAndCarryTheCode) {
  const ConnectionFailureException failure(make_error_code(errc::not_listening), "cannot listen");
  const RealTimeException& base = failure;
  const std::system_error& system = failure;
  EXPECT_EQ(base.code(), errc::not_listening);
  EXPECT_NE(std::string(system.what()).find("cannot listen"), std::string::npos);

  const OperationTimeoutException timeout(make_error_code(errc::request_timeout));
  EXPECT_EQ(timeout.code(), condition::timeout);

  const InvalidOperationException invalid("listening already");
  const std::logic_error& logic = invalid;
  EXPECT_STREQ(logic.what(), "listening already");
}

}  // namespace
}  // namespace rtconn
