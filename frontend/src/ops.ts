/** The Ops view's logic: one tile per expected health item, its colour and why. */

import type { HassEntityState } from "./types";

/** green: working; red: a problem of its own; grey: down because of what it depends on,
 * or not reported yet. */
export type Colour = "green" | "red" | "grey";

export interface OpsTile {
  entity: string;
  name: string;
  colour: Colour;
  cause: string;
  details: [string, string][];
}

/** A problem sensor's friendly name without its "problem" ending: the item's name. */
export function itemName(state: HassEntityState | undefined, entity: string): string {
  const name = String(state?.attributes.friendly_name ?? entity);
  return name.replace(/\s*(health\s+)?problem$/i, "") || name;
}

function when(value: unknown): string {
  if (typeof value !== "string" || value === "") return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

/** Item id → name, from the problem sensors' `item` attributes. */
export function itemNames(entities: string[], states: Record<string, HassEntityState>): Map<string, string> {
  const names = new Map<string, string>();
  for (const entity of entities) {
    const item = states[entity]?.attributes.item;
    if (typeof item === "string") names.set(item, itemName(states[entity], entity));
  }
  return names;
}

export function opsTile(entity: string, state: HassEntityState | undefined, names: Map<string, string>): OpsTile {
  const name = itemName(state, entity);
  const a = state?.attributes ?? {};
  // A root cause is the item itself when its problem is its own.
  const own = typeof a.root_cause === "string" && a.root_cause !== a.item;
  const root = own ? (names.get(a.root_cause as string) ?? (a.root_cause as string)) : "";
  let colour: Colour = "grey";
  let cause = "no report yet";
  if (state?.state === "off") {
    colour = "green";
    cause = "running";
  } else if (state?.state === "on" && a.status === "down_because") {
    cause = root ? `down because ${root} is down` : "down because of what it depends on";
  } else if (state?.state === "on") {
    colour = "red";
    cause = typeof a.message === "string" && a.message !== "" ? a.message : "not running";
    if (a.crash_looping === true) cause = `${cause} (crash loop: restarts stopped)`;
  } else if (state?.state === "unavailable") {
    cause = "no longer expected";
  }
  const restarts = typeof a.restarts === "number" ? `${a.restarts} of ${String(a.restart_limit ?? "?")}` : "—";
  const details: [string, string][] = [
    ["Status", String(a.status ?? state?.state ?? "—")],
    ["Why", cause],
    ["Root cause", root || "—"],
    ["Last seen", when(a.last_seen)],
    ["Restarts", restarts],
    ["Next restart", when(a.next_restart)],
  ];
  return { entity, name, colour, cause, details };
}

const ORDER: Record<Colour, number> = { red: 0, grey: 1, green: 2 };

/** The tiles: problems first, then those down because of them, then the working ones;
 * by name within each. */
export function opsTiles(entities: string[], states: Record<string, HassEntityState>): OpsTile[] {
  const names = itemNames(entities, states);
  return entities
    .map((entity) => opsTile(entity, states[entity], names))
    .sort((a, b) => ORDER[a.colour] - ORDER[b.colour] || a.name.localeCompare(b.name));
}
