// Draws an Amazon States Language state machine as an SVG graph: states
// in layers from top to bottom (longest path from StartAt), Choice
// branches and Catch edges labelled, loops drawn back up the right side,
// Parallel branches side by side and a Map's item processor inside their
// state's box. Each state is a focusable button.

const NS = "http://www.w3.org/2000/svg";
const W = 180, H = 42, GX = 28, GY = 46, PAD = 14, HEAD = 40;
let graphs = 0;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// successors lists the states a state may go to, with a label.
function successors(s) {
  const out = [];
  if (s.Type === "Choice") {
    for (const c of s.Choices || []) out.push({ to: c.Next, label: rule(c), kind: "choice" });
    if (s.Default) out.push({ to: s.Default, label: "default", kind: "choice" });
  }
  if (s.Next) out.push({ to: s.Next, label: "", kind: "next" });
  for (const c of s.Catch || []) out.push({ to: c.Next, label: "catch " + (c.ErrorEquals || []).join(", "), kind: "catch" });
  return out;
}

const ops = {
  Equals: "==", LessThan: "<", GreaterThan: ">", LessThanEquals: "<=", GreaterThanEquals: ">=", Matches: "~",
};

// rule writes a Choice rule short: $.x == "a", and(...), not(...).
export function rule(c) {
  if (c.Condition) return c.Condition;
  if (c.And) return "and(" + c.And.map(rule).join(", ") + ")";
  if (c.Or) return "or(" + c.Or.map(rule).join(", ") + ")";
  if (c.Not) return "not(" + rule(c.Not) + ")";
  for (const [k, v] of Object.entries(c)) {
    if (k === "Variable" || k === "Next") continue;
    const m = k.match(/^(String|Numeric|Boolean|Timestamp)?(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals|Matches)(Path)?$/);
    if (m) return c.Variable + " " + ops[m[2]] + " " + (m[3] ? v : JSON.stringify(v));
    if (k.startsWith("Is")) return k.replace(/^Is/, "is ").toLowerCase() + (v ? "" : " = false") + " " + c.Variable;
  }
  return "rule";
}

function inner(s) {
  if (s.Type === "Parallel") return s.Branches || [];
  if (s.Type === "Map") {
    const p = s.ItemProcessor || s.Iterator;
    return p ? [p] : [];
  }
  return [];
}

// layout places a machine's states; it returns its size, the states'
// boxes (with their nested layouts) and its edges.
function layout(machine) {
  const states = machine.States || {};
  const names = Object.keys(states);
  // Depth-first from StartAt: an edge to a state on the path is a loop.
  const color = {}, post = [], back = new Set();
  const visit = (n) => {
    color[n] = 1;
    for (const e of successors(states[n])) {
      if (!states[e.to]) continue;
      if (color[e.to] === 1) back.add(n + "\u0000" + e.to);
      else if (!color[e.to]) visit(e.to);
    }
    color[n] = 2;
    post.push(n);
  };
  if (states[machine.StartAt]) visit(machine.StartAt);
  for (const n of names) if (!color[n]) visit(n);
  const order = post.reverse();
  const layer = {};
  for (const n of order) layer[n] ??= 0;
  for (const n of order) {
    for (const e of successors(states[n])) {
      if (!states[e.to] || back.has(n + "\u0000" + e.to)) continue;
      layer[e.to] = Math.max(layer[e.to] ?? 0, layer[n] + 1);
    }
  }
  const boxes = {};
  for (const n of order) {
    const subs = inner(states[n]).map(layout);
    let w = W, h = H;
    if (subs.length) {
      w = Math.max(W, subs.reduce((a, s) => a + s.w, 0) + GX * (subs.length - 1) + 2 * PAD);
      h = HEAD + Math.max(...subs.map((s) => s.h)) + PAD;
    }
    boxes[n] = { name: n, state: states[n], w, h, subs, layer: layer[n] };
  }
  const rows = [];
  for (const n of order) (rows[layer[n]] ??= []).push(boxes[n]);
  const rowW = rows.map((r) => (r ? r.reduce((a, b) => a + b.w, 0) + GX * (r.length - 1) : 0));
  const width = Math.max(W, ...rowW);
  let y = 0;
  rows.forEach((r, i) => {
    if (!r) return;
    let x = (width - rowW[i]) / 2;
    const rh = Math.max(...r.map((b) => b.h));
    for (const b of r) {
      b.x = x;
      b.y = y;
      x += b.w + GX;
    }
    y += rh + GY;
  });
  const edges = [];
  for (const n of order) {
    for (const e of successors(states[n])) {
      if (boxes[e.to]) edges.push({ from: boxes[n], to: boxes[e.to], label: e.label, kind: e.kind, back: back.has(n + "\u0000" + e.to) });
    }
  }
  const loops = edges.some((e) => e.back) ? 40 : 0;
  return { w: width + loops, h: Math.max(H, y - GY), boxes: order.map((n) => boxes[n]), edges, start: boxes[machine.StartAt] };
}

