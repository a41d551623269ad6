// The console's only way out: aiflow's HTTP API on the console's own
// origin, with the bearer token the user gave, kept in sessionStorage
// (gone when the tab closes).

const tokenKey = "aiflow.token";

// settings are the console's own (config.json): trace_url, the trace
// viewer's address with {trace_id}.
export const settings = { trace_url: "" };

export function token() {
  return sessionStorage.getItem(tokenKey) || "";
}

export function setToken(t) {
  if (t) sessionStorage.setItem(tokenKey, t.trim());
  else sessionStorage.removeItem(tokenKey);
}

// takeTokenFromHash reads a token handed over in the URL fragment
// (#token=..., as aiflow dev prints it: a fragment never reaches a
// server), keeps it, and removes it from the address bar and history.
export function takeTokenFromHash() {
  const m = location.hash.match(/^#token=([^&]+)/);
  if (!m) return false;
  setToken(decodeURIComponent(m[1]));
  history.replaceState(null, "", location.pathname + location.search + "#/workflows");
  return true;
}

// APIError is a problem+json answer (RFC 9457), or a failure to reach
// the API.
export class APIError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || "HTTP " + status);
    this.status = status;
    this.problem = problem;
  }
}

function headers(extra) {
  const h = { Accept: "application/json", ...extra };
  const t = token();
  if (t) h.Authorization = "Bearer " + t;
  return h;
}

// call sends one request and returns the decoded JSON body.
export async function call(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new APIError(0, { detail: "the API could not be reached: " + e.message });
  }
  const text = await resp.text();
  let data = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.slice(0, 200) };
    }
  }
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

// stream follows a server-sent event stream (GET path) with the bearer
// token, which EventSource cannot send. onEvent gets {id, event, data}
// with data parsed. It reconnects with Last-Event-ID after a dropped
// connection, and resolves when the stream ends with an "end" event or
// signal aborts.
export async function stream(path, onEvent, signal) {
  let last = "";
  for (let attempt = 0; attempt < 20 && !signal.aborted; attempt++) {
    let ended = false;
    try {
      const h = headers({ Accept: "text/event-stream" });
      if (last) h["Last-Event-ID"] = last;
      const resp = await fetch(path, { headers: h, signal });
      if (!resp.ok) {
        const problem = await resp.json().catch(() => ({}));
        throw new APIError(resp.status, problem);
      }
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const ev = parseEvent(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
          if (!ev) continue;
          if (ev.id) last = ev.id;
          onEvent(ev);
          if (ev.event === "end") ended = true;
        }
      }
      if (ended) return;
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof APIError && e.status >= 400 && e.status < 500) throw e;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function parseEvent(block) {
  const ev = { id: "", event: "message", data: "" };
  for (const line of block.split("\n")) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const field = line.slice(0, i);
    const value = line.slice(i + 1).replace(/^ /, "");
    if (field === "data") ev.data += value;
    else if (field === "id" || field === "event") ev[field] = value;
  }
  if (!ev.data) return null;
  try {
    ev.data = JSON.parse(ev.data);
  } catch {
    return null;
  }
  return ev;
}
