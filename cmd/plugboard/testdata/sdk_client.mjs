// sdk_client.mjs drives the official TypeScript MCP SDK client
// (@modelcontextprotocol/sdk 1.32.2) through journeys against the reference
// server @modelcontextprotocol/server-everything 2026.8.31, spawned either
// directly or behind plugboard, and prints one JSON line with the outcome of
// each check:
//
//   {"checks": {"progress": {"ok": true, "detail": "...", "ms": 2010}, ...}}
//
// Usage: node sdk_client.mjs '{"command": "...", "args": [...], "env": {...}}'
//
// The argument says what to spawn over stdio; env is added to the SDK's
// default environment (HOME, PATH, ...), as a desktop client does. The
// script must run from a directory whose node_modules holds both packages.
// It exits 0 whatever the checks say (the Go test judges them) and non-zero
// only when the script itself breaks. Every wait has a deadline.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const REQUEST_TIMEOUT_MS = 15_000; // the SDK's own per-request timeout
const NOTIFICATION_WAIT_MS = 15_000; // logging and resource updates come every 5 s
const CHECK_TIMEOUT_MS = 45_000; // backstop for a whole journey
const TOOLS_WAIT_MS = 30_000; // servers behind plugboard may still be starting
const CONDITIONAL_TOOLS_WAIT_MS = 10_000;

const FIRST_ROOT = { uri: "file:///tmp/plugboard-roots", name: "test root" };
const CHANGED_ROOT = { uri: "file:///var/plugboard-changed-root", name: "changed root" };
const SUBSCRIBED_URI = "demo://resource/dynamic/text/1";

// The server-everything tools the journeys call. It registers the
// conditional ones only when the client it initialized with declared
// sampling, elicitation and roots.
const BASE_TOOLS = ["trigger-long-running-operation", "toggle-simulated-logging", "toggle-subscriber-updates"];
const CONDITIONAL_TOOLS = ["trigger-sampling-request", "trigger-elicitation-request", "get-roots-list"];

const spec = JSON.parse(process.argv[2] ?? "null");
if (!spec || typeof spec.command !== "string") {
  throw new Error('usage: node sdk_client.mjs \'{"command": "...", "args": [...], "env": {...}}\'');
}

const checks = {};

// --- small helpers -------------------------------------------------------

