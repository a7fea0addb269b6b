/** The frontend module the integration serves: defines the fleet graph card, the Me card
 * and the `custom:makerhub` dashboard strategy. */

import { MakerhubFleetTable } from "./fleet-table";
import { MakerhubFleetGraph } from "./graph-card";
import { MakerhubMeCard } from "./me-card";
import { buildDashboard, snapshotOf, type DashboardConfig, type StrategyConfig } from "./strategy";
import type { Hass } from "./types";

/** Home Assistant calls `generate` of the element `ll-strategy-dashboard-<type>`. */
class MakerhubDashboardStrategy extends HTMLElement {
  static async generate(config: StrategyConfig, hass: Hass): Promise<DashboardConfig> {
    return buildDashboard(config, await snapshotOf(hass));
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
  );
}