function short(text, n) {
  return text.length > n ? text.slice(0, n - 1) + "\u2026" : text;
}

// draw renders a layout at (ox, oy) into g, registering each state's
// node in nodes.
function draw(lay, g, ox, oy, ctx) {
  const right = ox + lay.w - 8;
  for (const e of lay.edges) {
    const f = e.from, t = e.to;
    let d, lx, ly;
    if (e.back) {
      const sy = oy + f.y + f.h / 2, ty = oy + t.y + t.h / 2;
      d = `M${ox + f.x + f.w} ${sy} C${right} ${sy}, ${right} ${ty}, ${ox + t.x + t.w} ${ty}`;
      lx = right - 4;
      ly = (sy + ty) / 2;
    } else {
      const sx = ox + f.x + f.w / 2, sy = oy + f.y + f.h, tx = ox + t.x + t.w / 2, ty = oy + t.y;
      d = `M${sx} ${sy} C${sx} ${sy + GY / 2}, ${tx} ${ty - GY / 2}, ${tx} ${ty}`;
      lx = (sx + tx) / 2;
      ly = (sy + ty) / 2;
    }
    el("path", { d, class: "edge edge-" + e.kind, "marker-end": `url(#${ctx.arrow})` }, g);
    if (e.label) {
      const text = el("text", { x: lx + 4, y: ly + 4, class: "edge-label" }, g);
      text.textContent = short(e.label, 36);
      el("title", {}, text).textContent = e.label;
    }
  }
  for (const b of lay.boxes) {
    const x = ox + b.x, y = oy + b.y;
    const node = el("g", { class: "node type-" + b.state.Type.toLowerCase(), tabindex: "0", role: "button", "data-state": b.name,
      "aria-label": `${b.name}, ${b.state.Type} state` }, g);
    el("title", {}, node).textContent = `${b.name} (${b.state.Type})` + (b.state.Comment ? "\n" + b.state.Comment : "");
    el("rect", { x, y, width: b.w, height: b.h, rx: 6, class: "box" }, node);
    const name = el("text", { x: x + 10, y: y + 17, class: "name" }, node);
    name.textContent = short(b.name, Math.floor((b.w - 24) / 8));
    const type = el("text", { x: x + 10, y: y + 32, class: "type" }, node);
    const kind = b.state.Parameters?.MessageBody?.step?.kind; // aiflow's step kind: ai, mcp, service, approval
    type.textContent = b.state.Type + (kind ? " \u00b7 " + kind : "") + (b.state.Retry ? " \u00b7 retries" : "");
    const badge = el("text", { x: x + b.w - 8, y: y + 17, class: "badge", "text-anchor": "end" }, node);
    ctx.nodes[b.name] = { node, badge };
    node.addEventListener("click", (ev) => {
      ev.stopPropagation();
      ctx.onSelect?.(b.name);
    });
    node.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        ev.stopPropagation();
        ctx.onSelect?.(b.name);
      }
    });
    let sx = x + PAD;
    for (const s of b.subs) {
      draw(s, g, sx, y + HEAD, ctx);
      sx += s.w + GX;
    }
  }
}

// renderGraph returns an SVG of the ASL definition def (an object) and a
// function that sets a state's status (a CSS class: running, succeeded,
// failed, retrying, caught) and badge text.
export function renderGraph(def, onSelect) {
  const lay = layout(def);
  const m = 12;
  const svg = el("svg", { class: "graph", width: lay.w + 2 * m, height: lay.h + 2 * m, viewBox: `0 0 ${lay.w + 2 * m} ${lay.h + 2 * m}`, role: "group", "aria-label": "The state machine" });
  const ctx = { nodes: {}, onSelect, arrow: "arrow" + ++graphs };
  const marker = el("marker", { id: ctx.arrow, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, el("defs", {}, svg));
  el("path", { d: "M0 0 L10 5 L0 10 z", class: "arrow" }, marker);
  draw(lay, el("g", {}, svg), m, m, ctx);
  const setStatus = (name, status, badge) => {
    const n = ctx.nodes[name];
    if (!n) return;
    n.node.classList.remove("running", "succeeded", "failed", "retrying", "caught");
    if (status) n.node.classList.add(status);
    n.node.setAttribute("data-status", status || "");
    n.badge.textContent = badge || "";
  };
  const select = (name) => {
    for (const [k, n] of Object.entries(ctx.nodes)) n.node.classList.toggle("selected", k === name);
  };
  return { svg, setStatus, select, has: (name) => name in ctx.nodes };
}