function withTimeout(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// Events lets a journey wait for the first event of a kind that satisfies a
// condition.
class Events {
  constructor() {
    this.waiters = new Set();
  }
  emit(kind, value) {
    for (const w of [...this.waiters]) {
      if (w.kind === kind && w.match(value)) {
        this.waiters.delete(w);
        w.resolve(value);
      }
    }
  }
  // next returns a promise for the next matching event; call it before
  // triggering the event.
  next(kind, match, ms, what) {
    const w = { kind, match };
    const p = new Promise((resolve) => {
      w.resolve = resolve;
    });
    this.waiters.add(w);
    const waited = withTimeout(p, ms, what).finally(() => this.waiters.delete(w));
    // A journey that fails before awaiting this must not crash the script
    // with an unhandled rejection; awaiting it still throws.
    waited.catch(() => {});
    return waited;
  }
}

function textOf(result) {
  return (result?.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("\n");
}

function short(s, n = 300) {
  s = String(s);
  return s.length > n ? s.slice(0, n) + "…" : s;
}

function errText(e) {
  return e instanceof Error ? e.message : String(e);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// fillForm answers a form-mode elicitation with a plausible value for every
// property of the requested schema (defaults where given).
function fillForm(schema) {
  const content = {};
  for (const [key, prop] of Object.entries(schema?.properties ?? {})) {
    content[key] = plausible(key, prop);
  }
  return content;
}

function plausible(key, prop) {
  if (prop.default !== undefined) return prop.default;
  switch (prop.type) {
    case "boolean":
      return true;
    case "integer":
      return Math.max(prop.minimum ?? 1, Math.min(prop.maximum ?? 7, 7));
    case "number":
      return Math.max(prop.minimum ?? 0, Math.min(prop.maximum ?? 2.5, 2.5));
    case "array": {
      const options = prop.items?.enum ?? (prop.items?.anyOf ?? prop.items?.oneOf ?? []).map((o) => o.const);
      return options.slice(0, Math.max(1, prop.minItems ?? 1));
    }
    case "string":
    default:
      if (prop.enum) return prop.enum[0];
      if (prop.oneOf) return prop.oneOf[0].const;
      switch (prop.format) {
        case "email":
          return "ada@example.com";
        case "uri":
          return "https://example.com/ada";
        case "date":
          return "1815-12-10";
        case "date-time":
          return "1815-12-10T00:00:00Z";
      }
      return key === "name" ? "Ada Lovelace" : `some ${key}`;
  }
}

// --- the client ----------------------------------------------------------

const events = new Events();
let roots = [FIRST_ROOT];
let rootsRequests = 0;
let samplingRequests = 0;
let elicitationRequests = 0;
const clientErrors = [];
const sent = []; // every message the client wrote
const received = []; // every message the client read

const client = new Client(
  { name: "plugboard-sdk-interop", version: "1.0.0" },
  {
    capabilities: {
      sampling: {},
      elicitation: { form: {} },
      roots: { listChanged: true },
    },
  },
);
client.onerror = (e) => clientErrors.push(errText(e));

client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
  samplingRequests++;
  const first = request.params.messages.find((m) => m.role === "user");
  const text = first?.content?.type === "text" ? first.content.text : "";
  return {
    model: "plugboard-test-model",
    role: "assistant",
    content: { type: "text", text: `sampled: ${text}` },
    stopReason: "endTurn",
  };
});

client.setRequestHandler(ElicitRequestSchema, async (request) => {
  elicitationRequests++;
  return { action: "accept", content: fillForm(request.params.requestedSchema) };
});

client.setRequestHandler(ListRootsRequestSchema, async () => {
  rootsRequests++;
  const answer = { roots: [...roots] };
  // Emitted after the answer is written, so a waiter sees the server's
  // re-request only once it has been answered.
  setImmediate(() => events.emit("roots", rootsRequests));
  return answer;
});

client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => events.emit("log", n.params));
client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => events.emit("updated", n.params));

const transport = new StdioClientTransport({
  command: spec.command,
  args: spec.args ?? [],
  env: spec.env, // added to the SDK's default environment
  stderr: "inherit",
});

async function call(name, args = {}, options = {}) {
  return client.callTool({ name, arguments: args }, undefined, { timeout: REQUEST_TIMEOUT_MS, ...options });
}

// --- the journeys --------------------------------------------------------

// Each journey returns a detail string when its check passes and throws
// when it fails.

let listed = new Set();

// waitForTools lists tools until the unconditional ones are there (servers
// behind plugboard may still be starting), then a little longer for the
// conditional ones, which a server may register after a list_changed.
async function waitForTools() {
  const list = async () => {
    const res = await client.listTools(undefined, { timeout: REQUEST_TIMEOUT_MS });
    listed = new Set(res.tools.map((t) => t.name));
  };
  await until(list, () => BASE_TOOLS.every((t) => listed.has(t)), TOOLS_WAIT_MS);
  await until(list, () => CONDITIONAL_TOOLS.every((t) => listed.has(t)), CONDITIONAL_TOOLS_WAIT_MS);
}

async function until(step, done, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await step();
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (done() || Date.now() > deadline) return;
    await sleep(250);
  }
}

function requireTool(name) {
  if (!listed.has(name)) {
    throw new Error(`tool ${name} is not listed (tools: ${short([...listed].sort().join(", "))})`);
  }
}

