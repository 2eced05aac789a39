#include "filter/odata_filter.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

using sb::filter::FilterSubject;
using sb::filter::ODataFilter;

namespace {

struct Connection {
  std::string id = "c1";
  std::optional<std::string> user;
  std::set<std::string, std::less<>> groups;
};

FilterSubject subject_of(const Connection& connection) {
  FilterSubject subject;
  subject.connection_id = connection.id;
  subject.has_user = connection.user.has_value();
  if (connection.user) subject.user_id = *connection.user;
  subject.in_group = [&connection](std::string_view group) { return connection.groups.count(group) > 0; };
  return subject;
}

ODataFilter parsed(std::string_view text) {
  auto filter = ODataFilter::parse(text);
  INFO("filter: ", text);
  REQUIRE_MESSAGE(filter.ok(), (filter.ok() ? std::string() : filter.error().message));
  return std::move(filter).value();
}

bool matches(std::string_view text, const Connection& connection) {
  return parsed(text).matches(subject_of(connection));
}

std::string error_of(std::string_view text) {
  auto filter = ODataFilter::parse(text);
  INFO("filter: ", text);
  REQUIRE_FALSE(filter.ok());
  CHECK(filter.error().code == "InvalidFilter");
  return filter.error().message;
}

Connection user(std::string name, std::set<std::string, std::less<>> groups = {}) {
  Connection connection;
  connection.user = std::move(name);
  connection.groups = std::move(groups);
  return connection;
}

Connection anonymous(std::set<std::string, std::less<>> groups = {}) {
  Connection connection;
  connection.groups = std::move(groups);
  return connection;
}

}  // namespace

TEST_CASE("matches the examples of Azure's filter reference") {
  // reference-odata-filter.md, "Identifiers" and "Examples".
  CHECK(matches("userId eq 'user1'", user("user1")));
  CHECK_FALSE(matches("userId eq 'user1'", user("user2")));
  CHECK(matches("connectionId ne '123'", user("u")));
  CHECK(matches("'group1' in groups", user("u", {"group1"})));
  CHECK_FALSE(matches("'group1' in groups", user("u", {"group2"})));

  const auto multiple_groups = "'group1' in groups or 'group2' in groups or 'group3' in groups";
  CHECK(matches(multiple_groups, anonymous({"group3"})));
  CHECK_FALSE(matches(multiple_groups, anonymous({"group4"})));

  const auto users_in_group = "userId in ('user1', 'user2', 'user3') and 'group1' in groups";
  CHECK(matches(users_in_group, user("user2", {"group1"})));
  CHECK_FALSE(matches(users_in_group, user("user2", {"group2"})));
  CHECK_FALSE(matches(users_in_group, user("user4", {"group1"})));

  Connection one = user("user1");
  CHECK(matches("userId eq 'user1' and connectionId ne '123'", one));
  one.id = "123";
  CHECK_FALSE(matches("userId eq 'user1' and connectionId ne '123'", one));

  const auto not_in_group = "userId eq 'user1' and (not ('group1' in groups))";
  CHECK(matches(not_in_group, user("user1", {"group2"})));
  CHECK_FALSE(matches(not_in_group, user("user1", {"group1"})));

  CHECK(matches("userId eq 'user''1'", user("user'1")));

  // The .NET SDK's ClientConnectionFilter example writes not( without a space.
  CHECK(matches("'group1' in groups and not('group2' in groups)", anonymous({"group1"})));
}

TEST_CASE("reads identifiers case-insensitively, as Azure documents") {
  CHECK(matches("USERID eq 'a'", user("a")));
  CHECK(matches("UserId eq 'a'", user("a")));
  CHECK(matches("connectionid eq 'c1'", user("a")));
  CHECK(matches("'g' in GROUPS", anonymous({"g"})));
  // Values stay case-sensitive: Azure offers tolower() for that.
  CHECK_FALSE(matches("userId eq 'A'", user("a")));
}

