// The notifications page: asks /api/me who is signed in (the session cookie), or asks a name and signs
// in with POST /api/sign-in; then gets {url, accessToken} from /api/negotiate (which hands out the
// fleet's gateways in turn), connects to hub "notifications" and lists every `notification` sent to
// this user (samples/notifications/notifier.hpp). The form posts /api/notify-from-page.
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

  // Same-origin requests carry the session cookie (HttpOnly: this script never sees it).
  async function fetchJson(url, options) {
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || url + " failed with status " + response.status);
    return body;
  }

  // textContent, never innerHTML: the text comes from whoever sent it.
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
    meta.append(time);
    if (notification.from) {
      const from = document.createElement("span");
      from.className = "from";
      from.textContent = notification.from;
      meta.append(" from ", from);
    }
    meta.append(" via ", via);
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
      const info = await fetchJson("/api/negotiate", { method: "POST" });
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

  byId("send").addEventListener("submit", async (event) => {
    event.preventDefault();
    const user = byId("to").value.trim();
    const text = byId("text").value;
    try {
      const sent = await fetchJson("/api/notify-from-page", {
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
