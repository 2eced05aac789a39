#include "server/hub_dispatcher.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "console/live_trace.hpp"
#include "hub/upstream_reply.hpp"
#include "protocol/hub_protocol.hpp"
#include "tracing/otlp_exporter.hpp"
#include "tracing/trace_context.hpp"
#include "upstream/upstream_log.hpp"
#include "upstream/upstream_request.hpp"

namespace sb::server {
namespace {

using connection::UpstreamEventKind;

std::string_view event_name(const connection::UpstreamEvent& event) {
  switch (event.kind) {
    case UpstreamEventKind::connected: return "connected";
    case UpstreamEventKind::disconnected: return "disconnected";
    case UpstreamEventKind::refreshed: return "refresh";
    case UpstreamEventKind::message: return event.message.target;
  }
  return "";
}

// The invocation whose caller an event's reply may answer: a message's own id (absent for send()), or
// for a part of an upload, the id of the invocation that opened it.
std::optional<std::string> answered_invocation(const connection::UpstreamEvent& event) {
  if (event.kind != UpstreamEventKind::message) return std::nullopt;
  return event.upload ? event.upload->invocation_id : event.message.invocation_id;
}

// The trace id of the traceparent an event went out with (log lines name it).
std::string_view trace_id_of(const connection::UpstreamEvent& event) {
  return event.trace_parent.size() >= 35 ? std::string_view(event.trace_parent).substr(3, 32) : std::string_view();
}

void record_upstream_span(const connection::Connection& connection, const connection::UpstreamEvent& event,
                          const tracing::TraceContext& span, const std::string& parent_span, std::uint64_t started_unix,
                          upstream::CallOutcome outcome, int status) {
  tracing::Span s;
  s.context = span;
  s.parent_span_id = parent_span;
  s.trace_state = event.trace_state;
  s.kind = tracing::SpanKind::client;
  s.name = "upstream " + std::string(event_name(event));
  s.start_unix_nanos = started_unix;
  s.end_unix_nanos = tracing::unix_nanos_now();
  s.is_error = outcome != upstream::CallOutcome::ok || status < 200 || status >= 300;
  s.attributes = {{"switchboard.hub", connection.identity().hub},
                  {"switchboard.connection_id", connection.id()},
                  {"switchboard.event", std::string(event_name(event))},
                  {"switchboard.outcome", std::string(upstream::to_string(outcome))},
                  {"http.response.status_code", std::to_string(status)}};
  tracing::record(std::move(s));
}

// The live trace's view of a connection and the trace one of its events went out with.
console::TraceSubject trace_subject(const connection::Connection& connection, const connection::UpstreamEvent& event) {
  auto subject = connection.trace_subject();
  subject.trace = trace_id_of(event);
  return subject;
}

std::string_view message_type_name(protocol::MessageType type) {
  switch (type) {
    case protocol::MessageType::invocation: return "invocation";
    case protocol::MessageType::stream_invocation: return "stream_invocation";
    case protocol::MessageType::stream_item: return "stream_item";
    case protocol::MessageType::completion: return "completion";
    default: return "other";
  }
}

// The Completion texts Azure sends when an invocation's upstream call fails (PROTOCOL.md part 2 §2.6).
std::string failure_text(upstream::CallOutcome outcome) {
  switch (outcome) {
    case upstream::CallOutcome::timeout: return "Invocation failed, response cancelled.";
    case upstream::CallOutcome::response_too_large: return "Invocation failed, response too large.";
    case upstream::CallOutcome::circuit_open: return "Invocation failed, the function is unavailable.";
    default: return "Invocation failed, status code 500";  // Azure maps transport failures to 500
  }
}

}  // namespace

HubDispatcher::HubDispatcher(boost::asio::any_io_executor executor, const config::Config& config,
                             std::shared_ptr<const auth::KeyRing> keys, hub::HubRegistry& registry,
                             upstream::ReliableUpstream& upstream, backplane::Backplane& backplane,
                             Admission& admission)
    : executor_(std::move(executor)),
      config_(config),
      keys_(std::move(keys)),
      registry_(registry),
      upstream_(upstream),
      backplane_(backplane),
      admission_(admission) {
  registry_.set_group_listener([&backplane](const connection::Connection& c, const std::string& group, bool joined) {
    backplane.connection_group_changed(c.identity(), group, joined);
  });
}

void HubDispatcher::on_open(connection::Connection& connection) {
  ++live_connections_;
  registry_.add(connection, std::chrono::system_clock::now());
  backplane_.connection_opened(connection.identity());
  const auto& user = connection.identity().user_id;
  if (!admission_.try_open(user)) {
    // The negotiate check let it through (two negotiates raced, or skipNegotiation): the count is the
    // truth. The function sees connected then disconnected, as for any short-lived connection.
    over_user_limit_.insert(&connection);
    admission_.record(RefusalReason::user_limit, connection.identity().hub, user, "connection");
    connection.close({"user_limit",
                      "Too many connections for user '" + user + "': at most " +
                          std::to_string(admission_.max_connections_per_user()) + " at once.",
                      false});
  }
}

void HubDispatcher::on_closed(connection::Connection& connection) {
  registry_.remove(connection);
  backplane_.connection_closed(connection.identity());
  if (over_user_limit_.erase(&connection) == 0) admission_.release(connection.identity().user_id);
}

void HubDispatcher::on_arrived(connection::Connection& connection) {
  ++live_connections_;
  registry_.add(connection, std::chrono::system_clock::now());
  // Redis knows it already (the handoff moved it there); the user's count here includes it, even past
  // the limit: it was admitted where it opened.
  if (!admission_.try_open(connection.identity().user_id)) over_user_limit_.insert(&connection);
}

void HubDispatcher::on_moved(connection::Connection& connection) {
  registry_.remove(connection);
  if (over_user_limit_.erase(&connection) == 0) admission_.release(connection.identity().user_id);
  --live_connections_;
}

void HubDispatcher::deliver(std::shared_ptr<connection::Connection> connection, connection::UpstreamEvent event,
                            std::function<void()> done) {
  if (event.kind == UpstreamEventKind::disconnected) {
    done = [this, done = std::move(done)] {
      --live_connections_;
      done();
    };
  }
  const auto kind = connection->protocol();
  // One span per upstream request: under the invocation's own trace context (its headers), else the
  // connection's (its connect request), else a new trace. Sent as `traceparent`, logged, exported.
  const bool is_message_trace = !event.message.trace_parent.empty();
  const auto& parent_header = is_message_trace ? event.message.trace_parent : connection->identity().trace_parent;
  const auto parent = tracing::parse_traceparent(parent_header);
  const auto span = parent ? tracing::child_of(*parent) : tracing::new_trace();
  event.trace_parent = span.header();
  // The vendors' state travels with its parent; without a valid parent there is none to pass on.
  if (parent)
    event.trace_state = is_message_trace ? tracing::accepted_tracestate(event.message.trace_state) : connection->identity().trace_state;
  auto request = upstream::build_upstream_request(config_.upstream.rules, *keys_, connection->identity(), kind, event,
                                                  std::chrono::system_clock::now());
  if (!request) {
    // No rule matches: like Azure, the event isn't sent. An invoke still gets its one Completion.
    metrics().upstream_requests.with("no_rule").inc();
    if (event.upload) connection->end_upload(event.upload->upload);
    if (auto invocation_id = answered_invocation(event))
      return run_reply(connection, {}, make_frame(protocol::encode_completion_error(kind,
          *invocation_id, "No upstream is configured for '" + event.message.target + "'.")), std::move(done));
    return done();
  }
  if (event.kind == UpstreamEventKind::message && console::live_trace().is_watched())
    console::live_trace().publish(console::TraceKind::invocation, trace_subject(*connection, event),
                                  {{"target", event.message.target},
                                   {"type", event.upload ? "upload" : message_type_name(event.message.type)},
                                   {"invocationId", event.message.invocation_id.value_or("")}});
  auto started = std::chrono::steady_clock::now();
  auto event_ptr = std::make_shared<connection::UpstreamEvent>(std::move(event));
  auto delivery = event_ptr->kind == UpstreamEventKind::message ? upstream::Delivery::at_most_once
                                                                : upstream::Delivery::at_least_once;
  auto* route_latency = &metrics().upstream_route_latency.with(request->route);
  const auto started_unix = tracing::is_exporting() ? tracing::unix_nanos_now() : 0;
  auto route = request->route;
  upstream_.send(std::move(*request), delivery, [this, connection, event_ptr, done = std::move(done), started, route_latency, route,
                                                 started_unix, span, parent_span = parent ? parent->span_id : std::string()](
                                                    upstream::CallOutcome outcome, upstream::HttpResponse response,
                                                    std::size_t) mutable {
    const auto elapsed = std::chrono::steady_clock::now() - started;
    metrics().upstream_latency.observe(elapsed);
    route_latency->observe(elapsed);
    if (started_unix != 0) record_upstream_span(*connection, *event_ptr, span, parent_span, started_unix, outcome, response.status);
    if (console::live_trace().is_watched())
      console::live_trace().publish(console::TraceKind::upstream, trace_subject(*connection, *event_ptr),
                                    {{"event", event_name(*event_ptr)},
                                     {"url", route},
                                     {"status", response.status},
                                     {"outcome", upstream::to_string(outcome)},
                                     {"latencyMs", std::chrono::duration<double, std::milli>(elapsed).count()}});
    on_reply(connection, *event_ptr, outcome, std::move(response), std::move(done));
  });
}

void HubDispatcher::deliver_orphan_disconnected(const connection::ConnectionIdentity& identity) {
  connection::UpstreamEvent event;
  event.kind = UpstreamEventKind::disconnected;
  event.error = "The gateway holding this connection stopped.";
  // The protocol only shapes message bodies; `disconnected` has none.
  auto request = upstream::build_upstream_request(config_.upstream.rules, *keys_, identity, protocol::HubProtocolKind::json,
                                                  event, std::chrono::system_clock::now());
  if (!request) {
    metrics().upstream_requests.with("no_rule").inc();
    return;
  }
  log::emit(upstream::log_events::orphan_disconnected, {{"conn", identity.connection_id}, {"hub", identity.hub}});
  upstream_.send(std::move(*request), upstream::Delivery::at_least_once,
                 [](upstream::CallOutcome outcome, upstream::HttpResponse, std::size_t) {
                   metrics().upstream_requests.with(outcome == upstream::CallOutcome::ok ? "success" : upstream::to_string(outcome)).inc();
                 });
}

hub::SharedAction HubDispatcher::answer_action(const connection::Connection& connection, Frame frame) const {
  const bool is_json = connection.protocol() == protocol::HubProtocolKind::json;
  hub::SendAction send;
  send.hub_key = connection.identity().hub_key;
  send.scope = hub::Scope::connection;
  send.id = connection.id();
  send.message = protocol::EncodedMessage::from_frames(is_json ? frame : Frame(), is_json ? Frame() : frame);
  return std::make_shared<const hub::Action>(std::move(send));
}

void HubDispatcher::answer(connection::Connection& connection, Frame frame) {
  if (!answers_through_log(connection)) return connection.send_frame(std::move(frame));
  backplane_.publish(answer_action(connection, std::move(frame)), executor_, nullptr);
}

void HubDispatcher::run_reply(const std::shared_ptr<connection::Connection>& connection,
                              std::vector<hub::Action> actions, Frame completion, std::function<void()> settled) {
  if (!answers_through_log(*connection)) {
    for (auto& action : actions) backplane_.publish(std::make_shared<const hub::Action>(std::move(action)), executor_, nullptr);
    // Posted after the reply's actions, which were posted to every shard first: this thread runs them
    // in order, so the caller sees the actions' messages before its Completion.
    if (completion)
      boost::asio::post(executor_, [connection, completion = std::move(completion)] { connection->send_frame(completion); });
    return settled();
  }
  // The fleet log: the Completion is one more entry after the actions; the last entry's outcome says
  // they are all in Redis (and ran here), and only then is the client's message acknowledged.
  std::vector<hub::SharedAction> entries;
  entries.reserve(actions.size() + 1);
  for (auto& action : actions) entries.push_back(std::make_shared<const hub::Action>(std::move(action)));
  if (completion) entries.push_back(answer_action(*connection, std::move(completion)));
  if (entries.empty()) return settled();
  for (std::size_t i = 0; i + 1 < entries.size(); ++i) backplane_.publish(std::move(entries[i]), executor_, nullptr);
  backplane_.publish(std::move(entries.back()), executor_,
                     [settled = std::move(settled)](const hub::ActionOutcome&) { settled(); });
}

void HubDispatcher::on_reply(const std::shared_ptr<connection::Connection>& connection,
                             const connection::UpstreamEvent& event, upstream::CallOutcome outcome,
                             upstream::HttpResponse response, std::function<void()> settled) {
  const auto& identity = connection->identity();
  const auto kind = connection->protocol();
  const auto answered = answered_invocation(event);
  const bool is_invoke = answered.has_value();
  const std::string invocation_id = answered.value_or(std::string());
  // An upload's invocation is answered by the reply to its last part; an earlier reply answers it only
  // to end it (an error, a result, a verbatim reply), and a failure always ends it (docs/upstream.md).
  const auto* upload = event.upload ? &*event.upload : nullptr;
  const bool must_answer = !upload || upload->is_last;
  if (upload && outcome != upstream::CallOutcome::ok) connection->end_upload(upload->upload);

  if (outcome != upstream::CallOutcome::ok) {
    metrics().upstream_requests.with(upstream::to_string(outcome)).inc();
    log::emit(upstream::log_events::request_failed,
              {{"conn", identity.connection_id}, {"hub", identity.hub}, {"event", event_name(event)},
               {"trace", trace_id_of(event)}, {"outcome", upstream::to_string(outcome)}, {"detail", response.error_detail}});
    if (is_invoke) return run_reply(connection, {}, make_frame(protocol::encode_completion_error(kind, invocation_id, failure_text(outcome))), std::move(settled));
    return settled();
  }

  bool is_success = response.status >= 200 && response.status < 300;
  metrics().upstream_requests.with(is_success ? "success" : "http_error").inc();
  if (!is_success) {
    if (upload) connection->end_upload(upload->upload);
    log::emit(upstream::log_events::request_rejected,
              {{"conn", identity.connection_id}, {"hub", identity.hub}, {"event", event_name(event)},
               {"trace", trace_id_of(event)}, {"status", response.status}});
    if (is_invoke) {
      return run_reply(connection, {}, make_frame(protocol::encode_completion_error(kind,
          invocation_id, "Invocation failed, status code " + std::to_string(response.status))), std::move(settled));
    } else if (event.kind == UpstreamEventKind::connected && (response.status == 401 || response.status == 403)) {
      // A function may refuse a connection (PROTOCOL.md part 3 §3.4): no reconnect, the reason shown.
      connection->drop_pending_messages();
      connection->close(
          {"upstream_refused", hub::refusal_reason(response.content_type, response.body, "Unauthorized"), false});
    }
    return settled();
  }

  hub::ReplyContext context{identity.hub_key, connection->protocol(), 1000};
  auto reply = hub::parse_upstream_reply(response.content_type, response.body, context);
  if (!reply) {
    if (upload) connection->end_upload(upload->upload);
    metrics().upstream_requests.with("invalid_reply").inc();
    log::emit(upstream::log_events::invalid_reply,
              {{"conn", identity.connection_id}, {"hub", identity.hub}, {"event", event_name(event)},
               {"trace", trace_id_of(event)}, {"error", reply.error().message}, {"sample", log::sample(response.body)}});
    if (is_invoke)
      return run_reply(connection, {}, make_frame(protocol::encode_completion_error(kind, invocation_id, "Invocation failed, invalid reply.")), std::move(settled));
    return settled();
  }

  // A send() gets no Completion; connected/disconnected have no caller. A stream stays open for the
  // items the function sends through the REST API, unless the reply fails it or answers verbatim.
  Frame completion;
  const bool is_stream = upload ? upload->is_stream_invocation : event.message.type == protocol::MessageType::stream_invocation;
  if (is_stream) {
    if (reply->kind == hub::ReplyKind::verbatim) completion = make_frame(std::move(reply->verbatim));
    else if (reply->kind == hub::ReplyKind::envelope && reply->error)
      completion = make_frame(protocol::encode_completion_error(kind, invocation_id, *reply->error));
  } else if (is_invoke) {
    switch (reply->kind) {
      case hub::ReplyKind::empty:
        if (must_answer) completion = make_frame(protocol::encode_completion_void(kind, invocation_id));
        break;
      case hub::ReplyKind::verbatim: completion = make_frame(std::move(reply->verbatim)); break;
      case hub::ReplyKind::envelope:
        if (reply->error) completion = make_frame(protocol::encode_completion_error(kind, invocation_id, *reply->error));
        else if (reply->result_json)
          completion = make_frame(protocol::encode_completion_result(kind, invocation_id, *reply->result_json));
        else if (must_answer) completion = make_frame(protocol::encode_completion_void(kind, invocation_id));
        break;
    }
  }
  if (console::live_trace().is_watched())
    console::live_trace().publish(console::TraceKind::reply, trace_subject(*connection, event),
                                  {{"event", event_name(event)},
                                   {"actions", reply->actions.size()},
                                   {"answer", completion ? "completion" : "none"}});
  // Answered early (or, for a send(), refused): the rest of the upload goes nowhere.
  if (upload && !upload->is_last &&
      (completion || (reply->kind == hub::ReplyKind::envelope && reply->error)))
    connection->end_upload(upload->upload);
  run_reply(connection, std::move(reply->actions), std::move(completion), std::move(settled));
}

}  // namespace sb::server
