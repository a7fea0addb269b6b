/** What the Fleet view's table shows per unit (pure: `fleet-table.ts` draws it), and the
 * one `makerhub/fleet_graph` answer the strategy, the table and a reload share. */

import { UNAVAILABLE, formatValue } from "./format";
import type { FleetGraph, GraphUnit, Hass, HassEntityState } from "./types";

export type UnitStatus = "online" | "offline" | "unknown";

/** Online or offline by the unit's connectivity entity (the hub's `available` when it
 * has none); unknown while that entity has no state yet. */
export function unitStatus(
  row: Pick<FleetRow, "connectivity" | "available">,
  states: Record<string, HassEntityState>,
): UnitStatus {
  const id = row.connectivity;
  if (!id) return row.available ? "online" : "offline";
  const state = states[id];
  if (state === undefined || UNAVAILABLE.has(state.state)) return "unknown";
  return state.state === "on" ? "online" : "offline";
}

export const STATUS_TEXT: Record<UnitStatus, string> = { online: "Online", offline: "Offline", unknown: "—" };

/** The firmware update entity's state as a few words: up to date, the version on offer,
 * installing (with its progress when the entity reports one). */
export function updateText(state: HassEntityState | undefined): string {
  if (state === undefined || UNAVAILABLE.has(state.state)) return "—";
  const progress = state.attributes.in_progress;
  if (progress === true) return "Installing…";
  if (typeof progress === "number") return `Installing ${progress} %`;
  if (state.state === "off") return "Up to date";
  const latest = state.attributes.latest_version;
  return typeof latest === "string" && latest !== "" ? `Update: ${latest}` : "Update available";
}

/** One table row: the unit, and the entities whose states its cells show. */
export interface FleetRow {
  uid: string;
  name: string;
  version: string;
  connectivity: string | null;
  /** The hub's word, for a unit without a connectivity entity. */
  available: boolean;
  firmware: string | null;
  /** The outputs with an entity: label (the variable's name) and entity id. */
  values: { name: string; entity_id: string }[];
}

export function fleetRows(units: GraphUnit[]): FleetRow[] {
  return units.map((unit) => ({
    uid: unit.uid,
    name: unit.name,
    version: unit.version ?? "—",
    connectivity: unit.entities.connectivity,
    available: unit.available,
    firmware: unit.entities.firmware,
    values: unit.outputs.flatMap((v) => (v.entity_id ? [{ name: v.name, entity_id: v.entity_id }] : [])),
  }));
}

/** What decides the rows drawn: everything but `available` (a state, shown by a cell). */
export function rowsKey(rows: FleetRow[]): string {
  return JSON.stringify(rows.map(({ available: _, ...drawn }) => drawn));
}

/** A value cell's text: the variable's name, then its value with its unit. */
export function valueText(name: string, state: HassEntityState | undefined): string {
  return `${name} ${formatValue(state)}`;
}

/** Rows whose name contains every word of `query` (any case), in their order. */
export function matchingRows(rows: FleetRow[], query: string): Set<string> {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return new Set(
    rows.filter((row) => words.every((w) => row.name.toLowerCase().includes(w))).map((row) => row.uid),
  );
}

/** How long an answer is reused while the registries stay the same objects. */
export const SHARE_MS = 10_000;

interface Shared {
  entities: unknown;
  devices: unknown;
  at: number;
  answer: Promise<FleetGraph>;
}
let shared: Shared | undefined;

/** `makerhub/fleet_graph`, asked once for the strategy and the cards of the view it
 * makes: while the registries in `hass` are the same objects (no unit, entity or device
 * came or went) and the answer is under SHARE_MS old, the same answer is reused. A
 * refused request is not kept. */
export function sharedFleetGraph(hass: Hass, now: number = Date.now()): Promise<FleetGraph> {
  if (
    shared !== undefined &&
    shared.entities === hass.entities &&
    shared.devices === hass.devices &&
    now - shared.at < SHARE_MS
  ) {
    return shared.answer;
  }
  const entry: Shared = {
    entities: hass.entities,
    devices: hass.devices,
    at: now,
    answer: hass.callWS<FleetGraph>({ type: "makerhub/fleet_graph" }),
  };
  shared = entry;
  entry.answer.catch(() => {
    if (shared === entry) shared = undefined;
  });
  return entry.answer;
}

/** Forget the shared answer (after a change the registries do not show, e.g. a link). */
export function forgetFleetGraph(): void {
  shared = undefined;
}