// progress checks the progress notifications on the wire: the SDK client
// drops one that it reads in the same chunk as the result (it handles
// notifications a microtask later than responses), so its onprogress
// callback may miss the last one even when talking to the server directly.
async function progress() {
  requireTool("trigger-long-running-operation");
  const steps = 4;
  const seen = [];
  const res = await call("trigger-long-running-operation", { duration: 2, steps }, { onprogress: (p) => seen.push(p) });
  const text = textOf(res);
  if (!text.includes(`Long running operation completed. Duration: 2 seconds, Steps: ${steps}.`)) {
    throw new Error(`unexpected result: ${short(text)}`);
  }
  const request = sent.findLast((m) => m.method === "tools/call" && m.params?.name === "trigger-long-running-operation");
  const token = request?.params?._meta?.progressToken;
  const answered = received.findIndex((m) => m.id === request?.id && ("result" in m || "error" in m));
  const wire = received
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => m.method === "notifications/progress" && m.params?.progressToken === token);
  const got = JSON.stringify(wire.map(({ m }) => [m.params.progress, m.params.total]));
  const want = JSON.stringify(Array.from({ length: steps }, (_, i) => [i + 1, steps]));
  if (got !== want) throw new Error(`progress notifications for token ${token} on the wire: ${got}, want ${want}`);
  if (wire.some(({ i }) => i > answered)) throw new Error(`progress notifications ${got} for token ${token} did not all arrive before the result`);
  if (seen.length === 0) throw new Error("onprogress was never called");
  return `${steps} progress notifications ${got} for token ${token} before the result (onprogress saw ${seen.length}), then: ${text}`;
}

async function sampling() {
  requireTool("trigger-sampling-request");
  const res = await call("trigger-sampling-request", { prompt: "plugboard says hi", maxTokens: 50 });
  const text = textOf(res);
  const want = "sampled: Resource trigger-sampling-request context: plugboard says hi";
  if (!text.includes(want)) throw new Error(`result lacks ${JSON.stringify(want)}: ${short(text)}`);
  if (samplingRequests !== 1) throw new Error(`client saw ${samplingRequests} sampling requests, want 1`);
  return `server relayed the client's sample: ${want}`;
}

async function elicitation() {
  requireTool("trigger-elicitation-request");
  const res = await call("trigger-elicitation-request");
  const text = textOf(res);
  for (const want of ["User provided the requested information", "- Name: Ada Lovelace", "- Email: ada@example.com", "- Agreed to terms: true"]) {
    if (!text.includes(want)) throw new Error(`result lacks ${JSON.stringify(want)}: ${short(text)}`);
  }
  if (elicitationRequests !== 1) throw new Error(`client saw ${elicitationRequests} elicitation requests, want 1`);
  return "server reflected the accepted form (name, email, terms)";
}

async function rootsList() {
  requireTool("get-roots-list");
  const res = await call("get-roots-list");
  const text = textOf(res);
  if (!text.includes(`URI: ${FIRST_ROOT.uri}`)) throw new Error(`result lacks ${FIRST_ROOT.uri}: ${short(text)}`);
  if (rootsRequests < 1) throw new Error("the client never received roots/list");
  return `server lists ${FIRST_ROOT.uri} (client answered ${rootsRequests} roots/list)`;
}

async function rootsChanged() {
  requireTool("get-roots-list");
  const before = rootsRequests;
  const reRequested = events.next("roots", (n) => n > before, 10_000, "roots/list after notifications/roots/list_changed");
  roots = [CHANGED_ROOT];
  await client.sendRootsListChanged();
  await reRequested;
  // The server stores the new list after our answer arrives; ask until it
  // shows it.
  const deadline = Date.now() + 10_000;
  let text = "";
  for (;;) {
    text = textOf(await call("get-roots-list"));
    if (text.includes(`URI: ${CHANGED_ROOT.uri}`) && !text.includes(FIRST_ROOT.uri)) break;
    if (Date.now() > deadline) throw new Error(`server re-requested roots but still lists: ${short(text)}`);
    await sleep(100);
  }
  return `server re-requested roots/list after list_changed and now lists only ${CHANGED_ROOT.uri}`;
}

