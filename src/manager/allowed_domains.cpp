#include "manager/allowed_domains.hpp"

#include <algorithm>
#include <stdexcept>

#include "sip/text.hpp"

namespace rtconn::detail {
namespace {

using sip::iequals;

void check(const std::string& domain) {
  if (domain.empty() || domain == "." || domain.find('*') != std::string::npos ||
      domain.find("..") != std::string::npos) {
    throw std::invalid_argument(
        "allowed domain: need a domain, or .domain for those under it (no wildcards)");
  }
}

bool listed(const std::vector<std::string>& domains, const std::string& domain) {
  return std::any_of(domains.begin(), domains.end(),
                     [&](const std::string& d) { return iequals(d, domain); });
}

// "example.com" admits that name; ".example.com" admits any name that ends with it (a name
// with at least one more label), as UCMA's leading dot does.
bool admits(std::string_view entry, std::string_view name) {
  if (entry.front() != '.') return iequals(entry, name);
  return name.size() > entry.size() && iequals(name.substr(name.size() - entry.size()), entry);
}

}  // namespace

std::vector<std::string> AllowedDomains::get() const {
  std::lock_guard lock(mutex_);
  return domains_;
}

void AllowedDomains::set(std::vector<std::string> domains) {
  std::vector<std::string> unique;
  for (auto& domain : domains) {
    check(domain);
    if (!listed(unique, domain)) unique.push_back(std::move(domain));
  }
  std::lock_guard lock(mutex_);
  domains_ = std::move(unique);
}

void AllowedDomains::add(const std::string& domain) {
  check(domain);
  std::lock_guard lock(mutex_);
  if (!listed(domains_, domain)) domains_.push_back(domain);
}

bool AllowedDomains::empty() const {
  std::lock_guard lock(mutex_);
  return domains_.empty();
}

bool AllowedDomains::remove(const std::string& domain) {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(domains_.begin(), domains_.end(),
                               [&](const std::string& d) { return iequals(d, domain); });
  if (it == domains_.end()) return false;
  domains_.erase(it);
  return true;
}

std::optional<std::string> AllowedDomains::match(const CertificateInfo& certificate) const {
  std::lock_guard lock(mutex_);
  if (domains_.empty()) return std::string();
  for (const auto& name : certificate.domains) {
    // A wildcard name vouches for no domain (RFC 5922 7.2), as for the client's server check.
    if (name.find('*') != std::string::npos) continue;
    for (const auto& entry : domains_) {
      if (admits(entry, name)) return name;
    }
  }
  return std::nullopt;
}

}  // namespace rtconn::detail
