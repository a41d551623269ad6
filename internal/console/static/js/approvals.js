// The approvals inbox: pending approvals (or those of another status, or
// of one execution), each approved or rejected with a comment.

import { get, post } from "./api.js";
import { h, when, status, problem } from "./dom.js";
import { section, fill } from "./screen.js";

const statuses = ["pending", "deciding", "approved", "rejected", "expired"];

export function approvalsScreen(params) {
  const st = params.get("status") || "pending", execution = params.get("execution") || "";
  const s = section("Approvals", execution ? h("p", {}, "Of one execution. ", h("a", { href: "#/executions/" + execution }, "Back to it"), " \u00b7 ", h("a", { href: "#/approvals" }, "All approvals")) : "");
  const sel = h("select", { id: "a-status" }, statuses.map((v) => h("option", { value: v, selected: v === st }, v)));
  const form = h("form", { class: "filters", onsubmit: (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams({ status: sel.value });
    if (execution) p.set("execution", execution);
    location.hash = "#/approvals?" + p;
  } }, h("label", { for: "a-status" }, "Status"), sel, h("button", { type: "submit" }, "Show"));
  s.node.insertBefore(form, s.body);
  const load = () => fill(s.body, async () => {
    const p = new URLSearchParams({ status: st, limit: "100" });
    if (execution) p.set("execution", execution);
    const page = await get("/v1/approvals?" + p);
    if (!page.items.length) return h("p", {}, `No ${st} approval.`);
    return h("ul", { class: "inbox" }, page.items.map((a) => h("li", {}, card(a, load))));
  });
  load();
  return { node: s.node };
}

// card is one approval: what it asks, and its decision or a form to make
// one.
function card(a, reload) {
  const id = "c-" + a.id;
  const comment = h("textarea", { id, rows: 2, maxlength: 4096 });
  const out = h("div", { "aria-live": "polite" });
  const decide = (approve) => async (ev) => {
    ev.preventDefault();
    for (const b of ev.target.form.querySelectorAll("button")) b.disabled = true;
    try {
      await post("/v1/approvals/" + encodeURIComponent(a.id), { approve, comment: comment.value });
      reload();
    } catch (err) {
      out.replaceChildren(problem(err));
      for (const b of ev.target.form.querySelectorAll("button")) b.disabled = false;
    }
  };
  const body = [
    h("h2", {}, a.message || "Approval of step " + a.step),
    h("p", { class: "meta" }, status(a.status), " \u00b7 step ", h("code", {}, a.step), " of ",
      h("a", { href: "#/executions/" + a.execution }, a.workflow + " execution"), " \u00b7 asked ", when(a.created_at),
      a.approvers.length ? " \u00b7 approvers: " + a.approvers.join(", ") : ""),
  ];
  if (a.status === "pending") {
    body.push(h("form", { class: "decide", onsubmit: (ev) => ev.preventDefault() },
      h("label", { for: id }, "Comment"), comment,
      h("div", { class: "actions" },
        h("button", { type: "submit", onclick: decide(true), "data-decision": "approve" }, "Approve"),
        h("button", { type: "button", class: "danger", onclick: decide(false), "data-decision": "reject" }, "Reject")),
      out));
  } else if (a.decided_by) {
    body.push(h("p", {}, `Decided by ${a.decided_by} `, when(a.decided_at), a.comment ? ": \u201c" + a.comment + "\u201d" : ""));
  }
  return h("article", { class: "card", "data-approval": a.id }, body);
}
