// The console's entry: the session (bearer token), the router (the URL's
// fragment names the screen: #/workflows, #/executions/ID, ...) and the
// layout around the screens.

import { token, setToken, takeTokenFromHash, get, settings } from "./api.js";
import { h } from "./dom.js";
import { workflowsScreen, workflowScreen } from "./workflows.js";
import { executionsScreen } from "./executions.js";
import { executionScreen } from "./execution.js";
import { approvalsScreen } from "./approvals.js";
import { mcpScreen } from "./mcp.js";
import { servicesScreen } from "./services.js";

const routes = [
  [/^#\/workflows\/([^/]+)(?:\/versions\/(\d+))?$/, (m) => workflowScreen(decodeURIComponent(m[1]), m[2] ? Number(m[2]) : 0)],
  [/^#\/workflows$/, () => workflowsScreen()],
  [/^#\/executions\/([A-Za-z0-9_-]+)$/, (m) => executionScreen(m[1])],
  [/^#\/executions(?:\?(.*))?$/, (m) => executionsScreen(new URLSearchParams(m[1] || ""))],
  [/^#\/approvals(?:\?(.*))?$/, (m) => approvalsScreen(new URLSearchParams(m[1] || ""))],
  [/^#\/mcp$/, () => mcpScreen()],
  [/^#\/services$/, () => servicesScreen()],
];

let current = null; // the shown screen's {node, stop}

function signIn(main) {
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const form = h("form", { class: "card signin", onsubmit: (ev) => {
    ev.preventDefault();
    setToken(input.value);
    render();
  } },
  h("h1", {}, "Sign in"),
  h("p", {}, "The console calls aiflow's API with a bearer token, as curl does. Paste one: ",
    h("code", {}, "aiflow dev"), " writes its development token to ", h("code", {}, ".aiflow/dev-token"),
    ". The token stays in this tab (sessionStorage) until you sign out or close it."),
  h("label", { for: "token" }, "Bearer token"), input,
  h("button", { type: "submit" }, "Sign in"));
  main.replaceChildren(form);
  input.focus();
}

function session() {
  const box = document.getElementById("session");
  if (!token()) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(h("span", { class: "who" }, who(token())), h("button", { type: "button", class: "quiet", onclick: () => {
    setToken("");
    render();
  } }, "Sign out"));
}

// who names the token's subject and roles, read from the JWT's payload
// for display only: the API checks the token, not the console.
function who(t) {
  try {
    const part = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part));
    const roles = Array.isArray(claims.roles) ? " (" + claims.roles.join(", ") + ")" : "";
    return claims.sub ? claims.sub + roles : "";
  } catch {
    return "";
  }
}

export function notice(text) {
  document.getElementById("notice").textContent = text;
}

async function render() {
  if (current?.stop) current.stop();
  current = null;
  session();
  const main = document.getElementById("main");
  if (!token()) {
    signIn(main);
    return;
  }
  if (!location.hash || location.hash === "#") {
    location.replace("#/workflows");
    return;
  }
  for (const a of document.querySelectorAll("[data-nav]")) {
    const on = location.hash.startsWith("#/" + a.dataset.nav);
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  for (const [re, screen] of routes) {
    const m = location.hash.match(re);
    if (!m) continue;
    const shown = screen(m);
    current = shown;
    main.replaceChildren(shown.node);
    return;
  }
  main.replaceChildren(h("p", { class: "problem" }, "No screen is named " + location.hash + ". ", h("a", { href: "#/workflows" }, "Workflows")));
}

async function start() {
  takeTokenFromHash();
  try {
    Object.assign(settings, await get("config.json"));
  } catch {
    // The console works without its settings: trace ids show without links.
  }
  window.addEventListener("hashchange", () => {
    render();
    document.getElementById("main").focus({ preventScroll: true });
  });
  render();
}

start();
