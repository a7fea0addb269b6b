/** `strategy: type: custom:makerhub`: a dashboard made from what the hub has now. Each
 * view is built from the entities that exist (Makerhub's, found by their translation
 * keys in the entity registry), so a part appears when its feature does: no units, no
 * Fleet view; no health entities, no Ops view. "Take control" in the dashboard's menu
 * turns the generated dashboard into an ordinary one to edit by hand. */

import type { Hass, HassDeviceEntry, HassEntityEntry, HassEntityState } from "./types";

export const DOMAIN = "makerhub";
export const VIEW_NAMES = ["space", "big-screen", "fleet", "ops", "me"] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export interface StrategyConfig {
  type: string;
  /** The views to make, of VIEW_NAMES (all by default). */
  views?: ViewName[];
  title?: string;
}

export interface Snapshot {
  entities: HassEntityEntry[];
  states: Record<string, HassEntityState>;
  devices: Record<string, HassDeviceEntry>;
}

export type Card = Record<string, unknown>;
export interface ViewConfig {
  title: string;
  path: string;
  icon: string;
  cards: Card[];
  type?: string;
  max_columns?: number;
}
export interface DashboardConfig {
  title: string;
  views: ViewConfig[];
}

/** Makerhub's entities with a translation key, in entity id order. */
export function withKey(snapshot: Snapshot, ...keys: string[]): HassEntityEntry[] {
  return snapshot.entities
    .filter((e) => e.translation_key !== undefined && keys.includes(e.translation_key) && !e.hidden)
    .sort((a, b) => a.entity_id.localeCompare(b.entity_id));
}

function ids(entries: HassEntityEntry[]): string[] {
  return entries.map((e) => e.entity_id);
}

export function deviceName(snapshot: Snapshot, deviceId: string | null | undefined): string {
  const device = deviceId ? snapshot.devices[deviceId] : undefined;
  return device?.name_by_user || device?.name || "";
}

