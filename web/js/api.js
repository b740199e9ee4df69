// api.js - the only place that talks to kvfleetd's REST API (/api/v1).

const BASE = 'api/v1'; // relative, so the page also works behind a path prefix
const TOKEN_KEY = 'kvfleet.apiToken';

/* An API failure with the server's {"error":{"code","message"}} when it sent
 * one; status 0 means the controller could not be reached at all. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
  /* "409 conflict: node name 'a' is registered at ..." */
  describe() {
    return this.status ? `${this.status} ${this.code}: ${this.message}` : this.message;
  }
}

// The token lives only for this tab (sessionStorage), never in localStorage.
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (v) => (v ? sessionStorage.setItem(TOKEN_KEY, v) : sessionStorage.removeItem(TOKEN_KEY)),
};

export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // GETs revalidate every time: the browser sends If-None-Match with the
      // cached ETag and a 304 reuses the cached body. Mutations never cache.
      cache: method === 'GET' ? 'no-cache' : 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach kvfleetd (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text for the message below */
  }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, (e && e.code) || `http_${res.status}`,
      (e && e.message) || text.slice(0, 200) || res.statusText, data);
  }
  return { status: res.status, data };
}

export const get = async (path) => (await request('GET', path)).data;
export const enc = encodeURIComponent;
