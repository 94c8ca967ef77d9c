// Fetch wrapper for /api/v1: JSON in and out, same-origin cookies, the
// X-CSRF-Token header on every change, and ApiError objects that carry the
// server's {code, message, details}.

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

/**
 * request('POST', '/lists', {json: {...}}) or {body, contentType} for raw
 * bodies; {query} adds URL parameters. Resolves with the parsed JSON (or
 * null), rejects with ApiError.
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

  let res;
  try {
    res = await fetch(apiUrl(path, opts.query), {
      method, headers, body, credentials: 'same-origin', cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', e && e.message);
  }
  const data = await parseBody(res);
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
