#pragma once
// The HTTP sessions of one thread that wait for a request header on a socket that has not authenticated,
// oldest first. When the gateway is at --max-connections, a new socket takes the place of the oldest
// of these (it is closed) instead of being refused: anonymous idle sockets are what a flood is made of,
// and a health probe or a real client must still get in. Sessions that have authenticated, or that are
// being answered, are never evicted. One thread only, like its sessions; costs no allocation.
#include <boost/intrusive/list.hpp>

namespace sb::http {

class EvictableSession
    : public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  // Ends the session now: its socket closes, its pending read completes with an error.
  virtual void evict() = 0;

 protected:
  virtual ~EvictableSession() = default;  // unlinks itself (auto_unlink)
};

class UnauthenticatedSessions {
 public:
  // Appends `session` as the newest (moving it if it was listed already).
  void enlist(EvictableSession& session);
  // Evicts the oldest; false when the list is empty.
  bool evict_oldest();

 private:
  boost::intrusive::list<EvictableSession, boost::intrusive::constant_time_size<false>> sessions_;
};

}  // namespace sb::http
