// An everything server on the TypeScript SDK v2 (@modelcontextprotocol/server),
// for plugboard's conformance comparison: the conformance suite runs against it
// directly and through plugboard. It serves both protocol generations the way
// that SDK does: one server definition, served per connection on stdio
// (serveStdio) and, on Streamable HTTP, per request for 2026-07-28 traffic
// (createMcpHandler) and per session for handshake-era traffic (the SDK's
// sessionful transport behind isLegacyRequest, which is what lets a tool ask a
// handshake-era client for sampling or elicitation).
//
// With --push-requests, the tools of the handshake-era sampling and
// elicitation scenarios ask the way a server written for the SDK's v1 does,
// with ctx.mcpReq.requestSampling and ctx.mcpReq.elicitInput, which the SDK
// serves on the handshake-era path only: on the 2026-07-28 path the call
// throws and the tool answers with an error text instead of input_required.
// Many servers are like that; a proxy must still lose nothing in front of one.
//
// Usage: node server.mjs [--push-requests] --stdio | --http HOST:PORT (endpoint /mcp)

import { randomUUID } from 'node:crypto';
import http from 'node:http';

import {
  CLIENT_CAPABILITIES_META_KEY,
  McpServer,
  ResourceTemplate,
  WebStandardStreamableHTTPServerTransport,
  completable,
  createMcpHandler,
  createRequestStateCodec,
  fromJsonSchema,
  hostHeaderValidationResponse,
  inputRequired,
  inputResponse,
  isLegacyRequest,
  localhostAllowedHostnames,
} from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { z } from 'zod';

// A 1x1 PNG and an empty 8 kHz mono WAV.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';
const WATCHED = 'test://watched-resource';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (t) => ({ content: [{ type: 'text', text: t }] });

// Servers connected on a handshake-era session, which get resource updates
// pushed; 2026-07-28 clients get them on their subscriptions/listen stream.
const legacyServers = new Set();

const args = process.argv.slice(2);
const pushRequests = args.includes('--push-requests');

// elicitThen asks the client for input with one elicitation and answers
// with what it said: the SDK sends a handshake-era client a real
// elicitation/create and a 2026-07-28 client an input_required result.
// With --push-requests it sends elicitation/create itself.
async function elicitThen(ctx, request, answer, push = pushRequests) {
  if (push) {
    const result = await ctx.mcpReq.elicitInput(request);
    return text(answer({ kind: 'elicit', ...result }));
  }
  const got = inputResponse(ctx.mcpReq.inputResponses, 'input');
  if (got.kind !== 'elicit') {
    return inputRequired({ inputRequests: { input: inputRequired.elicit(request) } });
  }
  return text(answer(got));
}

function describeElicit(got) {
  return `action=${got.action}, content=${JSON.stringify(got.content ?? {})}`;
}

