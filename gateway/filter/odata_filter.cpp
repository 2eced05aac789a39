#include "filter/odata_filter.hpp"

// The grammar we accept: the subset of Web PubSub's EBNF (reference-odata-filter.md, "Formal grammar")
// without functions and numbers, with OData 4.01's precedence (`in` binds tighter than `not`, as in
// Microsoft.OData's UriQueryExpressionParser.ParseInHas; `not` tighter than comparisons, as Azure's
// precedence table says):
//
//   filter     = or
//   or         = and *( "or" and )
//   and        = comparison *( "and" comparison )
//   comparison = unary [ ( "eq" / "ne" / "gt" / "ge" / "lt" / "le" ) unary ]
//   unary      = "not" unary / in
//   in         = primary [ "in" ( "(" [ or *( "," or ) ] ")" / primary ) ]
//   primary    = string / %s"null" / "true" / "false" / "userId" / "connectionId" / "groups" / "(" or ")"
//   string     = "'" *( "''" / any byte but "'" ) "'"
//
// Quoted words are ASCII case-insensitive. Tokens are separated by spaces, tabs, CR or LF, or by the
// punctuation itself (`not(`, `in('a','b')`, `eq'x'` all parse, as they do in Microsoft.OData).
// Types are checked while parsing: and/or/not take booleans; comparisons take strings, null, userId or
// connectionId; `in` takes one of those on its left and a list of them or groups on its right; groups
// appears nowhere else. So `not userId eq 'a'` is an error (not binds to userId), as in Azure.
//
// Semantics (OData lifted operators, MS-ODATA 2.2.3.6.1.1.5): null eq null; null ne any string;
// gt/ge/lt/le with a null operand are false; `x in (a, b)` is `x eq a or x eq b`; `null in groups` is
// false. Strings compare ordinally, byte by byte.

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "common/ascii.hpp"

namespace sb::filter {

namespace {

constexpr std::string_view error_code = "InvalidFilter";

enum class TokenKind : std::uint8_t { end, open, close, comma, string, word, invalid, unterminated };

struct Token {
  TokenKind kind = TokenKind::end;
  std::uint32_t position = 0;
  std::string_view text;  // as written; a string keeps its quotes
};

constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
constexpr bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    while (at_ < text_.size() && is_space(text_[at_])) ++at_;
    Token token;
    token.position = static_cast<std::uint32_t>(at_);
    if (at_ == text_.size()) return token;
    const char c = text_[at_];
    std::size_t end = at_ + 1;
    switch (c) {
      case '(': token.kind = TokenKind::open; break;
      case ')': token.kind = TokenKind::close; break;
      case ',': token.kind = TokenKind::comma; break;
      case '\'': {
        // '' inside a literal is one quote; the literal ends at a quote not followed by another.
        token.kind = TokenKind::unterminated;
        end = text_.size();
        for (std::size_t i = at_ + 1; i < text_.size(); ++i) {
          if (text_[i] != '\'') continue;
          if (i + 1 < text_.size() && text_[i + 1] == '\'') {
            ++i;
            continue;
          }
          token.kind = TokenKind::string;
          end = i + 1;
          break;
        }
        break;
      }
      default:
        if (is_word_char(c)) {
          token.kind = TokenKind::word;
          while (end < text_.size() && is_word_char(text_[end])) ++end;
        } else {
          token.kind = TokenKind::invalid;
        }
    }
    token.text = text_.substr(at_, end - at_);
    at_ = end;
    return token;
  }

  // Whether the next non-space byte is '(' (a word before it would be a function call).
  bool open_follows() const {
    std::size_t i = at_;
    while (i < text_.size() && is_space(text_[i])) ++i;
    return i < text_.size() && text_[i] == '(';
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

// A short, printable sample of client input for an error message (Redis's setProtocolError habit).
std::string sample(std::string_view text) {
  constexpr std::size_t max_sample_bytes = 32;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max_sample_bytes; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
    } else {
      out += "\\x";
      out += hex[byte >> 4];
      out += hex[byte & 0xf];
    }
  }
  if (text.size() > max_sample_bytes) out += "...";
  return out;
}

constexpr std::array<std::string_view, 6> compare_words = {"eq", "ne", "gt", "ge", "lt", "le"};
constexpr std::array<std::string_view, 12> keywords = {"and", "or", "not", "in", "true", "false",
                                                       "eq",  "ne", "gt",  "ge", "lt",   "le"};

bool is_keyword(std::string_view word) {
  return std::any_of(keywords.begin(), keywords.end(), [&](std::string_view k) { return iequals(word, k); });
}

}  // namespace