TEST_CASE("reads operators case-insensitively and null only in lowercase (OData 4.01 ABNF)") {
  CHECK(matches("userId EQ 'a' AND NOT ('g' IN groups) Or False", user("a")));
  CHECK(matches("userId Ne 'b' and TRUE", user("a")));
  CHECK(matches("userId eq null", anonymous()));
  CHECK(error_of("userId eq NULL") == "filter: unexpected 'NULL' at 10 (null is lowercase)");
  CHECK(error_of("userId eq Null") == "filter: unexpected 'Null' at 10 (null is lowercase)");
}

TEST_CASE("unescapes string literals") {
  CHECK(matches("userId eq ''", user("")));
  CHECK(matches("userId eq ''''", user("'")));
  CHECK(matches("userId eq 'a''''b'", user("a''b")));
  CHECK(matches("userId eq 'a (b), c or d'", user("a (b), c or d")));
  CHECK(matches("userId eq ' spaced '", user(" spaced ")));
  CHECK(matches("userId eq '\xc3\xa9t\xc3\xa9'", user("\xc3\xa9t\xc3\xa9")));  // UTF-8 bytes as they are
  CHECK(matches("'it''s' in groups", anonymous({"it's"})));
}

TEST_CASE("treats a missing user as null") {
  CHECK(matches("userId eq null", anonymous()));
  CHECK_FALSE(matches("userId ne null", anonymous()));
  CHECK_FALSE(matches("userId eq null", user("a")));
  CHECK(matches("userId ne null", user("a")));
  // An empty user id is a user id.
  CHECK_FALSE(matches("userId eq null", user("")));
  CHECK(matches("userId eq ''", user("")));
  CHECK_FALSE(matches("userId eq ''", anonymous()));
  CHECK(matches("null eq userId", anonymous()));
  CHECK(matches("null eq null", anonymous()));
  CHECK_FALSE(matches("null ne null", anonymous()));
  CHECK_FALSE(matches("'a' eq null", anonymous()));
  CHECK(matches("connectionId ne null", anonymous()));
}

TEST_CASE("compares strings ordinally, byte by byte") {
  struct Row {
    const char* filter;
    bool expected;
  };
  const std::vector<Row> rows = {
      {"'b' gt 'a'", true},        {"'a' gt 'a'", false}, {"'a' ge 'a'", true},  {"'a' lt 'b'", true},
      {"'b' lt 'a'", false},       {"'a' le 'a'", true},  {"'b' le 'a'", false}, {"'B' lt 'a'", true},  // 'B' is 0x42
      {"'a' lt 'ab'", true},       {"'' lt 'a'", true},   {"'a' eq 'a'", true},  {"'a' ne 'a'", false},
      {"'\xc3\xa9' gt 'z'", true},  // 0xc3 > 'z': bytes compare unsigned
      {"'10' lt '9'", true},        // strings, not numbers
  };
  for (const auto& row : rows) {
    INFO(row.filter);
    CHECK(matches(row.filter, anonymous()) == row.expected);
  }
  CHECK(matches("userId ge 'user-a' and userId lt 'user-b'", user("user-abc")));
  CHECK(matches("connectionId gt userId", user("a")));  // "c1" > "a"
}

TEST_CASE("makes relational comparisons with null false") {
  for (const char* op : {"gt", "ge", "lt", "le"}) {
    INFO(op);
    CHECK_FALSE(matches(std::string("userId ") + op + " 'a'", anonymous()));
    CHECK_FALSE(matches(std::string("'a' ") + op + " userId", anonymous()));
    CHECK_FALSE(matches(std::string("null ") + op + " null", anonymous()));
    CHECK_FALSE(matches(std::string("'a' ") + op + " null", anonymous()));
    // ... so their negation is true.
    CHECK(matches(std::string("not (userId ") + op + " 'a')", anonymous()));
  }
}

