#pragma once
// Azure's audience rules, made tolerant where the SDKs disagree (PROTOCOL.md part 2 §1.3 and §4.1):
// scheme and port are ignored, the host compares case-insensitively, the query and a trailing slash
// are dropped. Pure.
#include <string_view>

namespace sb::auth {

// Client tokens: aud is http(s)://HOST[:port]/client/?hub=HUB; the hub compares case-insensitively.
bool client_audience_matches(std::string_view audience, std::string_view request_host, std::string_view hub);

// REST tokens: aud is the request URL (query optional and ignored); the path compares exactly except
// the hub segment after "/hubs/", which compares case-insensitively.
bool rest_audience_matches(std::string_view audience, std::string_view request_host, std::string_view request_path);

// What an audience must look like to match, for a log line: any scheme and port ("//host/client/?hub=H",
// "//host/api/v1/hubs/h/...").
std::string expected_client_audience(std::string_view request_host, std::string_view hub);
std::string expected_rest_audience(std::string_view request_host, std::string_view request_path);

// "Host" header value without the port: "example.com:8080" -> "example.com", "[::1]:80" -> "[::1]".
std::string_view host_without_port(std::string_view host);

}  // namespace sb::auth
