// GET /api/v1/openapi.json against the real server: the document is
// served without a token, every $ref in it resolves, and every operation it
// documents is called on a running Herald (with the document's own request
// example as the body): the server answers with a status the document lists
// for that operation, and a JSON reply matches the documented schema.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>
#include <string>

#include "integration/test_server.h"

namespace herald {
namespace {

namespace json = boost::json;
using test::Request;
using test::TestServer;
using namespace std::chrono_literals;

// "#/components/schemas/Job" -> the value it names (a copy; null and a
// test failure when it names nothing). The document's keys hold no '~'.
json::value Resolve(const json::object& doc, std::string_view ref) {
  const json::object* at = &doc;
  const json::value* found = nullptr;
  if (!ref.starts_with("#/")) {
    ADD_FAILURE() << "not a local $ref: " << ref;
    return nullptr;
  }
  for (std::string_view rest = ref.substr(2); at;) {
    const auto slash = rest.find('/');
    found = at->if_contains(rest.substr(0, slash));
    if (!found || slash == std::string_view::npos) break;
    at = found->if_object();
    rest = rest.substr(slash + 1);
  }
  if (!found) {
    ADD_FAILURE() << "unresolved $ref " << ref;
    return nullptr;
  }
  return *found;
}

// The subset of JSON Schema 2020-12 the document uses: $ref, type (one or
// a list), const, enum, required, properties, additionalProperties (a
// schema), items, allOf, oneOf, minimum, maximum, maxItems. Appends every
// mismatch to `errors` with its JSON path.
void Validate(const json::object& doc, const json::value& schema_value, const json::value& v,
              const std::string& path, std::vector<std::string>& errors) {
  if (!schema_value.is_object()) return;
  const json::object& s = schema_value.as_object();
  if (const json::value* ref = s.if_contains("$ref")) {
    Validate(doc, Resolve(doc, ref->as_string()), v, path, errors);
    return;
  }
  if (const json::value* all = s.if_contains("allOf")) {
    for (const json::value& sub : all->as_array()) Validate(doc, sub, v, path, errors);
  }
  if (const json::value* one = s.if_contains("oneOf")) {
    int matched = 0;
    for (const json::value& sub : one->as_array()) {
      std::vector<std::string> sub_errors;
      Validate(doc, sub, v, path, sub_errors);
      matched += sub_errors.empty();
    }
    if (matched != 1) errors.push_back(path + ": matches " + std::to_string(matched) + " of oneOf");
  }
  if (const json::value* type = s.if_contains("type")) {
    auto is = [&](std::string_view t) {
      if (t == "object") return v.is_object();
      if (t == "array") return v.is_array();
      if (t == "string") return v.is_string();
      if (t == "integer") return v.is_int64() || v.is_uint64();
      if (t == "number") return v.is_number();
      if (t == "boolean") return v.is_bool();
      if (t == "null") return v.is_null();
      return false;
    };
    bool ok = false;
    if (type->is_string())
      ok = is(type->as_string());
    else
      for (const json::value& t : type->as_array()) ok = ok || is(t.as_string());
    if (!ok) {
      errors.push_back(path + ": not " + json::serialize(*type) + ": " + json::serialize(v));
      return;
    }
  }
  if (const json::value* c = s.if_contains("const"); c && *c != v)
    errors.push_back(path + ": not the const " + json::serialize(*c));
  if (const json::value* e = s.if_contains("enum")) {
    bool found = false;
    for (const json::value& x : e->as_array()) found = found || x == v;
    if (!found)
      errors.push_back(path + ": " + json::serialize(v) + " not in " + json::serialize(*e));
  }
  if (v.is_number()) {
    const double n = v.to_number<double>();
    if (const json::value* lo = s.if_contains("minimum"); lo && n < lo->to_number<double>())
      errors.push_back(path + ": below minimum");
    if (const json::value* hi = s.if_contains("maximum"); hi && n > hi->to_number<double>())
      errors.push_back(path + ": above maximum");
  }
  if (v.is_object()) {
    const json::object& o = v.as_object();
    if (const json::value* req = s.if_contains("required")) {
      for (const json::value& k : req->as_array())
        if (!o.contains(k.as_string()))
          errors.push_back(path + ": required " + std::string(k.as_string()) + " missing");
    }
    const json::object* props = nullptr;
    if (const json::value* p = s.if_contains("properties")) props = &p->as_object();
    for (const auto& [key, value] : o) {
      if (props && props->contains(key)) {
        Validate(doc, props->at(key), value, path + "." + std::string(key), errors);
      } else if (const json::value* extra = s.if_contains("additionalProperties")) {
        Validate(doc, *extra, value, path + "." + std::string(key), errors);
      }
    }
  }
  if (v.is_array()) {
    const json::array& a = v.as_array();
    if (const json::value* max = s.if_contains("maxItems");
        max && a.size() > max->to_number<size_t>())
      errors.push_back(path + ": too many items");
    if (const json::value* items = s.if_contains("items")) {
      for (size_t i = 0; i < a.size(); ++i)
        Validate(doc, *items, a[i], path + "[" + std::to_string(i) + "]", errors);
    }
  }
}

// Every "$ref" anywhere in `v` resolves.
void CheckRefs(const json::object& doc, const json::value& v, std::set<std::string>& seen) {
  if (v.is_object()) {
    for (const auto& [k, x] : v.as_object()) {
      if (k == "$ref" && x.is_string()) {
        const std::string ref(x.as_string());
        EXPECT_FALSE(Resolve(doc, ref).is_null()) << ref;
        seen.insert(ref);
      } else {
        CheckRefs(doc, x, seen);
      }
    }
  } else if (v.is_array()) {
    for (const json::value& x : v.as_array()) CheckRefs(doc, x, seen);
  }
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto res = Request(server_.port(), "GET", "/api/v1/openapi.json");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.Header("content-type"), "application/json");
    doc_ = json::parse(res.body).as_object();
  }