TEST_CASE("matches in-lists like a chain of eq") {
  CHECK(matches("userId in ('a', 'b')", user("b")));
  CHECK_FALSE(matches("userId in ('a', 'b')", user("c")));
  CHECK(matches("userId in ('a')", user("a")));
  CHECK_FALSE(matches("userId in ()", user("a")));  // OData 4.01 listExpr may be empty
  CHECK_FALSE(matches("userId in ('a')", anonymous()));
  CHECK(matches("userId in ('a', null)", anonymous()));
  CHECK(matches("'c1' in (userId, connectionId)", user("x")));
  CHECK(matches("connectionId in (('x'), 'c1')", user("x")));
  CHECK(matches("userId in ('x''y')", user("x'y")));
  CHECK(matches("not (userId in ('a', 'b'))", user("c")));
}

TEST_CASE("tests group membership through the subject") {
  CHECK(matches("'g' in groups", anonymous({"g", "h"})));
  CHECK_FALSE(matches("'g' in groups", anonymous({"G"})));
  CHECK(matches("'g' in (groups)", anonymous({"g"})));
  CHECK(matches("'g' in ((groups))", anonymous({"g"})));
  CHECK(matches("userId in groups", user("team", {"team"})));
  CHECK(matches("connectionId in groups", user("u", {"c1"})));
  CHECK_FALSE(matches("userId in groups", anonymous({""})));  // null is in no group
  CHECK(matches("not 'g' in groups", anonymous({"h"})));      // `in` binds tighter than `not`
  CHECK_FALSE(matches("not 'g' in groups", anonymous({"g"})));

  FilterSubject no_lookup;
  no_lookup.connection_id = "c1";
  CHECK_FALSE(parsed("'g' in groups").matches(no_lookup));
  CHECK(parsed("not ('g' in groups)").matches(no_lookup));

  CHECK(parsed("'g' in groups").uses_groups());
  CHECK(parsed("userId eq 'a' or not ('g' in (groups))").uses_groups());
  CHECK_FALSE(parsed("userId in ('groups')").uses_groups());
  CHECK_FALSE(parsed("userId eq 'a'").uses_groups());
}

TEST_CASE("binds not tighter than and, and tighter than or") {
  // Truth tables over boolean literals: the parsed filter against the same formula in C++.
  for (int bits = 0; bits < 8; ++bits) {
    const bool x = bits & 1, y = bits & 2, z = bits & 4;
    auto word = [](bool value) { return std::string(value ? "true" : "false"); };
    const auto X = word(x), Y = word(y), Z = word(z);
    INFO("x=", x, " y=", y, " z=", z);
    CHECK(matches(X + " or " + Y + " and " + Z, anonymous()) == (x || (y && z)));
    CHECK(matches(X + " and " + Y + " or " + Z, anonymous()) == ((x && y) || z));
    CHECK(matches("(" + X + " or " + Y + ") and " + Z, anonymous()) == ((x || y) && z));
    CHECK(matches("not " + X + " and " + Y, anonymous()) == (!x && y));
    CHECK(matches("not " + X + " or " + Y, anonymous()) == (!x || y));
    CHECK(matches("not (" + X + " or " + Y + ")", anonymous()) == !(x || y));
    CHECK(matches("not " + X + " or not " + Y + " and " + Z, anonymous()) == (!x || (!y && z)));
    CHECK(matches("not not " + X, anonymous()) == x);
    CHECK(matches("not(not(" + X + "))", anonymous()) == x);
    CHECK(matches(X + " and (" + Y + " or not " + Z + ") or " + Y + " and " + Z, anonymous()) ==
          ((x && (y || !z)) || (y && z)));
  }
}

TEST_CASE("binds comparisons tighter than and/or") {
  const auto filter = "userId eq 'a' or userId eq 'b' and connectionId eq 'x'";
  CHECK(matches(filter, user("a")));  // the `or` holds through its first operand
  CHECK_FALSE(matches(filter, user("b")));
  Connection b = user("b");
  b.id = "x";
  CHECK(matches(filter, b));
}

