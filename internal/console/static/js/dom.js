// Small helpers to build the DOM without innerHTML: text is always set as
// text, so nothing the API returns is ever parsed as markup.

// h makes an element: h("a", {href: "#/x", class: "c"}, "text", child).
// Attributes starting with "on" are event listeners.
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, v);
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.append(c instanceof Node ? c : String(c));
  }
}

// table makes a table with a caption, header cells and rows of cells.
export function table(caption, heads, rows) {
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, heads.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

// json shows a JSON value (or a JSON text) indented in a pre.
export function json(v) {
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return h("pre", { class: "json" }, v);
    }
  }
  return h("pre", { class: "json", tabindex: "0" }, JSON.stringify(v, null, 2));
}

export function status(s) {
  return h("span", { class: "status status-" + String(s).toLowerCase() }, s);
}

export function when(t) {
  if (!t) return "";
  const d = new Date(t);
  return h("time", { datetime: t, title: t }, d.toLocaleString());
}

export function duration(ms) {
  if (ms === undefined || ms === null) return "";
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
}

// problem shows an API error in place of a screen's content.
export function problem(err) {
  const p = err.problem || {};
  const fields = (p.errors || []).map((f) => h("li", {}, (f.pointer || f.location || "") + ": " + f.detail));
  return h("div", { class: "problem", role: "alert" },
    h("strong", {}, err.status ? `${err.status} ${p.title || ""}` : "Error"), " ", err.message,
    fields.length ? h("ul", {}, fields) : null);
}
