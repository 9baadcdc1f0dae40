// Response validation against api/openapi.yaml (OpenAPI 3.1, JSON Schema draft 2020-12).
//
// validateResponse({method, path, status, headers, body}) finds the operation of the request
// (path templates like /api/v1/polls/{id}; HEAD is the GET operation without a body), checks that
// the status is documented for it, that the documented required headers are there (and match
// their schemas when present), that the Content-Type is one documented for that response, and
// validates a JSON body against the documented schema with ajv. A mismatch throws an Error naming
// the method, the path, the status and what did not match.
//
// The conventions of the description that no single operation can carry (see info.description):
// - a path that matches no path template answers 404 `not_found` (components.responses.NotFound);
// - a method not described on a matched path answers 405 (the 405 response its operations list),
//   or, under /admin with the admin API off, 404 (the 404 response its operations list).
//
// The number of responses validated is printed on stderr when the process exits, and appended to
// the file named by THAMDO_OPENAPI_COUNT_FILE when that is set.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SPEC_PATH = path.resolve(here, '..', '..', '..', 'api', 'openapi.yaml');
const SPEC_ID = 'thamdo-openapi';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let spec = null; // {doc, ajv, routes, compiled}
const counts = { validated: 0, failed: 0 };
const hits = new Set(); // "METHOD template status" of every response validated

