// plugboard's dashboard: renders the daemon's state as the event stream
// sends it, and sends changes as POSTs with the session's CSRF token.
"use strict";

const $ = (id) => document.getElementById(id);
let csrf = "";
let state = null;
const rendered = {}; // per section: the JSON last rendered

// el builds an element; text is always set as text, never as markup.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function seconds(s) {
  if (!s) return "—";
  if (s < 60) return Math.round(s) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d";
}

function showProblem(text) {
  const p = $("problem");
  p.textContent = text || "";
  p.hidden = !text;
}

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Plugboard-CSRF": csrf },
    body: JSON.stringify(body),
  });
  if (res.status === 401) { location.reload(); return null; }
  const answer = await res.json().catch(() => ({}));
  if (!res.ok || answer.error) {
    showProblem((answer && answer.error) || "HTTP " + res.status);
    return null;
  }
  showProblem("");
  return answer;
}

// once renders a section only when its data changed.
function once(section, data, render) {
  const json = JSON.stringify(data);
  if (rendered[section] === json) return;
  rendered[section] = json;
  render(data);
}

function renderServers(d) {
  const rows = [];
  for (const s of d.servers) {
    const t = d.traffic ? d.traffic[s.name] : null;
    let state = s.state;
    if (s.state === "restarting" && s.retry_in_seconds) state += " in " + seconds(s.retry_in_seconds);
    let restarts = String(s.restarts);
    if (s.restarts === 1) restarts += " (" + seconds(s.restarts_over_seconds) + " ago)";
    else if (s.restarts > 1) restarts += " in " + seconds(s.restarts_over_seconds);
    const failure = s.last_failure ? seconds(s.last_failure_seconds_ago) + " ago: " + s.last_failure : "—";
    rows.push(el("tr", { "data-server": s.name, "data-state": s.state },
      el("td", { text: s.name, title: s.transport + " " + s.target }),
      el("td", {}, el("span", { class: "state " + s.state, text: state })),
      el("td", { text: s.revision || "—" }),
      el("td", { text: seconds(s.uptime_seconds), class: "num" }),
      el("td", { text: restarts, class: "num" }),
      el("td", { text: failure, class: "failure", title: s.last_failure || "" }),
      el("td", { text: String(s.tools), class: "num" }),
      el("td", { class: "num", text: t ? t.calls_per_second.toFixed(1) : "—" }),
      el("td", { class: "num", text: t && t.mean_latency_ms ? t.mean_latency_ms.toFixed(1) + " ms" : "—" }),
      el("td", { text: String(s.in_flight), class: "num" }),
      el("td", { class: "actions" },
        el("button", { type: "button", text: "Logs", onclick: () => showLogs(s.name) }),
        el("button", { type: "button", text: "Restart", "data-restart": s.name, onclick: () => post("/ui/api/restart", { name: s.name }) }))));
    if (s.stderr && s.stderr.length) {
      rows.push(el("tr", { class: "stderr" }, el("td", { colspan: "11" }, el("pre", { text: s.stderr.join("\n") }))));
    }
  }
  $("server-rows").replaceChildren(...rows);
}

let logServer = "";
async function showLogs(name) {
  logServer = name;
  $("log-server").textContent = name;
  $("log-panel").hidden = false;
  const res = await fetch("/ui/api/logs?server=" + encodeURIComponent(name), { credentials: "same-origin" });
  const answer = await res.json().catch(() => ({}));
  if (logServer !== name) return;
  $("log-lines").textContent = answer.error ? answer.error : (answer.lines || []).slice(-200).join("\n") || "(nothing on stderr yet)";
}

