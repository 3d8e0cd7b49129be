#include "api/page_policy.h"

#include <openssl/evp.h>

#include <array>
#include <string>
#include <vector>

namespace herald::api {
namespace {

// 'sha256-<standard base64 of the digest>' of exactly the block's text.
std::string HashSource(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(length));
  return "'sha256-" +
         std::string(reinterpret_cast<const char*>(b64.data()), static_cast<size_t>(n)) + "'";
}

// The hashes of every block `<tag ...>text</tag>` whose opening tag has no
// src attribute (a script loaded from a URL is not inline).
std::vector<std::string> InlineBlocks(std::string_view html, std::string_view tag) {
  std::vector<std::string> hashes;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  size_t at = 0;
  while ((at = html.find(open, at)) != std::string_view::npos) {
    const size_t after_name = at + open.size();
    if (after_name >= html.size() || (html[after_name] != '>' && html[after_name] != ' ')) {
      at = after_name;
      continue;
    }
    const size_t head_end = html.find('>', after_name);
    if (head_end == std::string_view::npos) break;
    const size_t end = html.find(close, head_end + 1);
    if (end == std::string_view::npos) break;
    if (html.substr(after_name, head_end - after_name).find("src=") == std::string_view::npos) {
      hashes.push_back(HashSource(html.substr(head_end + 1, end - head_end - 1)));
    }
    at = end + close.size();
  }
  return hashes;
}

std::string Join(const std::vector<std::string>& sources) {
  if (sources.empty()) return "'none'";
  std::string out;
  for (const auto& s : sources) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace

std::string ContentSecurityPolicy(std::string_view html) {
  return "default-src 'none'; script-src " + Join(InlineBlocks(html, "script")) + "; style-src " +
         Join(InlineBlocks(html, "style")) +
         "; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
         "frame-ancestors 'none'";
}

}  // namespace herald::api
