#!/usr/bin/env node
// Runs yaml-language-server over LSP stdio on YAML files and prints, as one
// JSON object on stdout, the diagnostics it publishes for each file:
// {"<path>": [{"line": 1, "column": 1, "message": "…", "source": "…"}, …]}
// (lines and columns from 1).
//
// Usage: node lsp_diagnostics.js SERVER TIMEOUT_MS FILE...
//
// Each file names its schema itself (a `# yaml-language-server: $schema=…`
// modeline). The schema store and the Kubernetes CRD store are off, so the
// server makes no network request. Every wait is bounded by TIMEOUT_MS: past
// it the server is killed and the script exits with status 2.

'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const [server, timeoutArg, ...files] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg);
if (!server || !Number.isFinite(timeoutMs) || files.length === 0) {
  process.stderr.write('usage: node lsp_diagnostics.js SERVER TIMEOUT_MS FILE...\n');
  process.exit(64);
}

// What the server reads when it asks for its configuration.
const settings = {
  yaml: {
    validate: true,
    hover: false,
    completion: false,
    format: { enable: false },
    schemaStore: { enable: false },
    kubernetesCRDStore: { enable: false },
    yamlVersion: '1.2',
    schemas: {},
  },
  http: { proxy: '', proxyStrictSSL: false },
};

const child = spawn(process.execPath, [server, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
let serverStderr = '';
child.stderr.on('data', (d) => {
  serverStderr += d;
});

function fail(why) {
  process.stderr.write(`lsp_diagnostics: ${why}\n`);
  if (serverStderr) process.stderr.write(`server stderr:\n${serverStderr}\n`);
  child.kill('SIGKILL');
  process.exit(2);
}

const deadline = setTimeout(() => fail(`no stable diagnostics within ${timeoutMs} ms`), timeoutMs);
child.on('exit', (code, signal) => {
  if (!finished) fail(`the server exited early (${code ?? signal})`);
});

function send(message) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
  child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
  child.stdin.write(body);
}

let nextId = 1;
const pending = new Map();
function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

// Files by URI, the diagnostics last published for each, and when the last
// publication of any came.
const byUri = new Map(files.map((f) => [pathToFileURL(path.resolve(f)).href, f]));
const published = new Map();
let lastPublication = 0;
let configured = false;
let finished = false;

function onServerRequest(message) {
  switch (message.method) {
    case 'workspace/configuration': {
      const items = message.params.items || [];
      const result = items.map((item) => {
        if (item.section === 'yaml') return settings.yaml;
        if (item.section === 'http') return settings.http;
        return null;
      });
      send({ id: message.id, result });
      configured = true;
      break;
    }
    default:
      // client/registerCapability, window/workDoneProgress/create, …
      send({ id: message.id, result: null });
  }
}

function onMessage(message) {
  if (message.id !== undefined && message.method === undefined) {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (waiter) {
      if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
      else waiter.resolve(message.result);
    }
  } else if (message.id !== undefined) {
    onServerRequest(message);
  } else if (message.method === 'textDocument/publishDiagnostics') {
    if (byUri.has(message.params.uri)) {
      published.set(message.params.uri, message.params.diagnostics);
      lastPublication = Date.now();
    }
  }
}

let buffer = Buffer.alloc(0);
child.stdout.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const headerEnd = buffer.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const header = buffer.subarray(0, headerEnd).toString('ascii');
    const match = /Content-Length: *(\d+)/i.exec(header);
    if (!match) fail(`bad header from the server: ${header}`);
    const length = Number(match[1]);
    if (buffer.length < headerEnd + 4 + length) return;
    const body = buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
    buffer = buffer.subarray(headerEnd + 4 + length);
    onMessage(JSON.parse(body));
  }
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const root = pathToFileURL(process.cwd()).href;
  await request('initialize', {
    processId: process.pid,
    rootUri: root,
    workspaceFolders: null,
    capabilities: {
      workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: false } },
      textDocument: { publishDiagnostics: { relatedInformation: false } },
    },
  });
  send({ method: 'initialized', params: {} });
  // The server pulls its settings on `initialized`; open files only once
  // they are in effect (no schema store, no request to the network).
  while (!configured) await sleep(20);
  await sleep(200);
  for (const [uri, file] of byUri) {
    send({
      method: 'textDocument/didOpen',
      params: { textDocument: { uri, languageId: 'yaml', version: 1, text: fs.readFileSync(file, 'utf8') } },
    });
  }
  // Every file reported, then quiet for a while (a change of settings
  // validates open files again).
  while (published.size < byUri.size || Date.now() - lastPublication < 1000) await sleep(50);
  finished = true;
  const out = {};
  for (const [uri, file] of byUri) {
    out[file] = published.get(uri).map((d) => ({
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
      message: d.message,
      source: d.source || '',
    }));
  }
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
  clearTimeout(deadline);
  await request('shutdown', null).catch(() => undefined);
  send({ method: 'exit' });
  setTimeout(() => child.kill('SIGKILL'), 1000).unref();
}

main().catch((e) => fail(e.stack || String(e)));
