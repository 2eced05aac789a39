#include "connection/upload_streams.hpp"

#include <unordered_set>

namespace sb::connection {

Result<UploadStep> UploadStreams::open(std::optional<std::string> invocation_id, bool is_stream_invocation,
                                       std::string target, const std::vector<std::string>& stream_ids,
                                       std::size_t max_streams) {
  if (streams_.size() + stream_ids.size() > max_streams)
    return make_error("too_many_streams", "Too many upload streams are open on this connection.");
  std::unordered_set<std::string_view> seen;
  for (const auto& id : stream_ids)
    if (streams_.count(id) != 0 || !seen.insert(id).second)
      return make_error("stream_id_in_use", "Stream id '" + id + "' is already in use.");
  const auto upload = ++last_upload_;
  for (const auto& id : stream_ids) streams_.emplace(id, Stream{upload, 0});
  UploadStep step;
  step.upload = upload;
  step.invocation_id = invocation_id;
  step.is_stream_invocation = is_stream_invocation;
  step.target = target;
  uploads_.emplace(upload, Upload{std::move(invocation_id), is_stream_invocation, std::move(target), stream_ids.size()});
  return step;
}

UploadStep UploadStreams::step_of(const std::string& stream_id, const Stream& stream) const {
  const auto& upload = uploads_.at(stream.upload);
  UploadStep step;
  step.upload = stream.upload;
  step.invocation_id = upload.invocation_id;
  step.is_stream_invocation = upload.is_stream_invocation;
  step.target = upload.target;
  step.stream_id = stream_id;
  step.first_sequence = stream.next_sequence;
  return step;
}

UploadStep UploadStreams::item(const std::string& stream_id) {
  auto& stream = streams_.at(stream_id);
  auto step = step_of(stream_id, stream);
  step.items = 1;
  ++stream.next_sequence;
  return step;
}

UploadStep UploadStreams::complete(const std::string& stream_id) {
  auto it = streams_.find(stream_id);
  auto step = step_of(stream_id, it->second);
  step.completes_stream = true;
  auto upload = uploads_.find(it->second.upload);
  streams_.erase(it);
  if (--upload->second.open_streams == 0) {
    step.is_last = true;
    uploads_.erase(upload);
  }
  return step;
}

void UploadStreams::end(std::uint64_t upload) {
  if (uploads_.erase(upload) == 0) return;
  std::erase_if(streams_, [upload](const auto& entry) { return entry.second.upload == upload; });
}

}  // namespace sb::connection
