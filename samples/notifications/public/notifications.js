// The notifications page: takes a name (or ?user=), gets {url, accessToken} from /api/negotiate (which
// hands out the fleet's gateways in turn), connects to hub "notifications" and lists every
// `notification` sent to this user (samples/notifications/notifier.hpp). The form posts /api/notify.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);

  function setState(state) {
    document.body.dataset.state = state;
    byId("status").textContent = state;
  }

  function describe(error) {
    return error && error.message ? error.message : String(error);
  }

  async function fetchJson(url, options) {
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || url + " failed with status " + response.status);
    return body;
  }

  // textContent, never innerHTML: the text comes from whoever called /api/notify.
  function show(notification) {
    const item = document.createElement("li");
    item.dataset.id = String(notification.id);
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = notification.text;
    const meta = document.createElement("span");
    meta.className = "meta";
    const time = document.createElement("time");
    time.textContent = new Date(notification.sentAt).toLocaleTimeString();
    const via = document.createElement("span");
    via.className = "via";
    via.textContent = notification.via;
    meta.append(time, " via ", via);
    item.append(text, meta);
    byId("notifications").prepend(item);
    byId("empty").hidden = true;
  }

  async function join(user) {
    byId("login").hidden = true;
    byId("inbox").hidden = false;
    byId("me").textContent = user;
    byId("to").value = user;
    setState("connecting");
    try {
      const info = await fetchJson("/api/negotiate?user=" + encodeURIComponent(user), { method: "POST" });
      const gateway = new URL(info.url).origin;
      document.body.dataset.gateway = gateway;
      byId("gateway").textContent = gateway;
      const connection = new signalR.HubConnectionBuilder()
        .withUrl(info.url, { accessTokenFactory: () => info.accessToken })
        .withAutomaticReconnect()
        .build();
      connection.on("notification", show);
      connection.onreconnecting(() => setState("connecting"));
      connection.onreconnected(() => setState("connected"));
      connection.onclose(() => setState("disconnected"));
      await connection.start();
      setState("connected");
    } catch (error) {
      byId("send-result").textContent = "Could not connect: " + describe(error);
      setState("disconnected");
    }
  }

  byId("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const user = byId("name").value.trim();
    if (user) join(user);
  });

  byId("send").addEventListener("submit", async (event) => {
    event.preventDefault();
    const user = byId("to").value.trim();
    const text = byId("text").value;
    try {
      const sent = await fetchJson("/api/notify", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user, text }),
      });
      byId("send-result").textContent = "Sent #" + sent.id + " to " + user + ".";
      byId("text").value = "";
    } catch (error) {
      byId("send-result").textContent = "Not sent: " + describe(error);
    }
  });

  const presetUser = new URLSearchParams(location.search).get("user");
  if (presetUser) {
    byId("name").value = presetUser;
    join(presetUser);
  }
})();
