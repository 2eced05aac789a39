// The presence page: takes a name (or ?user=), gets {url, accessToken} from /api/negotiate, connects to
// hub "presence" (samples/presence/presence_hub.hpp) and keeps a list of who is online: the gateway's
// list from /api/online when the page loads, then the hub's online/offline announcements.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const online = new Map();  // user id → connection count

  function setState(state) {
    document.body.dataset.state = state;
    byId("status").textContent = state;
  }

  function log(text) {
    const item = document.createElement("li");
    item.textContent = text;
    byId("events").append(item);
  }

  // textContent, never innerHTML: user ids come from other users.
  function render() {
    const list = byId("online");
    list.replaceChildren();
    for (const user of [...online.keys()].sort()) {
      const item = document.createElement("li");
      item.dataset.user = user;
      item.dataset.count = String(online.get(user));
      item.textContent = user;
      const tabs = document.createElement("span");
      tabs.className = "tabs";
      tabs.textContent = online.get(user) === 1 ? "1 connection" : online.get(user) + " connections";
      item.append(tabs);
      list.append(item);
    }
  }

  // Announcements repeat (every tab of a user announces it); only changes are logged.
  function setOnline(user, count) {
    if (!online.has(user)) log(user + " is online");
    online.set(user, count);
    render();
  }

  function setOffline(user) {
    if (online.delete(user)) log(user + " went offline");
    render();
  }

  async function fetchJson(url, options) {
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || url + " failed with status " + response.status);
    return body;
  }

  async function join(user) {
    byId("login").hidden = true;
    byId("presence").hidden = false;
    byId("me").textContent = user;
    setState("connecting");
    // Announcements that arrive while the list loads are applied after it, in order: each one is
    // newer than the list or is followed by one that is.
    let pending = [];
    const apply = (change) => (pending ? pending.push(change) : change());
    try {
      const info = await fetchJson("/api/negotiate?user=" + encodeURIComponent(user), { method: "POST" });
      const connection = new signalR.HubConnectionBuilder()
        .withUrl(info.url, { accessTokenFactory: () => info.accessToken })
        .withAutomaticReconnect()
        .build();
      connection.on("online", (who, count) => apply(() => setOnline(who, count)));
      connection.on("offline", (who) => apply(() => setOffline(who)));
      connection.onreconnecting(() => setState("connecting"));
      connection.onreconnected(() => setState("connected"));
      connection.onclose(() => setState("disconnected"));

      await connection.start();
      const list = await fetchJson("/api/online");
      for (const entry of list.users) setOnline(entry.userId, entry.connectionCount);
      const queued = pending;
      pending = null;
      for (const change of queued) change();
      setState("connected");
    } catch (error) {
      log("Could not connect: " + (error && error.message ? error.message : String(error)));
      setState("disconnected");
    }
  }

  byId("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const user = byId("name").value.trim();
    if (user) join(user);
  });

  const presetUser = new URLSearchParams(location.search).get("user");
  if (presetUser) {
    byId("name").value = presetUser;
    join(presetUser);
  }
})();