TEST_CASE("accepts parenthesized operands, as Azure's grammar does") {
  CHECK(matches("(userId) eq 'a'", user("a")));
  CHECK(matches("('a') eq (userId)", user("a")));
  CHECK(matches("((userId eq 'a'))", user("a")));
  CHECK(matches("(('g')) in groups", anonymous({"g"})));
}

TEST_CASE("allows any spacing between tokens") {
  CHECK(matches("  userId eq 'a'  ", user("a")));
  CHECK(matches("userId\teq\t'a'", user("a")));
  CHECK(matches("userId eq 'a'\r\nand\nconnectionId eq 'c1'", user("a")));
  CHECK(matches("not(userId eq'b')", user("a")));
  CHECK(matches("userId in('a','b')", user("b")));
  CHECK(matches("(userId eq 'a')and('g'in groups)", user("a", {"g"})));
  CHECK(matches("( userId in ( 'a' , 'b' ) )", user("a")));
}

TEST_CASE("tests each term at most once and groups only when reached") {
  int lookups = 0;
  FilterSubject subject;
  subject.connection_id = "c1";
  subject.in_group = [&](std::string_view group) {
    ++lookups;
    return group == "a";
  };
  CHECK(parsed("'a' in groups or 'b' in groups").matches(subject));
  CHECK(lookups == 1);
  lookups = 0;
  CHECK_FALSE(parsed("false and 'a' in groups").matches(subject));
  CHECK(lookups == 0);
  lookups = 0;
  CHECK(parsed("'b' in groups or 'c' in groups or 'a' in groups").matches(subject));
  CHECK(lookups == 3);
  lookups = 0;
  CHECK_FALSE(parsed("not ('a' in groups and ('b' in groups or true))").matches(subject));
  CHECK(lookups == 2);
}

TEST_CASE("rejects what it does not support with the rule and the position") {
  struct Row {
    const char* filter;
    const char* message;
  };
  const std::vector<Row> rows = {
      {"", "filter: empty"},
      {" \t ", "filter: empty"},
      {"userId eq 'a' xyz", "filter: unexpected 'xyz' at 14"},
      {"userId eq 'a", "filter: unterminated string at 10"},
      {"userId eq 'a''", "filter: unterminated string at 10"},
      {"userId eq", "filter: unexpected end at 9"},
      {"userId eq 'a' and", "filter: unexpected end at 17"},
      {"not", "filter: unexpected end at 3"},
      {"userId", "filter: expected a boolean expression at 0"},
      {"(groups)", "filter: expected a boolean expression at 0"},
      {"'a'", "filter: expected a boolean expression at 0"},
      {"userName eq 'a'", "filter: unknown identifier 'userName' at 0 (expected userId, connectionId or groups)"},
      {"startswith(userId, 'a')", "filter: function 'startswith' is not supported at 0"},
      {"length(userId) gt 3", "filter: function 'length' is not supported at 0"},
      {"tolower (userId) eq 'a'", "filter: function 'tolower' is not supported at 0"},
      {"not endswith(userId, 'milk')", "filter: function 'endswith' is not supported at 4"},
      {"userId eq 5", "filter: unexpected '5' at 10"},
      {"userId eq -1", "filter: unexpected '-' at 10"},
      {"userId eq \"a\"", "filter: unexpected '\"' at 10"},
      {"userId eq \x01", "filter: unexpected '\\x01' at 10"},
      {"userId eq 'a' && true", "filter: unexpected '&' at 14"},
      {"eq 'a'", "filter: unexpected 'eq' at 0"},
      {"userId eq eq", "filter: unexpected 'eq' at 10"},
      {"not userId eq 'a'", "filter: 'not' needs a boolean operand at 4 (write not (a eq b))"},
      {"not length(userId) gt 5", "filter: function 'length' is not supported at 4"},
      {"userId eq 'a' eq 'b'", "filter: comparisons cannot be chained at 14 (join them with and/or)"},
      {"true eq true", "filter: 'eq' needs a string, null, userId or connectionId on each side at 0"},
      {"userId EQ (userId eq 'a')", "filter: 'EQ' needs a string, null, userId or connectionId on each side at 10"},
      {"groups eq 'a'", "filter: groups can only follow 'in' at 0"},
      {"userId eq groups", "filter: groups can only follow 'in' at 10"},
      {"groups in ('a')", "filter: groups can only follow 'in' at 0"},
      {"true in ('a')", "filter: 'in' needs a string, null, userId or connectionId on its left at 0"},
      {"userId in userId", "filter: 'in' needs a list in parentheses or groups at 10"},
      {"userId in 'a'", "filter: 'in' needs a list in parentheses or groups at 10"},
      {"userId in", "filter: unexpected end at 9"},
      {"userId in ('a' 'b')", "filter: expected ',' or ')' at 15"},
      {"userId in ('a',)", "filter: unexpected ')' at 15"},
      {"userId in ('a'", "filter: expected ',' or ')' at 14"},
      {"userId in ('a', groups)", "filter: groups can only follow 'in' at 16"},
      {"userId in ('a', userId eq 'b')", "filter: list items must be strings, null, userId or connectionId at 16"},
      {"'a' in groups in groups", "filter: unexpected 'in' at 14"},
      {"(userId eq 'a'", "filter: expected ')' at 14"},
      {"(userId eq 'a',", "filter: unexpected ',' at 14"},
      {"userId eq 'a')", "filter: unexpected ')' at 13"},
      {"()", "filter: unexpected ')' at 1"},
      {"userId and true", "filter: 'and' needs boolean operands at 0"},
      {"true or userId", "filter: 'or' needs boolean operands at 8"},
      {"userId eq 'a' and 'b'", "filter: 'and' needs boolean operands at 18"},
      {"$filter=userId eq 'a'", "filter: unexpected '$' at 0"},
      {"userId/x eq 'a'", "filter: unexpected '/' at 6"},
      {"userId eq 'a' or any(g: g eq 'x')", "filter: function 'any' is not supported at 17"},
  };
  for (const auto& row : rows) {
    INFO(row.filter);
    CHECK(error_of(row.filter) == row.message);
  }
}

