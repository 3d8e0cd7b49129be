#pragma once
// Stream tickets (POST /api/v1/sse/tickets): a browser opens an
// EventSource with `?ticket=` instead of putting its long-lived JWT in a
// URL, where proxies and server logs keep it. A ticket is 256 random bits,
// base64url; the store keeps only its SHA-256, so a copy of the database
// opens no stream.

#include <string>
#include <string_view>

namespace herald::auth {

inline constexpr int kTicketSeconds = 60;

// A new ticket (43 characters of base64url).
std::string NewStreamTicket();
// What the store keeps of it: SHA-256, lowercase hex.
std::string StreamTicketHash(std::string_view ticket);

}  // namespace herald::auth