function renderCatalog(cat) {
  const q = $("search").value.trim().toLowerCase();
  const tools = cat.tools.filter((t) => !q || (t.name + " " + t.server + " " + t.original + " " + (t.description || "")).toLowerCase().includes(q));
  $("catalog-count").textContent = tools.length + " of " + cat.tools.length + " tools";
  $("tool-rows").replaceChildren(...tools.map((t) => el("tr", { "data-tool": t.name, class: t.disabled ? "disabled" : "" },
    el("td", { text: t.name }),
    el("td", { text: t.server }),
    el("td", { text: t.original }),
    el("td", { text: t.description || "", class: "description" }),
    el("td", {}, el("label", { class: "switch" },
      el("input", { type: "checkbox", checked: !t.disabled, "aria-label": "enable " + t.name,
        onchange: (e) => post("/ui/api/tools", { names: [t.name], enabled: e.target.checked }) }),
      el("span", {}))))));
}

function renderWorkspaces(ws) {
  const rows = [];
  const use = (name, current) => current
    ? el("span", { class: "current", text: "default" })
    : el("button", { type: "button", text: "Use", "data-workspace": name, onclick: () => post("/ui/api/workspace", { name }) });
  rows.push(el("tr", {}, el("td", { text: "(every server)" }), el("td", { text: "—" }), el("td", { text: "—" }), el("td", {}, use("", ws.default === ""))));
  for (const w of ws.workspaces) {
    rows.push(el("tr", { "data-workspace-row": w.name },
      el("td", { text: w.name }), el("td", { text: w.servers.join(", ") || "—" }),
      el("td", { text: String(w.sessions), class: "num" }), el("td", {}, use(w.name, ws.default === w.name))));
  }
  $("workspace-rows").replaceChildren(...rows);
}

function renderSessions(sessions) {
  $("session-rows").replaceChildren(...(sessions.length ? sessions.map((s, i) => el("tr", {},
    el("td", { text: String(i + 1) }), el("td", { text: s.client_name || "—" }), el("td", { text: s.transport || "—" }),
    el("td", { text: s.workspace || "(default)" }), el("td", { text: String(s.in_flight), class: "num" })))
    : [el("tr", {}, el("td", { colspan: "5", class: "quiet", text: "no client sessions" }))]));
}

function renderActivity(items) {
  $("activity-rows").replaceChildren(...(items.length ? items.map((a) => el("li", { class: a.kind },
    el("time", { text: new Date(a.time).toLocaleTimeString() }), " ", a.text))
    : [el("li", { class: "quiet", text: "nothing yet" })]));
}

function render(snap) {
  state = snap;
  once("servers", { servers: snap.status.servers, traffic: snap.traffic }, renderServers);
  once("catalog", snap.catalog, renderCatalog);
  once("workspaces", snap.workspaces, renderWorkspaces);
  once("sessions", snap.status.sessions, renderSessions);
  once("activity", snap.activity, renderActivity);
}

function showView() {
  const view = (location.hash || "#servers").slice(1);
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== view;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view);
}

function connect() {
  const live = $("live");
  const events = new EventSource("/ui/api/events");
  events.addEventListener("state", (e) => {
    live.textContent = "live";
    live.className = "live on";
    render(JSON.parse(e.data));
  });
  events.onerror = async () => {
    live.textContent = "reconnecting";
    live.className = "live off";
    // Logged out, or the daemon restarted: the page asks for the login.
    const res = await fetch("/ui/api/session", { credentials: "same-origin" }).catch(() => null);
    if (res && res.status === 401) location.reload();
    if (res && res.ok) csrf = (await res.json()).csrf;
  };
}

async function start() {
  showView();
  window.addEventListener("hashchange", showView);
  $("search").addEventListener("input", () => { if (state) renderCatalog(state.catalog); });
  $("logout").addEventListener("click", async () => {
    await fetch("/ui/logout", { method: "POST", credentials: "same-origin", headers: { "X-Plugboard-CSRF": csrf } });
    location.reload();
  });
  const res = await fetch("/ui/api/session", { credentials: "same-origin" });
  if (res.status === 401) { location.reload(); return; }
  const session = await res.json();
  csrf = session.csrf;
  if (session.auth === "none") $("logout").hidden = true;
  connect();
}

start();
