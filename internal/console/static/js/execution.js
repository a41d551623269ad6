// One execution: its graph coloured live from the history stream (the
// API's server-sent events), each state's input, output, error and
// attempts, the model's tokens as they stream, the event timeline, tokens
// and cost, and its trace.

import { get, post, stream, settings } from "./api.js";
import { h, json, status, when, duration, problem } from "./dom.js";
import { renderGraph } from "./graph.js";

const closing = { ExecutionSucceeded: "SUCCEEDED", ExecutionFailed: "FAILED", ExecutionTimedOut: "TIMED_OUT", ExecutionAborted: "ABORTED" };

// history folds history events into the states' runs.
function history() {
  const states = new Map(); // name -> run, in the order first entered
  const of = {}; // event id -> state name
  const run = (name) => {
    if (!states.has(name)) states.set(name, { name, status: "", entered: 0, attempts: 0, failures: 0, lastFailed: false, input: null, output: null, error: "", cause: "" });
    return states.get(name);
  };
  const apply = (ev) => {
    let name = null;
    const entered = ev.stateEnteredEventDetails, exited = ev.stateExitedEventDetails;
    if (entered) {
      name = entered.name;
      const r = run(name);
      r.entered++;
      r.status = "running";
      r.input = entered.input;
      r.lastFailed = false;
    } else if (exited) {
      name = exited.name;
      const r = run(name);
      r.status = r.lastFailed ? "caught" : "succeeded";
      r.output = exited.output;
    } else if (!ev.type.startsWith("Execution")) {
      name = of[ev.previousEventId] || null;
    }
    of[ev.id] = name;
    const r = name ? run(name) : null;
    const fail = ev.taskFailedEventDetails || ev.taskTimedOutEventDetails;
    if (r && ev.type === "TaskScheduled") {
      r.attempts++;
      r.lastFailed = false;
    }
    if (r && fail) {
      r.failures++;
      r.lastFailed = true;
      r.error = fail.error || ev.type;
      r.cause = fail.cause || "";
    }
    if (closing[ev.type] && closing[ev.type] !== "SUCCEEDED") {
      const d = ev.executionFailedEventDetails || ev.executionTimedOutEventDetails || ev.executionAbortedEventDetails || {};
      for (const s of states.values()) {
        if (s.status === "running") {
          s.status = "failed";
          s.error ||= d.error || "";
          s.cause ||= d.cause || "";
        }
      }
    }
    return name;
  };
  return { states, apply };
}

// look is a state run's class and badge on the graph.
function look(r) {
  let cls = r.status, badge = "";
  if (r.status === "running" && r.attempts > 1) {
    cls = "retrying";
    badge = "retry " + (r.attempts - 1);
  } else if (r.failures > 0) {
    badge = r.failures + (r.failures === 1 ? " failure" : " failures");
  }
  if (r.entered > 1) badge = (badge ? badge + " \u00b7 " : "") + "\u00d7" + r.entered;
  return [cls, badge];
}

