#pragma once
// The Content-Security-Policy the dashboard is served with: nothing runs or
// styles the page but its own inline <script> and <style> blocks, allowed
// by their SHA-256 (so an injected script, inline or from elsewhere, does
// not run), it talks only to its own origin, and no one may frame it.

#include <string>
#include <string_view>

namespace herald::api {

// The policy for `html`: a hash for each inline <script> (without src) and
// <style> block, in the form CSP Level 2 wants ('sha256-<base64>').
std::string ContentSecurityPolicy(std::string_view html);

}  // namespace herald::api
