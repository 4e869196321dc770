#include "manager/request_routes.hpp"

#include <gtest/gtest.h>

namespace rtconn::detail {
namespace {

SipMessage request_to(std::string_view to, std::string_view request_uri = "sip:x@y") {
  auto request = SipMessage::request("MESSAGE", request_uri);
  request.add_header("To", to);
  return request;
}

// What the handler `routes` picks for a request with this To does with it; "none..." for none.
std::string chosen(const RequestRoutes& routes, std::string_view to) {
  const auto choice = routes.choose(request_to(to));
  if (!choice.handler) return choice.names_no_owner ? "none: no owner" : "none";
  IncomingRequest request(request_to(to), nullptr);
  return (*choice.handler)(request) ? "taken" : "declined";
}

RequestHandler taking() {
  return [](IncomingRequest&) { return true; };
}

RequestHandler declining() {
  return [](IncomingRequest&) { return false; };
}

TEST(RequestRoutes, OwnerKeyKeepsWhatNamesAUser) {
  EXPECT_EQ(RequestRoutes::owner_key("sip:alice@Example.COM"), "sip:alice@example.com");
  EXPECT_EQ(RequestRoutes::owner_key("<SIPS:alice@h:5061;transport=tls>"), "sips:alice@h:5061");
  EXPECT_EQ(RequestRoutes::owner_key("sip:h"), "sip:@h");
  EXPECT_NE(RequestRoutes::owner_key("sip:Alice@h"), RequestRoutes::owner_key("sip:alice@h"));
  EXPECT_NE(RequestRoutes::owner_key("sip:a@h:5060"), RequestRoutes::owner_key("sip:a@h"));
  EXPECT_EQ(RequestRoutes::owner_key("sip:u@[::1]:5060"), "sip:u@[::1]:5060");
  EXPECT_NE(RequestRoutes::owner_key("sip:u@[::1]:5060"),
            RequestRoutes::owner_key("sip:u@[::1:5060]"));
  EXPECT_EQ(RequestRoutes::owner_key("tel:+123"), std::nullopt);
  EXPECT_EQ(RequestRoutes::owner_key(""), std::nullopt);
}

TEST(RequestRoutes, WithoutOwnersTheDefaultTakesAll) {
  RequestRoutes routes;
  EXPECT_EQ(chosen(routes, "<sip:a@h>"), "none");
  routes = routes.with_default(taking());
  EXPECT_EQ(chosen(routes, "<sip:a@h>"), "taken");
  EXPECT_EQ(chosen(routes, "garbage"), "taken");
  routes = routes.with_default({});
  EXPECT_EQ(chosen(routes, "<sip:a@h>"), "none");
}

TEST(RequestRoutes, TheToChoosesTheOwner) {
  const auto routes = RequestRoutes{}
                          .with_owner(*RequestRoutes::owner_key("sip:alice@h"), taking())
                          .with_owner(*RequestRoutes::owner_key("sip:bob@h"), declining());
  EXPECT_EQ(chosen(routes, "\"Alice\" <sip:alice@H;transport=tcp>;tag=1"), "taken");
  EXPECT_EQ(chosen(routes, "sip:bob@h;tag=2"), "declined");
  EXPECT_EQ(chosen(routes, "<sip:carol@h>"), "none: no owner");
  EXPECT_EQ(chosen(routes, "<sips:alice@h>"), "none: no owner");
  EXPECT_EQ(chosen(routes, "<sip:alice@h"), "none: no owner");  // unclosed
}

TEST(RequestRoutes, ARequestUriNamesTheOwnerWhenTheToNamesNone) {
  const auto routes =
      RequestRoutes{}.with_owner(*RequestRoutes::owner_key("sip:alice@h"), taking());
  const auto forwarded = request_to("<sip:bob@h>", "sip:alice@h");
  EXPECT_NE(routes.choose(forwarded).handler, nullptr) << "forwarded from bob to alice";
  EXPECT_NE(routes.choose(request_to("<tel:+15551234>", "sip:alice@h")).handler, nullptr);
  const auto neither = routes.choose(request_to("<sip:bob@h>", "sip:carol@h"));
  EXPECT_EQ(neither.handler, nullptr);
  EXPECT_TRUE(neither.names_no_owner);
}

TEST(RequestRoutes, TheDefaultTakesWhatNamesNoOwner) {
  const auto routes = RequestRoutes{}
                          .with_owner(*RequestRoutes::owner_key("sip:alice@h"), declining())
                          .with_default(taking());
  EXPECT_EQ(chosen(routes, "<sip:alice@h>"), "declined");
  EXPECT_EQ(chosen(routes, "<sip:carol@h>"), "taken");
}

TEST(RequestRoutes, StrictDispatchingSendsAllToTheOnlyOwner) {
  auto routes = RequestRoutes{}
                    .with_owner(*RequestRoutes::owner_key("sip:alice@h"), taking())
                    .with_default(declining())
                    .with_strict_dispatching(true);
  EXPECT_TRUE(routes.strict_dispatching());
  EXPECT_EQ(chosen(routes, "<sip:carol@h>"), "taken");
  routes = routes.with_owner(*RequestRoutes::owner_key("sip:bob@h"), declining());
  EXPECT_EQ(chosen(routes, "<sip:carol@h>"), "declined") << "two owners: to the default";
  EXPECT_EQ(chosen(routes, "<sip:bob@h>"), "declined");
  routes = routes.with_owner(*RequestRoutes::owner_key("sip:bob@h"), {});
  EXPECT_EQ(chosen(routes, "<sip:bob@h>"), "taken") << "bob removed: alice is the only owner";
  routes = routes.with_strict_dispatching(false);
  EXPECT_EQ(chosen(routes, "<sip:carol@h>"), "declined");
}

TEST(RequestRoutes, ChangesMakeCopiesAndLeaveTheOriginal) {
  const RequestRoutes empty;
  const auto with_alice = empty.with_owner(*RequestRoutes::owner_key("sip:alice@h"), taking());
  EXPECT_EQ(chosen(empty, "<sip:alice@h>"), "none");
  EXPECT_EQ(chosen(with_alice, "<sip:alice@h>"), "taken");
}

}  // namespace
}  // namespace rtconn::detail
