// The chat page: asks /api/me who is signed in (the session cookie), or asks a name and signs in with
// POST /api/sign-in; then gets {url, accessToken} from /api/negotiate, which names the signed-in user,
// connects to the gateway with @microsoft/signalr, and talks to hub "chat" (samples/chat/chat_hub.hpp).
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const messages = byId("messages");
  let connection = null;
  let currentRoom = "";

  function setState(state) {
    document.body.dataset.state = state;
    byId("status").textContent = state;
  }

  // One <li> per message; textContent, never innerHTML: the text comes from other users.
  function show(kind, text) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    messages.append(item);
    messages.scrollTop = messages.scrollHeight;
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

  async function enterRoom(room) {
    if (currentRoom && currentRoom !== room) await connection.invoke("leaveRoom", currentRoom);
    await connection.invoke("joinRoom", room);
    currentRoom = room;
    byId("room").value = room;
    show("system", "You are in #" + room);
  }

  async function join(user) {
    byId("login").hidden = true;
    byId("chat").hidden = false;
    byId("me").textContent = user;
    setState("connecting");
    try {
      const info = await fetchJson("/api/negotiate", { method: "POST" });
      connection = new signalR.HubConnectionBuilder()
        .withUrl(info.url, { accessTokenFactory: () => info.accessToken })
        .withAutomaticReconnect()
        .build();

      connection.on("welcome", (name) => show("system", "Welcome, " + name + "!"));
      connection.on("system", (text) => show("system", text));
      connection.on("message", (from, text, room) =>
        show("message", (room === currentRoom ? "" : "[#" + room + "] ") + from + ": " + text));
      connection.on("private", (from, text) => show("private", from + ": " + text));

      connection.onreconnecting(() => setState("connecting"));
      // A reconnected client has a new connection id, and group membership belonged to the old one.
      connection.onreconnected(async () => {
        try {
          await connection.invoke("joinRoom", currentRoom);
          setState("connected");
        } catch (error) {
          show("error", "Could not rejoin #" + currentRoom + ": " + describe(error));
        }
      });
      connection.onclose(() => setState("disconnected"));

      await connection.start();
      await enterRoom("lobby");
      setState("connected");
      byId("message").focus();
    } catch (error) {
      show("error", "Could not connect: " + describe(error));
      setState("disconnected");
    }
  }

  async function send(text) {
    const whisper = /^\/whisper\s+(\S+)\s+([\s\S]+)$/.exec(text);
    try {
      if (whisper) {
        await connection.invoke("whisper", whisper[1], whisper[2]);
      } else if (text.startsWith("/whisper")) {
        show("error", "Usage: /whisper name text");
      } else {
        await connection.invoke("say", currentRoom, text);
      }
    } catch (error) {
      show("error", describe(error));
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

  byId("message").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    const text = byId("message").value;
    if (!text.trim() || !connection) return;
    byId("message").value = "";
    send(text);
  });

  // Enter and the change event can both fire for one edit; queue switches so each sees the last.
  let roomSwitches = Promise.resolve();
  function switchRoom() {
    roomSwitches = roomSwitches.then(async () => {
      const room = byId("room").value.trim();
      if (!room || room === currentRoom || !connection) return;
      try {
        await enterRoom(room);
      } catch (error) {
        show("error", "Could not join #" + room + ": " + describe(error));
        byId("room").value = currentRoom;
      }
    });
  }
  byId("room").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      switchRoom();
    }
  });
  byId("room").addEventListener("change", switchRoom);

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