function escapePointer(seg) {
  return String(seg).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A JSON pointer (array of segments) as a URI fragment ajv understands. */
function fragment(segments) {
  return `#${segments.map((s) => `/${encodeURIComponent(escapePointer(s))}`).join('')}`;
}

function load() {
  if (spec) return spec;
  const doc = YAML.parse(fs.readFileSync(SPEC_PATH, 'utf8'));
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // The whole document is registered once, so that every "#/components/..." reference inside a
  // schema resolves against it; schemas are compiled on demand by their JSON pointer.
  ajv.addSchema(doc, SPEC_ID, undefined, false);
  const routes = Object.keys(doc.paths || {}).map((template) => {
    const segs = template.split('/');
    const params = segs.filter((s) => /^\{[^}]+\}$/.test(s)).length;
    const re = new RegExp(`^${segs.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
    return { template, re, params };
  });
  routes.sort((a, b) => a.params - b.params); // a literal path wins over a template
  spec = { doc, ajv, routes, compiled: new Map() };
  return spec;
}

/** Follows a local $ref; returns {node, ptr} (ptr: array of segments of the final location). */
function deref(node, ptr) {
  const { doc } = load();
  let seen = 0;
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    if (!node.$ref.startsWith('#/') || ++seen > 20) throw new Error(`openapi.mjs: cannot follow $ref ${node.$ref}`);
    ptr = node.$ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    node = ptr.reduce((n, k) => (n == null ? n : n[k]), doc);
  }
  return { node, ptr };
}

function validator(ptr) {
  const s = load();
  const key = ptr.join('\u0000');
  let v = s.compiled.get(key);
  if (!v) {
    v = s.ajv.compile({ $ref: `${SPEC_ID}${fragment(ptr)}` });
    s.compiled.set(key, v);
  }
  return v;
}

function formatAjvErrors(errors) {
  return (errors || [])
    .map((e) => `  ${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`)
    .join('\n');
}

function headerGetter(headers) {
  if (!headers) return () => null;
  if (typeof headers.get === 'function') return (name) => headers.get(name);
  const lower = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return (name) => (lower[name.toLowerCase()] ?? null);
}

function mediaType(ct) {
  return ct ? ct.split(';')[0].trim().toLowerCase() : null;
}

function mediaMatches(key, mt) {
  const k = key.toLowerCase();
  if (k === mt || k === '*/*') return true;
  if (k.endsWith('/*')) return mt.startsWith(k.slice(0, -1));
  return false;
}

/** Finds the path item of a request path: {template, item, ptr} or null. */
export function findPath(urlPath) {
  const { doc, routes } = load();
  let p = String(urlPath);
  if (/^https?:\/\//i.test(p)) p = new URL(p).pathname;
  p = p.split('#')[0].split('?')[0];
  for (const r of routes) {
    if (r.re.test(p)) return { template: r.template, item: doc.paths[r.template], ptr: ['paths', r.template], path: p };
  }
  return null;
}

/**
 * Validates one response; throws an Error on mismatch. body: the response text (or an already
 * parsed value). Returns {template, status} of what it was checked against.
 */
export function validateResponse({ method, path: urlPath, status, headers, body }) {
  load();
  const m = String(method || 'GET').toUpperCase();
  const isHead = m === 'HEAD';
  const opMethod = isHead ? 'get' : m.toLowerCase();
  const st = String(status);
  const where = `${m} ${urlPath} -> ${status}`;
  const problems = [];
  const get = headerGetter(headers);
  const fail = (msg) => {
    counts.failed++;
    const shown = typeof body === 'string' ? body : JSON.stringify(body);
    const snippet = shown === undefined ? '' : `\nbody: ${String(shown).slice(0, 600)}`;
    const ct = get('content-type');
    throw new Error(`OpenAPI mismatch: ${where}${ct ? ` (Content-Type: ${ct})` : ''}\n${msg}${snippet}`);
  };

  // 1. Which documented response applies.
  let response;
  let respPtr;
  let against;
  let hitKey;
  const found = findPath(urlPath);
  if (!found) {
    against = `(no path template; the unknown-path convention)`;
    if (st !== '404') fail(`no path of api/openapi.yaml matches this path, so the only documented answer is 404 not_found`);
    ({ node: response, ptr: respPtr } = deref({ $ref: '#/components/responses/NotFound' }, []));
    hitKey = `${m} (unknown path) ${st}`;
  } else {
    const op = METHODS.includes(opMethod) ? found.item[opMethod] : undefined;
    if (op) {
      against = `${opMethod.toUpperCase()} ${found.template}`;
      const responses = op.responses || {};
      const key = [st, `${st[0]}XX`, 'default'].find((k) => responses[k] !== undefined);
      if (!key) {
        fail(`status ${status} is not documented for ${against} (documented: ${Object.keys(responses).join(', ')})`);
      }
      ({ node: response, ptr: respPtr } = deref(responses[key], [...found.ptr, opMethod, 'responses', key]));
      hitKey = `${opMethod.toUpperCase()} ${found.template} ${key}`;
    } else {
      // A method the path does not describe: 405, or 404 under /admin (admin API off).
      against = `${m} on ${found.template} (a method not described on this path)`;
      const allowed = found.path.startsWith('/admin') ? ['405', '404'] : ['405'];
      if (!allowed.includes(st)) fail(`${against}: expected ${allowed.join(' or ')}`);
      for (const k of METHODS) {
        const o = found.item[k];
        if (o && o.responses && o.responses[st] !== undefined) {
          ({ node: response, ptr: respPtr } = deref(o.responses[st], [...found.ptr, k, 'responses', st]));
          break;
        }
      }
      if (!response) fail(`${against}: no operation of ${found.template} documents a ${status} response`);
      // The answer is the path's, not one operation's: it covers each operation that documents it.
      hitKey = METHODS.filter((k) => found.item[k]?.responses?.[st] !== undefined).map((k) => `${k.toUpperCase()} ${found.template} ${st}`);
    }
  }

  // 2. Headers documented as required must be there; documented headers that are there must match.
  for (const [name, h0] of Object.entries(response.headers || {})) {
    const { node: h, ptr: hPtr } = deref(h0, [...respPtr, 'headers', name]);
    const value = get(name);
    if (value === null || value === undefined) {
      if (h.required) problems.push(`required header ${name} is missing`);
      continue;
    }
    if (!h.schema) continue;
    const { node: hs } = deref(h.schema, [...hPtr, 'schema']);
    let v = value;
    if (hs && (hs.type === 'integer' || hs.type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) v = Number(value);
    const check = validator([...hPtr, 'schema']);
    if (!check(v)) problems.push(`header ${name}: ${JSON.stringify(value)} does not match its schema:\n${formatAjvErrors(check.errors)}`);
  }

  // 3. The body.
  const ct = get('content-type');
  const mt = mediaType(ct);
  const content = response.content || null;
  const text = typeof body === 'string' ? body : body === undefined || body === null ? '' : null;
  if (!content) {
    if (!isHead && text !== null && text.length > 0) problems.push(`the documented response has no body, but one came (${text.length} characters)`);
  } else if (mt || (text !== null && text.length > 0 && !isHead)) {
    const key = mt ? Object.keys(content).find((k) => mediaMatches(k, mt)) : undefined;
    if (!key) {
      problems.push(`Content-Type ${ct ?? '(none)'} is not documented for this response (documented: ${Object.keys(content).join(', ')})`);
    } else if (!isHead && /(^|[/+])json$/.test(mt)) {
      const media = content[key];
      if (media && media.schema !== undefined) {
        let value = body;
        if (typeof body === 'string') {
          if (body.length === 0) {
            problems.push('the JSON body is empty');
          } else {
            try { value = JSON.parse(body); } catch (e) { problems.push(`the body is not JSON: ${e.message}`); value = undefined; }
          }
        }
        if (value !== undefined && !(typeof body === 'string' && body.length === 0)) {
          const check = validator([...respPtr, 'content', key, 'schema']);
          if (!check(value)) problems.push(`the JSON body does not match the schema of ${key}:\n${formatAjvErrors(check.errors)}`);
        }
      }
    }
  }

  if (problems.length) fail(`checked against ${against}, response ${st}:\n- ${problems.join('\n- ')}`);
  counts.validated++;
  for (const k of [hitKey].flat()) hits.add(k);
  return { template: found ? found.template : null, status: st };
}

/** Every documented response: ["GET /api/v1/polls 200", ...] (HEAD counts as GET). */
export function documentedResponses() {
  const { doc } = load();
  const out = [];
  for (const [template, item] of Object.entries(doc.paths || {})) {
    for (const k of METHODS) {
      if (item[k]) for (const st of Object.keys(item[k].responses || {})) out.push(`${k.toUpperCase()} ${template} ${st}`);
    }
  }
  return out;
}

/** The documented responses validated so far in this process (same format). */
export function validationHits() {
  return new Set(hits);
}

/** The parsed description (read-only use). */
export function openapiDocument() {
  return load().doc;
}

/** How many responses were validated (and how many mismatched) in this process. */
export function validationCounts() {
  return { ...counts };
}

process.on('exit', () => {
  if (counts.validated === 0 && counts.failed === 0) return;
  const file = path.basename(process.argv[1] || 'node');
  const line = `openapi: ${counts.validated} responses validated against api/openapi.yaml, ${counts.failed} mismatches thrown (${file})\n`;
  try { process.stderr.write(line); } catch { /* closed */ }
  if (process.env.THAMDO_OPENAPI_COUNT_FILE) {
    try { fs.appendFileSync(process.env.THAMDO_OPENAPI_COUNT_FILE, `${counts.validated} ${counts.failed} ${file}\n`); } catch { /* best effort */ }
  }
});
