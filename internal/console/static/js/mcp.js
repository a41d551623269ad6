// The MCP servers the step workers call, their endpoints and tools.

import { get } from "./api.js";
import { h, table } from "./dom.js";
import { section, fill } from "./screen.js";

export function mcpScreen() {
  const s = section("MCP servers");
  fill(s.body, async () => {
    let page;
    try {
      page = await get("/v1/mcp/servers");
    } catch (err) {
      if (err.status === 501) return h("p", {}, "This API runs no MCP client pool (on AWS the step workers keep theirs); aiflow dev lists its servers here.");
      throw err;
    }
    if (!page.items.length) return h("p", {}, "No MCP server is configured.");
    return page.items.map((srv) => h("article", { class: "card" },
      h("h2", {}, srv.name),
      srv.error ? h("p", { class: "problem" }, srv.error) : "",
      table("Endpoints of " + srv.name, ["Endpoint", "Connected", "Healthy", "Circuit", "Protocol"],
        srv.endpoints.map((e) => [h("code", {}, e.endpoint), yes(e.connected), yes(e.healthy), e.breaker, e.protocol_version || ""])),
      table("Tools of " + srv.name, ["Tool", "Description", "Status", "Read-only", "Idempotent"],
        srv.tools.map((t) => [h("code", {}, t.name), t.title || t.description || "", h("span", { class: "status status-" + t.status }, t.status), yes(t.read_only), yes(t.idempotent)]))));
  });
  return { node: s.node };
}

function yes(b) {
  return b ? "yes" : "no";
}
