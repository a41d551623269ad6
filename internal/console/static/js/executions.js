// Executions: newest first, narrowed by status and workflow (the API's
// filters) and by a search over the executions loaded (name, id,
// workflow, current step, error).

import { get } from "./api.js";
import { h, table, when, status, duration } from "./dom.js";
import { section, fill } from "./screen.js";

const statuses = ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

export function executionsScreen(params) {
  const s = section("Executions");
  const st = params.get("status") || "", wf = params.get("workflow") || "", q = params.get("q") || "";
  const statusSel = h("select", { id: "f-status", name: "status" }, statuses.map((v) => h("option", { value: v, selected: v === st }, v || "any")));
  const wfSel = h("select", { id: "f-workflow", name: "workflow" }, h("option", { value: "" }, "any"));
  const search = h("input", { id: "f-q", name: "q", type: "search", value: q, placeholder: "name, id, step or error" });
  const form = h("form", { class: "filters", role: "search", onsubmit: (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (statusSel.value) p.set("status", statusSel.value);
    if (wfSel.value) p.set("workflow", wfSel.value);
    if (search.value.trim()) p.set("q", search.value.trim());
    location.hash = "#/executions" + (p.toString() ? "?" + p : "");
  } },
  h("label", { for: "f-status" }, "Status"), statusSel,
  h("label", { for: "f-workflow" }, "Workflow"), wfSel,
  h("label", { for: "f-q" }, "Search"), search,
  h("button", { type: "submit" }, "Apply"));
  s.node.insertBefore(form, s.body);
  get("/v1/workflows?limit=100").then((page) => {
    for (const w of page.items) wfSel.append(h("option", { value: w.name, selected: w.name === wf }, w.name));
  }, () => {});

  const items = [];
  let cursor = "";
  const rows = h("div", {});
  const more = h("button", { type: "button", class: "quiet", onclick: () => load() }, "Load more");
  const load = () => fill(rows, async () => {
    const p = new URLSearchParams({ limit: "50" });
    if (st) p.set("status", st);
    if (wf) p.set("workflow", wf);
    if (cursor) p.set("cursor", cursor);
    const page = await get("/v1/executions?" + p);
    items.push(...page.items);
    cursor = page.next_cursor || "";
    const needle = q.toLowerCase();
    const shown = items.filter((e) => !needle || [e.name, e.id, e.workflow, e.current_step, e.error, e.cause]
      .some((f) => f && String(f).toLowerCase().includes(needle)));
    const list = shown.length
      ? table(`${shown.length} execution${shown.length === 1 ? "" : "s"}` + (q ? ` matching \u201c${q}\u201d` : ""),
        ["Execution", "Workflow", "Status", "Started", "Duration"],
        shown.map((e) => [h("a", { href: "#/executions/" + e.id }, e.name), e.workflow, status(e.status), when(e.started_at), duration(e.duration_ms)]))
      : h("p", {}, "No execution matches.");
    return [list, cursor ? more : ""];
  });
  s.body.replaceChildren(rows);
  load();
  return { node: s.node };
}
