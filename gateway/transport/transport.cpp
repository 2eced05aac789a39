#include "transport/transport.hpp"

namespace sb::transport {

std::string_view to_string(TransportEnd end) {
  switch (end) {
    case TransportEnd::closed_by_client: return "closed_by_client";
    case TransportEnd::closed_by_server: return "closed_by_server";
    case TransportEnd::network_error: return "network_error";
    case TransportEnd::send_queue_full: return "send_queue_full";
    case TransportEnd::protocol_error: return "transport_protocol_error";
  }
  return "unknown";
}

}  // namespace sb::transport