async function logging() {
  requireTool("toggle-simulated-logging");
  await client.setLoggingLevel("debug", { timeout: REQUEST_TIMEOUT_MS });
  // The simulated messages read "Debug-level message", "Alert level-message", ...
  const simulated = events.next("log", (p) => /level.message/i.test(String(p.data)), NOTIFICATION_WAIT_MS, "notifications/message from simulated logging");
  const on = textOf(await call("toggle-simulated-logging"));
  if (!on.startsWith("Started")) throw new Error(`toggling simulated logging on answered: ${short(on)}`);
  try {
    const msg = await simulated;
    return `after logging/setLevel debug: notifications/message level=${msg.level} data=${JSON.stringify(msg.data)}`;
  } finally {
    const off = textOf(await call("toggle-simulated-logging"));
    if (!off.startsWith("Stopped")) throw new Error(`toggling simulated logging off answered: ${short(off)}`);
  }
}

async function subscriptions() {
  requireTool("toggle-subscriber-updates");
  await client.subscribeResource({ uri: SUBSCRIBED_URI }, { timeout: REQUEST_TIMEOUT_MS });
  const updated = events.next("updated", (p) => p.uri === SUBSCRIBED_URI, NOTIFICATION_WAIT_MS, `notifications/resources/updated for ${SUBSCRIBED_URI}`);
  const on = textOf(await call("toggle-subscriber-updates"));
  if (!on.startsWith("Started")) throw new Error(`toggling subscriber updates on answered: ${short(on)}`);
  try {
    await updated;
    await client.unsubscribeResource({ uri: SUBSCRIBED_URI }, { timeout: REQUEST_TIMEOUT_MS });
    return `notifications/resources/updated for ${SUBSCRIBED_URI}, then unsubscribed`;
  } finally {
    const off = textOf(await call("toggle-subscriber-updates"));
    if (!off.startsWith("Stopped")) throw new Error(`toggling subscriber updates off answered: ${short(off)}`);
  }
}

async function completion() {
  const ref = { type: "ref/prompt", name: "completable-prompt" };
  const dept = await client.complete({ ref, argument: { name: "department", value: "E" } }, { timeout: REQUEST_TIMEOUT_MS });
  if (JSON.stringify(dept.completion.values) !== JSON.stringify(["Engineering"])) {
    throw new Error(`department "E" completed to ${JSON.stringify(dept.completion.values)}, want ["Engineering"]`);
  }
  const member = await client.complete(
    { ref, argument: { name: "name", value: "" }, context: { arguments: { department: "Sales" } } },
    { timeout: REQUEST_TIMEOUT_MS },
  );
  if (JSON.stringify(member.completion.values) !== JSON.stringify(["David", "Eve", "Frank"])) {
    throw new Error(`name in Sales completed to ${JSON.stringify(member.completion.values)}, want ["David","Eve","Frank"]`);
  }
  return `department "E" -> ["Engineering"]; name with context department=Sales -> ["David","Eve","Frank"]`;
}

// cancellation aborts a long-running call at its first progress
// notification. It records, for the next check, the request id and when the
// server would have finished.
let cancelled = null;

