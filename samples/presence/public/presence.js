// The presence page: asks /api/me who is signed in (the session cookie), or asks a name and signs in
// with POST /api/sign-in; then gets {url, accessToken} from /api/negotiate, connects to hub "presence"
// (samples/presence/presence_hub.hpp) and keeps a list of who is online: the gateway's list from
// /api/online when the page loads, then the hub's online/offline announcements.
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

  function describe(error) {
    return error && error.message ? error.message : String(error);
  }

  // Same-origin requests carry the session cookie (HttpOnly: this script never sees it).
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
      const info = await fetchJson("/api/negotiate", { method: "POST" });
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
      log("Could not connect: " + describe(error));
      setState("disconnected");
    }
  }

  byId("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const user = byId("name").value.trim();
    if (!user) return;
    try {
      const me = await fetchJson("/api/sign-in", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user }),
      });
      join(me.user);
    } catch (error) {
      byId("login-error").textContent = describe(error);
    }
  });

  // The cookie is HttpOnly, so only the server can delete it; the reload then asks for a name again.
  byId("sign-out").addEventListener("click", async () => {
    await fetch("/api/sign-out", { method: "POST" });
    location.reload();
  });

  // Signed in already (another tab, or before a reload): connect; otherwise ask a name.
  fetch("/api/me").then(async (response) => {
    if (response.ok) return join((await response.json()).user);
    byId("login").hidden = false;
    setState("signed-out");
    byId("name").focus();
  }).catch((error) => {
    byId("login").hidden = false;
    byId("login-error").textContent = "Could not reach the server: " + describe(error);
    setState("disconnected");
  });
})();
