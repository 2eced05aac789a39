#include "switchboard/functions.hpp"

#include "switchboard/detail/argument_array.hpp"

namespace switchboard {
namespace {

// A message action: the Functions SignalRMessage object, addressed by at most one of the keys.
Json message_action(std::string target, Json arguments) {
  return Json{{"target", std::move(target)}, {"arguments", detail::to_argument_array(std::move(arguments))}};
}

// A group action: the Functions SignalRGroupAction object.
Json group_action(const char* action, std::string group) {
  return Json{{"action", action}, {"groupName", std::move(group)}};
}

}  // namespace

Reply& Reply::result(Json value) {
  result_ = std::move(value);
  error_.reset();
  return *this;
}

Reply& Reply::error(std::string message) {
  error_ = std::move(message);
  result_.reset();
  return *this;
}

Reply& Reply::send_to_all(std::string target, Json arguments, std::vector<std::string> excluded_connection_ids) {
  Json action = message_action(std::move(target), std::move(arguments));
  if (!excluded_connection_ids.empty()) action["excluded"] = std::move(excluded_connection_ids);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::send_to_connection(std::string connection_id, std::string target, Json arguments) {
  Json action = message_action(std::move(target), std::move(arguments));
  action["connectionId"] = std::move(connection_id);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::send_to_user(std::string user_id, std::string target, Json arguments) {
  Json action = message_action(std::move(target), std::move(arguments));
  action["userId"] = std::move(user_id);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::send_to_group(std::string group, std::string target, Json arguments,
                            std::vector<std::string> excluded_connection_ids) {
  Json action = message_action(std::move(target), std::move(arguments));
  action["groupName"] = std::move(group);
  if (!excluded_connection_ids.empty()) action["excluded"] = std::move(excluded_connection_ids);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::add_to_group(std::string group, std::string connection_id) {
  Json action = group_action("add", std::move(group));
  action["connectionId"] = std::move(connection_id);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::remove_from_group(std::string group, std::string connection_id) {
  Json action = group_action("remove", std::move(group));
  action["connectionId"] = std::move(connection_id);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::add_user_to_group(std::string group, std::string user_id) {
  Json action = group_action("add", std::move(group));
  action["userId"] = std::move(user_id);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::remove_user_from_group(std::string group, std::string user_id) {
  Json action = group_action("remove", std::move(group));
  action["userId"] = std::move(user_id);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::remove_user_from_all_groups(std::string user_id) {
  actions_.push_back(Json{{"action", "removeAll"}, {"userId", std::move(user_id)}});
  return *this;
}

Reply& Reply::close_connection(std::string connection_id, std::string reason, bool allow_reconnect) {
  Json action{{"action", "close"}, {"connectionId", std::move(connection_id)}, {"allowReconnect", allow_reconnect}};
  if (!reason.empty()) action["reason"] = std::move(reason);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::invoke_client(std::string connection_id, std::string target, Json arguments, std::string result_target,
                            Json correlation) {
  actions_.push_back(Json{{"action", "invoke"},
                          {"connectionId", std::move(connection_id)},
                          {"target", std::move(target)},
                          {"arguments", detail::to_argument_array(std::move(arguments))},
                          {"resultTarget", std::move(result_target)},
                          {"correlationId", std::move(correlation)}});
  return *this;
}

Reply& Reply::stream_item(std::string connection_id, std::string stream_id, Json item, bool completed) {
  Json action{{"action", "streamItem"}, {"connectionId", std::move(connection_id)}, {"streamId", std::move(stream_id)},
              {"item", std::move(item)}};
  if (completed) action["completed"] = true;
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::complete_stream(std::string connection_id, std::string stream_id, std::string error) {
  Json action{{"action", "streamComplete"}, {"connectionId", std::move(connection_id)}, {"streamId", std::move(stream_id)}};
  if (!error.empty()) action["error"] = std::move(error);
  actions_.push_back(std::move(action));
  return *this;
}

Reply& Reply::status(int http_status) {
  http_status_ = http_status;
  return *this;
}

bool Reply::empty() const { return !result_ && !error_ && actions_.empty(); }

Json Reply::to_json() const {
  Json envelope = Json::object();
  if (error_) {
    envelope["error"] = *error_;
  } else if (result_) {
    envelope["result"] = *result_;
  }
  if (!actions_.empty()) envelope["actions"] = actions_;
  return envelope;
}

}  // namespace switchboard
