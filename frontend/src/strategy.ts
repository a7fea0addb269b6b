/** `strategy: type: custom:makerhub`: a dashboard made from what the hub has now. Each
 * view is built from the entities that exist (Makerhub's, found by their translation
 * keys in the entity registry), so a part appears when its feature does: no units, no
 * Fleet view; no health entities, no Ops view. "Take control" in the dashboard's menu
 * turns the generated dashboard into an ordinary one to edit by hand. */

import { paginate, type BigPage, type BigTile, type TileKind } from "./bigscreen";
import { sharedFleetGraph } from "./fleet-rows";
import type { GraphUnit, Hass, HassDeviceEntry, HassEntityEntry, HassEntityState } from "./types";

export const DOMAIN = "makerhub";
export const VIEW_NAMES = ["space", "big-screen", "fleet", "ops", "me"] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export interface StrategyConfig {
  type: string;
  /** The views to make, of VIEW_NAMES (all by default). */
  views?: ViewName[];
  title?: string;
  /** Seconds between the Big screen's pages (0: they do not turn). */
  rotate_seconds?: number;
}

export interface Snapshot {
  entities: HassEntityEntry[];
  /** Every camera entity, of any integration (a station's camera is one in its area). */
  cameras?: HassEntityEntry[];
  states: Record<string, HassEntityState>;
  devices: Record<string, HassDeviceEntry>;
  /** The hub's units, read only when a station has an area (for its displays). */
  units?: GraphUnit[];
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

function personName(snapshot: Snapshot, station: HassEntityEntry): string {
  const person = snapshot.states[station.entity_id]?.attributes.person;
  const state = typeof person === "string" ? snapshot.states[person] : undefined;
  return String(state?.attributes.friendly_name ?? person ?? station.entity_id);
}

/** A person's active-project select: the one whose name speaks of the person. */
function activeProjectOf(snapshot: Snapshot, name: string): string | undefined {
  return withKey(snapshot, "active_project").find((e) =>
    String(snapshot.states[e.entity_id]?.attributes.friendly_name ?? "").includes(name),
  )?.entity_id;
}

/** Each person where they are, with their active project under them. */
export function peopleRows(snapshot: Snapshot): Card[] {
  const rows: Card[] = [];
  for (const station of withKey(snapshot, "person_station")) {
    const name = personName(snapshot, station);
    rows.push({ entity: station.entity_id, name });
    const project = activeProjectOf(snapshot, name);
    if (project) rows.push({ entity: project, name: `${name}: working on` });
  }
  return rows;
}

export function isDisplay(unit: GraphUnit): boolean {
  return unit.inputs.some((v) => v.name === "show") && unit.outputs.some((v) => v.name === "showing");
}

export interface Station {
  name: string;
  device: string;
  area: string | null;
  entities: string[];
  /** The display units in the station's area: their name and what they show. */
  displays: { name: string; device: string | null; showing: string }[];
  cameras: string[];
}

function areaOf(snapshot: Snapshot, entry: HassEntityEntry): string | null {
  return entry.area_id ?? (entry.device_id ? (snapshot.devices[entry.device_id]?.area_id ?? null) : null);
}

/** The stations (devices with presence's station sensors), each with its displays and
 * cameras: the display units and camera entities in the station's area. */
export function stations(snapshot: Snapshot): Station[] {
  const units = snapshot.units ?? [];
  return byDevice(snapshot, withKey(snapshot, "occupied", "station_people")).map(([name, entities]) => {
    const entry = snapshot.entities.find((e) => e.entity_id === entities[0])!;
    const device = entry.device_id ?? "";
    const area = snapshot.devices[device]?.area_id ?? null;
    const displays =
      area === null
        ? []
        : units
            .filter((u) => u.area_id === area && isDisplay(u))
            .map((u) => ({ name: u.name, device: u.device_id, showing: u.outputs.find((v) => v.name === "showing")!.entity_id ?? "" }))
            .filter((d) => d.showing !== "");
    const cameras =
      area === null
        ? []
        : (snapshot.cameras ?? []).filter((c) => !c.hidden && areaOf(snapshot, c) === area).map((c) => c.entity_id).sort();
    return { name: name || "Station", device, area, entities, displays, cameras };
  });
}

export function stationCard(station: Station): Card {
  const entities: (string | Card)[] = [
    ...station.entities,
    ...station.displays.map((d) => ({ entity: d.showing, name: `Display ${d.name} shows`, icon: "mdi:monitor" })),
  ];
  const cards: Card[] = [{ type: "entities", title: station.name, entities }];
  for (const camera of station.cameras) {
    cards.push({ type: "picture-entity", entity: camera, camera_view: "auto", name: `${station.name} camera`, show_state: false });
  }
  return cards.length === 1 ? cards[0] : { type: "vertical-stack", cards };
}

export function spaceView(snapshot: Snapshot): ViewConfig {
  const cards: Card[] = [
    ...entitiesCard("The space", ids(withKey(snapshot, "space_active", "people_present", "active_projects"))),
    ...entitiesCard("Who is where, on what", peopleRows(snapshot) as never),
  ];
  cards.push(...stations(snapshot).map(stationCard));
  const statuses = withKey(snapshot, "project_status");
  if (statuses.length > 0) {
    cards.push({
      type: "custom:makerhub-progress",
      title: "In progress",
      projects: statuses.map((e) => ({ name: deviceName(snapshot, e.device_id) || e.entity_id, status: e.entity_id })),
    });
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

const SUCCESS_TILES: [string, string, TileKind][] = [
  ["steps_done_week", "Steps done this week", "count"],
  ["projects_finished_month", "Projects finished this month", "count"],
  ["active_hours_week", "Hours active this week", "hours"],
  ["active_hours_month", "Hours active this month", "hours"],
  ["month_spend", "Spent this month", "money"],
  ["budget_used", "Monthly budget", "budget"],
];

const SPACE_TILES: [string, string, TileKind][] = [
  ["space_active", "The space", "space"],
  ["people_present", "People here", "count"],
  ["active_projects", "Active projects", "count"],
];

function tilesOf(snapshot: Snapshot, kinds: [string, string, TileKind][]): BigTile[] {
  return kinds.flatMap(([key, name, kind]) => withKey(snapshot, key).map((e) => ({ entity: e.entity_id, name, kind })));
}

/** The Big screen's pages: the successes, the space now (who is where), the projects. */
export function bigScreenPages(snapshot: Snapshot): BigPage[] {
  const people = withKey(snapshot, "person_station").map((e) => ({
    entity: e.entity_id,
    name: personName(snapshot, e),
    kind: "station" as const,
  }));
  // Each project's cost this month, told under its status.
  const costs = new Map<string, string>();
  for (const e of withKey(snapshot, "project_month_cost")) {
    if (e.device_id) costs.set(e.device_id, e.entity_id);
  }
  const projects = withKey(snapshot, "project_status").map((e) => {
    const cost = e.device_id ? costs.get(e.device_id) : undefined;
    return {
      entity: e.entity_id,
      name: deviceName(snapshot, e.device_id) || e.entity_id,
      kind: "project" as const,
      ...(cost ? { secondary: cost } : {}),
    };
  });
  return [
    ...paginate("Our successes", tilesOf(snapshot, SUCCESS_TILES)),
    ...paginate("The space now", [...tilesOf(snapshot, SPACE_TILES), ...people]),
    ...paginate("Projects", projects),
  ];
}

export function bigScreenView(snapshot: Snapshot, rotateSeconds?: number): ViewConfig {
  const pages = bigScreenPages(snapshot);
  const card: Card =
    pages.length === 0
      ? { type: "markdown", content: "# Makerhub\nNo projects yet." }
      : { type: "custom:makerhub-big-screen", pages, ...(rotateSeconds === undefined ? {} : { rotate_seconds: rotateSeconds }) };
  return { title: "Big screen", path: "big-screen", icon: "mdi:television", type: "panel", cards: [card] };
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
  const summary = withKey(snapshot, "health_summary")[0]?.entity_id;
  return {
    title: "Ops",
    path: "ops",
    icon: "mdi:heart-pulse",
    type: "panel",
    cards: [{ type: "custom:makerhub-ops", entities: health, ...(summary ? { summary } : {}) }],
  };
}

export function meView(): ViewConfig {
  return { title: "Me", path: "me", icon: "mdi:account", type: "panel", cards: [{ type: "custom:makerhub-me" }] };
}

export function buildDashboard(config: StrategyConfig, snapshot: Snapshot): DashboardConfig {
  const wanted = new Set<string>(config.views ?? VIEW_NAMES);
  const builders: [ViewName, () => ViewConfig | null][] = [
    ["space", () => spaceView(snapshot)],
    ["big-screen", () => bigScreenView(snapshot, config.rotate_seconds)],
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

/** What the strategy reads: the registries in `hass`; the hub's units only for the
 * displays of stations that have an area. */
export async function snapshotOf(hass: Hass): Promise<Snapshot> {
  const entities = Object.values(hass.entities ?? {}).filter((e) => e.platform === DOMAIN);
  const devices = hass.devices ?? {};
  // A station's displays are the hub's display units in its area: only then is the hub
  // asked, through the answer the Fleet view's cards share (one request for all).
  let units: GraphUnit[] | undefined;
  const stationAreas = entities.some(
    (e) => (e.translation_key === "occupied" || e.translation_key === "station_people") && e.device_id && devices[e.device_id]?.area_id,
  );
  if (stationAreas) {
    try {
      units = (await sharedFleetGraph(hass)).units;
    } catch {
      units = undefined; // no hub loaded: the stations show no displays
    }
  }
  return {
    entities,
    cameras: Object.values(hass.entities ?? {}).filter((e) => e.entity_id.startsWith("camera.")),
    states: hass.states,
    devices,
    ...(units ? { units } : {}),
  };
}