export function executionScreen(id) {
  const ctl = new AbortController();
  const head = h("div", { class: "exec-head" }, h("p", { class: "loading" }, "Loading\u2026"));
  const graphBox = h("div", { class: "graph-box", "aria-label": "Graph" });
  const detail = h("div", { class: "card", id: "state-detail", "aria-live": "polite" }, h("p", {}, "Choose a state in the graph or the list to see its input, output and error."));
  const stepList = h("ul", { class: "steps" });
  const tokensBox = h("div", { class: "tokens" });
  const timeline = h("tbody", {});
  const node = h("section", { "aria-labelledby": "screen-title" },
    h("h1", { id: "screen-title" }, "Execution"), head,
    h("div", { class: "columns" }, graphBox,
      h("div", {}, h("h2", {}, "States"), stepList, detail, h("h2", {}, "Model output"), tokensBox)),
    h("details", { open: true, class: "timeline" }, h("summary", {}, h("h2", {}, "Event timeline")),
      h("table", {}, h("caption", {}, "The execution's history, oldest first"),
        h("thead", {}, h("tr", {}, ["#", "Time", "Event", "State", "Detail"].map((c) => h("th", { scope: "col" }, c)))), timeline)));

  const hist = history();
  let graph = null, selected = "", exec = null, later = 0;
  const tokenText = {}; // step -> pre

  const showDetail = () => {
    const r = hist.states.get(selected);
    graph?.select(selected);
    for (const b of stepList.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.state === selected));
    if (!r) {
      detail.replaceChildren(h("h2", {}, selected), h("p", {}, "This state has not run."));
      return;
    }
    detail.replaceChildren(
      h("h2", {}, r.name, " ", status(r.status || "pending")),
      h("p", { class: "meta" }, `entered ${r.entered} time${r.entered === 1 ? "" : "s"}`, r.attempts ? `, ${r.attempts} task attempt${r.attempts === 1 ? "" : "s"}` : "", r.failures ? `, ${r.failures} failed` : ""),
      r.error ? h("div", { class: "problem" }, h("strong", {}, r.error), r.cause ? h("pre", { class: "json" }, r.cause) : "") : "",
      h("h3", {}, "Input"), r.input !== null ? json(r.input) : h("p", {}, "\u2014"),
      h("h3", {}, "Output"), r.output !== null ? json(r.output) : h("p", {}, "\u2014"));
  };
  const select = (name) => {
    selected = name;
    showDetail();
  };
  const paint = (name) => {
    const r = hist.states.get(name);
    if (!r) return;
    const [cls, badge] = look(r);
    graph?.setStatus(name, cls, badge);
    let b = stepList.querySelector(`button[data-state="${CSS.escape(name)}"]`);
    if (!b) {
      b = h("button", { type: "button", class: "step", "data-state": name, "aria-pressed": "false", onclick: () => select(name) });
      stepList.append(h("li", {}, b));
    }
    b.replaceChildren(name, " ", status(cls || "pending"), badge ? h("span", { class: "badge-text" }, badge) : "");
    if (name === selected) showDetail();
  };
  const event = (ev) => {
    const name = hist.apply(ev);
    const f = ev.taskFailedEventDetails || ev.taskTimedOutEventDetails || ev.executionFailedEventDetails || ev.executionTimedOutEventDetails || ev.executionAbortedEventDetails;
    timeline.append(h("tr", { class: f ? "failed" : "" }, h("td", {}, ev.id), h("td", {}, when(ev.timestamp)), h("td", {}, ev.type), h("td", {}, name || ""),
      h("td", {}, f ? [f.error || "", f.cause ? ": " + f.cause.slice(0, 160) : ""] : "")));
    if (name) paint(name);
    // The summary (current step, tokens, cost) is read again after a
    // burst of events, and at once when the execution closes.
    clearTimeout(later);
    if (closing[ev.type]) refresh();
    else later = setTimeout(refresh, 700);
  };
  const token = (t) => {
    let pre = tokenText[t.step];
    if (!pre) {
      pre = tokenText[t.step] = h("pre", { class: "stream", tabindex: "0" });
      tokensBox.append(h("h3", {}, t.step), pre);
    }
    pre.textContent += t.text;
  };

  const refresh = async () => {
    try {
      exec = await get("/v1/executions/" + id);
    } catch (err) {
      head.replaceChildren(problem(err));
      return null;
    }
    if (!node.isConnected) return null; // the user left this screen
    head.replaceChildren(...summary(exec, id, refresh));
    node.querySelector("h1").textContent = exec.name;
    return exec;
  };

  (async () => {
    const e = await refresh();
    if (!e) return;
    try {
      const wf = await get("/v1/workflows/" + encodeURIComponent(e.workflow));
      const n = e.workflow_version || wf.latest_version;
      const ver = await get(`/v1/workflows/${encodeURIComponent(e.workflow)}/versions/${n}`);
      graph = renderGraph(JSON.parse(ver.asl), select);
      const which = e.workflow_version ? `version ${n}, the one it runs` : `version ${n}, the latest`;
      graphBox.replaceChildren(h("p", { class: "meta" }, `Drawn from ${which}.`), graph.svg);
      for (const name of hist.states.keys()) paint(name);
    } catch (err) {
      graphBox.replaceChildren(problem(err));
    }
    try {
      await stream(`/v1/executions/${id}/stream`, (ev) => {
        if (ev.event === "history") event(ev.data);
        else if (ev.event === "token") token(ev.data);
      }, ctl.signal);
    } catch (err) {
      graphBox.append(problem(err));
    }
  })();
  return { node, stop: () => {
    ctl.abort();
    clearTimeout(later);
  } };
}

// summary is the execution's status, timings, usage, trace, and what can
// be done with it.
function summary(e, id, refresh) {
  const u = e.usage;
  const facts = [
    ["Status", status(e.status)],
    ["Workflow", h("a", { href: "#/workflows/" + encodeURIComponent(e.workflow) }, e.workflow)],
    ["Started", when(e.started_at)],
    ["Duration", e.duration_ms !== undefined ? duration(e.duration_ms) : "running"],
    ["Current step", e.current_step || "\u2014"],
    ["Tokens", u ? `${u.input_tokens} in, ${u.output_tokens} out (${u.model_calls} model call${u.model_calls === 1 ? "" : "s"})` : "\u2014"],
    ["Cost", u ? "$" + u.cost_usd.toFixed(6) : "\u2014"],
    ["Trace", traceLink(e.trace_id)],
  ];
  const parts = [h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))];
  if (e.error) parts.push(h("div", { class: "problem", role: "alert" }, h("strong", {}, e.error), e.cause ? h("pre", { class: "json" }, e.cause) : ""));
  const actions = h("div", { class: "actions" }, h("a", { href: "#/approvals?execution=" + id }, "Approvals of this execution"));
  if (e.status === "RUNNING") {
    actions.append(h("button", { type: "button", class: "danger", onclick: async (ev) => {
      if (!confirm("Stop this execution?")) return;
      ev.target.disabled = true;
      try {
        await post(`/v1/executions/${id}/stop`, {});
      } catch (err) {
        actions.append(problem(err));
      }
      refresh();
    } }, "Stop execution"));
  }
  parts.push(actions);
  if (e.output !== undefined) parts.push(h("details", {}, h("summary", {}, "Execution output"), json(e.output)));
  parts.push(h("details", {}, h("summary", {}, "Execution input"), json(e.input ?? {})));
  return parts;
}

function traceLink(traceID) {
  if (!traceID) return h("span", { class: "meta" }, "none (tracing was off when it started)");
  if (!settings.trace_url) return h("code", {}, traceID);
  return h("a", { href: settings.trace_url.replace("{trace_id}", traceID), target: "_blank", rel: "noopener noreferrer" }, traceID);
}
