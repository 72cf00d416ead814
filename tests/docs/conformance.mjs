// SPDX-License-Identifier: BSD-2-Clause
// Validates recorded HTTP exchanges against docs/openapi.yaml: each answer's status, headers and
// body must be what the document says for its operation, and together the exchanges must reach
// every documented answer (each operation, status and error code), so the test cannot shrink
// without saying so. The schemas are checked by Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect);
// this file only finds which part of the document an exchange answers to.
//
// usage: node conformance.mjs EXCHANGES.jsonl OPENAPI.yaml
// Each line of EXCHANGES.jsonl: {"name", "base", "method", "path", "request_headers": {…},
// "request_body", "status", "headers": {lowercase name: value}, "body"}; `base` is the location
// prefix the request was sent under ("/v1", "/pushsync").
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

// Documented answers no request can bring about, each with its reason. An entry that is
// exercised after all, or that the document no longer has, fails the run.
const UNREACHABLE = new Map([
  ["registerDevice 500 internal_error", "a bug: nothing a client sends may cause it"],
  ["unregisterDevice 500 internal_error", "a bug: nothing a client sends may cause it"],
  ["listGroup 500 internal_error", "a bug: nothing a client sends may cause it"],
  ["notifyGroup 500 internal_error", "a bug: nothing a client sends may cause it"],
  ["getStatus 500 internal_error", "a bug: nothing a client sends may cause it"],
  ["getMetrics 500 internal_error", "a bug: nothing a client sends may cause it"],
  ["unregisterDevice 507 store_full",
   "a map so full that a removal finds no page: registrations stop at store.reserve_percent long before"],
]);

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function fail(lines) {
  for (const line of lines) console.error(line);
  process.exit(1);
}

const [exchangesPath, docPath] = process.argv.slice(2);
if (!exchangesPath || !docPath) fail(["usage: node conformance.mjs EXCHANGES.jsonl OPENAPI.yaml"]);

const doc = YAML.parse(readFileSync(docPath, "utf8"));
const DOC_ID = "https://pushsync.invalid/openapi.yaml";
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...doc, $id: DOC_ID });

const escape = (s) => s.replace(/~/g, "~0").replace(/\//g, "~1");
function at(pointer) {
  let node = doc;
  for (const part of pointer.split("/").slice(1)) node = node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  return node;
}
// A Response, Parameter or Header object with its $ref followed, and where it lives.
function resolve(object, pointer) {
  while (object && object.$ref) {
    pointer = object.$ref.slice(1);
    object = at(pointer);
  }
  return { object, pointer };
}
const validators = new Map();
function validator(pointer) {
  if (!validators.has(pointer)) validators.set(pointer, ajv.compile({ $ref: `${DOC_ID}#${pointer}` }));
  return validators.get(pointer);
}
function schemaErrors(pointer, value) {
  const validate = validator(pointer);
  if (validate(value)) return null;
  return ajv.errorsText(validate.errors, { dataVar: "body" });
}

// The path templates, most literal first, as regular expressions over the path below the base.
const templates = Object.keys(doc.paths).map((template) => {
  const names = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { template, names, regex: new RegExp(`^${source}$`) };
});

// What an answer is, for the coverage: operation, status, and the error code or notify status
// the response's schema narrows to.
function answerKinds(response, pointer) {
  const kinds = [];
  for (const [type, media] of Object.entries(response.content ?? {})) {
    const schema = media.schema ?? {};
    for (const field of ["error", "status"]) {
      const narrowed = schema.properties?.[field];
      if (!narrowed) continue;
      const values = narrowed.const !== undefined ? [narrowed.const] : narrowed.enum ?? [];
      kinds.push(...values.map((v) => ({ field, value: v, type })));
    }
  }
  if (kinds.length === 0) return [null];
  return kinds;
}
function key(operationId, status, value) {
  return [operationId, status, value].filter((x) => x !== null && x !== undefined).join(" ");
}

const documented = new Set();
for (const [template, item] of Object.entries(doc.paths)) {
  for (const method of METHODS) {
    const operation = item[method];
    if (!operation) continue;
    for (const [status, raw] of Object.entries(operation.responses)) {
      const { object } = resolve(raw, `/paths/${escape(template)}/${method}/responses/${status}`);
      for (const kind of answerKinds(object)) documented.add(key(operation.operationId, status, kind?.value));
    }
  }
}
for (const [name, raw] of Object.entries(doc["x-pushsync-unmatched"] ?? {})) {
  const { object } = resolve(raw, `/x-pushsync-unmatched/${name}`);
  for (const kind of answerKinds(object)) documented.add(key(name, null, kind?.value));
}

function checkHeaders(response, pointer, headers, where, problems) {
  for (const [name, raw] of Object.entries(response.headers ?? {})) {
    const { object, pointer: headerPointer } = resolve(raw, `${pointer}/headers/${escape(name)}`);
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (object.required) problems.push(`${where}: header ${name} is documented as required but absent`);
      continue;
    }
    const errors = schemaErrors(`${headerPointer}/schema`, value);
    if (errors) problems.push(`${where}: header ${name}: ${JSON.stringify(value)}: ${errors}`);
  }
}