// Parses text into an ODataFilter: a tree of nodes while parsing, then the flat program matches()
// runs, and the canonical text. Recursion in every pass is bounded by max_filter_depth: the tree is as
// deep as the '(' and 'not' nesting allows, because chains of and/or are one n-ary node.
class FilterCompiler {
 public:
  using Operand = ODataFilter::Operand;
  using Compare = ODataFilter::Compare;
  using Step = ODataFilter::Step;

  explicit FilterCompiler(std::string_view text) : text_(text), lexer_(text) {}

  Result<ODataFilter> run() {
    if (text_.size() > max_filter_bytes)
      return make_error(std::string(error_code), "filter: longer than " + std::to_string(max_filter_bytes) + " bytes");
    if (std::all_of(text_.begin(), text_.end(), is_space)) return make_error(std::string(error_code), "filter: empty");
    out_.text_ = std::string(text_);
    advance();
    Expr root;
    if (!parse_or(root)) return std::move(*error_);
    if (token_.kind != TokenKind::end) describe_unexpected();
    if (!error_ && root.type != Type::boolean) fail("expected a boolean expression", root.position);
    if (error_) return std::move(*error_);
    out_.steps_.reserve(nodes_[root.node].leaves);
    emit(root.node, ODataFilter::accept, ODataFilter::reject);
    print(root.node, out_.canonical_);
    out_.term_count_ = terms_;
    return std::move(out_);
  }

 private:
  enum class Type : std::uint8_t { boolean, value, groups };
  // What a parse function produced: a boolean node, a value (an operand), or the groups collection.
  struct Expr {
    Type type = Type::boolean;
    std::uint32_t node = 0;  // boolean
    Operand operand;         // value
    std::uint32_t position = 0;
  };
  struct Node {
    enum class Kind : std::uint8_t { any, all, negate, constant, compare, in_list, in_groups };
    Kind kind = Kind::constant;
    Compare compare = Compare::eq;
    bool constant = false;
    Operand left;
    Operand right;
    std::uint32_t begin = 0;  // any/all: children_[begin, end); negate: the child; in_list: list_[begin, end)
    std::uint32_t end = 0;
    std::uint32_t leaves = 1;  // steps this node compiles to
  };

  // ---- tokens and errors

  void advance() { token_ = lexer_.next(); }

  bool word_is(std::string_view word) const { return token_.kind == TokenKind::word && iequals(token_.text, word); }

  // "filter: RULE at POSITION (HINT)"
  bool fail(std::string_view rule, std::uint32_t position, std::string_view hint = {}) {
    if (error_) return false;
    auto message = "filter: " + std::string(rule) + " at " + std::to_string(position);
    if (!hint.empty()) message += " (" + std::string(hint) + ")";
    error_ = make_error(std::string(error_code), std::move(message));
    return false;
  }

  bool describe_unexpected() {
    switch (token_.kind) {
      case TokenKind::end: return fail("unexpected end", token_.position);
      case TokenKind::unterminated: return fail("unterminated string", token_.position);
      default: return fail("unexpected '" + sample(token_.text) + "'", token_.position);
    }
  }

  bool enter(std::uint32_t position) {
    if (++depth_ > max_filter_depth) return fail("nested deeper than " + std::to_string(max_filter_depth), position);
    return true;
  }

  bool count_term(std::uint32_t position) {
    if (++terms_ > max_filter_terms) return fail("more than " + std::to_string(max_filter_terms) + " terms", position);
    return true;
  }