  test::Headers Admin() const {
    return TestServer::Bearer(TestServer::Token("alice", auth::Role::kAdmin));
  }

  // A new audit (kind "audits") or generic job, owned by alice.
  int64_t Fresh(bool audit) {
    if (!audit) return server_.CreateJob("alice", "translation");
    auto res = Request(server_.port(), "POST", "/api/v1/audits", Admin(),
                       R"({"url":"http://93.184.216.34/","owner":"alice"})");
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body).at("id").as_int64();
  }

  // Ends `id` completed (with a report, for an audit).
  void Complete(int64_t id, bool audit) {
    const std::string report =
        audit
            ? R"(,"geo_score":78.5,"report":{"geo_score":78.5,"issue_counts":{"critical":0,"high":0,"medium":1,"low":0},
                "findings":{"medium":[{"check_id":"meta_description.missing","page":"http://93.184.216.34/",
                "message":"No meta description.","fix":"Add one."}]},"pages":[],"site":{}})"
            : "";
    EXPECT_EQ(server_.Publish(id, R"({"status":"completed")" + report + "}"), 202);
  }

  TestServer server_;
  json::object doc_;
};

TEST_F(OpenApiTest, TheDocumentIsOpenApi31AndEveryRefResolves) {
  EXPECT_EQ(doc_.at("openapi").as_string(), "3.1.0");
  EXPECT_FALSE(doc_.at("info").at("title").as_string().empty());
  std::set<std::string> seen;
  CheckRefs(doc_, doc_, seen);
  // Every schema and shared response is used somewhere.
  for (std::string_view part : {"schemas", "responses"}) {
    for (const auto& [name, unused] : doc_.at("components").at(part).as_object()) {
      EXPECT_TRUE(seen.contains("#/components/" + std::string(part) + "/" + std::string(name)))
          << part << "/" << name << " is never used";
    }
  }
  // Every operation has an id and a response.
  std::set<std::string> ids;
  for (const auto& [path, item] : doc_.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      const std::string id(op.at("operationId").as_string());
      EXPECT_TRUE(ids.insert(id).second) << "operationId " << id << " twice";
      EXPECT_FALSE(op.at("responses").as_object().empty()) << path;
    }
  }
}

