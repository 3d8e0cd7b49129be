#include "config/service_url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/url.hpp>

namespace herald::config {
namespace {

namespace urls = boost::urls;

constexpr std::string_view kRedisForm = "redis://[[user]:password@]host[:port][/db]";
constexpr std::string_view kPostgresForm =
    "postgresql://[user[:password]@][host][:port][/database][?option=value]";

Error RedisError(std::string what) {
  return MakeError(Errc::kBadRequest, "REDIS_URL: " + std::move(what));
}

Error PostgresError(std::string what) {
  return MakeError(Errc::kBadRequest, "DATABASE_URL: " + std::move(what));
}

template <class Int>
bool ParseDecimal(std::string_view text, Int* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::optional<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  if (!ParseDecimal(text, &value) || value == 0 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The scheme as written before "://", lower-cased ("" when there is none).
std::string SchemeOf(std::string_view url) {
  const size_t end = url.find("://");
  if (end == std::string_view::npos) return "";
  return Lower(url.substr(0, end));
}

std::string Decode(urls::pct_string_view text) { return text.decode(urls::encoding_opts{}); }

// The value of a keyword/value connection string's (or a query's)
// `password`, quoted or not, replaced by "***".
std::string RedactKeywordPassword(std::string text) {
  size_t pos = 0;
  while ((pos = text.find("password", pos)) != std::string::npos) {
    const bool starts_word = pos == 0 || text[pos - 1] == ' ' || text[pos - 1] == '\t' ||
                             text[pos - 1] == '?' || text[pos - 1] == '&';
    size_t i = pos + 8;
    while (i < text.size() && text[i] == ' ') ++i;
    if (!starts_word || i >= text.size() || text[i] != '=') {
      pos += 8;
      continue;
    }
    ++i;
    while (i < text.size() && text[i] == ' ') ++i;
    size_t end = i;
    if (end < text.size() && text[end] == '\'') {
      for (++end; end < text.size() && text[end] != '\''; ++end) {
        if (text[end] == '\\') ++end;
      }
      end = std::min(end + 1, text.size());
    } else {
      while (end < text.size() && text[end] != ' ' && text[end] != '&') ++end;
    }
    text.replace(i, end - i, "***");
    pos = i + 3;
  }
  return text;
}

// Where a URL's password sits: after the first ':' of the user info, up to
// the last '@'. A password with an unencoded '@' or '/' must not show
// however a parser would split it.
struct Span {
  size_t pos;
  size_t len;
};
std::optional<Span> UserinfoPassword(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const size_t start = scheme_end + 3;
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos || at <= start) return std::nullopt;
  const size_t colon = url.find(':', start);
  if (colon == std::string_view::npos || colon >= at) return std::nullopt;
  return Span{colon + 1, at - colon - 1};
}

// Parses a URL with an authority ("scheme://..."). Boost.URL 1.81 ends the
// authority at the first character that cannot continue it and reads the
// rest as the path ("redis://:p@ss@host" gives host "ss" and path
// "@host"), so a path that does not start with '/' means the URL was not
// what it seemed: refused here.
std::optional<urls::url_view> ParseWithAuthority(std::string_view text) {
  auto parsed = urls::parse_uri(text);
  if (!parsed || !parsed->has_authority()) return std::nullopt;
  const auto path = parsed->encoded_path();
  if (!path.empty() && path.front() != '/') return std::nullopt;
  return *parsed;
}

// Why a URL that ParseWithAuthority refused does not parse, as precisely as
// the text allows, never quoting the password.
std::string SyntaxProblem(std::string_view text, std::string_view form, bool postgres) {
  const size_t start = text.find("://") + 3;
  const size_t authority_end = std::min(text.find_first_of("/?#", start), text.size());
  const std::string_view authority = text.substr(start, authority_end - start);
  // An '@' beyond the authority (before any query), or two in it: the
  // password holds an unencoded '/' or '@'.
  const size_t at = text.substr(0, text.find_first_of("?#", start)).rfind('@');
  if ((at != std::string_view::npos && at >= authority_end) ||
      authority.find('@') != authority.rfind('@')) {
    return "invalid URL " + RedactUrl(text) +
           ": check its syntax; special characters in the password must be percent-encoded";
  }
  std::string_view host_port = authority.substr(authority.rfind('@') + 1);
  if (postgres && host_port.find(',') != std::string_view::npos) {
    return "several hosts are not supported; give one";
  }
  if (size_t close = host_port.rfind(']'); close != std::string_view::npos) {
    host_port = host_port.substr(close + 1);
  }
  if (size_t colon = host_port.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = host_port.substr(colon + 1);
    if (port.empty() ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return "the port must be a number from 1 to 65535";
    }
  }
  return "'" + RedactUrl(text) + "' is not a valid URL: expected " + std::string(form) +
         "; special characters in the password must be percent-encoded";
}

}  // namespace

// ---------------------------------------------------------------------------

std::string RedactUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return RedactKeywordPassword(std::string(url));
  std::string out(url);
  if (auto span = UserinfoPassword(url)) {
    out.replace(span->pos, span->len, "***");
  } else if (const size_t at = out.rfind('@');
             SchemeOf(url) == "redis" && at != std::string::npos && at > scheme_end + 3) {
    out.replace(scheme_end + 3, at - scheme_end - 3, "***");  // redis://password@host
  }
  // ...?password=secret&...
  const size_t query = out.find('?', scheme_end);
  if (query == std::string::npos) return out;
  return out.substr(0, query) + RedactKeywordPassword(out.substr(query));
}

Result<RedisUrl> ParseRedisUrl(std::string_view text) {
  const std::string scheme = SchemeOf(text);
  if (scheme == "rediss") return RedisError("rediss:// (TLS) is not supported; expected redis://");
  if (scheme != "redis") return RedisError("expected " + std::string(kRedisForm));
  auto parsed = ParseWithAuthority(text);
  if (!parsed) return RedisError(SyntaxProblem(text, kRedisForm, /*postgres=*/false));
  const urls::url_view& url = *parsed;
  if (url.has_query() || url.has_fragment()) {
    return RedisError("query strings and fragments are not supported");
  }
  RedisUrl out;

  // Path: "/db", possibly empty.
  std::string path = url.path();
  if (!path.empty() && path.front() == '/') path.erase(0, 1);
  if (!path.empty() && (!ParseDecimal(std::string_view(path), &out.db) || out.db < 0)) {
    return RedisError("the database must be a number, e.g. redis://host:6379/0");
  }

  // User info: "[user]:password@" or "password@" (taken as the password).
  if (url.has_userinfo()) {
    if (url.has_password()) {
      out.username = url.user();
      out.password = url.password();
    } else {
      out.password = url.user();
    }
    if (!out.username.empty() && out.password.empty()) {
      return RedisError("a user name needs a password");
    }
  }

  if (url.host_type() == urls::host_type::ipvfuture) return RedisError("bad host");
  out.host = url.host_address();
  if (out.host.empty()) return RedisError("missing host");
  if (out.host.find_first_of(" \t/@") != std::string::npos) return RedisError("bad host");
  if (url.has_port()) {
    auto port = ParsePort(url.port());
    if (!port) return RedisError("the port must be a number from 1 to 65535");
    out.port = *port;
  }
  return out;
}

// ---------------------------------------------------------------------------

std::optional<std::string_view> PostgresUrl::Option(std::string_view key) const {
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    if (it->first == key) return std::string_view(it->second);
  }
  return std::nullopt;
}

