// What every screen shares: a section with a heading, filled when its
// data has come, or showing the API's problem.

import { h, problem } from "./dom.js";

// section makes a screen's root: a heading and a body to fill.
export function section(title, ...intro) {
  const body = h("div", { class: "body" }, h("p", { class: "loading" }, "Loading\u2026"));
  const node = h("section", { "aria-labelledby": "screen-title" }, h("h1", { id: "screen-title" }, title), ...intro, body);
  return { node, body };
}

// fill runs load and shows what it returns in body, or the error.
export async function fill(body, load) {
  try {
    const content = await load();
    body.replaceChildren(...[].concat(content));
  } catch (err) {
    body.replaceChildren(problem(err), err.status === 401 ? h("p", {}, "The API refused the token; sign out and sign in with another.") : "");
  }
}
