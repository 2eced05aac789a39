#pragma once
// A client's follow-up request on a connection it already opened: an SSE or long-polling send (POST), a
// long poll (GET) or a stop (DELETE). The same code answers it whether it reached this gateway directly
// or another gateway relayed it here (backplane/request_relay.hpp): the answer is a status, a content
// type and a body, which the gateway the client reached turns into its HTTP response.
#include <functional>

#include "backplane/backplane.hpp"
#include "http/responses.hpp"
#include "server/connection_directory.hpp"

namespace sb::server {

using FollowUpAnswer = backplane::FollowUpAnswer;
using AnswerFollowUp = std::function<void(FollowUpAnswer)>;

// Runs `request` on the connection's thread; `answer` is called there, once.
void run_follow_up(const DirectoryEntry& entry, backplane::FollowUp request, AnswerFollowUp answer);

// Runs `request` on this gateway when it holds the connection, else on the gateway of the fleet that
// does (404 when none does); `done` gets the answer on `reply_on`. The REST API's :invoke comes here.
void run_follow_up_anywhere(ConnectionDirectory& directory, backplane::Backplane& backplane, backplane::FollowUp request,
                            boost::asio::any_io_executor reply_on, backplane::Backplane::RelayDone done);

// A request another gateway relayed here: runs it if this gateway holds the connection, else 404.
void serve_relayed_follow_up(ConnectionDirectory& directory, backplane::FollowUp request, AnswerFollowUp answer);

// 404: no connection with that id (ASP.NET's text, as http::connection_not_found).
FollowUpAnswer connection_not_found_answer();

// The HTTP response for `answer`, with CORS for the request `basis` came from.
http::Response follow_up_response(const http::Request& basis, const FollowUpAnswer& answer);

}  // namespace sb::server