function checkBody(response, pointer, exchange, where, problems) {
  const contentType = exchange.headers["content-type"];
  const content = response.content ?? {};
  if (Object.keys(content).length === 0 || exchange.method === "HEAD") {
    if (exchange.body !== "") problems.push(`${where}: a body where the document has none: ${exchange.body.slice(0, 200)}`);
    return;
  }
  const type = Object.keys(content).find((t) => t.replace(/\s+/g, "").toLowerCase() ===
                                                 (contentType ?? "").replace(/\s+/g, "").toLowerCase());
  if (!type) {
    problems.push(`${where}: Content-Type ${JSON.stringify(contentType)}, the document has ${Object.keys(content).join(", ")}`);
    return;
  }
  let value = exchange.body;
  if (/json/.test(type)) {
    try {
      value = JSON.parse(exchange.body);
    } catch (e) {
      problems.push(`${where}: body is not JSON (${e.message}): ${exchange.body.slice(0, 200)}`);
      return;
    }
  }
  const errors = schemaErrors(`${pointer}/content/${escape(type)}/schema`, value);
  if (errors) problems.push(`${where}: ${errors}: ${exchange.body.slice(0, 300)}`);
  return { type, value };
}

function checkRequest(operation, pointer, exchange, params, where, problems) {
  for (const raw of [...(doc.paths[exchange.template].parameters ?? []), ...(operation.parameters ?? [])]) {
    const { object, pointer: p } = resolve(raw, pointer);
    if (object.in !== "path") continue;
    const errors = schemaErrors(`${p}/schema`, params[object.name]);
    if (errors) problems.push(`${where}: path parameter ${object.name} ${JSON.stringify(params[object.name])}: ${errors}`);
  }
  const body = operation.requestBody && resolve(operation.requestBody, `${pointer}/requestBody`);
  if (!body) return;
  const errors = schemaErrors(`${body.pointer}/content/application~1json/schema`, JSON.parse(exchange.request_body));
  if (errors) problems.push(`${where}: the request body is not a documented one: ${errors}`);
}

const exchanges = readFileSync(exchangesPath, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
if (exchanges.length === 0) fail([`${exchangesPath}: no exchanges`]);
const problems = [];
const seen = new Set();
for (const [i, exchange] of exchanges.entries()) {
  const where = `${exchangesPath}:${i + 1} ${exchange.name}: ${exchange.method} ${exchange.path} -> ${exchange.status}`;
  if (!exchange.path.startsWith(`${exchange.base}/`)) {
    problems.push(`${where}: the path is not under its base ${exchange.base}`);
    continue;
  }
  const below = exchange.path.slice(exchange.base.length).split("?")[0];
  const match = templates.map((t) => ({ t, m: t.regex.exec(below) })).find((x) => x.m);
  const method = exchange.method.toLowerCase();
  const item = match && doc.paths[match.t.template];
  let operationId, pointer, raw;
  if (!match || !item[method]) {
    operationId = match ? "method-not-allowed" : "unknown-path";
    pointer = `/x-pushsync-unmatched/${operationId}`;
    raw = doc["x-pushsync-unmatched"][operationId];
    const expected = match ? "405" : "404";
    if (String(exchange.status) !== expected) {
      problems.push(`${where}: ${operationId} must answer ${expected}`);
      continue;
    }
  } else {
    const operation = item[method];
    operationId = operation.operationId;
    pointer = `/paths/${escape(match.t.template)}/${method}/responses/${exchange.status}`;
    raw = operation.responses[String(exchange.status)];
    if (!raw) {
      problems.push(`${where}: ${operationId} documents no ${exchange.status} (it has ${Object.keys(operation.responses).join(", ")})`);
      continue;
    }
    if (exchange.status < 300) {
      exchange.template = match.t.template;
      const params = Object.fromEntries(match.t.names.map((n, k) => [n, decodeURIComponent(match.m[k + 1])]));
      checkRequest(operation, `/paths/${escape(match.t.template)}/${method}`, exchange, params, where, problems);
    }
  }
  const { object: response, pointer: responsePointer } = resolve(raw, pointer);
  const before = problems.length;
  checkHeaders(response, responsePointer, exchange.headers, where, problems);
  const body = checkBody(response, responsePointer, exchange, where, problems);
  if (problems.length !== before) continue;
  const kinds = answerKinds(response);
  const value = body && body.value && typeof body.value === "object"
    ? kinds.map((k) => k && body.value[k.field]).find((v) => v !== undefined)
    : undefined;
  const operationMatched = Boolean(match && item[method]);
  seen.add(key(operationId, operationMatched ? String(exchange.status) : null, kinds[0] === null ? null : value));
}
if (problems.length) fail([...problems, `${problems.length} answer(s) differ from ${docPath}`]);

const missing = [];
for (const answer of documented) {
  if (seen.has(answer)) {
    if (UNREACHABLE.has(answer)) missing.push(`${answer}: listed as unreachable (${UNREACHABLE.get(answer)}) but exercised`);
    continue;
  }
  if (!UNREACHABLE.has(answer)) missing.push(`${answer}: documented, never exercised`);
}
for (const answer of UNREACHABLE.keys()) {
  if (!documented.has(answer)) missing.push(`${answer}: listed as unreachable but not in ${docPath}`);
}
if (missing.length) fail([...missing, `${missing.length} documented answer(s) not covered by ${exchangesPath}`]);
console.log(`${exchanges.length} exchanges conform to ${docPath}; ${seen.size} of its ${documented.size} answers exercised, ` +
            `${UNREACHABLE.size} unreachable by a request`);
