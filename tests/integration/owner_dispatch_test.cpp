// Dispatch by owner (UCMA: the endpoints a manager hosts, each by its owner URI): a request goes
// to the handler of the owner its To names, else to the default handler; one that names no owner
// and finds no default is answered 404 (481 in a dialog); StrictDispatching hands everything to
// a lone owner.

#include <gtest/gtest.h>

#include <latch>
#include <stdexcept>
#include <thread>

#include "loopback.hpp"

namespace rtconn::test {
namespace {

class OwnerDispatch : public Loopback {
 protected:
  void SetUp() override {
    start_server();
    make_client();
  }

  // A handler answering 200 with X-Owner: `name`.
  static RequestHandler answering_as(std::string name) {
    return [name = std::move(name)](IncomingRequest& request) {
      auto response = request.make_response(200);
      response.add_header("X-Owner", name);
      request.async_respond(std::move(response), [](std::error_code) {});
      return true;
    };
  }

  // The status and X-Owner of the answer to a MESSAGE whose To is `to`.
  std::pair<int, std::string> answer_to(const std::string& to, const std::string& to_tag = {}) {
    const auto answer = request_and_wait(make_request("MESSAGE", to, to_tag));
    EXPECT_FALSE(answer.ec) << answer.ec.message();
    return {answer.response.status_code(),
            std::string(answer.response.header("X-Owner").value_or(""))};
  }
};

TEST_F(OwnerDispatch, EachOwnerGetsTheRequestsToIt) {
  server->set_request_handler("sip:alice@example.com", answering_as("alice"));
  server->set_request_handler("sips:bob@Example.COM", answering_as("bob"));
  EXPECT_EQ(answer_to("sip:alice@EXAMPLE.com"), std::make_pair(200, std::string("alice")));
  EXPECT_EQ(answer_to("sips:bob@example.com"), std::make_pair(200, std::string("bob")));
  EXPECT_EQ(answer_to("sip:alice@example.com", "dialog-1"),
            std::make_pair(200, std::string("alice")));
}

TEST_F(OwnerDispatch, ARequestToNoOwnerIs404OutsideADialogAnd481InOne) {
  server->set_request_handler("sip:alice@example.com", answering_as("alice"));
  EXPECT_EQ(answer_to("sip:carol@example.com").first, 404);
  EXPECT_EQ(answer_to("sips:alice@example.com").first, 404) << "another scheme, another user";
  EXPECT_EQ(answer_to("sip:alice@example.com:5060").first, 404) << "a port written is not none";
  EXPECT_EQ(answer_to("sip:carol@example.com", "dialog-2").first, 481);
  const auto cancel = request_and_wait(make_request("CANCEL", "sip:carol@example.com"));
  EXPECT_EQ(cancel.response.status_code(), 481) << "a CANCEL matches no transaction here";
}

TEST_F(OwnerDispatch, TheRequestUriNamesTheOwnerWhenTheToNamesNone) {
  server->set_request_handler("sip:alice@example.com", answering_as("alice"));
  auto forwarded = make_request("MESSAGE", "sip:alice@example.com");
  forwarded.set_header("To", "<tel:+15551234>");
  const auto answer = request_and_wait(std::move(forwarded));
  EXPECT_EQ(answer.response.status_code(), 200);
  EXPECT_EQ(answer.response.header("X-Owner"), "alice");
}

TEST_F(OwnerDispatch, TheDefaultHandlerTakesWhatNamesNoOwner) {
  server->set_request_handler("sip:alice@example.com", answering_as("alice"));
  server->set_request_handler(answering_as("default"));
  EXPECT_EQ(answer_to("sip:carol@example.com"), std::make_pair(200, std::string("default")));
  EXPECT_EQ(answer_to("sip:alice@example.com"), std::make_pair(200, std::string("alice")));
}

TEST_F(OwnerDispatch, AnOwnerThatDeclinesGetsTheUsualAnswer) {
  server->set_request_handler("sip:alice@example.com", [](IncomingRequest&) { return false; });
  server->set_request_handler(answering_as("default"));
  EXPECT_EQ(answer_to("sip:alice@example.com").first, 500) << "not handed on to the default";
}

TEST_F(OwnerDispatch, RemovingTheLastOwnerRestoresTheDefaultAnswer) {
  server->set_request_handler("sip:alice@example.com", answering_as("alice"));
  server->set_request_handler("sip:alice@example.com", {});
  EXPECT_EQ(answer_to("sip:carol@example.com").first, 500);
}

TEST_F(OwnerDispatch, StrictDispatchingHandsEverythingToALoneOwner) {
  EXPECT_FALSE(server->strict_dispatching());
  server->set_request_handler("sip:alice@example.com", answering_as("alice"));
  server->set_request_handler(answering_as("default"));
  server->set_strict_dispatching(true);
  EXPECT_TRUE(server->strict_dispatching());
  EXPECT_EQ(answer_to("sip:carol@example.com"), std::make_pair(200, std::string("alice")));
  server->set_request_handler("sip:bob@example.com", answering_as("bob"));
  EXPECT_EQ(answer_to("sip:carol@example.com"), std::make_pair(200, std::string("default")))
      << "two owners: the To decides again";
  EXPECT_EQ(answer_to("sip:bob@example.com"), std::make_pair(200, std::string("bob")));
}

TEST_F(OwnerDispatch, AnOwnerThatIsNoSipUriIsRefused) {
  EXPECT_THROW(server->set_request_handler("tel:+15551234", answering_as("x")),
               std::invalid_argument);
  EXPECT_THROW(server->set_request_handler("alice@example.com", answering_as("x")),
               std::invalid_argument);
  EXPECT_EQ(answer_to("sip:alice@example.com").first, 500) << "nothing was set";
}

TEST_F(OwnerDispatch, OwnersSetFromManyThreadsAtOnceAreAllKept) {
  constexpr int threads = 4;
  constexpr int owners_each = 200;
  std::latch start(threads);
  std::vector<std::thread> setters;
  for (int t = 0; t < threads; ++t) {
    setters.emplace_back([this, t, &start] {
      start.arrive_and_wait();  // all at once: the copies race
      for (int i = 0; i < owners_each; ++i) {
        const auto name = "u" + std::to_string(t) + "-" + std::to_string(i);
        server->set_request_handler("sip:" + name + "@example.com", answering_as(name));
      }
    });
  }
  for (auto& setter : setters) setter.join();
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < owners_each; ++i) {
      const auto name = "u" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_EQ(answer_to("sip:" + name + "@example.com"), std::make_pair(200, name));
    }
  }
}

}  // namespace
}  // namespace rtconn::test