  std::uint32_t add(Node node) {
    nodes_.push_back(node);
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  // ---- parsing: each function parses its rule into `out` or records an error and returns false

  bool parse_or(Expr& out) { return parse_chain(out, "or", Node::Kind::any, &FilterCompiler::parse_and); }
  bool parse_and(Expr& out) { return parse_chain(out, "and", Node::Kind::all, &FilterCompiler::parse_comparison); }

  // operand *( word operand ), as one n-ary node
  bool parse_chain(Expr& out, std::string_view word, Node::Kind kind, bool (FilterCompiler::*operand)(Expr&)) {
    if (!(this->*operand)(out)) return false;
    if (!word_is(word)) return true;
    std::vector<std::uint32_t> children;
    Node node;
    node.kind = kind;
    node.leaves = 0;
    for (bool first = true; first || word_is(word); first = false) {
      Expr next;
      if (first) {
        next = out;
      } else {
        advance();
        if (!(this->*operand)(next)) return false;
      }
      if (next.type != Type::boolean) return fail("'" + std::string(word) + "' needs boolean operands", next.position);
      children.push_back(next.node);
      node.leaves += nodes_[next.node].leaves;
    }
    node.begin = static_cast<std::uint32_t>(children_.size());
    children_.insert(children_.end(), children.begin(), children.end());
    node.end = static_cast<std::uint32_t>(children_.size());
    out.node = add(node);
    return true;
  }

  bool parse_comparison(Expr& out) {
    if (!parse_unary(out)) return false;
    const auto op = compare_word();
    if (!op) return true;
    const auto op_position = token_.position;
    const auto op_word = token_.text;
    advance();
    Expr right;
    if (!parse_unary(right)) return false;
    for (const Expr* side : {&out, &right}) {
      if (side->type == Type::groups) return fail("groups can only follow 'in'", side->position);
      if (side->type != Type::value)
        return fail("'" + sample(op_word) + "' needs a string, null, userId or connectionId on each side",
                    side->position);
    }
    if (compare_word()) return fail("comparisons cannot be chained", token_.position, "join them with and/or");
    if (!count_term(op_position)) return false;
    Node node;
    node.kind = Node::Kind::compare;
    node.compare = *op;
    node.left = out.operand;
    node.right = right.operand;
    out.type = Type::boolean;
    out.node = add(node);
    return true;
  }

  std::optional<Compare> compare_word() const {
    for (std::size_t i = 0; i < compare_words.size(); ++i)
      if (word_is(compare_words[i])) return static_cast<Compare>(i);
    return std::nullopt;
  }

  bool parse_unary(Expr& out) {
    if (!word_is("not")) return parse_in(out);
    const auto position = token_.position;
    if (!enter(position)) return false;
    advance();
    Expr operand;
    if (!parse_unary(operand)) return false;
    --depth_;
    if (operand.type != Type::boolean)
      return fail("'not' needs a boolean operand", operand.position, "write not (a eq b)");
    Node node;
    node.kind = Node::Kind::negate;
    node.begin = operand.node;
    node.leaves = nodes_[operand.node].leaves;
    out.type = Type::boolean;
    out.node = add(node);
    out.position = position;
    return true;
  }

  bool parse_in(Expr& out) {
    if (!parse_primary(out)) return false;
    if (!word_is("in")) return true;
    const auto in_position = token_.position;
    if (out.type == Type::groups) return fail("groups can only follow 'in'", out.position);
    if (out.type != Type::value)
      return fail("'in' needs a string, null, userId or connectionId on its left", out.position);
    if (!count_term(in_position)) return false;
    advance();
    Node node;
    node.left = out.operand;
    if (token_.kind == TokenKind::open) {
      if (!parse_list(node)) return false;
    } else {
      Expr right;
      if (!parse_primary(right)) return false;
      if (right.type != Type::groups) return fail("'in' needs a list in parentheses or groups", right.position);
      node.kind = Node::Kind::in_groups;
    }
    if (node.kind == Node::Kind::in_groups) out_.uses_groups_ = true;
    out.type = Type::boolean;
    out.node = add(node);
    return true;
  }

  // "(" [ item *( "," item ) ] ")" after `in`; a lone `(groups)` is the collection, not a list.
  bool parse_list(Node& node) {
    const auto open_position = token_.position;
    if (!enter(open_position)) return false;
    advance();
    node.kind = Node::Kind::in_list;
    node.begin = static_cast<std::uint32_t>(out_.list_.size());
    if (token_.kind == TokenKind::close) {
      advance();
    } else {
      for (bool first = true;; first = false) {
        Expr item;
        if (!parse_or(item)) return false;
        if (item.type == Type::groups && first && token_.kind == TokenKind::close) {
          node.kind = Node::Kind::in_groups;
        } else if (item.type == Type::groups) {
          return fail("groups can only follow 'in'", item.position);
        } else if (item.type != Type::value) {
          return fail("list items must be strings, null, userId or connectionId", item.position);
        } else {
          if (!count_term(item.position)) return false;
          out_.list_.push_back(item.operand);
        }
        if (token_.kind == TokenKind::close) break;
        if (token_.kind != TokenKind::comma) {
          if (token_.kind == TokenKind::end || token_.kind == TokenKind::word || token_.kind == TokenKind::string)
            return fail("expected ',' or ')'", token_.position);
          return describe_unexpected();
        }
        advance();
      }
      advance();
    }
    node.end = static_cast<std::uint32_t>(out_.list_.size());
    --depth_;
    return true;
  }

  bool parse_primary(Expr& out) {
    out.position = token_.position;
    switch (token_.kind) {
      case TokenKind::open: {
        if (!enter(out.position)) return false;
        const auto position = out.position;
        advance();
        if (!parse_or(out)) return false;
        if (token_.kind != TokenKind::close) {
          if (token_.kind == TokenKind::end || token_.kind == TokenKind::word || token_.kind == TokenKind::string)
            return fail("expected ')'", token_.position);
          return describe_unexpected();
        }
        advance();
        --depth_;
        out.position = position;
        return true;
      }
      case TokenKind::string: {
        out.type = Type::value;
        out.operand.kind = Operand::Kind::literal;
        out.operand.offset = static_cast<std::uint32_t>(out_.literals_.size());
        const auto body = token_.text.substr(1, token_.text.size() - 2);
        for (std::size_t i = 0; i < body.size(); ++i) {
          out_.literals_ += body[i];
          if (body[i] == '\'') ++i;  // the lexer saw '' here
        }
        out.operand.size = static_cast<std::uint32_t>(out_.literals_.size() - out.operand.offset);
        advance();
        return true;
      }
      case TokenKind::word: return parse_word(out);
      default: return describe_unexpected();
    }
  }

  bool parse_word(Expr& out) {
    const auto word = token_.text;
    if (iequals(word, "userId") || iequals(word, "connectionId")) {
      out.type = Type::value;
      out.operand.kind = iequals(word, "userId") ? Operand::Kind::user_id : Operand::Kind::connection_id;
    } else if (iequals(word, "groups")) {
      out.type = Type::groups;
    } else if (word == "null") {
      out.type = Type::value;
      out.operand.kind = Operand::Kind::null;
    } else if (iequals(word, "true") || iequals(word, "false")) {
      if (!count_term(out.position)) return false;
      Node node;
      node.kind = Node::Kind::constant;
      node.constant = iequals(word, "true");
      out.type = Type::boolean;
      out.node = add(node);
    } else if (iequals(word, "null")) {
      return fail("unexpected '" + sample(word) + "'", out.position, "null is lowercase");
    } else if (is_keyword(word) || (word[0] >= '0' && word[0] <= '9')) {
      return describe_unexpected();
    } else if (lexer_.open_follows()) {
      return fail("function '" + sample(word) + "' is not supported", out.position);
    } else {
      return fail("unknown identifier '" + sample(word) + "'", out.position, "expected userId, connectionId or groups");
    }
    advance();
    return true;
  }

  // ---- the program: short-circuit jumps, each node's steps contiguous and in source order

  void emit(std::uint32_t index, std::uint32_t on_true, std::uint32_t on_false) {
    const Node& node = nodes_[index];
    switch (node.kind) {
      case Node::Kind::any:
      case Node::Kind::all:
        for (auto i = node.begin; i < node.end; ++i) {
          const auto child = children_[i];
          if (i + 1 == node.end) {
            emit(child, on_true, on_false);
            break;
          }
          // The next child starts where this one's steps end.
          const auto next = static_cast<std::uint32_t>(out_.steps_.size()) + nodes_[child].leaves;
          if (node.kind == Node::Kind::any)
            emit(child, on_true, next);
          else
            emit(child, next, on_false);
        }
        return;
      case Node::Kind::negate: emit(node.begin, on_false, on_true); return;
      case Node::Kind::constant:
      case Node::Kind::compare:
      case Node::Kind::in_list:
      case Node::Kind::in_groups: {
        Step step;
        step.test = node.kind == Node::Kind::constant  ? Step::Test::constant
                    : node.kind == Node::Kind::compare ? Step::Test::compare
                    : node.kind == Node::Kind::in_list ? Step::Test::in_list
                                                       : Step::Test::in_groups;
        step.compare = node.compare;
        step.constant = node.constant;
        step.left = node.left;
        step.right = node.right;
        step.list_begin = node.begin;
        step.list_end = node.end;
        step.on_true = on_true;
        step.on_false = on_false;
        out_.steps_.push_back(step);
        return;
      }
    }
  }

  // ---- the canonical text

  void print_operand(const Operand& operand, std::string& out) const {
    switch (operand.kind) {
      case Operand::Kind::null: out += "null"; return;
      case Operand::Kind::user_id: out += "userId"; return;
      case Operand::Kind::connection_id: out += "connectionId"; return;
      case Operand::Kind::literal:
        out += '\'';
        for (char c : std::string_view(out_.literals_).substr(operand.offset, operand.size)) {
          out += c;
          if (c == '\'') out += '\'';
        }
        out += '\'';
        return;
    }
  }

  void print(std::uint32_t index, std::string& out) const {
    static constexpr std::array<std::string_view, 6> compare_text = {" eq ", " ne ", " gt ", " ge ", " lt ", " le "};
    const Node& node = nodes_[index];
    switch (node.kind) {
      case Node::Kind::any:
      case Node::Kind::all:
        for (auto i = node.begin; i < node.end; ++i) {
          if (i != node.begin) out += node.kind == Node::Kind::any ? " or " : " and ";
          const auto child = children_[i];
          // An `or` inside an `and` came from parentheses and needs them back; the same kind flattens.
          const bool parenthesize = node.kind == Node::Kind::all && nodes_[child].kind == Node::Kind::any;
          if (parenthesize) out += '(';
          print(child, out);
          if (parenthesize) out += ')';
        }
        return;
      case Node::Kind::negate: {
        // `in` binds tighter than `not`, so `not 'g' in groups` needs no parentheses (and adding them
        // could push a filter at the nesting limit over it).
        const auto child_kind = nodes_[node.begin].kind;
        const bool parenthesize =
            child_kind == Node::Kind::any || child_kind == Node::Kind::all || child_kind == Node::Kind::compare;
        out += parenthesize ? "not (" : "not ";
        print(node.begin, out);
        if (parenthesize) out += ')';
        return;
      }
      case Node::Kind::constant: out += node.constant ? "true" : "false"; return;
      case Node::Kind::compare:
        print_operand(node.left, out);
        out += compare_text[static_cast<std::size_t>(node.compare)];
        print_operand(node.right, out);
        return;
      case Node::Kind::in_list:
        print_operand(node.left, out);
        out += " in (";
        for (auto i = node.begin; i < node.end; ++i) {
          if (i != node.begin) out += ", ";
          print_operand(out_.list_[i], out);
        }
        out += ')';
        return;
      case Node::Kind::in_groups:
        print_operand(node.left, out);
        out += " in groups";
        return;
    }
  }

  std::string_view text_;
  Lexer lexer_;
  Token token_;
  std::optional<Error> error_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> children_;
  std::size_t depth_ = 0;
  std::size_t terms_ = 0;
  ODataFilter out_;
};

Result<ODataFilter> ODataFilter::parse(std::string_view text) {
  return FilterCompiler(text).run();
}

namespace {

struct Value {
  bool is_null = true;
  std::string_view text;
};

}  // namespace

bool ODataFilter::matches(const FilterSubject& subject) const {
  const auto resolve = [&](const Operand& operand) -> Value {
    switch (operand.kind) {
      case Operand::Kind::literal: return {false, std::string_view(literals_).substr(operand.offset, operand.size)};
      case Operand::Kind::user_id: return subject.has_user ? Value{false, subject.user_id} : Value{};
      case Operand::Kind::connection_id: return {false, subject.connection_id};
      case Operand::Kind::null: return {};
    }
    return {};
  };
  const auto equal = [](const Value& a, const Value& b) {
    return a.is_null || b.is_null ? a.is_null == b.is_null : a.text == b.text;
  };
  const auto test = [&](const Step& step) {
    switch (step.test) {
      case Step::Test::constant: return step.constant;
      case Step::Test::compare: {
        const auto left = resolve(step.left);
        const auto right = resolve(step.right);
        if (step.compare == Compare::eq) return equal(left, right);
        if (step.compare == Compare::ne) return !equal(left, right);
        if (left.is_null || right.is_null) return false;  // relational operators on null
        // std::string_view compares bytes as unsigned char: ordinal UTF-8 order.
        const int order = left.text.compare(right.text);
        switch (step.compare) {
          case Compare::gt: return order > 0;
          case Compare::ge: return order >= 0;
          case Compare::lt: return order < 0;
          default: return order <= 0;
        }
      }
      case Step::Test::in_list: {
        const auto left = resolve(step.left);
        for (auto i = step.list_begin; i < step.list_end; ++i)
          if (equal(left, resolve(list_[i]))) return true;
        return false;
      }
      case Step::Test::in_groups: {
        const auto left = resolve(step.left);
        return !left.is_null && subject.in_group && subject.in_group(left.text);
      }
    }
    return false;
  };
  std::uint32_t at = 0;
  const auto step_count = static_cast<std::uint32_t>(steps_.size());
  while (at < step_count) {
    const Step& step = steps_[at];
    at = test(step) ? step.on_true : step.on_false;
  }
  return at == accept;
}

}  // namespace sb::filter
