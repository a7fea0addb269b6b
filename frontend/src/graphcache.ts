/** The hub's graph as the strategy last fetched it, for the graph card of the view it
 * just made: with 1,000 units a second fetch of the same answer costs the hub and the
 * browser as much as the first. Taken only while the registries are the very objects
 * the strategy saw (nothing changed since), and only within a few seconds. */

import type { FleetGraph, Hass } from "./types";

export const FRESH_MS = 10_000;

interface Kept {
  graph: FleetGraph;
  at: number;
  entities: Hass["entities"];
  devices: Hass["devices"];
}

let kept: Kept | undefined;

export function keepGraph(graph: FleetGraph, hass: Hass, now = Date.now()): void {
  kept = { graph, at: now, entities: hass.entities, devices: hass.devices };
}

/** The kept graph if it still holds for `hass` (taken once: later fetches are the card's). */
export function takeGraph(hass: Hass, now = Date.now()): FleetGraph | undefined {
  const found = kept;
  kept = undefined;
  if (!found || now - found.at > FRESH_MS || now < found.at) return undefined;
  return found.entities === hass.entities && found.devices === hass.devices ? found.graph : undefined;
}