function registerTools(server) {
  server.registerTool('test_simple_text', { description: 'Returns simple text content' }, async () =>
    text('This is a simple text response for testing.'));
  server.registerTool('test_image_content', { description: 'Returns image content' }, async () => ({
    content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Returns audio content' }, async () => ({
    content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Returns an embedded resource' }, async () => ({
    content: [{
      type: 'resource',
      resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
    }],
  }));
  server.registerTool('test_multiple_content_types', { description: 'Returns text, image and resource content' }, async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
    ],
  }));
  server.registerTool('test_tool_with_logging', { description: 'Logs three messages while it runs' }, async (ctx) => {
    await ctx.mcpReq.log('info', 'Tool execution started');
    await sleep(50);
    await ctx.mcpReq.log('info', 'Tool processing data');
    await sleep(50);
    await ctx.mcpReq.log('info', 'Tool execution completed');
    return text('Logging test completed');
  });
  server.registerTool('test_tool_with_progress', { description: 'Reports progress 0, 50 and 100 of 100' }, async (ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (const progress of [0, 50, 100]) {
      if (token !== undefined) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress, total: 100 } });
      }
      if (progress < 100) await sleep(50);
    }
    return text(`Progress test completed (token ${token ?? 'none'})`);
  });
  server.registerTool('test_error_handling', { description: 'Always fails' }, async () => ({
    isError: true,
    content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
  }));
  server.registerTool('test_sampling', {
    description: 'Asks the client for an LLM completion of the prompt',
    inputSchema: z.object({ prompt: z.string() }),
  }, async ({ prompt }, ctx) => {
    if (pushRequests) {
      const result = await ctx.mcpReq.requestSampling({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 });
      return text(`LLM response: ${result.content?.type === 'text' ? result.content.text : JSON.stringify(result.content)}`);
    }
    const got = inputResponse(ctx.mcpReq.inputResponses, 'completion');
    if (got.kind !== 'sampling') {
      return inputRequired({
        inputRequests: {
          completion: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }),
        },
      });
    }
    const content = Array.isArray(got.result.content) ? got.result.content[0] : got.result.content;
    return text(`LLM response: ${content?.type === 'text' ? content.text : JSON.stringify(content)}`);
  });
  server.registerTool('test_elicitation', {
    description: 'Asks the user for a username and an email',
    inputSchema: z.object({ message: z.string() }),
  }, async ({ message }, ctx) => elicitThen(ctx, {
    message,
    requestedSchema: {
      type: 'object',
      properties: {
        username: { type: 'string', description: "User's response" },
        email: { type: 'string', description: "User's email address" },
      },
      required: ['username', 'email'],
    },
  }, (got) => `User response: ${describeElicit(got)}`));
  server.registerTool('test_elicitation_sep1034_defaults', { description: 'Elicitation with a default for every primitive type' }, async (ctx) => elicitThen(ctx, {
    message: 'Please review your profile',
    requestedSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Name', default: 'John Doe' },
        age: { type: 'integer', description: 'Age', default: 30 },
        score: { type: 'number', description: 'Score', default: 95.5 },
        status: { type: 'string', description: 'Status', enum: ['active', 'inactive', 'pending'], default: 'active' },
        verified: { type: 'boolean', description: 'Verified', default: true },
      },
    },
  }, (got) => `Elicitation completed: ${describeElicit(got)}`));
  server.registerTool('test_elicitation_sep1330_enums', { description: 'Elicitation with every enum form' }, async (ctx) => elicitThen(ctx, {
    message: 'Please pick some options',
    requestedSchema: {
      type: 'object',
      properties: {
        untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
        titledSingle: {
          type: 'string',
          oneOf: [
            { const: 'value1', title: 'First Option' },
            { const: 'value2', title: 'Second Option' },
            { const: 'value3', title: 'Third Option' },
          ],
        },
        legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
        untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
        titledMulti: {
          type: 'array',
          items: {
            anyOf: [
              { const: 'value1', title: 'First Choice' },
              { const: 'value2', title: 'Second Choice' },
              { const: 'value3', title: 'Third Choice' },
            ],
          },
        },
      },
    },
  }, (got) => `Elicitation completed: ${describeElicit(got)}`));
  server.registerTool('json_schema_2020_12_tool', {
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: fromJsonSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
      properties: {
        name: { type: 'string' },
        address: { $ref: '#/$defs/address' },
        contactMethod: { type: 'string', enum: ['phone', 'email'] },
        phone: { type: 'string' },
        email: { type: 'string' },
      },
      allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
      if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
      then: { required: ['phone'] },
      else: { required: ['email'] },
      additionalProperties: false,
    }),
  }, async (args) => text(`Received: ${JSON.stringify(args)}`));

  // The multi-round-trip tools of the 2026-07-28 revision.
  const confirmSchema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
  server.registerTool('test_input_required_result_elicitation', { description: 'Needs one elicitation' }, async (ctx) => {
    const got = inputResponse(ctx.mcpReq.inputResponses, 'user_name');
    if (got.kind !== 'elicit') {
      return inputRequired({ inputRequests: { user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } }) } });
    }
    return text(`Hello, ${got.content?.name ?? 'stranger'} (${got.action})`);
  });
  server.registerTool('test_input_required_result_sampling', { description: 'Needs one sampling' }, async (ctx) => {
    const got = inputResponse(ctx.mcpReq.inputResponses, 'sampling_input');
    if (got.kind !== 'sampling') {
      return inputRequired({ inputRequests: { sampling_input: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 }) } });
    }
    return text(`Sampled: ${JSON.stringify(got.result.content)}`);
  });
  server.registerTool('test_input_required_result_list_roots', { description: 'Needs the client roots' }, async (ctx) => {
    const got = inputResponse(ctx.mcpReq.inputResponses, 'roots_input');
    if (got.kind !== 'roots') {
      return inputRequired({ inputRequests: { roots_input: inputRequired.listRoots() } });
    }
    return text(`Roots: ${got.roots.map((r) => r.uri).join(', ')}`);
  });
  server.registerTool('test_input_required_result_request_state', { description: 'Needs a confirmation and its state back' }, async (ctx) => {
    const got = inputResponse(ctx.mcpReq.inputResponses, 'confirm');
    if (got.kind !== 'elicit' || ctx.mcpReq.requestState() !== 'state-1') {
      return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: 'Please confirm', requestedSchema: confirmSchema }) }, requestState: await stateCodec.mint('state-1', ctx) });
    }
    return text(`Confirmed: ${JSON.stringify(got.content ?? {})}`);
  });
  server.registerTool('test_input_required_result_multiple_inputs', { description: 'Needs three inputs' }, async (ctx) => {
    const responses = ctx.mcpReq.inputResponses;
    const name = inputResponse(responses, 'user_name');
    const greeting = inputResponse(responses, 'greeting');
    const roots = inputResponse(responses, 'client_roots');
    if (name.kind !== 'elicit' || greeting.kind !== 'sampling' || roots.kind !== 'roots') {
      return inputRequired({
        inputRequests: {
          user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } }),
          greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 }),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await stateCodec.mint('multiple-1', ctx),
      });
    }
    return text(`Got ${name.content?.name}, ${JSON.stringify(greeting.result.content)} and ${roots.roots.length} roots`);
  });
  server.registerTool('test_input_required_result_multi_round', { description: 'Needs two rounds of input' }, async (ctx) => {
    const responses = ctx.mcpReq.inputResponses;
    const state = ctx.mcpReq.requestState();
    const step1 = inputResponse(responses, 'step1');
    const step2 = inputResponse(responses, 'step2');
    if (state === 'round-2' && step2.kind === 'elicit') {
      return text(`Favorite color: ${step2.content?.color}`);
    }
    if ((state === 'round-1' && step1.kind === 'elicit') || state === 'round-2') {
      return inputRequired({ inputRequests: { step2: inputRequired.elicit({ message: 'Step 2: What is your favorite color?', requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] } }) }, requestState: await stateCodec.mint('round-2', ctx) });
    }
    return inputRequired({ inputRequests: { step1: inputRequired.elicit({ message: 'Step 1: What is your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } }) }, requestState: await stateCodec.mint('round-1', ctx) });
  });
  // Every state is signed with the SDK's codec, and the server's
  // requestState.verify refuses a changed one before the handler runs.
  server.registerTool('test_input_required_result_tampered_state', { description: 'Checks its state was not changed' }, async (ctx) => {
    const got = inputResponse(ctx.mcpReq.inputResponses, 'confirm');
    if (ctx.mcpReq.requestState() === undefined || got.kind !== 'elicit') {
      return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: 'Please confirm', requestedSchema: confirmSchema }) }, requestState: await stateCodec.mint('tamper-proof', ctx) });
    }
    return text(`Confirmed: ${JSON.stringify(got.content ?? {})}`);
  });
  server.registerTool('test_input_required_result_capabilities', { description: 'Asks only for what the client can give' }, async (ctx) => {
    const caps = ctx.mcpReq.envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? {};
    const requests = {};
    if (caps.sampling) requests.sample = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 10 });
    if (caps.elicitation) requests.ask = inputRequired.elicit({ message: 'Say hi', requestedSchema: confirmSchema });
    if (Object.keys(ctx.mcpReq.inputResponses ?? {}).length > 0 || Object.keys(requests).length === 0) {
      return text('Done');
    }
    return inputRequired({ inputRequests: requests });
  });

  // The diagnostic tools of the server-stateless scenario: one that needs
  // sampling (the SDK refuses it with -32021 when the request's client
  // capabilities lack it), one that elicits, one that logs.
  server.registerTool('test_missing_capability', { description: 'Needs the client to sample' }, async (ctx) => {
    if (inputResponse(ctx.mcpReq.inputResponses, 'sample').kind === 'sampling') return text('Sampled');
    return inputRequired({ inputRequests: { sample: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 10 }) } });
  });
  server.registerTool('test_streaming_elicitation', { description: 'Elicits while it runs' }, async (ctx) => elicitThen(ctx, {
    message: 'Please confirm',
    requestedSchema: confirmSchema,
  }, (got) => `Elicitation completed: ${describeElicit(got)}`, false));
  server.registerTool('test_logging_tool', { description: 'Logs while it runs' }, async (ctx) => {
    await ctx.mcpReq.log('info', 'test_logging_tool ran');
    return text('Logged');
  });
}