/** The entities of each device (ids in order), devices by name. */
export function byDevice(snapshot: Snapshot, entries: HassEntityEntry[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const entry of entries) {
    const device = entry.device_id ?? "";
    groups.set(device, [...(groups.get(device) ?? []), entry.entity_id]);
  }
  return [...groups]
    .map(([device, list]) => [deviceName(snapshot, device), list] as [string, string[]])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

function entitiesCard(title: string, entities: string[], extra: Card = {}): Card[] {
  return entities.length === 0 ? [] : [{ type: "entities", title, entities, ...extra }];
}

/** Health entities (the health feature's): binary sensors keyed health…, or whose id says. */
export function healthEntities(snapshot: Snapshot): HassEntityEntry[] {
  return snapshot.entities
    .filter(
      (e) =>
        e.entity_id.startsWith("binary_sensor.") &&
        ((e.translation_key ?? "").startsWith("health") || e.entity_id.includes("_health")),
    )
    .sort((a, b) => a.entity_id.localeCompare(b.entity_id));
}

export function spaceView(snapshot: Snapshot): ViewConfig {
  const cards: Card[] = [
    ...entitiesCard("The space", ids(withKey(snapshot, "space_active", "people_present", "active_projects"))),
    ...entitiesCard("Who is where", ids(withKey(snapshot, "person_station"))),
    ...entitiesCard("Working on", ids(withKey(snapshot, "active_project"))),
  ];
  for (const [station, list] of byDevice(snapshot, withKey(snapshot, "occupied", "station_people"))) {
    cards.push(...entitiesCard(station || "Station", list));
  }
  const projects = withKey(snapshot, "project_status", "project_cost");
  if (projects.length > 0) {
    cards.push({
      type: "grid",
      title: "Projects",
      columns: 2,
      square: false,
      cards: byDevice(snapshot, projects).map(([name, list]) => ({ type: "glance", title: name, entities: list })),
    });
  }
  if (cards.length === 0) {
    cards.push({ type: "markdown", content: "Nothing in the space yet: add stations, people and projects to Makerhub." });
  }
  return { title: "Space", path: "space", icon: "mdi:home-group", cards };
}

/** Sensors that count successes (the dashboards' data): week, month, hours, budget. */
export function successEntities(snapshot: Snapshot): HassEntityEntry[] {
  const known = new Set(["month_spend", "active_projects", "project_cost", "project_month_cost"]);
  return snapshot.entities
    .filter(
      (e) =>
        e.entity_id.startsWith("sensor.") &&
        e.translation_key !== undefined &&
        !known.has(e.translation_key) &&
        /week|month|hours|budget|finished|success/.test(e.translation_key),
    )
    .sort((a, b) => a.entity_id.localeCompare(b.entity_id));
}

export function bigScreenView(snapshot: Snapshot): ViewConfig {
  const headline = ids(withKey(snapshot, "month_spend", "active_projects", "space_active", "people_present"));
  const cards: Card[] = [];
  if (headline.length > 0) {
    cards.push({ type: "glance", title: "This month", entities: headline, columns: Math.min(4, headline.length) });
  }
  const success = ids(successEntities(snapshot));
  if (success.length > 0) {
    cards.push({ type: "glance", title: "Successes", entities: success, columns: Math.min(4, success.length) });
  }
  // Each project's cost this month (the members feature's), else its cost so far.
  const monthly = ids(withKey(snapshot, "project_month_cost"));
  const costs = monthly.length > 0 ? monthly : ids(withKey(snapshot, "project_cost"));
  cards.push(...entitiesCard("Cost this month per project", costs, { state_color: true }));
  cards.push(...entitiesCard("Project status", ids(withKey(snapshot, "project_status"))));
  if (cards.length === 0) cards.push({ type: "markdown", content: "# Makerhub\nNo projects yet." });
  return { title: "Big screen", path: "big-screen", icon: "mdi:television", cards, max_columns: 3 };
}

/** The graph, then every unit in one table card (status, firmware version, update
 * state, live values): one card, not one per unit, so 1,000 units load and update as
 * fast as 50 (see docs/dashboards.md, "How fast"). */
export function fleetView(snapshot: Snapshot): ViewConfig | null {
  // Every unit has a connectivity entity: the registry tells whether there are units
  // without asking the hub (its answer, 1,000 units long, is the cards' to wait for).
  if (withKey(snapshot, "connectivity").length === 0) return null;
  return {
    title: "Fleet",
    path: "fleet",
    icon: "mdi:graph-outline",
    cards: [
      { type: "custom:makerhub-fleet-graph", title: "Fleet graph" },
      { type: "custom:makerhub-fleet-table", title: "Units" },
    ],
  };
}

export function opsView(snapshot: Snapshot): ViewConfig | null {
  const health = ids(healthEntities(snapshot));
  if (health.length === 0) return null;
  const sensors = snapshot.entities
    .filter((e) => e.entity_id.startsWith("sensor.") && (e.translation_key ?? "").startsWith("health"))
    .map((e) => e.entity_id)
    .sort();
  return {
    title: "Ops",
    path: "ops",
    icon: "mdi:heart-pulse",
    cards: [
      ...entitiesCard("Expected and running", health, { state_color: true }),
      ...entitiesCard("Health", sensors),
    ],
  };
}

export function meView(): ViewConfig {
  return { title: "Me", path: "me", icon: "mdi:account", type: "panel", cards: [{ type: "custom:makerhub-me" }] };
}

export function buildDashboard(config: StrategyConfig, snapshot: Snapshot): DashboardConfig {
  const wanted = new Set<string>(config.views ?? VIEW_NAMES);
  const builders: [ViewName, () => ViewConfig | null][] = [
    ["space", () => spaceView(snapshot)],
    ["big-screen", () => bigScreenView(snapshot)],
    ["fleet", () => fleetView(snapshot)],
    ["ops", () => opsView(snapshot)],
    ["me", () => meView()],
  ];
  const views: ViewConfig[] = [];
  for (const [name, build] of builders) {
    if (!wanted.has(name)) continue;
    const view = build();
    if (view) views.push(view);
  }
  return { title: config.title ?? "Makerhub", views };
}

/** What the strategy reads: the registries in `hass`, nothing it has to wait for. */
export async function snapshotOf(hass: Hass): Promise<Snapshot> {
  return {
    entities: Object.values(hass.entities ?? {}).filter((e) => e.platform === DOMAIN),
    states: hass.states,
    devices: hass.devices ?? {},
  };
}