TEST_F(OpenApiTest, EveryDocumentedOperationIsServedAsDocumented) {
  int called = 0;
  for (const auto& [path_key, item] : doc_.at("paths").as_object()) {
    const std::string path(path_key);
    for (const auto& [method_key, op_value] : item.as_object()) {
      const std::string method = [&] {
        std::string m(method_key);
        for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return m;
      }();
      const json::object& op = op_value.as_object();
      SCOPED_TRACE(method + " " + path);
      std::string target = path;
      if (auto brace = target.find("{id}"); brace != std::string::npos) {
        const bool audit = path.find("/audits/") != std::string::npos;
        const int64_t id = Fresh(audit);
        // The report exists once the audit completed; a completed job's
        // stream sends its state and ends.
        if (path.ends_with("/report") || path.starts_with("/api/v1/sse/")) Complete(id, audit);
        target.replace(brace, 4, std::to_string(id));
      }
      std::string body;
      if (const json::value* rb = op.if_contains("requestBody")) {
        const json::value* example =
            rb->at("content").at("application/json").as_object().if_contains("example");
        ASSERT_TRUE(example) << "a request body without an example";
        body = json::serialize(*example);
      }
      test::Headers headers = Admin();
      if (path.ends_with("/report")) target += "?format=json";

      int status = 0;
      std::string content_type, reply;
      if (path == "/notify/events") {
        auto stream = test::SseClient::Open(server_.port(), target, headers);
        status = stream->status();
        content_type = stream->Header("content-type");
      } else {
        auto res = Request(server_.port(), method, target, headers, body);
        status = res.status;
        content_type = res.Header("content-type");
        reply = res.body;
      }
      ++called;
      const json::object& responses = op.at("responses").as_object();
      const json::value* documented = responses.if_contains(std::to_string(status));
      ASSERT_TRUE(documented) << "status " << status << " is not documented: " << reply;
      EXPECT_LT(status, 400) << "the document's own example failed: " << reply;
      json::value response = *documented;
      if (const json::value* ref = response.as_object().if_contains("$ref"))
        response = Resolve(doc_, ref->as_string());
      const json::value* content = response.as_object().if_contains("content");
      if (!content) continue;
      // The reply's media type is one the document lists.
      bool listed = false;
      for (const auto& [type, unused] : content->as_object())
        listed = listed || content_type.starts_with(std::string(type));
      EXPECT_TRUE(listed) << content_type << " not in " << json::serialize(*content);
      if (!content_type.starts_with("application/json")) continue;
      std::vector<std::string> errors;
      Validate(doc_, content->at("application/json").at("schema"), json::parse(reply), "$", errors);
      for (const std::string& e : errors) ADD_FAILURE() << e << "\nin " << reply;
    }
  }
  EXPECT_GE(called, 25);
}

// The errors the document promises, as the server sends them.
TEST_F(OpenApiTest, ErrorsMatchTheErrorSchema) {
  const json::value error_schema = doc_.at("components").at("schemas").at("Error");
  const std::vector<std::tuple<std::string, std::string, test::Headers, int>> cases = {
      {"GET", "/api/v1/jobs/999999", Admin(), 404},
      {"GET", "/api/v1/jobs", {}, 401},
      {"GET", "/api/v1/jobs?limit=0", Admin(), 400},
      {"POST", "/api/v1/progress", TestServer::Bearer(TestServer::Token("bob")), 403},
  };
  for (const auto& [method, target, headers, want] : cases) {
    auto res = Request(server_.port(), method, target, headers, method == "POST" ? "[]" : "");
    EXPECT_EQ(res.status, want) << target << ": " << res.body;
    std::vector<std::string> errors;
    Validate(doc_, error_schema, json::parse(res.body), "$", errors);
    EXPECT_TRUE(errors.empty()) << target << ": " << res.body;
  }
}

}  // namespace
}  // namespace herald