TEST_CASE("keeps samples of the input in errors short") {
  const std::string word(40, 'x');
  CHECK(error_of(word + " eq 'a'") ==
        "filter: unknown identifier '" + std::string(32, 'x') + "...' at 0 (expected userId, connectionId or groups)");
}

TEST_CASE("limits the text to 4096 bytes") {
  const std::string prefix = "userId eq '";
  const std::string longest = prefix + std::string(4096 - prefix.size() - 1, 'a') + "'";
  REQUIRE(longest.size() == 4096);
  CHECK(matches(longest, user(std::string(4096 - prefix.size() - 1, 'a'))));
  CHECK(error_of(longest + " ") == "filter: longer than 4096 bytes");
  CHECK(error_of(std::string(100000, '(')) == "filter: longer than 4096 bytes");
}

TEST_CASE("limits nesting of parentheses and not to 32") {
  auto parens = [](std::size_t depth) { return std::string(depth, '(') + "true" + std::string(depth, ')'); };
  CHECK(matches(parens(32), anonymous()));
  CHECK(error_of(parens(33)) == "filter: nested deeper than 32 at 32");
  // Far deeper than the limit still fails fast, without recursing per '('.
  CHECK(error_of(std::string(4000, '(')) == "filter: nested deeper than 32 at 32");

  auto nots = [](std::size_t depth) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += "not ";
    return text + "true";
  };
  CHECK(matches(nots(32), anonymous()));  // an even count
  CHECK_FALSE(matches(nots(31), anonymous()));
  CHECK(error_of(nots(33)) == "filter: nested deeper than 32 at 128");
  CHECK(error_of(nots(1000)) == "filter: nested deeper than 32 at 128");

  auto mixed = [](std::size_t pairs) {
    std::string text;
    for (std::size_t i = 0; i < pairs; ++i) text += "not (";
    return text + "'g' in groups" + std::string(pairs, ')');
  };
  CHECK(matches(mixed(16), anonymous({"g"})));  // 16 nots cancel out
  CHECK(error_of(mixed(17)) == "filter: nested deeper than 32 at 80");

  // The parentheses of an in-list count too.
  CHECK(matches(std::string(31, '(') + "userId in ('a')" + std::string(31, ')'), user("a")));
  CHECK(error_of(std::string(32, '(') + "userId in ('a')" + std::string(32, ')')) ==
        "filter: nested deeper than 32 at 42");

  // Nesting is per path: siblings don't add up.
  std::string wide;
  for (int i = 0; i < 40; ++i) wide += (i ? " or " : "") + std::string("((false))");
  CHECK_FALSE(matches(wide, anonymous()));
}

