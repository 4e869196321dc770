// AllowedDomains: which client certificates a mutual-TLS server admits, by the domains they
// vouch for: an entry matches a domain exactly, a leading dot any name under it; an empty list
// admits everyone.
#include <gtest/gtest.h>

#include <stdexcept>

#include "manager/allowed_domains.hpp"

namespace rtconn::detail {
namespace {

CertificateInfo vouching_for(std::vector<std::string> domains) {
  CertificateInfo certificate;
  certificate.domains = std::move(domains);
  return certificate;
}

TEST(AllowedDomains, EmptyAdmitsEveryClientWithoutAName) {
  const AllowedDomains allowed;
  EXPECT_EQ(allowed.match(vouching_for({"a.example"})), std::string());
  EXPECT_EQ(allowed.match(vouching_for({})), std::string());
}

TEST(AllowedDomains, AnEntryMatchesItsDomainExactlyAndCaseAside) {
  AllowedDomains allowed;
  allowed.set({"proxy.example.com"});
  EXPECT_EQ(allowed.match(vouching_for({"Proxy.Example.COM"})), "Proxy.Example.COM");
  EXPECT_EQ(allowed.match(vouching_for({"other.example.com"})), std::nullopt);
  EXPECT_EQ(allowed.match(vouching_for({"a.proxy.example.com"})), std::nullopt);
  EXPECT_EQ(allowed.match(vouching_for({})), std::nullopt);
}

TEST(AllowedDomains, ALeadingDotMatchesTheNamesUnderIt) {
  AllowedDomains allowed;
  allowed.set({".example.com"});
  EXPECT_EQ(allowed.match(vouching_for({"a.example.com"})), "a.example.com");
  EXPECT_EQ(allowed.match(vouching_for({"b.a.EXAMPLE.com"})), "b.a.EXAMPLE.com");
  EXPECT_EQ(allowed.match(vouching_for({"example.com"})), std::nullopt);
  EXPECT_EQ(allowed.match(vouching_for({"badexample.com"})), std::nullopt);
}

TEST(AllowedDomains, AnyOfTheCertificatesDomainsWillDo) {
  AllowedDomains allowed;
  allowed.set({"b.example"});
  EXPECT_EQ(allowed.match(vouching_for({"a.example", "b.example"})), "b.example");
}

TEST(AllowedDomains, AddKeepsOneOfEachAndRemoveSaysWhetherItWasThere) {
  AllowedDomains allowed;
  allowed.add("a.example");
  allowed.add("A.EXAMPLE");
  allowed.add(".b.example");
  EXPECT_EQ(allowed.get(), (std::vector<std::string>{"a.example", ".b.example"}));
  EXPECT_TRUE(allowed.remove("a.Example"));
  EXPECT_FALSE(allowed.remove("a.example"));
  EXPECT_EQ(allowed.get(), (std::vector<std::string>{".b.example"}));
}

TEST(AllowedDomains, SetKeepsOneOfEachToo) {
  AllowedDomains allowed;
  allowed.set({"a.example", "A.Example", ".b.example"});
  EXPECT_EQ(allowed.get(), (std::vector<std::string>{"a.example", ".b.example"}));
}

TEST(AllowedDomains, WhatNamesNoDomainIsRefusedAndTheListKept) {
  AllowedDomains allowed;
  allowed.set({"a.example"});
  for (const char* bad : {"", ".", "*.example", "a..example"}) {
    EXPECT_THROW(allowed.add(bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW(allowed.set({"b.example", ""}), std::invalid_argument);
  EXPECT_EQ(allowed.get(), (std::vector<std::string>{"a.example"}));
}

TEST(AllowedDomains, AWildcardCertificateNameVouchesForNoDomain) {
  AllowedDomains allowed;
  allowed.set({".partner.example"});
  EXPECT_EQ(allowed.match(vouching_for({"*.partner.example"})), std::nullopt);
  EXPECT_EQ(allowed.match(vouching_for({"*.partner.example", "a.partner.example"})),
            "a.partner.example");
}

}  // namespace
}  // namespace rtconn::detail
