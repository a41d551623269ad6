// The service registry: services by version, their instances and health.

import { get } from "./api.js";
import { h, table, when } from "./dom.js";
import { section, fill } from "./screen.js";

export function servicesScreen() {
  const s = section("Services");
  fill(s.body, async () => {
    let page;
    try {
      page = await get("/v1/services");
    } catch (err) {
      if (err.status === 501) return h("p", {}, "This API keeps no service registry.");
      throw err;
    }
    if (!page.items.length) return h("p", {}, "No service is registered.");
    return page.items.map((svc) => h("article", { class: "card" },
      h("h2", {}, `${svc.name} ${svc.version}`),
      svc.description ? h("p", {}, svc.description) : "",
      h("p", { class: "meta" }, "Capabilities: ", (svc.capabilities || []).join(", ") || "none",
        " \u00b7 operations: ", (svc.operations || []).map((o) => o.name).join(", ") || "none"),
      (svc.instances || []).length
        ? table("Instances of " + svc.name, ["Instance", "Endpoint", "Status", "Checks", "Last heartbeat"],
          svc.instances.map((i) => [h("code", {}, i.id), i.endpoint || i.function_arn || "", h("span", { class: "status status-" + i.status }, i.status),
            i.check_failures ? `${i.check_failures} failed in a row` : i.check_passes ? `${i.check_passes} passed in a row` : "", when(i.heartbeat_at)]))
        : h("p", {}, "No instance.")));
  });
  return { node: s.node };
}
