/* Switchboard operator console, served by the gateway under /admin/.
   One plain script: no build step, no libraries. The page's CSP allows same-origin script and style
   only, so the DOM, the routing and the charts are all done by hand here. Every piece of data reaches
   the page through textContent or attributes, never innerHTML. */
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------------
  // Constants

  const WINDOW_MS = 15 * 60 * 1000; // the charts' span, as much as api/history keeps
  const FLEET_FAST_MS = 1000; // api/fleet while the overview is shown
  const FLEET_SLOW_MS = 5000; // otherwise: only the footer and the gateway list need it
  const HISTORY_MS = 5000;
  const HUBS_MS = 2000;
  const DETAIL_MS = 3000; // hub and group pages
  const CONNECTION_MS = 2000;
  const TRACE_KINDS = ["connect", "disconnect", "invocation", "upstream", "reply", "rest", "handoff"];
  const TRACE_MAX_ROWS = 2000;
  const TRACE_MAX_BUFFER = 5000;
  const TRACE_RETRY_MS = 3000;
  const OPERATOR_REASON = "Closed by an operator.";
  const POST_HEADERS = { "Content-Type": "application/json", "X-Switchboard-Console": "1" };
  const GATEWAY_VIEWS = new Set(["hubs", "hub", "group", "connection"]);
  // Canvas strokes can't use CSS classes, so the palette lives here; console.css mirrors it as .sw-N.
  const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
  const CHART_FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  const CHART_TEXT = "#647184";
  const CHART_GRID = "#e6e9ee";
  const SUMMED_KEYS = [
    "connections", "connectsPerSecond", "disconnectsPerSecond", "messagesInPerSecond", "messagesOutPerSecond",
    "upstreamCallsPerSecond", "upstreamErrorsPerSecond", "restCallsPerSecond",
  ];
  const WORST_KEYS = ["upstreamP50Ms", "upstreamP95Ms", "upstreamP99Ms"];

  // ---------------------------------------------------------------------------------------------
  // State

  const state = {
    gen: 0, // bumped on every route change; async work of an older view checks it and stops
    view: "",
    cleanups: [],
    gateway: loadGatewayChoice(),
    fleet: null,
    fleetTimer: 0,
    fleetPromise: null,
    onFleet: null, // the overview's renderer while it is shown
    leaving: false, // set while the page navigates away: aborted fetches are not errors then
    traceFilter: defaultTraceFilter(),
  };
  const widgets = new WeakMap(); // table cell -> its two-step button, kept across refreshes

  function defaultTraceFilter() {
    return { hub: "", user: "", connection: "", kinds: new Set(TRACE_KINDS), sample: "1", scope: "fleet" };
  }

  function loadGatewayChoice() {
    try {
      return sessionStorage.getItem("switchboard.gateway") || "";
    } catch (e) {
      return "";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // DOM helpers

  const $ = (selector) => document.querySelector(selector);

  // el("a", {href, class, text, data: {...}, onclick}, ...children): strings become text nodes.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "data") {
        for (const [name, v] of Object.entries(value)) if (v !== undefined && v !== null) node.dataset[name] = String(v);
      } else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // Only touches the DOM when the text changed: polling re-renders every second or two.
  function setText(node, text) {
    text = String(text);
    if (node.textContent !== text) node.textContent = text;
  }

  const str = (v) => (v === undefined || v === null ? "" : String(v));
  const arr = (v) => (Array.isArray(v) ? v : []);
  const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const numOrNull = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

  const enc = encodeURIComponent;
  const hubHref = (hub) => `#hub/${enc(hub)}`;
  const groupHref = (hub, group) => `#group/${enc(hub)}/${enc(group)}`;
  const connectionHref = (hub, id) => `#connection/${enc(hub)}/${enc(id)}`;

  // ---------------------------------------------------------------------------------------------
  // Formatting

  // Plain integers without separators: tests and people copying numbers both parse them as is.
  const fmtInt = (v) => String(Math.round(num(v)));

  function fmtRate(v) {
    v = num(v);
    const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
    return String(Number(v.toFixed(digits)));
  }

  function fmtMsNumber(v) {
    v = numOrNull(v);
    if (v === null) return "—";
    return String(v >= 100 ? Math.round(v) : Number(v.toFixed(1)));
  }

  const fmtMs = (v) => (numOrNull(v) === null ? "—" : `${fmtMsNumber(v)} ms`);

  function fmtAxis(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return `${Number((v / 1e9).toFixed(1))}G`;
    if (a >= 1e6) return `${Number((v / 1e6).toFixed(1))}M`;
    if (a >= 1e4) return `${Number((v / 1e3).toFixed(1))}k`;
    return String(Number(v.toFixed(2)));
  }

  function fmtDuration(seconds) {
    const s = Math.max(0, Math.floor(num(seconds)));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${pad(m)}m`;
    if (m) return `${m}m ${pad(s % 60)}s`;
    return `${s}s`;
  }

  function fmtBytes(n) {
    n = num(n);
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  }

  function fmtClock(t, withMs = true) {
    const d = new Date(num(t));
    const p = (n, w = 2) => String(n).padStart(w, "0");
    const hms = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    return withMs ? `${hms}.${p(d.getMilliseconds(), 3)}` : hms;
  }

  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const gatewayLabel = (id) => (id ? `gateway ${id}` : "this gateway");

  // ---------------------------------------------------------------------------------------------
  // API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code || `HTTP ${status}`);
      this.status = status;
      this.code = code || "";
    }
  }

  function withQuery(path, params) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
    }
    const text = query.toString();
    return text ? `${path}?${text}` : path;
  }

  const gatewayParam = () => (state.gateway ? { gateway: state.gateway } : {});

  // The console's session ended (or never began): the gateway answers /admin/ with the sign-in page.
  function signInAgain() {
    state.leaving = true;
    location.href = "/admin/";
  }

  async function request(path, options) {
    let response, text;
    try {
      response = await fetch(path, { credentials: "same-origin", cache: "no-store", ...options });
      text = await response.text();
      // Signed in with the read key: the page hides what it may not do (the gateway refuses it anyway).
      const access = response.headers.get("X-Switchboard-Console-Access");
      if (access) document.body.dataset.access = access;
    } catch (e) {
      throw new ApiError(0, "network_error", "The gateway did not answer (network error).");
    }
    if (response.status === 401) {
      signInAgain();
      throw new ApiError(401, "unauthorized", "Signed out.");
    }
    let body = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch (e) {
        body = null; // a proxy's HTML error page, say: the status still tells what happened
      }
    }
    if (!response.ok) {
      const code = isObject(body) && body.code ? String(body.code) : `http_${response.status}`;
      const message = isObject(body) && body.message ? String(body.message) : response.statusText;
      throw new ApiError(response.status, code, message);
    }
    return body;
  }

  const apiGet = (path, params) => request(withQuery(path, params));
  const apiPost = (path, body) =>
    request(path, { method: "POST", headers: POST_HEADERS, body: JSON.stringify(body) });

  // ---------------------------------------------------------------------------------------------
  // Error banner

  let lastError = { text: "", count: 0 };

  function showError(text) {
    const box = $("#error");
    lastError = !box.hidden && lastError.text === text ? { text, count: lastError.count + 1 } : { text, count: 1 };
    setText($("#error-text"), lastError.count > 1 ? `${text} (×${lastError.count})` : text);
    box.hidden = false;
  }

  function report(err) {
    if (state.leaving) return;
    if (err instanceof ApiError) {
      if (err.status === 401) return;
      const status = err.status ? `HTTP ${err.status}: ` : "";
      const code = err.code && err.code !== err.message ? ` (${err.code})` : "";
      showError(`${status}${err.message}${code}`);
      return;
    }
    console.error(err);
    showError(`Console error: ${err && err.message ? err.message : err}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Routing: #overview, #hubs, #hub/<hub>, #group/<hub>/<group>, #connection/<hub>/<id>, #trace

  const VIEW_ARGS = { overview: 0, hubs: 0, trace: 0, hub: 1, group: 2, connection: 2 };

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, "");
    const parts = raw.split("/").map((part) => {
      try {
        return decodeURIComponent(part);
      } catch (e) {
        return part;
      }
    });
    const name = parts[0] || "overview";
    if (!(name in VIEW_ARGS) || parts.length - 1 < VIEW_ARGS[name] || parts.slice(1).some((p) => !p)) {
      return { name: "overview", args: [] };
    }
    return { name, args: parts.slice(1, 1 + VIEW_ARGS[name]) };
  }

  function route() {
    for (const fn of state.cleanups.splice(0)) {
      try {
        fn();
      } catch (e) {
        console.error(e);
      }
    }
    state.onFleet = null;
    const gen = ++state.gen;
    const { name, args } = parseHash();
    state.view = name;
    delete document.body.dataset.view; // set again by the view once it has something to show
    markNav(name);
    document.title = `${args.length ? args[args.length - 1] + " · " : ""}${name} · Switchboard console`;

    const main = $("#view");
    main.replaceChildren();
    main.className = `view view-${name}`;
    main.scrollTop = 0;
    const ctx = {
      name,
      main,
      alive: () => gen === state.gen,
      cleanup: (fn) => state.cleanups.push(fn),
      rendered: () => {
        if (gen === state.gen) document.body.dataset.view = name;
      },
    };
    ctx.poll = (fn, ms) => startPoll(ctx, fn, ms);
    try {
      VIEWS[name](ctx, ...args);
    } catch (e) {
      report(e);
      ctx.rendered();
    }
  }

  function markNav(view) {
    const section = GATEWAY_VIEWS.has(view) ? "hubs" : view;
    for (const link of document.querySelectorAll("[data-nav]")) {
      const active = link.dataset.nav === section;
      link.classList.toggle("active", active);
      if (active) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  // Runs fn now and then `ms` after each run ends (never two at once), until the view goes away.
  function startPoll(ctx, fn, ms) {
    let timer = 0, stopped = false, busy = false, again = false;
    async function tick() {
      clearTimeout(timer);
      if (stopped || !ctx.alive()) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        await fn();
      } catch (e) {
        if (!stopped && ctx.alive()) report(e);
      }
      busy = false;
      if (stopped || !ctx.alive()) return;
      if (again) {
        again = false;
        tick();
      } else {
        timer = setTimeout(tick, ms);
      }
    }
    const handle = {
      now: tick,
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
    };
    ctx.cleanup(handle.stop);
    tick();
    return handle;
  }

  // ---------------------------------------------------------------------------------------------
  // Fleet: one poll for the whole page (footer, gateway list, overview)

  function refreshFleet() {
    clearTimeout(state.fleetTimer);
    if (!state.fleetPromise) {
      state.fleetPromise = loadFleet().finally(() => {
        state.fleetPromise = null;
        if (state.leaving) return;
        const wait = state.view === "overview" ? FLEET_FAST_MS : FLEET_SLOW_MS;
        state.fleetTimer = setTimeout(refreshFleet, wait);
      });
    }
    return state.fleetPromise;
  }

  async function loadFleet() {
    let fleet;
    try {
      fleet = normaliseFleet(await apiGet("api/fleet"));
    } catch (e) {
      report(e);
      return;
    }
    state.fleet = fleet;
    try {
      renderChrome(fleet);
    } catch (e) {
      report(e);
    }
    if (state.onFleet) {
      try {
        state.onFleet(fleet);
      } catch (e) {
        report(e);
      }
    }
  }

  function normaliseFleet(data) {
    const fleet = isObject(data) ? data : {};
    const gateways = arr(fleet.gateways)
      .filter((g) => isObject(g) && g.id !== undefined && g.id !== null)
      .map((g) => ({ ...g, id: String(g.id), sample: isObject(g.sample) ? g.sample : null }));
    return { self: str(fleet.self), redis: str(fleet.redis) || "off", gateways };
  }

  function renderChrome(fleet) {
    const me = fleet.gateways.find((g) => g.self) || fleet.gateways.find((g) => g.id === fleet.self);
    setText($("#footer-gateway"), fleet.self || "—");
    const redis = $("#footer-redis");
    setText(redis, fleet.redis);
    redis.className = `redis-${["ready", "degraded"].includes(fleet.redis) ? fleet.redis : "off"}`;
    setText($("#footer-version"), (me && str(me.version)) || "—");
    setText($("#footer-updated"), `updated ${fmtClock(Date.now(), false)}`);
    renderGatewayOptions(fleet.gateways.map((g) => g.id));
  }

  function renderGatewayOptions(ids) {
    const select = $("#gateway");
    // A chosen gateway that left the fleet stays listed, so the choice isn't silently switched.
    if (state.gateway && !ids.includes(state.gateway)) ids = [...ids, state.gateway];
    const key = ids.join("\n");
    if (select.dataset.ids !== key) {
      select.replaceChildren(
        el("option", { value: "", text: "This gateway" }),
        ...ids.map((id) => el("option", { value: id, text: id })),
      );
      select.dataset.ids = key;
    }
    if (select.value !== state.gateway) select.value = state.gateway;
  }

  function selectGateway(id) {
    state.gateway = id;
    try {
      sessionStorage.setItem("switchboard.gateway", id);
    } catch (e) {
      /* private mode: the choice lasts for this page only */
    }
    renderGatewayOptions(state.fleet ? state.fleet.gateways.map((g) => g.id) : []);
  }

  // ---------------------------------------------------------------------------------------------
  // Samples: the fleet's figures of one second, summed

  // Rates and counts add up; percentiles can't be added, so the worst gateway's stands for the fleet
  // (the gateway's own api/history?gateway=all merges the same way).
  function mergeSamples(list, t) {
    const out = { t, gateway: "all", closes: {}, rejected: {}, totals: {} };
    for (const key of SUMMED_KEYS) out[key] = 0;
    for (const key of WORST_KEYS) out[key] = null;
    for (const s of list) {
      for (const key of SUMMED_KEYS) out[key] += num(s[key]);
      for (const key of WORST_KEYS) {
        const v = numOrNull(s[key]);
        if (v !== null && (out[key] === null || v > out[key])) out[key] = v;
      }
      addCounts(out.closes, s.closes);
      addCounts(out.rejected, s.rejected);
      addCounts(out.totals, s.totals);
    }
    return out;
  }

  function addCounts(into, from) {
    if (!isObject(from)) return;
    for (const [key, value] of Object.entries(from)) into[key] = (into[key] || 0) + num(value);
  }

  // History as one sample per interval, oldest first, whatever the answer held.
  function mergeByInterval(samples, intervalMs) {
    const buckets = new Map();
    for (const s of samples) {
      if (!isObject(s) || !Number.isFinite(s.t)) continue;
      const key = Math.floor(s.t / intervalMs);
      if (!buckets.has(key)) buckets.set(key, []);
      buckets.get(key).push(s);
    }
    return [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([key, list]) => mergeSamples(list, list.length === 1 ? list[0].t : key * intervalMs));
  }

  function fleetSamples(fleet) {
    return fleet.gateways.map((g) => g.sample).filter((s) => s && Number.isFinite(s.t));
  }

  // ---------------------------------------------------------------------------------------------
  // Shared widgets

  function pageHead(title, crumbs) {
    const meta = el("div", { class: "page-meta" });
    const actions = el("div", { class: "page-actions" });
    const trail = crumbs
      ? el("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
          crumbs.flatMap((c, i) => [
            i ? el("span", { class: "sep", text: "/" }) : null,
            c.href ? el("a", { href: c.href, text: c.text }) : el("span", { text: c.text }),
          ]))
      : null;
    const node = el("header", { class: "page-head" },
      el("div", { class: "page-title" }, trail, el("h1", { text: title })),
      el("div", { class: "page-side" }, meta, actions));
    return { node, meta, actions };
  }

  function card(title, ...children) {
    const head = title ? el("header", { class: "card-head" }, el("h2", { text: title })) : null;
    return el("section", { class: "card" }, head, ...children);
  }

  function tile(label, id) {
    const value = el("div", { class: "tile-value", id, text: "—" });
    const sub = el("div", { class: "tile-sub", text: " " });
    return { node: el("div", { class: "tile" }, el("div", { class: "tile-label", text: label }), value, sub), value, sub };
  }

  const emptyNote = (text) => el("p", { class: "empty", text });

  // Columns: {field, label, num, cls, render(td, item)}. Rows are keyed (data-<keyAttr>) and reused on
  // every refresh, so a half-done two-step click or a hovered link survives the next poll.
  function dataTable(id, columns, keyAttr, keyOf) {
    const tbody = el("tbody");
    const head = el("thead", null, el("tr", null, columns.map((c) => el("th", { class: c.num ? "num" : null, text: c.label }))));
    const table = el("table", { id, class: "grid" }, head, tbody);
    const build = () =>
      el("tr", null, columns.map((c) => el("td", { class: [c.num ? "num" : "", c.cls || ""].join(" ").trim() || null, data: { field: c.field } })));
    const update = (tr, item) => columns.forEach((c, i) => c.render(tr.cells[i], item));
    return {
      table,
      tbody,
      node: el("div", { class: "table-wrap" }, table),
      sync: (items) => syncRows(tbody, items, keyOf, keyAttr, build, update),
    };
  }

  function syncRows(tbody, items, keyOf, keyAttr, build, update) {
    const existing = new Map();
    for (const tr of tbody.rows) existing.set(tr.dataset[keyAttr], tr);
    let previous = null;
    for (const item of items) {
      const key = keyOf(item);
      let tr = existing.get(key);
      if (tr) existing.delete(key);
      else {
        tr = build(item);
        tr.dataset[keyAttr] = key;
      }
      try {
        update(tr, item);
      } catch (e) {
        report(e); // one odd row must not blank the table
      }
      const wanted = previous ? previous.nextSibling : tbody.firstChild;
      if (tr !== wanted) tbody.insertBefore(tr, wanted);
      previous = tr;
    }
    for (const tr of existing.values()) tr.remove();
  }

  const textCol = (field, label, get, opts = {}) => ({
    field, label, num: !!opts.num, cls: opts.cls,
    render: (td, item) => setText(td, get(item)),
  });

  const linkCol = (field, label, hrefOf, get, opts = {}) => ({
    field, label, cls: opts.cls,
    render(td, item) {
      const a = td.firstElementChild || td.appendChild(el("a"));
      const href = hrefOf(item);
      if (a.getAttribute("href") !== href) a.setAttribute("href", href);
      setText(a, get(item));
    },
  });

  const userCol = () => ({
    field: "user", label: "User",
    render(td, c) {
      setText(td, c.user ? String(c.user) : "—");
      td.classList.toggle("muted", !c.user);
    },
  });

  // A cell holding one widget, made from the row's first item and kept afterwards.
  const widgetCol = (field, label, make, refresh) => ({
    field, label, cls: "actions",
    render(td, item) {
      let widget = widgets.get(td);
      if (!widget) {
        widget = make(item);
        widgets.set(td, widget);
        td.append(widget.node);
      }
      if (refresh) refresh(widget, item);
    },
  });

  function connectionColumns(hub) {
    return [
      linkCol("id", "Connection", (c) => connectionHref(hub, str(c.id)), (c) => str(c.id), { cls: "mono" }),
      userCol(),
      textCol("transport", "Transport", (c) => str(c.transport)),
      textCol("protocol", "Protocol", (c) => str(c.protocol)),
      textCol("ageSeconds", "Age", (c) => fmtDuration(c.ageSeconds), { num: true }),
      textCol("groups", "Groups", (c) => fmtInt(Array.isArray(c.groups) ? c.groups.length : c.groups), { num: true }),
      textCol("queueBytes", "Queue bytes", (c) => fmtInt(c.queueBytes), { num: true }),
    ];
  }

  // An element only the admin key may use: hidden when signed in with the read key.
  function actsOnly(node) {
    node.classList.add("acts");
    return node;
  }

  // Two clicks instead of window.confirm(): a dialog would block the page (and automated tests).
  // o: {label, confirmLabel, action, confirmAction, id?, confirmId?, small?, run: async () => note?}
  function twoStep(o) {
    const size = o.small ? " btn-sm" : "";
    const first = el("button", { type: "button", class: `btn${size}`, id: o.id, data: { action: o.action }, text: o.label });
    const confirm = el("button", {
      type: "button", class: `btn btn-danger${size}`, id: o.confirmId, data: { action: o.confirmAction },
      text: o.confirmLabel, hidden: true,
    });
    const cancel = el("button", { type: "button", class: "btn btn-sm btn-link", text: "Cancel", hidden: true });
    const note = el("span", { class: "two-step-note", hidden: true });
    const show = (mode) => {
      first.hidden = mode !== "idle";
      confirm.hidden = cancel.hidden = mode !== "confirm";
      note.hidden = mode !== "done";
    };
    first.addEventListener("click", () => {
      show("confirm");
      confirm.focus();
    });
    cancel.addEventListener("click", () => show("idle"));
    confirm.addEventListener("click", async () => {
      confirm.disabled = cancel.disabled = true;
      try {
        const done = await o.run();
        if (done) {
          setText(note, done);
          show("done");
        } else {
          show("idle");
        }
      } catch (e) {
        report(e);
        show("idle");
      } finally {
        confirm.disabled = cancel.disabled = false;
      }
    });
    return {
      node: el("span", { class: "two-step acts" }, first, confirm, cancel, note),
      lock(text) {
        first.disabled = true;
        setText(first, text);
        show("idle");
      },
    };
  }

  function closeGroupButton(hub, group, after) {
    return twoStep({
      label: "Close group", confirmLabel: "Confirm close", action: "close-group", confirmAction: "close-group-confirm",
      small: true,
      run: async () => {
        await apiPost("api/close-group", { hub, group, reason: OPERATOR_REASON });
        if (after) after();
        return "closing…";
      },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Charts (canvas, drawn by hand)

  const CHART_DEFS = [
    { title: "Connections", fmt: fmtInt, series: [{ label: "open", color: 0, get: (s) => s.connections }] },
    {
      title: "Messages / s", fmt: fmtRate,
      series: [
        { label: "in", color: 0, get: (s) => s.messagesInPerSecond },
        { label: "out", color: 1, get: (s) => s.messagesOutPerSecond },
      ],
    },
    {
      title: "Upstream calls / s", fmt: fmtRate,
      series: [
        { label: "calls", color: 3, get: (s) => s.upstreamCallsPerSecond },
        { label: "errors", color: 2, get: (s) => s.upstreamErrorsPerSecond },
      ],
    },
    {
      title: "Upstream latency (ms)", fmt: fmtMsNumber,
      series: [
        { label: "p50", color: 1, get: (s) => s.upstreamP50Ms },
        { label: "p95", color: 4, get: (s) => s.upstreamP95Ms },
        { label: "p99", color: 2, get: (s) => s.upstreamP99Ms },
      ],
    },
    { title: "Closes / s by reason", fmt: fmtRate, series: (samples) => reasonSeries(samples, "closes"), empty: "No closes in the last 15 minutes" },
    { title: "Rejected / s by reason", fmt: fmtRate, series: (samples) => reasonSeries(samples, "rejected"), empty: "No rejections in the last 15 minutes" },
  ];

  // One line per reason seen in the window; a missing reason in a second counts as 0.
  function reasonSeries(samples, field) {
    const reasons = new Set();
    for (const s of samples) if (isObject(s[field])) for (const key of Object.keys(s[field])) reasons.add(key);
    return [...reasons].sort().map((reason) => ({ label: reason, get: (s) => (isObject(s[field]) ? num(s[field][reason]) : 0) }));
  }

  const PAD = { left: 44, right: 10, top: 8, bottom: 20 };

  function createChart(def) {
    const canvas = el("canvas", { class: "chart-canvas", role: "img", "aria-label": def.title });
    const at = el("span", { class: "chart-at" });
    const legend = el("div", { class: "legend" });
    const chart = {
      def, canvas, at, legend,
      node: el("section", { class: "card chart-card" }, el("div", { class: "chart-head" }, el("h3", { text: def.title }), at), canvas, legend),
      samples: [], series: [], intervalMs: 1000, now: Date.now(), hoverX: null,
      legendKey: null, legendValues: [], colors: new Map(),
    };
    canvas.addEventListener("mousemove", (e) => {
      chart.hoverX = e.clientX - canvas.getBoundingClientRect().left;
      drawChart(chart);
    });
    canvas.addEventListener("mouseleave", () => {
      chart.hoverX = null;
      drawChart(chart);
    });
    return chart;
  }

  function setChartData(chart, samples, intervalMs, now) {
    chart.samples = samples;
    chart.intervalMs = intervalMs;
    chart.now = now;
    const list = typeof chart.def.series === "function" ? chart.def.series(samples) : chart.def.series;
    // A reason keeps its colour while it stays in the window, even as others come and go.
    chart.series = list.map((s) => ({ ...s, color: s.color !== undefined ? s.color : colourFor(chart, s.label) }));
    drawChart(chart);
  }

  function colourFor(chart, label) {
    if (!chart.colors.has(label)) chart.colors.set(label, chart.colors.size % PALETTE.length);
    return chart.colors.get(label);
  }

  const seriesValue = (series, sample) => numOrNull(series.get(sample));

  function niceCeil(v) {
    if (!(v > 0)) return 1;
    const e = 10 ** Math.floor(Math.log10(v));
    const f = v / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
  }

  function drawChart(chart) {
    const { canvas } = chart;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (!w || !h) return; // not laid out yet; the resize observer draws it when it is
    const dpr = window.devicePixelRatio || 1;
    const bw = Math.round(w * dpr), bh = Math.round(h * dpr);
    if (canvas.width !== bw) canvas.width = bw;
    if (canvas.height !== bh) canvas.height = bh;
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0); // draw in CSS pixels, sharp on any screen
    g.clearRect(0, 0, w, h);
    g.font = CHART_FONT;

    const plot = { x: PAD.left, y: PAD.top, w: Math.max(10, w - PAD.left - PAD.right), h: Math.max(10, h - PAD.top - PAD.bottom) };
    const t1 = chart.now, t0 = t1 - WINDOW_MS;
    const xOf = (t) => plot.x + ((t - t0) / WINDOW_MS) * plot.w;
    const visible = chart.samples.filter((s) => s.t >= t0 - chart.intervalMs);
    let max = 0;
    for (const s of visible) {
      for (const series of chart.series) {
        const v = seriesValue(series, s);
        if (v !== null && v > max) max = v;
      }
    }
    const top = niceCeil(max);
    const yOf = (v) => plot.y + plot.h - (v / top) * plot.h;

    drawAxes(g, plot, top, xOf, t1);
    drawLines(g, chart, plot, visible, xOf, yOf);

    if (!visible.length || !chart.series.length) {
      g.fillStyle = CHART_TEXT;
      g.textAlign = "center";
      g.textBaseline = "middle";
      g.fillText(visible.length ? chart.def.empty || "No data" : "Waiting for data…", plot.x + plot.w / 2, plot.y + plot.h / 2);
    }

    const hovered = chart.hoverX !== null && visible.length
      ? nearestSample(visible, t0 + ((chart.hoverX - plot.x) / plot.w) * WINDOW_MS)
      : null;
    if (hovered) drawCursor(g, chart, plot, hovered, xOf, yOf);
    setText(chart.at, hovered ? fmtClock(hovered.t, false) : "");
    updateLegend(chart, hovered || visible[visible.length - 1] || null);
  }

  function drawAxes(g, plot, top, xOf, t1) {
    g.lineWidth = 1;
    g.strokeStyle = CHART_GRID;
    g.fillStyle = CHART_TEXT;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (const f of [0, 0.5, 1]) {
      const y = Math.round(plot.y + plot.h - f * plot.h) + 0.5;
      g.beginPath();
      g.moveTo(plot.x, y);
      g.lineTo(plot.x + plot.w, y);
      g.stroke();
      g.fillText(fmtAxis(top * f), plot.x - 6, y);
    }
    g.textBaseline = "top";
    for (const minutes of [15, 10, 5, 0]) {
      const x = xOf(t1 - minutes * 60000);
      if (minutes !== 15 && minutes !== 0) {
        g.beginPath();
        g.moveTo(Math.round(x) + 0.5, plot.y);
        g.lineTo(Math.round(x) + 0.5, plot.y + plot.h);
        g.stroke();
      }
      g.textAlign = minutes === 15 ? "left" : minutes === 0 ? "right" : "center";
      g.fillText(minutes ? `−${minutes} min` : "now", x, plot.y + plot.h + 5);
    }
  }

  function drawLines(g, chart, plot, samples, xOf, yOf) {
    g.save();
    g.beginPath();
    g.rect(plot.x, plot.y - 2, plot.w, plot.h + 4);
    g.clip();
    g.lineWidth = 1.5;
    g.lineJoin = "round";
    const gap = chart.intervalMs * 3.5; // a longer hole in the data is drawn as a hole
    for (const series of chart.series) {
      g.strokeStyle = PALETTE[series.color % PALETTE.length];
      g.beginPath();
      let pen = false, previousT = -Infinity;
      for (const s of samples) {
        const v = seriesValue(series, s);
        if (v === null || s.t - previousT > gap) pen = false;
        previousT = s.t;
        if (v === null) continue;
        if (pen) g.lineTo(xOf(s.t), yOf(v));
        else g.moveTo(xOf(s.t), yOf(v));
        pen = true;
      }
      g.stroke();
    }
    g.restore();
  }

  function drawCursor(g, chart, plot, sample, xOf, yOf) {
    const x = Math.round(xOf(sample.t)) + 0.5;
    g.strokeStyle = "rgba(29, 39, 51, 0.35)";
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(x, plot.y);
    g.lineTo(x, plot.y + plot.h);
    g.stroke();
    for (const series of chart.series) {
      const v = seriesValue(series, sample);
      if (v === null) continue;
      g.fillStyle = PALETTE[series.color % PALETTE.length];
      g.beginPath();
      g.arc(x, yOf(v), 2.5, 0, Math.PI * 2);
      g.fill();
    }
  }

  function nearestSample(samples, t) {
    let lo = 0, hi = samples.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid].t < t) lo = mid + 1;
      else hi = mid;
    }
    const after = samples[lo], before = samples[lo - 1];
    return before && Math.abs(before.t - t) < Math.abs(after.t - t) ? before : after;
  }

  // Legend entries show the latest value, or the hovered second's.
  function updateLegend(chart, sample) {
    const key = chart.series.map((s) => `${s.label}:${s.color}`).join("|");
    if (key !== chart.legendKey) {
      chart.legendKey = key;
      chart.legendValues = chart.series.map(() => el("span", { class: "legend-value" }));
      chart.legend.replaceChildren(...chart.series.map((s, i) =>
        el("span", { class: "legend-item" },
          el("span", { class: `swatch sw-${s.color % PALETTE.length}` }),
          el("span", { text: s.label }),
          chart.legendValues[i])));
    }
    const fmt = chart.def.fmt || fmtAxis;
    chart.series.forEach((s, i) => {
      const v = sample ? seriesValue(s, sample) : null;
      setText(chart.legendValues[i], v === null ? "—" : fmt(v));
    });
  }

  // ---------------------------------------------------------------------------------------------
  // View: overview

  function viewOverview(ctx) {
    const head = pageHead("Fleet overview");
    const tiles = overviewTiles();
    const gateways = gatewaysTable();
    const charts = CHART_DEFS.map(createChart);
    ctx.main.append(
      head.node,
      tiles.node,
      card("Gateways", gateways.node),
      el("h2", { class: "section-title", text: "Last 15 minutes, whole fleet" }),
      el("div", { class: "charts" }, charts.map((c) => c.node)),
    );

    const history = { intervalMs: 1000, samples: [] };
    const redraw = () => {
      const last = history.samples[history.samples.length - 1];
      const now = Math.max(Date.now(), last ? last.t : 0); // a gateway clock ahead of ours still shows its newest second
      const oldest = history.samples.findIndex((s) => s.t >= now - WINDOW_MS - history.intervalMs);
      if (oldest > 0) history.samples.splice(0, oldest);
      for (const chart of charts) setChartData(chart, history.samples, history.intervalMs, now);
    };
    observeResize(ctx, charts);

    state.onFleet = (fleet) => {
      if (!ctx.alive()) return;
      tiles.update(fleet);
      gateways.update(fleet);
      const draining = fleet.gateways.filter((g) => g.draining).length;
      setText(head.meta, `${plural(fleet.gateways.length, "gateway")}${draining ? `, ${draining} draining` : ""} · Redis ${fleet.redis}`);
      appendLiveSample(history, fleet);
      redraw();
      document.body.dataset.fleetLoaded = "1";
      document.body.dataset.fleetUpdatedAt = String(Date.now());
      ctx.rendered();
    };
    if (state.fleet) state.onFleet(state.fleet); // last poll's figures at once, fresh ones in a moment
    refreshFleet().then(() => ctx.rendered());

    ctx.poll(async () => {
      const data = await apiGet("api/history", { gateway: "all" });
      if (!ctx.alive()) return;
      history.intervalMs = num(data && data.intervalMs) || 1000;
      history.samples = mergeByInterval(arr(data && data.samples), history.intervalMs);
      redraw();
    }, HISTORY_MS);
  }

  // Between history polls, the fleet poll's newest second extends the charts.
  function appendLiveSample(history, fleet) {
    const samples = fleetSamples(fleet);
    if (!samples.length) return;
    const t = Math.max(...samples.map((s) => s.t));
    const last = history.samples[history.samples.length - 1];
    if (last && t < last.t + history.intervalMs / 2) return;
    history.samples.push(mergeSamples(samples, t));
  }

  function observeResize(ctx, charts) {
    const redrawAll = () => charts.forEach(drawChart);
    if (typeof ResizeObserver === "function") {
      const observer = new ResizeObserver(redrawAll);
      charts.forEach((c) => observer.observe(c.canvas));
      ctx.cleanup(() => observer.disconnect());
    } else {
      window.addEventListener("resize", redrawAll);
      ctx.cleanup(() => window.removeEventListener("resize", redrawAll));
    }
  }

  function overviewTiles() {
    const t = {
      gateways: tile("Gateways", "total-gateways"),
      connections: tile("Connections", "total-connections"),
      connects: tile("Connects", "total-connects"),
      messagesIn: tile("Messages in", "total-messages-in"),
      messagesOut: tile("Messages out", "total-messages-out"),
      upstream: tile("Upstream calls", "total-upstream-calls"),
      rest: tile("REST calls", "total-rest-calls"),
      p95: tile("Upstream p95", "upstream-p95"),
    };
    const update = (fleet) => {
      const sum = mergeSamples(fleetSamples(fleet), Date.now());
      const total = (key) => fmtInt(sum.totals[key]);
      const draining = fleet.gateways.filter((g) => g.draining).length;
      setText(t.gateways.value, fmtInt(fleet.gateways.length));
      setText(t.gateways.sub, `${fleet.gateways.length - draining} ready · ${draining} draining`);
      setText(t.connections.value, fmtInt(sum.connections));
      setText(t.connections.sub, `+${fmtRate(sum.connectsPerSecond)}/s  −${fmtRate(sum.disconnectsPerSecond)}/s`);
      setText(t.connects.value, total("connects"));
      setText(t.connects.sub, `${fmtRate(sum.connectsPerSecond)}/s`);
      setText(t.messagesIn.value, total("messagesIn"));
      setText(t.messagesIn.sub, `${fmtRate(sum.messagesInPerSecond)}/s`);
      setText(t.messagesOut.value, total("messagesOut"));
      setText(t.messagesOut.sub, `${fmtRate(sum.messagesOutPerSecond)}/s`);
      setText(t.upstream.value, total("upstreamCalls"));
      setText(t.upstream.sub, `${fmtRate(sum.upstreamCallsPerSecond)}/s · ${fmtRate(sum.upstreamErrorsPerSecond)} errors/s`);
      setText(t.rest.value, total("restCalls"));
      setText(t.rest.sub, `${fmtRate(sum.restCallsPerSecond)}/s`);
      setText(t.p95.value, fmtMs(sum.upstreamP95Ms));
      setText(t.p95.sub, `p99 ${fmtMs(sum.upstreamP99Ms)} · worst gateway`);
    };
    return { node: el("div", { class: "tiles" }, Object.values(t).map((x) => x.node)), update };
  }

  function gatewaysTable() {
    const sampled = (get) => (g) => (g.sample ? get(g.sample) : "—");
    const totals = (s) => (isObject(s.totals) ? s.totals : {});
    const table = dataTable("gateways", [
      {
        field: "gateway", label: "Gateway",
        render(td, g) {
          if (td.firstChild) return;
          // Picking a gateway here is a shortcut to its hubs.
          td.append(el("a", { href: "#hubs", class: "mono", title: "Show this gateway's hubs", text: g.id, onclick: () => selectGateway(g.self ? "" : g.id) }));
          if (g.self) td.append(el("span", { class: "tag", text: "this" }));
        },
      },
      textCol("version", "Version", (g) => str(g.version) || "—"),
      textCol("uptime", "Uptime", (g) => (num(g.startedAt) ? fmtDuration((Date.now() - g.startedAt) / 1000) : "—"), { num: true }),
      textCol("connections", "Connections", sampled((s) => fmtInt(s.connections)), { num: true }),
      textCol("messagesIn", "Msgs in", sampled((s) => fmtInt(totals(s).messagesIn)), { num: true }),
      textCol("messagesOut", "Msgs out", sampled((s) => fmtInt(totals(s).messagesOut)), { num: true }),
      textCol("messagesInPerSecond", "In/s", sampled((s) => fmtRate(s.messagesInPerSecond)), { num: true }),
      textCol("messagesOutPerSecond", "Out/s", sampled((s) => fmtRate(s.messagesOutPerSecond)), { num: true }),
      textCol("upstreamCallsPerSecond", "Upstream/s", sampled((s) => fmtRate(s.upstreamCallsPerSecond)), { num: true }),
      textCol("upstreamP95", "Upstream p95", sampled((s) => fmtMs(s.upstreamP95Ms)), { num: true }),
      {
        field: "status", label: "Status",
        render(td, g) {
          const badge = td.firstElementChild || td.appendChild(el("span"));
          badge.className = `badge ${g.draining ? "badge-warn" : "badge-ok"}`;
          setText(badge, g.draining ? "draining" : "ready");
        },
      },
      widgetCol("actions", "", (g) => twoStep({
        label: "Drain", confirmLabel: "Confirm drain", action: "drain", confirmAction: "drain-confirm", small: true,
        run: async () => {
          await apiPost("api/drain", { gateway: g.id });
          refreshFleet();
          return "drain requested";
        },
      }), (widget, g) => {
        if (g.draining) widget.lock("Draining");
      }),
    ], "gateway", (g) => g.id);
    const empty = emptyNote("Loading…");
    return {
      node: el("div", null, table.node, empty),
      update(fleet) {
        table.sync(fleet.gateways);
        empty.hidden = fleet.gateways.length > 0;
        setText(empty, "No gateway has reported yet.");
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // View: hubs

  function viewHubs(ctx) {
    const head = pageHead("Hubs");
    const filter = el("input", { type: "search", id: "hub-filter", placeholder: "Filter hubs", "aria-label": "Filter hubs" });
    head.actions.append(filter);
    const table = dataTable("hubs", [
      linkCol("name", "Hub", (h) => hubHref(str(h.name)), (h) => str(h.name)),
      textCol("connections", "Connections", (h) => fmtInt(h.connections), { num: true }),
      textCol("users", "Users", (h) => fmtInt(h.users), { num: true }),
      textCol("groups", "Groups", (h) => fmtInt(Array.isArray(h.groups) ? h.groups.length : h.groups), { num: true }),
    ], "hub", (h) => str(h.name));
    const empty = emptyNote("Loading…");
    ctx.main.append(head.node, card(null, table.node, empty));

    const applyFilter = () => {
      const q = filter.value.trim().toLowerCase();
      for (const tr of table.tbody.rows) tr.hidden = !!q && !tr.dataset.hub.toLowerCase().includes(q);
    };
    filter.addEventListener("input", applyFilter);

    let loaded = false;
    ctx.poll(async () => {
      try {
        const data = await apiGet("api/hubs", gatewayParam());
        if (!ctx.alive()) return;
        const hubs = arr(data && data.hubs).filter((h) => isObject(h) && h.name !== undefined && h.name !== null);
        table.sync(hubs);
        applyFilter();
        loaded = true;
        const connections = hubs.reduce((n, h) => n + num(h.connections), 0);
        setText(head.meta, `${plural(hubs.length, "hub")} · ${plural(connections, "connection")} on ${gatewayLabel(data && data.gateway)}`);
        setText(empty, "No hub has a connection on this gateway.");
        empty.hidden = hubs.length > 0;
      } catch (e) {
        if (!loaded) setText(empty, "Could not load the hubs.");
        throw e;
      } finally {
        ctx.rendered();
      }
    }, HUBS_MS);
  }

  // ---------------------------------------------------------------------------------------------
  // View: hub

  function viewHub(ctx, hub) {
    const head = pageHead(hub, [{ text: "Hubs", href: "#hubs" }, { text: hub }]);
    const stats = {
      connections: tile("Connections", "hub-connections"),
      users: tile("Users", "hub-users"),
      groups: tile("Groups", "hub-groups"),
    };
    const send = sendForm(hub);
    let poller = null;
    const refreshSoon = () => poller && poller.now();

    const groups = dataTable("groups", [
      linkCol("name", "Group", (g) => groupHref(hub, str(g.name)), (g) => str(g.name)),
      textCol("members", "Members", (g) => fmtInt(g.members), { num: true }),
      widgetCol("actions", "", (g) => ({
        node: el("span", { class: "two-step" },
          el("button", { type: "button", class: "btn btn-sm btn-link acts", text: "Message", title: "Fill in the send form for this group", onclick: () => send.prefill("group", str(g.name)) }),
          closeGroupButton(hub, str(g.name), refreshSoon).node),
      })),
    ], "group", (g) => str(g.name));
    const connections = dataTable("connections", connectionColumns(hub), "connection", (c) => str(c.id));
    const groupsEmpty = emptyNote("Loading…");
    const connectionsEmpty = emptyNote("Loading…");
    const truncated = el("p", { class: "note", hidden: true });

    ctx.main.append(
      head.node,
      el("div", { class: "tiles tiles-narrow" }, Object.values(stats).map((s) => s.node)),
      el("div", { class: "split" },
        card("Groups (largest first)", groups.node, groupsEmpty),
        actsOnly(card("Send test message", el("div", { class: "card-body" }, send.node)))),
      card("Connections", connections.node, connectionsEmpty, truncated),
    );

    let loaded = false;
    poller = ctx.poll(async () => {
      try {
        const data = await apiGet("api/hub", { hub, ...gatewayParam() });
        if (!ctx.alive()) return;
        const d = isObject(data) ? data : {};
        const groupList = arr(d.groups).filter(isObject);
        const connectionList = arr(d.connectionList).filter(isObject);
        loaded = true;
        setText(stats.connections.value, fmtInt(d.connections));
        setText(stats.users.value, fmtInt(d.users));
        setText(stats.groups.value, fmtInt(Number.isFinite(d.groupCount) ? d.groupCount : groupList.length));
        setText(head.meta, `on ${gatewayLabel(d.gateway)}`);
        groups.sync(groupList);
        connections.sync(connectionList);
        setText(groupsEmpty, "No groups.");
        groupsEmpty.hidden = groupList.length > 0;
        setText(connectionsEmpty, "No connections on this hub.");
        connectionsEmpty.hidden = connectionList.length > 0;
        truncated.hidden = !d.truncated;
        setText(truncated, `Showing the first ${connectionList.length} of ${fmtInt(d.connections)} connections.`);
      } catch (e) {
        if (!loaded) {
          setText(groupsEmpty, "Could not load the hub.");
          setText(connectionsEmpty, "Could not load the hub.");
        }
        throw e;
      } finally {
        ctx.rendered();
      }
    }, DETAIL_MS);
  }

  function sendForm(hub) {
    const placeholders = { all: "not needed for all", connection: "connection id", user: "user id", group: "group name" };
    const scope = el("select", { id: "send-scope" }, Object.keys(placeholders).map((s) => el("option", { value: s, text: s })));
    const id = el("input", { type: "text", id: "send-id", autocomplete: "off", spellcheck: "false" });
    const target = el("input", { type: "text", id: "send-target", value: "consoleTest", autocomplete: "off", spellcheck: "false" });
    const args = el("textarea", { id: "send-arguments", rows: "3", spellcheck: "false", text: '["hello from the console"]' });
    const submit = el("button", { type: "submit", id: "send-submit", class: "btn btn-primary", text: "Send" });
    const status = el("span", { id: "send-status", class: "form-status", role: "status" });
    const form = el("form", { id: "send-form", class: "form-grid", novalidate: true },
      el("label", { for: "send-scope", text: "Scope" }), scope,
      el("label", { for: "send-id", text: "Id" }), id,
      el("label", { for: "send-target", text: "Target" }), target,
      el("label", { for: "send-arguments", text: "Arguments" }), args,
      el("div", { class: "form-actions" }, submit, status));

    // The id box stays enabled for "all" (it is just ignored) so typing into it never fails.
    const syncScope = () => {
      id.placeholder = placeholders[scope.value] || "";
      id.classList.toggle("unused", scope.value === "all");
    };
    scope.addEventListener("change", syncScope);
    syncScope();
    const setStatus = (text, kind) => {
      status.textContent = text;
      status.className = `form-status${kind ? ` ${kind}` : ""}`;
    };

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      let parsed;
      try {
        parsed = JSON.parse(args.value);
      } catch (err) {
        setStatus(`Arguments are not valid JSON: ${err.message}`, "err");
        args.focus();
        return;
      }
      if (!Array.isArray(parsed)) {
        setStatus('Arguments must be a JSON array, e.g. ["hello"]', "err");
        args.focus();
        return;
      }
      const s = scope.value;
      const recipient = s === "all" ? "" : id.value.trim();
      if (s !== "all" && !recipient) {
        setStatus(`Enter the ${s} to send to.`, "err");
        id.focus();
        return;
      }
      if (!target.value.trim()) {
        setStatus("Enter the target method.", "err");
        target.focus();
        return;
      }
      submit.disabled = true;
      setStatus("sending…");
      try {
        await apiPost("api/send", { hub, scope: s, id: recipient, target: target.value.trim(), arguments: parsed });
        setStatus("sent", "ok");
      } catch (err) {
        setStatus("failed", "err");
        report(err);
      } finally {
        submit.disabled = false;
      }
    });

    return {
      node: form,
      prefill(s, value) {
        scope.value = s;
        syncScope();
        id.value = value;
        target.focus();
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // View: group

  function viewGroup(ctx, hub, group) {
    const head = pageHead(group, [{ text: "Hubs", href: "#hubs" }, { text: hub, href: hubHref(hub) }, { text: "group" }]);
    let poller = null;
    head.actions.append(closeGroupButton(hub, group, () => poller && poller.now()).node);
    const count = tile("Members", "group-members");
    const members = dataTable("members", connectionColumns(hub), "connection", (c) => str(c.id));
    const empty = emptyNote("Loading…");
    const truncated = el("p", { class: "note", hidden: true });
    ctx.main.append(head.node, el("div", { class: "tiles tiles-narrow" }, count.node), card("Members", members.node, empty, truncated));

    let loaded = false;
    poller = ctx.poll(async () => {
      try {
        const data = await apiGet("api/group", { hub, group, ...gatewayParam() });
        if (!ctx.alive()) return;
        const d = isObject(data) ? data : {};
        const list = arr(d.members).filter(isObject);
        loaded = true;
        const total = Number.isFinite(d.memberCount) ? d.memberCount : list.length;
        setText(count.value, fmtInt(total));
        setText(head.meta, `on ${gatewayLabel(d.gateway)}`);
        members.sync(list);
        setText(empty, "The group has no members on this gateway.");
        empty.hidden = list.length > 0;
        truncated.hidden = !d.truncated;
        setText(truncated, `Showing the first ${list.length} of ${fmtInt(total)} members.`);
      } catch (e) {
        if (!loaded) setText(empty, "Could not load the group.");
        throw e;
      } finally {
        ctx.rendered();
      }
    }, DETAIL_MS);
  }

  // ---------------------------------------------------------------------------------------------
  // View: connection

  const CONNECTION_FIELDS = [
    ["id", "Connection id"], ["hub", "Hub"], ["user", "User"], ["gateway", "Gateway"], ["transport", "Transport"],
    ["protocol", "Protocol"], ["ageSeconds", "Age (seconds)"], ["queueBytes", "Queue bytes"], ["groups", "Groups"],
    ["statefulReconnect", "Stateful reconnect"], ["detached", "Detached"], ["pendingEvents", "Pending events"],
    ["tokenExpiresAt", "Token expires at"],
  ];
  const CONNECTION_LABELS = new Map(CONNECTION_FIELDS);

  function viewConnection(ctx, hub, id) {
    const head = pageHead(id, [{ text: "Hubs", href: "#hubs" }, { text: hub, href: hubHref(hub) }, { text: "connection" }]);
    const fields = el("dl", { class: "fields", id: "connection-fields" });
    const notice = el("p", { class: "note note-warn", hidden: true });
    const loading = emptyNote("Loading…");
    const reason = el("input", { type: "text", id: "close-reason", value: OPERATOR_REASON, "aria-label": "Close reason" });
    const status = el("span", { id: "close-status", class: "form-status", role: "status" });
    let closedAt = 0, gone = false, poller = null;

    const closer = twoStep({
      label: "Close connection", confirmLabel: "Confirm close", id: "close-connection", confirmId: "close-connection-confirm",
      action: "close-connection", confirmAction: "close-connection-confirm",
      run: async () => {
        await apiPost("api/close-connection", { hub, connectionId: id, reason: reason.value.trim() || OPERATOR_REASON });
        closedAt = Date.now();
        status.className = "form-status ok";
        setText(status, "closed");
        closer.lock("Closed");
        setTimeout(() => poller && poller.now(), 1000);
        return "";
      },
    });
    const traceButton = el("button", {
      type: "button", class: "btn", text: "Trace this connection",
      onclick: () => {
        state.traceFilter = { ...defaultTraceFilter(), hub, connection: id };
        location.hash = "#trace";
      },
    });

    ctx.main.append(head.node, el("div", { class: "split" },
      card("Details", el("div", { class: "card-body" }, notice, loading, fields)),
      card("Actions", el("div", { class: "card-body action-block" },
        el("h3", { text: "Close" }),
        el("p", { text: "Ends the connection; the client is told the reason below." }),
        el("div", { class: "form-row" }, el("label", { for: "close-reason", text: "Reason" }), reason),
        el("div", { class: "form-row" }, closer.node, status),
        el("h3", { text: "Watch" }),
        el("p", { text: "Opens the live trace filtered to this connection." }),
        el("div", null, traceButton)))));

    const rows = new Map();
    const render = (c) => {
      const keys = [
        ...CONNECTION_FIELDS.map(([key]) => key).filter((key) => key in c),
        ...Object.keys(c).filter((key) => !CONNECTION_LABELS.has(key)),
      ];
      for (const key of keys) {
        let row = rows.get(key);
        if (!row) {
          row = { dd: el("dd", { data: { field: key } }), hint: el("dd", { class: "hint" }), last: undefined };
          rows.set(key, row);
          fields.append(el("div", { class: "field" }, el("dt", { text: CONNECTION_LABELS.get(key) || key }), row.dd, row.hint));
        }
        const signature = JSON.stringify(c[key]);
        if (signature !== row.last) {
          row.last = signature;
          fillField(row.dd, key, c[key], hub);
        }
        setText(row.hint, fieldHint(key, c[key]));
      }
      head.meta.textContent = `on ${gatewayLabel(c.gateway)}`;
    };

    // 404: the connection has left. Right after our own close, "closed" stays readable for a second.
    const markGone = () => {
      if (gone) return;
      gone = true;
      poller.stop();
      const wait = closedAt ? Math.max(0, closedAt + 1000 - Date.now()) : 0;
      setTimeout(() => {
        if (!ctx.alive()) return;
        loading.hidden = true;
        status.className = "form-status";
        setText(status, "gone");
        closer.lock(closedAt ? "Closed" : "Gone");
        fields.classList.add("stale");
        notice.hidden = false;
        setText(notice, closedAt
          ? "The connection has left the gateway."
          : "This connection is not on the gateway (it may have disconnected, or live on another gateway).");
      }, wait);
    };

    poller = ctx.poll(async () => {
      try {
        const data = await apiGet("api/connection", { hub, id, ...gatewayParam() });
        if (!ctx.alive() || gone) return;
        loading.hidden = true;
        render(isObject(data) ? data : {});
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.code === "connection_not_found")) markGone();
        else throw e;
      } finally {
        ctx.rendered();
      }
    }, CONNECTION_MS);
  }

  // The dd keeps the raw value as its text (numbers, true/false, ids); readable forms go in the hint.
  function fillField(dd, key, value, hub) {
    if (key === "hub" && value) {
      dd.replaceChildren(el("a", { href: hubHref(String(value)), text: String(value) }));
    } else if (key === "groups" && Array.isArray(value)) {
      dd.replaceChildren(value.length
        ? el("span", { class: "chips" }, value.map((g) => el("a", { class: "chip", href: groupHref(hub, String(g)), text: String(g) })))
        : el("span", { class: "muted", text: "none" }));
    } else {
      dd.textContent = value !== null && typeof value === "object" ? JSON.stringify(value) : str(value);
    }
  }

  function fieldHint(key, value) {
    switch (key) {
      case "ageSeconds":
        return fmtDuration(value);
      case "queueBytes":
        return num(value) >= 1024 ? fmtBytes(value) : "";
      case "user":
        return value ? "" : "anonymous";
      case "groups":
        return Array.isArray(value) ? plural(value.length, "group") : "";
      case "detached":
        return value === true ? "the client is away; its events wait for it to come back" : "";
      case "tokenExpiresAt": {
        if (!num(value)) return "no expiry";
        const left = value - Date.now() / 1000;
        const when = new Date(value * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
        return `${when} · ${left >= 0 ? `in ${fmtDuration(left)}` : `expired ${fmtDuration(-left)} ago`}`;
      }
      default:
        return "";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // View: live trace

  const COMMON_KEYS = new Set(["t", "gateway", "kind", "hub", "connection", "user", "trace"]);
  const KIND_KEYS = {
    connect: ["transport", "protocol"],
    disconnect: ["reason", "error"],
    invocation: ["target", "type"],
    upstream: ["event", "url", "status", "latencyMs", "outcome"],
    reply: ["actions", "status"],
    rest: ["method", "path", "status", "latencyMs"],
    handoff: ["direction"],
    skipped: ["count"],
  };

  function traceUrl(f) {
    const params = { hub: f.hub, user: f.user, connection: f.connection };
    if (f.kinds.size < TRACE_KINDS.length) params.kinds = TRACE_KINDS.filter((k) => f.kinds.has(k)).join(",");
    if (f.sample && f.sample !== "1") params.sample = f.sample;
    if (f.scope === "fleet") params.scope = "fleet"; // the other gateways' events too, through Redis
    return withQuery("api/trace", params);
  }

  const latency = (ms) => (numOrNull(ms) === null ? "" : ` in ${fmtMsNumber(ms)} ms`);

  function short(value) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text && text.length > 80 ? `${text.slice(0, 79)}…` : str(text);
  }

  // One line per kind, e.g. "message → 200 in 3.2 ms"; fields the page doesn't know are appended as key=value.
  function summarise(kind, ev) {
    let text = "";
    switch (kind) {
      case "connect":
        text = [ev.transport, ev.protocol].filter(Boolean).join(" · ");
        break;
      case "disconnect":
        text = `${str(ev.reason) || "closed"}${ev.error ? `: ${ev.error}` : ""}`;
        break;
      case "invocation":
        text = `${str(ev.target)}${ev.type !== undefined && ev.type !== "" ? ` (${ev.type})` : ""}`;
        break;
      case "upstream": {
        const outcome = ev.outcome && !/^(ok|success)$/i.test(String(ev.outcome)) ? ` · ${ev.outcome}` : "";
        text = `${str(ev.event) || "call"} → ${str(ev.status) || "?"}${latency(ev.latencyMs)}${outcome}`;
        break;
      }
      case "reply": {
        const actions = Array.isArray(ev.actions) ? ev.actions.join(", ") : typeof ev.actions === "number" ? plural(ev.actions, "action") : str(ev.actions);
        text = [ev.status !== undefined ? `status ${ev.status}` : "", actions].filter(Boolean).join(" · ");
        break;
      }
      case "rest":
        text = `${str(ev.method)} ${str(ev.path)} → ${str(ev.status) || "?"}${latency(ev.latencyMs)}`;
        break;
      case "handoff":
        text = str(ev.direction);
        break;
      default:
        break;
    }
    const known = KIND_KEYS[kind] || [];
    const extras = Object.keys(ev)
      .filter((key) => !COMMON_KEYS.has(key) && !known.includes(key))
      .map((key) => `${key}=${short(ev[key])}`);
    return [text, ...extras].filter(Boolean).join("  ");
  }

  function isErrorEvent(kind, ev) {
    const status = Number(ev.status);
    if (kind === "disconnect") return !!ev.error;
    if (kind === "upstream" && ev.outcome && /error|fail|timeout|refused/i.test(String(ev.outcome))) return true;
    return ["upstream", "rest", "reply"].includes(kind) && Number.isFinite(status) && status >= 400;
  }

  function traceRow(ev) {
    const kind = typeof ev.kind === "string" && ev.kind ? ev.kind : "unknown";
    const row = el("div", {
      class: "trace-row",
      data: { kind, user: str(ev.user), connection: str(ev.connection), hub: str(ev.hub) },
    });
    if (kind === "skipped") {
      row.classList.add("trace-notice");
      row.append(
        el("span", { class: "t-time", text: fmtClock(ev.t) }),
        el("span", { class: "t-notice", text: `The gateway skipped ${fmtInt(ev.count)} events to stay within this stream's byte budget.` }),
      );
      return row;
    }
    const badgeClass = TRACE_KINDS.includes(kind) ? `kind-${kind}` : "kind-other";
    const summary = summarise(kind, ev);
    const cell = (cls, text) => el("span", { class: cls, text, title: text || null });
    row.append(
      el("span", { class: "t-time", text: fmtClock(ev.t) }),
      el("span", { class: "t-kind" }, el("span", { class: `badge ${badgeClass}`, text: kind })),
      cell("t-gateway", str(ev.gateway)),
      cell("t-hub", str(ev.hub)),
      cell("t-user", str(ev.user)),
      cell("t-connection", str(ev.connection)),
      cell(`t-summary${isErrorEvent(kind, ev) ? " is-error" : ""}`, summary),
    );
    return row;
  }

  function viewTrace(ctx) {
    const f = state.traceFilter;
    const t = {
      es: null, retryTimer: 0, flushTimer: 0, paused: false,
      pending: [], buffer: [], kept: [], dropped: 0, bad: 0, search: "",
    };
    const rowEvents = new WeakMap();
    const rowText = new WeakMap();

    // Controls
    const textInput = (id, value, placeholder) =>
      el("input", { type: "text", id, value, placeholder, autocomplete: "off", spellcheck: "false" });
    const hubInput = textInput("trace-hub", f.hub, "any hub");
    const userInput = textInput("trace-user", f.user, "any user");
    const connectionInput = textInput("trace-connection", f.connection, "any connection");
    const kindBoxes = TRACE_KINDS.map((k) => el("input", { type: "checkbox", name: "kind", value: k, checked: f.kinds.has(k) }));
    const sample = el("select", { id: "trace-sample", title: "Keeps 1 in N invocation, upstream and reply events" },
      [["1", "every event"], ["10", "1 in 10"], ["100", "1 in 100"]].map(([value, text]) => el("option", { value, text, selected: f.sample === value })));
    const scope = el("select", { id: "trace-scope", title: "Every gateway of the fleet, or only the one serving this page" },
      [["fleet", "every gateway"], ["gateway", "this gateway"]].map(([value, text]) => el("option", { value, text, selected: f.scope === value })));
    const applyButton = el("button", { type: "submit", id: "trace-apply", class: "btn btn-primary", text: "Apply" });
    const pauseButton = el("button", { type: "button", id: "trace-pause", class: "btn", text: "Pause", "aria-pressed": "false" });
    const clearButton = el("button", { type: "button", id: "trace-clear", class: "btn", text: "Clear" });
    const exportButton = el("button", { type: "button", id: "trace-export", class: "btn", text: "Export", title: "Download the kept events as JSON lines" });
    const search = el("input", { type: "search", id: "trace-search", placeholder: "Search kept events", autocomplete: "off", "aria-label": "Search kept events" });
    const stateText = el("span", { text: "Closed" });
    const stateBadge = el("span", { class: "trace-state state-closed", id: "trace-status" }, el("span", { class: "dot" }), stateText);
    const count = el("span", { id: "trace-count", class: "trace-count", text: "0" });
    const note = el("span", { class: "trace-note", id: "trace-note" });
    const list = el("div", { id: "trace-list", class: "trace-list", role: "log", "aria-live": "off" });
    const labelled = (text, input) => el("label", { class: "field-inline" }, text, input);

    const form = el("form", { id: "trace-form", class: "card trace-controls", novalidate: true },
      el("div", { class: "trace-bar" },
        labelled("Hub", hubInput), labelled("User", userInput), labelled("Connection", connectionInput),
        labelled("Sample", sample), labelled("Gateways", scope), applyButton),
      el("div", { class: "trace-bar kinds" },
        el("span", { class: "field-inline", text: "Kinds" }),
        TRACE_KINDS.map((k, i) => el("label", { class: "kind-check" }, kindBoxes[i], el("span", { class: `badge kind-${k}`, text: k })))),
      el("div", { class: "trace-bar" },
        stateBadge, el("span", null, count, " events"), note,
        el("span", { class: "trace-bar-spacer" }),
        labelled("Search", search), pauseButton, clearButton, exportButton));
    const head = el("div", { class: "trace-head" },
      ["Time", "Kind", "Gateway", "Hub", "User", "Connection", "Details"].map((h) => el("span", { text: h })));
    ctx.main.append(form, el("section", { class: "card trace-panel" }, head, list));

    // Stream
    const setState = (value, text) => {
      document.body.dataset.traceState = value;
      stateBadge.className = `trace-state state-${value}`;
      setText(stateText, text || { open: "Live", connecting: "Connecting…", closed: "Closed" }[value]);
    };

    const disconnect = () => {
      clearTimeout(t.retryTimer);
      if (t.es) t.es.close();
      t.es = null;
      setState("closed");
    };

    const connect = () => {
      disconnect();
      if (!f.kinds.size) {
        setState("closed", "Closed: pick at least one kind");
        return;
      }
      const url = traceUrl(f);
      const es = new EventSource(url); // same origin: the session cookie goes along
      t.es = es;
      setState("connecting");
      es.addEventListener("open", () => {
        if (t.es === es) setState("open");
      });
      es.addEventListener("message", (e) => {
        if (t.es === es) receive(e.data);
      });
      es.addEventListener("error", () => {
        if (t.es !== es) return;
        if (es.readyState === EventSource.CLOSED) {
          t.es = null;
          setState("closed", "Closed: stream refused");
          probeThenRetry(url);
        } else {
          setState("connecting", "Reconnecting…");
        }
      });
    };

    // EventSource hides the HTTP status of a refusal; one plain fetch tells a signed-out session or a
    // bad filter (don't retry) from a gateway that was briefly away (retry).
    const probeThenRetry = async (url) => {
      const abort = new AbortController();
      let retry = true;
      try {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store", signal: abort.signal });
        if (response.status === 401) {
          signInAgain();
          return;
        }
        if (!response.ok) {
          let body = null;
          try {
            body = await response.json();
          } catch (e) {
            body = null;
          }
          report(new ApiError(response.status, isObject(body) ? body.code : "", isObject(body) && body.message ? body.message : "The trace stream was refused."));
          retry = response.status >= 500 || response.status === 429;
        }
      } catch (e) {
        /* the gateway is away: retry */
      } finally {
        abort.abort(); // a successful probe is a stream too: let it go at once
      }
      if (!retry || !ctx.alive() || t.es) return;
      setState("closed", `Closed: retrying in ${TRACE_RETRY_MS / 1000} s`);
      t.retryTimer = setTimeout(() => {
        if (ctx.alive() && !t.es) connect();
      }, TRACE_RETRY_MS);
    };

    // One SSE message holds one or more JSON lines; an empty one is the gateway's keep-alive.
    const receive = (data) => {
      for (const line of String(data).split("\n")) {
        if (!line.trim()) continue;
        let ev;
        try {
          ev = JSON.parse(line);
        } catch (e) {
          t.bad++;
          continue;
        }
        if (!isObject(ev)) {
          t.bad++;
          continue;
        }
        if (t.paused) {
          t.buffer.push(ev);
          if (t.buffer.length > TRACE_MAX_BUFFER) {
            t.buffer.shift();
            t.dropped++;
          }
        } else {
          t.pending.push(ev);
        }
      }
      scheduleFlush();
    };

    // Rows are added in batches (every 50 ms at most), newest at the top.
    const scheduleFlush = () => {
      if (!t.flushTimer) t.flushTimer = setTimeout(flush, 50);
    };

    const makeRow = (ev) => {
      let row;
      try {
        row = traceRow(ev);
      } catch (e) {
        row = el("div", { class: "trace-row", data: { kind: "unknown", user: "", connection: "", hub: "" } },
          el("span", { class: "t-time", text: "" }), el("span", { class: "t-notice", text: short(ev) }));
      }
      let text = "";
      try {
        text = JSON.stringify(ev).toLowerCase();
      } catch (e) {
        text = "";
      }
      rowEvents.set(row, ev);
      rowText.set(row, text);
      if (t.search) row.hidden = !text.includes(t.search);
      return row;
    };

    const flush = () => {
      clearTimeout(t.flushTimer);
      t.flushTimer = 0;
      if (t.pending.length) {
        let batch = t.pending;
        t.pending = [];
        if (batch.length > TRACE_MAX_ROWS) batch = batch.slice(-TRACE_MAX_ROWS);
        const fragment = document.createDocumentFragment();
        for (let i = batch.length - 1; i >= 0; i--) fragment.append(makeRow(batch[i]));
        list.prepend(fragment);
        for (const ev of batch) t.kept.push(ev);
        const excess = t.kept.length - TRACE_MAX_ROWS;
        if (excess > 0) {
          t.kept.splice(0, excess);
          for (let i = 0; i < excess && list.lastElementChild; i++) list.lastElementChild.remove();
        }
      }
      updateCount();
    };

    const updateCount = () => {
      setText(count, String(t.kept.length));
      const parts = [];
      if (t.search) {
        let shown = 0;
        for (const row of list.children) if (!row.hidden) shown++;
        parts.push(`${shown} match`);
      }
      if (t.paused) parts.push(`paused, ${t.buffer.length} waiting`);
      if (t.dropped) parts.push(`${t.dropped} dropped while paused`);
      if (t.bad) parts.push(`${t.bad} unreadable`);
      setText(note, parts.length ? `· ${parts.join(" · ")}` : "");
    };

    const readFilter = () => {
      f.hub = hubInput.value.trim();
      f.user = userInput.value.trim();
      f.connection = connectionInput.value.trim();
      f.kinds = new Set(kindBoxes.filter((b) => b.checked).map((b) => b.value));
      f.sample = sample.value;
      f.scope = scope.value;
    };

    const clearAll = () => {
      t.pending = [];
      t.buffer = [];
      t.kept = [];
      t.dropped = 0;
      t.bad = 0;
      list.replaceChildren();
      updateCount();
    };

    const exportKept = () => {
      flush();
      const text = t.kept.map((ev) => JSON.stringify(ev)).join("\n") + (t.kept.length ? "\n" : "");
      const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
      // Colons would be replaced (or refused) in file names on some systems.
      const stamp = new Date().toISOString().replace(/:/g, "-");
      const link = el("a", { href: url, download: `switchboard-trace-${stamp}.jsonl`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    };

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      readFilter();
      clearAll(); // the old rows don't match the new filter
      connect();
    });
    pauseButton.addEventListener("click", () => {
      t.paused = !t.paused;
      setText(pauseButton, t.paused ? "Resume" : "Pause");
      pauseButton.setAttribute("aria-pressed", String(t.paused));
      pauseButton.classList.toggle("btn-active", t.paused);
      if (!t.paused) {
        t.pending = t.pending.concat(t.buffer);
        t.buffer = [];
        t.dropped = 0;
        flush();
      } else {
        updateCount();
      }
    });
    clearButton.addEventListener("click", clearAll);
    exportButton.addEventListener("click", exportKept);
    search.addEventListener("input", () => {
      t.search = search.value.trim().toLowerCase();
      for (const row of list.children) row.hidden = !!t.search && !(rowText.get(row) || "").includes(t.search);
      updateCount();
    });
    // A click on a row shows the whole event; selecting text doesn't toggle it.
    list.addEventListener("click", (e) => {
      if (e.target.closest(".trace-details")) return;
      const selection = window.getSelection();
      if (selection && String(selection)) return;
      const row = e.target.closest(".trace-row");
      if (!row || row.classList.contains("trace-notice")) return;
      const open = row.querySelector(".trace-details");
      if (open) open.remove();
      else row.append(el("pre", { class: "trace-details", text: JSON.stringify(rowEvents.get(row), null, 2) }));
      row.classList.toggle("open", !open);
    });

    // No stream while nobody watches: the gateway counts viewers and only traces when there are some.
    ctx.cleanup(() => {
      disconnect();
      clearTimeout(t.flushTimer);
    });
    connect();
    ctx.rendered();
  }

  // ---------------------------------------------------------------------------------------------
  // Start

  const VIEWS = {
    overview: viewOverview,
    hubs: viewHubs,
    hub: viewHub,
    group: viewGroup,
    connection: viewConnection,
    trace: viewTrace,
  };

  async function signOut() {
    state.leaving = true;
    try {
      await fetch("/admin/logout", { method: "POST", headers: POST_HEADERS, credentials: "same-origin", body: "{}" });
    } catch (e) {
      /* going to the sign-in page either way */
    }
    location.href = "/admin/";
  }

  function init() {
    $("#sign-out").addEventListener("click", signOut);
    $("#error-dismiss").addEventListener("click", () => {
      $("#error").hidden = true;
    });
    $("#gateway").addEventListener("change", (e) => {
      selectGateway(e.target.value);
      if (GATEWAY_VIEWS.has(state.view)) route();
    });
    window.addEventListener("hashchange", route);
    window.addEventListener("pagehide", () => {
      state.leaving = true;
    });
    // Back from the browser's page cache: streams and timers were cut, start the view again.
    window.addEventListener("pageshow", (e) => {
      if (!e.persisted) return;
      state.leaving = false;
      route();
      refreshFleet();
    });
    renderGatewayOptions([]);
    route();
    refreshFleet();
  }

  init();
})();