TEST_CASE("limits terms and list items to 1000") {
  auto list = [](std::size_t items) {
    std::string text = "userId in (";
    for (std::size_t i = 0; i < items; ++i) text += i ? ",'a'" : "'a'";
    return text + ")";
  };
  CHECK(matches(list(999), user("a")));  // 999 items and the `in` itself
  CHECK(parsed(list(999)).term_count() == 1000);
  CHECK(error_of(list(1000)) == "filter: more than 1000 terms at 4007");
  CHECK(parsed("userId eq 'a' or true or 'g' in groups").term_count() == 3);
}

TEST_CASE("evaluates long chains and deep nesting in order") {
  std::string chain;
  for (int i = 0; i < 150; ++i) chain += (i ? " or '" : "'") + std::to_string(i) + "' in groups";
  CHECK(matches(chain, anonymous({"149"})));
  CHECK_FALSE(matches(chain, anonymous({"150"})));

  // and (or (and (or ...))) alternating at every level.
  std::string nested = "true";
  for (int i = 0; i < 31; ++i) nested = (i % 2 ? "false or (" : "true and (") + nested + ")";
  CHECK(matches(nested, anonymous()));
}

TEST_CASE("writes a canonical form that parses to the same filter") {
  struct Row {
    const char* filter;
    const char* canonical;
  };
  const std::vector<Row> rows = {
      {"USERID  EQ 'a''b' AND NOT('g' IN GROUPS)", "userId eq 'a''b' and not 'g' in groups"},
      {"(true or false) and true", "(true or false) and true"},
      {"true or (false or true)", "true or false or true"},
      {"(true and false) and true", "true and false and true"},
      {"true or (false and true)", "true or false and true"},
      {"not (userId eq 'a')", "not (userId eq 'a')"},
      {"not(true)", "not true"},
      {"not (true or false)", "not (true or false)"},
      {"not not ('g' in groups)", "not not 'g' in groups"},
      {"userId in('a','b')", "userId in ('a', 'b')"},
      {"userId in ()", "userId in ()"},
      {"'g' in (groups)", "'g' in groups"},
      {"(userId) eq ('a')", "userId eq 'a'"},
      {"connectionid ne null", "connectionId ne null"},
      {"userId Le 'z' and userId gE 'a' or userId lt '' or userId GT 'q'",
       "userId le 'z' and userId ge 'a' or userId lt '' or userId gt 'q'"},
  };
  for (const auto& row : rows) {
    INFO(row.filter);
    const auto filter = parsed(row.filter);
    CHECK(filter.text() == row.filter);
    CHECK(filter.canonical() == row.canonical);
    CHECK(parsed(filter.canonical()).canonical() == filter.canonical());
  }
}

TEST_CASE("owns its literals: a copy outlives the text it was parsed from") {
  std::optional<ODataFilter> copy;
  {
    std::string text = "userId in ('alice', 'bob') and 'room' in groups";
    auto filter = parsed(text);
    copy = filter;
    text.assign(text.size(), '#');
  }
  CHECK(copy->matches(subject_of(user("bob", {"room"}))));
  CHECK_FALSE(copy->matches(subject_of(user("carol", {"room"}))));
  CHECK(copy->text() == "userId in ('alice', 'bob') and 'room' in groups");
}