Result<PostgresUrl> ParsePostgresUrl(std::string_view text) {
  const std::string expected = "expected " + std::string(kPostgresForm);
  if (text.empty()) return PostgresError("empty; " + expected);
  const std::string scheme = SchemeOf(text);
  if (scheme.empty()) {
    return PostgresError("not a URL (key=value connection strings are not supported); " + expected);
  }
  if (scheme != "postgresql" && scheme != "postgres") {
    return PostgresError("'" + scheme + "' is not a PostgreSQL scheme; " + expected);
  }
  auto parsed = ParseWithAuthority(text);
  if (!parsed) return PostgresError(SyntaxProblem(text, kPostgresForm, /*postgres=*/true));
  const urls::url_view& url = *parsed;
  if (url.has_fragment()) return PostgresError("a fragment ('#...') is not supported");
  PostgresUrl out;

  if (url.has_userinfo()) {
    out.user = url.user();
    if (url.has_password()) {
      out.password = url.password();
      out.secrets.emplace_back(url.encoded_password());
      out.secrets.push_back(out.password);
    }
  }

  if (url.host_type() == urls::host_type::ipvfuture) return PostgresError("bad host");
  out.host = url.host_address();
  if (out.host.find(',') != std::string::npos) {
    return PostgresError("several hosts are not supported; give one");
  }
  if (url.has_port()) {
    out.port = ParsePort(url.port());
    if (!out.port) return PostgresError("the port must be a number from 1 to 65535");
  }

  out.database = url.path();
  if (!out.database.empty() && out.database.front() == '/') out.database.erase(0, 1);

  // libpq lets the query say what the rest of the URL said, and prefers it.
  for (const auto& param : url.encoded_params()) {
    std::string key = Decode(param.key);
    std::string value = param.has_value ? Decode(param.value) : std::string();
    if (key == "password") {
      out.password = value;
      out.secrets.emplace_back(std::string_view(param.value));
      out.secrets.push_back(value);
    } else if (key == "user") {
      out.user = value;
    } else if (key == "dbname") {
      out.database = value;
    } else if (key == "host") {
      out.host = value;
    } else if (key == "port") {
      out.port = ParsePort(value);
      if (!out.port) return PostgresError("the port must be a number from 1 to 65535");
    }
    out.options.emplace_back(std::move(key), std::move(value));
  }
  std::erase_if(out.secrets, [](const std::string& s) { return s.empty(); });

  auto has_nul = [](const std::string& s) { return s.find('\0') != std::string::npos; };
  if (has_nul(out.user) || has_nul(out.password) || has_nul(out.database) || has_nul(out.host)) {
    return PostgresError("a NUL byte (%00) is not allowed");
  }
  return out;
}

}  // namespace herald::config