async function cancellation() {
  requireTool("trigger-long-running-operation");
  const duration = 3;
  const steps = 3;
  const controller = new AbortController();
  let abortedAt = 0;
  let progressed;
  const firstProgress = new Promise((resolve) => {
    progressed = resolve;
  });
  const started = Date.now();
  const outcome = call(
    "trigger-long-running-operation",
    { duration, steps },
    {
      signal: controller.signal,
      onprogress: () => {
        if (!abortedAt) {
          abortedAt = Date.now();
          controller.abort(new Error("plugboard-interop abort"));
          progressed(null);
        }
      },
    },
  ).then(
    (res) => ({ res }),
    (err) => ({ err, at: Date.now() }),
  );
  const early = await withTimeout(Promise.race([firstProgress, outcome]), 10_000, "the first progress of the call to cancel");
  if (early) throw new Error(`the call ended before any progress: ${short(early.res ? textOf(early.res) : errText(early.err))}`);
  const ended = await withTimeout(outcome, 5_000, "the aborted call's rejection");
  if (!ended.err) throw new Error(`aborted call resolved anyway: ${short(textOf(ended.res))}`);
  const request = sent.findLast((m) => m.method === "tools/call" && m.params?.name === "trigger-long-running-operation");
  const note = sent.find((m) => m.method === "notifications/cancelled" && m.params?.requestId === request?.id);
  if (!note) throw new Error(`the SDK sent no notifications/cancelled for request ${request?.id}`);
  cancelled = { id: request.id, serverDoneAt: started + duration * 1000 };
  const late = ended.at - abortedAt;
  if (late > 1000) throw new Error(`abort error came ${late} ms after the abort`);
  if (!errText(ended.err).includes("plugboard-interop abort")) throw new Error(`unexpected abort error: ${errText(ended.err)}`);
  return `aborted at the first progress (${abortedAt - started} ms in); rejected ${late} ms later with ${JSON.stringify(errText(ended.err))}; sent notifications/cancelled for request ${note.params.requestId}`;
}

// cancellationNoLateResponse checks that no response for the cancelled call
// reaches the client: the SDK server drops the response of a request it was
// told to cancel, so one that arrives means the cancellation never got there.
async function cancellationNoLateResponse() {
  if (!cancelled) throw new Error("the cancellation journey did not cancel a call");
  const wait = cancelled.serverDoneAt + 1500 - Date.now();
  if (wait > 0) await sleep(wait);
  const answer = received.find((m) => m.id === cancelled.id && ("result" in m || "error" in m));
  if (answer) throw new Error(`a response for cancelled request ${cancelled.id} arrived: ${short(JSON.stringify(answer))}`);
  return `no response for cancelled request ${cancelled.id} by 1.5 s after the operation would have ended`;
}

const journeys = [
  ["progress", progress],
  ["sampling", sampling],
  ["elicitation", elicitation],
  ["roots", rootsList],
  ["roots_changed", rootsChanged],
  ["logging", logging],
  ["subscriptions", subscriptions],
  ["completion", completion],
  ["cancellation", cancellation],
  ["cancellation_no_late_response", cancellationNoLateResponse],
];

async function runCheck(name, journey) {
  const started = Date.now();
  try {
    const detail = await withTimeout(journey(), CHECK_TIMEOUT_MS, name);
    checks[name] = { ok: true, detail, ms: Date.now() - started };
  } catch (e) {
    checks[name] = { ok: false, detail: errText(e), ms: Date.now() - started };
  }
}

async function main() {
  const started = Date.now();
  try {
    await withTimeout(client.connect(transport, { timeout: 30_000 }), 35_000, "connect");
  } catch (e) {
    for (const [name] of journeys) checks[name] = { ok: false, detail: `connect failed: ${errText(e)}`, ms: 0 };
    return { connect_ms: Date.now() - started };
  }
  // Watch the wire in both directions.
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    sent.push(message);
    return send(message, options);
  };
  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    received.push(message);
    onmessage?.(message, extra);
  };
  const connectMs = Date.now() - started;
  let toolsError = "";
  try {
    await waitForTools();
  } catch (e) {
    toolsError = errText(e);
  }
  for (const [name, journey] of journeys) {
    if (toolsError && name !== "completion") {
      checks[name] = { ok: false, detail: `tools/list failed: ${toolsError}`, ms: 0 };
      continue;
    }
    await runCheck(name, journey);
  }
  await withTimeout(client.close(), 5_000, "close").catch(() => {});
  return {
    connect_ms: connectMs,
    server: client.getServerVersion(),
    client_errors: clientErrors.slice(0, 20).map((e) => short(e, 200)),
  };
}

const info = await main();
process.stdout.write(JSON.stringify({ checks, ...info }) + "\n", () => process.exit(0));