function registerResources(server) {
  server.registerResource('static-text', 'test://static-text', { description: 'A static text resource', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
  }));
  server.registerResource('static-binary', 'test://static-binary', { description: 'A static binary resource', mimeType: 'image/png' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG }],
  }));
  server.registerResource('watched-resource', WATCHED, { description: 'A resource that changes every few seconds', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: `Watched resource at ${new Date().toISOString()}` }],
  }));
  server.registerResource('template', new ResourceTemplate('test://template/{id}/data', {
    list: undefined,
    complete: { id: (value) => ['123', '456', '789'].filter((v) => v.startsWith(value)) },
  }), { description: 'A resource template with an id', mimeType: 'application/json' }, async (uri, { id }) => ({
    contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }],
  }));
}

function registerPrompts(server) {
  server.registerPrompt('test_input_required_result_prompt', { description: 'A prompt that needs the user to say something' }, async (ctx) => {
    const got = inputResponse(ctx.mcpReq.inputResponses, 'topic');
    if (got.kind !== 'elicit') {
      return inputRequired({ inputRequests: { topic: inputRequired.elicit({ message: 'Which topic?', requestedSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] } }) } });
    }
    return { messages: [{ role: 'user', content: { type: 'text', text: `Tell me about ${got.content?.topic ?? 'anything'}` } }] };
  });
  server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.registerPrompt('test_prompt_with_arguments', {
    description: 'A prompt with two arguments',
    argsSchema: z.object({
      arg1: completable(z.string().describe('First test argument'), (value) => ['paris', 'park', 'party'].filter((v) => v.startsWith(value))),
      arg2: z.string().describe('Second test argument'),
    }),
  }, async ({ arg1, arg2 }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
  }));
  server.registerPrompt('test_prompt_with_embedded_resource', {
    description: 'A prompt embedding a resource',
    argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
  }, async ({ resourceUri }) => ({
    messages: [
      { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
      { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
    ],
  }));
  server.registerPrompt('test_prompt_with_image', { description: 'A prompt with an image' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
}

// The key that signs multi-round-trip state, fresh for each run.
const stateCodec = createRequestStateCodec({ key: randomUUID() });

// newServer is the one server definition both generations are served from.
function newServer({ era }) {
  const server = new McpServer(
    { name: 'plugboard-ts-everything', version: '1.0.0' },
    {
      capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } },
      requestState: { verify: (state, ctx) => stateCodec.verify(state, ctx) },
    },
  );
  registerTools(server);
  registerResources(server);
  registerPrompts(server);
  if (era === 'legacy') {
    // Handshake-era subscriptions: updates of the watched resource are
    // pushed to a session that subscribed to it.
    const subscribed = new Set();
    server.server.setRequestHandler('resources/subscribe', async (request) => {
      subscribed.add(request.params.uri);
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async (request) => {
      subscribed.delete(request.params.uri);
      return {};
    });
    const entry = { server, subscribed };
    legacyServers.add(entry);
    server.server.onclose = () => legacyServers.delete(entry);
  } else {
    modernServers.add(server);
    server.server.onclose = () => modernServers.delete(server);
  }
  return server;
}

// 2026-07-28 instances alive on stdio: their resource updates are routed
// onto the connection's subscriptions/listen streams by serveStdio.
const modernServers = new Set();

function tickWatchedResource(httpHandler) {
  setInterval(() => {
    for (const { server, subscribed } of legacyServers) {
      if (subscribed.has(WATCHED)) server.server.sendResourceUpdated({ uri: WATCHED }).catch(() => {});
    }
    for (const server of modernServers) server.server.sendResourceUpdated({ uri: WATCHED }).catch(() => {});
    httpHandler?.notify.resourceUpdated(WATCHED);
  }, 3000).unref();
}

function serveHTTP(hostPort) {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  const modern = createMcpHandler(newServer, { legacy: 'reject' });
  const sessions = new Map();
  const legacy = async (request) => {
    const id = request.headers.get('mcp-session-id');
    if (id) {
      const transport = sessions.get(id);
      if (!transport) {
        return Response.json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }, { status: 404 });
      }
      return transport.handleRequest(request);
    }
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => { sessions.set(sid, transport); },
      onsessionclosed: (sid) => { sessions.delete(sid); },
    });
    await newServer({ era: 'legacy' }).connect(transport);
    return transport.handleRequest(request);
  };
  const both = {
    fetch: async (request) => {
      const rejected = hostHeaderValidationResponse(request, localhostAllowedHostnames());
      if (rejected) return rejected;
      if (new URL(request.url).pathname !== '/mcp') return new Response('not found', { status: 404 });
      return (await isLegacyRequest(request)) ? legacy(request) : modern.fetch(request);
    },
  };
  tickWatchedResource(modern);
  http.createServer(toNodeHandler(both)).listen(port, host, () => {
    process.stderr.write(`listening on http://${hostPort}/mcp\n`);
  });
}

if (args.includes('--stdio')) {
  tickWatchedResource(undefined);
  serveStdio(newServer, { legacy: 'serve', onerror: (e) => process.stderr.write(`${e.stack ?? e}\n`) });
} else if (args.includes('--http') && args[args.indexOf('--http') + 1]) {
  serveHTTP(args[args.indexOf('--http') + 1]);
} else {
  process.stderr.write('usage: server.mjs [--push-requests] --stdio | --http HOST:PORT\n');
  process.exit(2);
}
