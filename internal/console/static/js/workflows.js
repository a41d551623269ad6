// Workflows: the list; one workflow with its versions, the graph of the
// version shown, its definition, and a form to start an execution.

import { get, post } from "./api.js";
import { h, table, when, problem } from "./dom.js";
import { renderGraph } from "./graph.js";
import { section, fill } from "./screen.js";

export function workflowsScreen() {
  const s = section("Workflows");
  fill(s.body, async () => {
    const page = await get("/v1/workflows?limit=100");
    if (!page.items.length) return h("p", {}, "No workflow is published yet: POST one to /v1/workflows (see the README).");
    return table("Published workflows", ["Name", "Latest version", "Updated", ""],
      page.items.map((w) => [
        h("a", { href: "#/workflows/" + encodeURIComponent(w.name) }, w.name),
        "v" + w.latest_version, when(w.updated_at),
        h("a", { href: "#/executions?workflow=" + encodeURIComponent(w.name) }, "Executions"),
      ]));
  });
  return { node: s.node };
}

export function workflowScreen(name, version) {
  const s = section(name);
  fill(s.body, async () => {
    const wf = await get("/v1/workflows/" + encodeURIComponent(name));
    const v = version || wf.latest_version;
    const ver = await get(`/v1/workflows/${encodeURIComponent(name)}/versions/${v}`);
    const versions = [];
    for (let i = wf.latest_version; i >= 1; i--) {
      versions.push(h("li", {}, h("a", { href: `#/workflows/${encodeURIComponent(name)}/versions/${i}`, "aria-current": i === v ? "page" : false }, "v" + i)));
    }
    let graph = h("p", {}, "The state machine could not be read.");
    try {
      graph = renderGraph(JSON.parse(ver.asl)).svg;
    } catch {
      // The definition's text is shown below all the same.
    }
    return [
      h("p", { class: "meta" }, `Version ${v} of ${wf.latest_version}, published `, when(ver.created_at), ver.created_by ? " by " + ver.created_by : "",
        " \u00b7 checksum ", h("code", {}, ver.checksum.slice(0, 12))),
      h("nav", { "aria-label": "Versions", class: "versions" }, h("span", {}, "Versions: "), h("ul", {}, versions)),
      h("div", { class: "columns" },
        h("div", { class: "graph-box", "aria-label": "Graph" }, graph),
        h("div", {}, startForm(name), h("details", {}, h("summary", {}, "Definition"), h("pre", { class: "json", tabindex: "0" }, ver.definition)),
          h("details", {}, h("summary", {}, "Compiled state machine (ASL)"), h("pre", { class: "json", tabindex: "0" }, ver.asl)))),
    ];
  });
  return { node: s.node };
}

// startForm starts an execution of the workflow's latest version with the
// input typed, then shows it.
function startForm(name) {
  const input = h("textarea", { id: "start-input", rows: 6, spellcheck: "false" }, "{}");
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Start execution");
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    let body;
    try {
      body = { input: JSON.parse(input.value || "{}") };
    } catch (e) {
      out.replaceChildren(h("p", { class: "problem", role: "alert" }, "The input is not JSON: " + e.message));
      return;
    }
    button.disabled = true;
    try {
      const started = await post(`/v1/workflows/${encodeURIComponent(name)}/executions`, body);
      location.hash = "#/executions/" + started.id;
    } catch (err) {
      out.replaceChildren(problem(err));
    } finally {
      button.disabled = false;
    }
  } },
  h("h2", {}, "Start"),
  h("label", { for: "start-input" }, "Input (JSON)"), input, button, out);
  return form;
}
