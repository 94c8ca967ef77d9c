// Fetch wrapper for /api/v1: JSON in and out, same-origin cookies, the
// X-CSRF-Token header on every change, an Idempotency-Key on the POSTs that
// make or do something, and ApiError objects that carry the server's
// {code, message, details}.

import { has, t } from './i18n.js';

const BASE = '/api/v1';
let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.serverMessage = message || '';
    this.details = Array.isArray(details) ? details : [];
  }
}

/** The URL of an API path, for links (downloads). */
export function apiUrl(path, query) {
  let url = BASE + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') qs.append(k, String(v));
    }
    const q = qs.toString();
    if (q) url += `?${q}`;
  }
  return url;
}

async function parseBody(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/*
 * Idempotency keys (docs/API.md "Idempotency keys").  A POST carries one;
 * the same request (method, URL and body) sent again before it got a final
 * answer — a double click, the user trying again after a network error or
 * a 5xx — carries the same key, so the server does it once and answers the
 * repeat with the first answer.  A final answer (any status below 500 but
 * idempotency_in_progress) forgets the key: doing the same thing again on
 * purpose later is a new request.  While the first is still running the
 * server says 409 idempotency_in_progress: wait and ask again.
 */
const NO_IDEMPOTENCY = [
  /^\/login(\/|$)/, /^\/logout/, /^\/password-reset/,          // no session yet, or ending it
  /^\/me\/(password|totp|second-factor)/,                       // credentials: never kept
  /\/preview$/, /\/text-from-html$/,                              // compute, change nothing
];
const IDEMPOTENCY_FORGET_MS = 60 * 60 * 1000;
const IN_PROGRESS_WAITS = 40;
const IN_PROGRESS_WAIT_MS = 500;
const pendingKeys = new Map();  // request identity -> { key, at }
const bodyIds = new WeakMap();  // a File / Blob / buffer body -> its identity
let bodySeq = 0;

function randomKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);  // randomUUID needs a secure context; this does not
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function requestIdentity(method, url, body) {
  if (body === undefined || typeof body === 'string') return `${method} ${url}\n${body || ''}`;
  if (!bodyIds.has(body)) bodyIds.set(body, `#${++bodySeq}`);
  return `${method} ${url}\n${bodyIds.get(body)}`;
}

function idempotencyKeyFor(identity) {
  const now = Date.now();
  for (const [id, k] of pendingKeys) if (now - k.at > IDEMPOTENCY_FORGET_MS) pendingKeys.delete(id);
  let k = pendingKeys.get(identity);
  if (!k) {
    k = { key: randomKey(), at: now };
    pendingKeys.set(identity, k);
  }
  return k.key;
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/**
 * request('POST', '/lists', {json: {...}}) or {body, contentType} for raw
 * bodies; {query} adds URL parameters; {idempotent: false} sends a POST
 * without an Idempotency-Key. Resolves with the parsed JSON (or null),
 * rejects with ApiError.
 */
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = opts.contentType || 'application/octet-stream';
    body = opts.body;
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const url = apiUrl(path, opts.query);
  let identity = null;
  if (method === 'POST' && opts.idempotent !== false && !NO_IDEMPOTENCY.some((re) => re.test(path))) {
    identity = requestIdentity(method, url, body);
    headers['Idempotency-Key'] = idempotencyKeyFor(identity);
  }

  let res;
  let data;
  for (let wait = 0; ; wait += 1) {
    try {
      res = await fetch(url, {
        method, headers, body, credentials: 'same-origin', cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(0, 'network', e && e.message);  // the key stays for a retry
    }
    data = await parseBody(res);
    const inProgress = res.status === 409 && data && data.error && data.error.code === 'idempotency_in_progress';
    if (identity && inProgress && wait < IN_PROGRESS_WAITS) {
      await sleep(IN_PROGRESS_WAIT_MS);
      continue;
    }
    if (identity && res.status < 500 && !inProgress
        && pendingKeys.get(identity)?.key === headers['Idempotency-Key']) {
      pendingKeys.delete(identity);
    }
    break;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || `http_${res.status}`, e.message, e.details);
    if (res.status === 401 && path !== '/login') {
      window.dispatchEvent(new CustomEvent('kunren:unauthorized'));
    }
    throw err;
  }
  return data;
}

export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, json, query) => request('POST', path, { json: json === undefined ? {} : json, query }),
  patch: (path, json) => request('PATCH', path, { json }),
  put: (path, json) => request('PUT', path, { json }),
  del: (path) => request('DELETE', path),
  raw: (method, path, body, contentType, query) => request(method, path, { body, contentType, query }),
};

/** The text to show for an error: our translation of its code, else the server's message. */
export function errorMessage(err) {
  if (err && err.code && has(`errors.${err.code}`)) return t(`errors.${err.code}`);
  if (err && err.serverMessage) return err.serverMessage;
  if (err && err.status) return t('errors.http', { status: err.status });
  return t('errors.generic');
}
