#include "backplane/envelope.hpp"

#include <optional>

#include "backplane/wire_codec.hpp"
#include "protocol/encoded_message.hpp"
#include "protocol/nesting.hpp"

#include <nlohmann/json.hpp>

namespace sb::backplane {
namespace {

constexpr std::uint8_t format_version = 1;
enum class EnvelopeKind : std::uint8_t { action = 1, heartbeat = 2 };
enum class ActionKind : std::uint8_t { send = 1, membership = 2, remove_from_all_groups = 3, close = 4, execute = 5, invoke_client = 6 };
enum class MessageForm : std::uint8_t { invocation = 1, frames = 2 };

using wire::Reader;
using wire::Writer;

void write_message(Writer& w, const protocol::EncodedMessage& m) {
  if (m.is_preframed()) {
    w.byte(static_cast<std::uint8_t>(MessageForm::frames));
    const auto& json = m.for_protocol(protocol::HubProtocolKind::json);
    w.text(json ? std::string_view(*json) : std::string_view());
    w.text(m.given_messagepack() ? std::string_view(*m.given_messagepack()) : std::string_view());
  } else {
    w.byte(static_cast<std::uint8_t>(MessageForm::invocation));
    w.text(m.target());
    w.text(m.arguments_json());
  }
}

void write_action(Writer& w, const hub::SendAction& a) {
  w.byte(static_cast<std::uint8_t>(ActionKind::send));
  w.text(a.hub_key);
  w.byte(static_cast<std::uint8_t>(a.scope));
  w.text(a.id);
  w.texts(a.excluded);
  write_message(w, *a.message);
}

void write_action(Writer& w, const hub::InvokeClientAction& a) {
  w.byte(static_cast<std::uint8_t>(ActionKind::invoke_client));
  w.text(a.hub_key);
  w.text(a.connection_id);
  w.text(a.target);
  w.text(a.arguments_json);
  w.text(a.result_target);
  w.text(a.correlation_json);
}

// The filter travels as its text and is parsed again where it runs.
void write_action(Writer& w, const hub::ExecuteAction& a) {
  w.byte(static_cast<std::uint8_t>(ActionKind::execute));
  w.text(a.hub_key);
  w.text(a.filter ? std::string_view(a.filter->text()) : std::string_view());
  w.u64(a.commands.size());
  for (const auto& command : a.commands) {
    w.byte(static_cast<std::uint8_t>(command.kind));
    switch (command.kind) {
      case hub::CommandKind::send: write_message(w, *command.message); break;
      case hub::CommandKind::join_group:
      case hub::CommandKind::leave_group: w.text(command.group); break;
      case hub::CommandKind::close:
        w.text(command.reason);
        w.byte(command.allow_reconnect ? 1 : 0);
        break;
    }
  }
}

void write_action(Writer& w, const hub::MembershipAction& a) {
  w.byte(static_cast<std::uint8_t>(ActionKind::membership));
  w.text(a.hub_key);
  w.byte(static_cast<std::uint8_t>(a.op));
  w.text(a.group);
  w.byte(static_cast<std::uint8_t>(a.subject));
  w.text(a.id);
  w.byte(a.ttl ? 1 : 0);
  w.u64(a.ttl ? static_cast<std::uint64_t>(a.ttl->count()) : 0);
}

void write_action(Writer& w, const hub::RemoveFromAllGroupsAction& a) {
  w.byte(static_cast<std::uint8_t>(ActionKind::remove_from_all_groups));
  w.text(a.hub_key);
  w.byte(static_cast<std::uint8_t>(a.subject));
  w.text(a.id);
}

void write_action(Writer& w, const hub::CloseAction& a) {
  w.byte(static_cast<std::uint8_t>(ActionKind::close));
  w.text(a.hub_key);
  w.byte(static_cast<std::uint8_t>(a.scope));
  w.text(a.id);
  w.texts(a.excluded);
  w.text(a.reason);
  w.byte(a.allow_reconnect ? 1 : 0);
}

void write_action(Writer&, const hub::QueryAction&) {
  // Never published (see the header); an empty action fails to decode rather than doing harm.
}

constexpr auto first_scope = static_cast<std::uint8_t>(hub::Scope::all);
constexpr auto last_scope = static_cast<std::uint8_t>(hub::Scope::group);

Result<protocol::SharedEncodedMessage> read_message(Reader& r, const char* field) {
  auto form = r.choice<MessageForm>(field, 1, 2);
  auto first = r.text(field);
  auto second = r.text(field);
  if (!r.ok()) return r.error();
  if (form == MessageForm::invocation) {
    if (first.empty()) return make_error("invalid_envelope", std::string(field) + ": empty target");
    return protocol::SharedEncodedMessage(std::make_shared<const protocol::EncodedMessage>(std::move(first), std::move(second)));
  }
  if (first.empty() && second.empty()) return make_error("invalid_envelope", std::string(field) + ": no frame");
  return protocol::EncodedMessage::from_frames(first.empty() ? nullptr : make_frame(std::move(first)),
                                               second.empty() ? nullptr : make_frame(std::move(second)));
}

// At most this many commands in one :execute (the REST API's own bound).
constexpr std::uint64_t max_execute_commands = 100;

Result<hub::Action> read_execute(Reader& r) {
  hub::ExecuteAction a;
  a.hub_key = r.text("execute.hub");
  auto filter_text = r.text("execute.filter");
  auto count = r.u64("execute.commands");
  if (!r.ok()) return r.error();
  if (count > max_execute_commands) return make_error("invalid_envelope", "execute.commands: more than 100");
  if (!filter_text.empty()) {
    auto filter = filter::ODataFilter::parse(filter_text);
    if (!filter) return make_error("invalid_envelope", "execute.filter: " + filter.error().message);
    a.filter = std::make_shared<const filter::ODataFilter>(std::move(*filter));
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    hub::ExecuteCommand command;
    command.kind = r.choice<hub::CommandKind>("execute.command", 0, 3);
    if (!r.ok()) return r.error();
    switch (command.kind) {
      case hub::CommandKind::send: {
        auto message = read_message(r, "execute.message");
        if (!message) return message.error();
        command.message = std::move(*message);
        break;
      }
      case hub::CommandKind::join_group:
      case hub::CommandKind::leave_group:
        command.group = r.text("execute.group");
        if (r.ok() && command.group.empty()) return make_error("invalid_envelope", "execute.group: empty");
        break;
      case hub::CommandKind::close:
        command.reason = r.text("execute.reason");
        command.allow_reconnect = r.boolean("execute.allow_reconnect");
        break;
    }
    if (!r.ok()) return r.error();
    a.commands.push_back(std::move(command));
  }
  return hub::Action(std::move(a));
}

Result<hub::Action> read_action(Reader& r) {
  auto kind = r.choice<ActionKind>("action", 1, 6);
  if (!r.ok()) return r.error();
  switch (kind) {
    case ActionKind::send: {
      hub::SendAction a;
      a.hub_key = r.text("send.hub");
      a.scope = r.choice<hub::Scope>("send.scope", first_scope, last_scope);
      a.id = r.text("send.id");
      a.excluded = r.texts("send.excluded");
      if (!r.ok()) return r.error();
      auto message = read_message(r, "send.message");
      if (!message) return message.error();
      a.message = std::move(*message);
      return hub::Action(std::move(a));
    }
    case ActionKind::execute:
      return read_execute(r);
    case ActionKind::invoke_client: {
      hub::InvokeClientAction a;
      a.hub_key = r.text("invoke.hub");
      a.connection_id = r.text("invoke.connection");
      a.target = r.text("invoke.target");
      a.arguments_json = r.text("invoke.arguments");
      a.result_target = r.text("invoke.result_target");
      a.correlation_json = r.text("invoke.correlation");
      if (!r.ok()) return r.error();
      // Another gateway's text goes into a frame as it is: it must be what a reply could have held.
      if (a.target.empty() || a.result_target.empty()) return make_error("invalid_envelope", "invoke.target: empty");
      auto arguments = nlohmann::json::parse(a.arguments_json, nullptr, /*allow_exceptions=*/false);
      auto correlation = nlohmann::json::parse(a.correlation_json, nullptr, /*allow_exceptions=*/false);
      if (!protocol::json_depth_within(a.arguments_json) || !arguments.is_array() ||
          !protocol::json_depth_within(a.correlation_json) || correlation.is_discarded())
        return make_error("invalid_envelope", "invoke.arguments: not JSON");
      return hub::Action(std::move(a));
    }
    case ActionKind::membership: {
      hub::MembershipAction a;
      a.hub_key = r.text("membership.hub");
      a.op = r.choice<hub::MembershipOp>("membership.op", 0, 1);
      a.group = r.text("membership.group");
      a.subject = r.choice<hub::Scope>("membership.subject", first_scope, last_scope);
      a.id = r.text("membership.id");
      bool has_ttl = r.boolean("membership.ttl");
      auto ttl = r.u64("membership.ttl");
      if (has_ttl) a.ttl = std::chrono::seconds(static_cast<std::int64_t>(ttl & 0x7fffffffffffffffULL));
      if (!r.ok()) return r.error();
      return hub::Action(std::move(a));
    }
    case ActionKind::remove_from_all_groups: {
      hub::RemoveFromAllGroupsAction a;
      a.hub_key = r.text("remove.hub");
      a.subject = r.choice<hub::Scope>("remove.subject", first_scope, last_scope);
      a.id = r.text("remove.id");
      if (!r.ok()) return r.error();
      return hub::Action(std::move(a));
    }
    case ActionKind::close: {
      hub::CloseAction a;
      a.hub_key = r.text("close.hub");
      a.scope = r.choice<hub::Scope>("close.scope", first_scope, last_scope);
      a.id = r.text("close.id");
      a.excluded = r.texts("close.excluded");
      a.reason = r.text("close.reason");
      a.allow_reconnect = r.boolean("close.allow_reconnect");
      if (!r.ok()) return r.error();
      return hub::Action(std::move(a));
    }
  }
  return r.error();
}

}  // namespace

std::string encode_envelope(const Envelope& envelope) {
  Writer w;
  w.byte(format_version);
  if (const auto* heartbeat = std::get_if<HeartbeatEnvelope>(&envelope)) {
    w.byte(static_cast<std::uint8_t>(EnvelopeKind::heartbeat));
    w.text(heartbeat->publisher);
    w.u64(heartbeat->last_sequence);
    return w.take();
  }
  const auto& action = std::get<ActionEnvelope>(envelope);
  w.byte(static_cast<std::uint8_t>(EnvelopeKind::action));
  w.text(action.publisher);
  w.u64(action.sequence);
  std::visit([&](const auto& a) { write_action(w, a); }, *action.action);
  return w.take();
}

namespace {

Result<EnvelopeStamp> read_stamp(Reader& r) {
  if (r.byte("version") != format_version && r.ok()) r.fail("version", "unsupported");
  auto kind = r.choice<EnvelopeKind>("kind", 1, 2);
  EnvelopeStamp stamp{kind == EnvelopeKind::heartbeat, r.text("publisher"), r.u64("sequence")};
  if (!r.ok()) return r.error();
  if (stamp.publisher.empty()) return make_error("invalid_envelope", "publisher: empty");
  return stamp;
}

}  // namespace

Result<EnvelopeStamp> decode_envelope_stamp(std::string_view bytes) {
  Reader r(bytes, "invalid_envelope");
  return read_stamp(r);
}

Result<Envelope> decode_envelope(std::string_view bytes) {
  Reader r(bytes, "invalid_envelope");
  auto stamp = read_stamp(r);
  if (!stamp) return stamp.error();
  auto& [is_heartbeat, publisher, sequence] = *stamp;
  if (is_heartbeat) {
    if (!r.at_end()) return make_error("invalid_envelope", "heartbeat: trailing bytes");
    return Envelope(HeartbeatEnvelope{std::move(publisher), sequence});
  }
  auto action = read_action(r);
  if (!action) return action.error();
  if (!r.at_end()) return make_error("invalid_envelope", "action: trailing bytes");
  return Envelope(
      ActionEnvelope{std::move(publisher), sequence, std::make_shared<const hub::Action>(std::move(action).value())});
}

}  // namespace sb::backplane
