/** The frontend module the integration serves: defines the fleet graph card, the Me card
 * and the `custom:makerhub` dashboard strategy. */

import { MakerhubBigScreen } from "./big-screen-card";
import { MakerhubFleetTable } from "./fleet-table";
import { MakerhubFleetGraph } from "./graph-card";
import { MakerhubMeCard } from "./me-card";
import { MakerhubOpsCard } from "./ops-card";
import { MakerhubProgressCard } from "./progress-card";
import { lovelacePanel, recoverFromTimeout } from "./recover";
import { buildDashboard, snapshotOf, type DashboardConfig, type StrategyConfig } from "./strategy";
import type { Hass } from "./types";

/** Home Assistant calls `generate` of the element `ll-strategy-dashboard-<type>`. */
class MakerhubDashboardStrategy extends HTMLElement {
  static async generate(config: StrategyConfig, hass: Hass): Promise<DashboardConfig> {
    // Marks for profiling (performance.getEntriesByName("makerhub:generate")).
    performance.mark("makerhub:generate-start");
    const snapshot = await snapshotOf(hass);
    performance.mark("makerhub:snapshot");
    const dashboard = buildDashboard(config, snapshot);
    performance.measure("makerhub:generate", "makerhub:generate-start");
    return dashboard;
  }
}

function define(name: string, element: CustomElementConstructor): void {
  if (!customElements.get(name)) customElements.define(name, element);
}

// The strategy first: Home Assistant gives up on a strategy whose element is not
// defined 5 s after a dashboard asks for it ("Timeout waiting for strategy element").
define("ll-strategy-dashboard-makerhub", MakerhubDashboardStrategy);
define("makerhub-fleet-graph", MakerhubFleetGraph);
define("makerhub-fleet-table", MakerhubFleetTable);
define("makerhub-me", MakerhubMeCard);
define("makerhub-big-screen", MakerhubBigScreen);
define("makerhub-ops", MakerhubOpsCard);
define("makerhub-progress", MakerhubProgressCard);
// A dashboard that gave up waiting for the strategy's element before this module ran.
void recoverFromTimeout(lovelacePanel(document)).catch(() => undefined);

interface CardInfo {
  type: string;
  name: string;
  description: string;
}
const cards = ((window as unknown as { customCards?: CardInfo[] }).customCards ??= []);
if (!cards.some((card) => card.type === "makerhub-fleet-graph")) {
  cards.push(
    { type: "makerhub-fleet-graph", name: "Makerhub fleet graph", description: "Units, their variables and links; drag an output to an input to link them." },
    { type: "makerhub-fleet-table", name: "Makerhub fleet table", description: "Every unit in a row: status, firmware version, update state and live values." },
    { type: "makerhub-me", name: "Makerhub: me", description: "My active project (swipe to switch), its steps, costs and desktop." },
    { type: "makerhub-big-screen", name: "Makerhub big screen", description: "Pages of big tiles for a wall TV, turned on a timer." },
    { type: "makerhub-ops", name: "Makerhub ops", description: "Every expected item as a tile; tap for details and restart." },
    { type: "makerhub-progress", name: "Makerhub projects in progress", description: "Active projects with their steps done." },
  );
}
