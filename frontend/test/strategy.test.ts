import { afterEach, describe, expect, it, vi } from "vitest";
import { forgetFleetGraph, sharedFleetGraph } from "../src/fleet-rows";
import {
  bigScreenPages,
  bigScreenView,
  buildDashboard,
  snapshotOf,
  stationCard,
  stations,
  type Snapshot,
} from "../src/strategy";
import type { Hass, HassEntityEntry } from "../src/types";
import { unit, variable } from "./fixtures";

const entry = (entity_id: string, translation_key?: string, device_id?: string): HassEntityEntry => ({
  entity_id,
  platform: "makerhub",
  translation_key,
  device_id,
});

function snapshot(extra: Partial<Snapshot> = {}): Snapshot {
  return { entities: [], states: {}, devices: {}, ...extra };
}

const paths = (s: Snapshot, views?: string[]) =>
  buildDashboard({ type: "custom:makerhub", views: views as never }, s).views.map((v) => v.path);

describe("the dashboard strategy", () => {
  it("makes Space, Big screen and Me with nothing else there", () => {
    const dashboard = buildDashboard({ type: "custom:makerhub" }, snapshot());
    expect(dashboard.title).toBe("Makerhub");
    expect(dashboard.views.map((v) => v.path)).toEqual(["space", "big-screen", "me"]);
    expect(dashboard.views[0].cards[0].type).toBe("markdown");
  });

  it("adds Fleet when there are units: the graph, then one table card for every unit", () => {
    const connectivity = entry("binary_sensor.bench_connectivity", "connectivity", "bench");
    expect(paths(snapshot({ entities: [{ ...connectivity, hidden: true }] }))).not.toContain("fleet");
    const s = snapshot({ entities: [connectivity] });
    const fleet = buildDashboard({ type: "custom:makerhub" }, s).views.find((v) => v.path === "fleet")!;
    expect(fleet.cards).toEqual([
      { type: "custom:makerhub-fleet-graph", title: "Fleet graph" },
      { type: "custom:makerhub-fleet-table", title: "Units" },
    ]);
  });

  it("adds Ops only when the health feature's binary sensors exist: a panel of tiles", () => {
    expect(paths(snapshot({ entities: [entry("sensor.makerhub_health_items", "health_items")] }))).not.toContain("ops");
    const s = snapshot({
      entities: [
        entry("binary_sensor.broker_problem", "health_service_problem"),
        entry("binary_sensor.bench_health_problem", "health_problem"),
        entry("sensor.makerhub_health", "health_summary"),
      ],
    });
    const ops = buildDashboard({ type: "custom:makerhub" }, s).views.find((v) => v.path === "ops")!;
    expect(ops.type).toBe("panel");
    expect(ops.cards).toEqual([
      {
        type: "custom:makerhub-ops",
        entities: ["binary_sensor.bench_health_problem", "binary_sensor.broker_problem"],
        summary: "sensor.makerhub_health",
      },
    ]);
  });

  it("builds Space: people on their projects, stations with their displays and cameras, progress", () => {
    const display = unit("d", "Laser screen", {
      area_id: "laser",
      inputs: [{ ...variable("show"), entity_id: "select.laser_screen_show" }],
      outputs: [{ ...variable("showing"), entity_id: "sensor.laser_screen_showing" }],
    });
    const elsewhere = { ...display, uid: "e", area_id: "hall", outputs: [{ ...variable("showing"), entity_id: "sensor.hall_showing" }] };
    const s = snapshot({
      units: [display, elsewhere, unit("t", "Thermo", { area_id: "laser" })],
      devices: { st1: { id: "st1", name: "Laser", area_id: "laser" }, p1: { id: "p1", name: "Robot" }, cam: { id: "cam", name: "Cam", area_id: "laser" } },
      states: {
        "sensor.ann_station": { entity_id: "sensor.ann_station", state: "Laser", attributes: { person: "person.ann" } },
        "person.ann": { entity_id: "person.ann", state: "home", attributes: { friendly_name: "Ann" } },
        "select.ann_project": { entity_id: "select.ann_project", state: "Robot", attributes: { friendly_name: "Ann active project" } },
      },
      entities: [
        entry("binary_sensor.makerhub_space_active", "space_active"),
        entry("sensor.makerhub_people_present", "people_present"),
        entry("sensor.ann_station", "person_station"),
        entry("select.ann_project", "active_project"),
        entry("binary_sensor.laser_occupied", "occupied", "st1"),
        entry("sensor.laser_people", "station_people", "st1"),
        entry("sensor.robot_status", "project_status", "p1"),
        entry("sensor.robot_cost", "project_cost", "p1"),
        { ...entry("sensor.hidden_station", "person_station"), hidden: true },
      ],
      cameras: [
        { entity_id: "camera.laser", platform: "generic", device_id: "cam" },
        { entity_id: "camera.bench", platform: "generic", area_id: "laser" },
        { entity_id: "camera.hall", platform: "generic", area_id: "hall" },
      ],
    });
    const space = buildDashboard({ type: "custom:makerhub" }, s).views[0];
    expect(space.cards.map((c) => c.title ?? c.type)).toEqual(["The space", "Who is where, on what", "vertical-stack", "In progress", "Projects"]);
    expect(space.cards[1].entities).toEqual([
      { entity: "sensor.ann_station", name: "Ann" },
      { entity: "select.ann_project", name: "Ann: working on" },
    ]);
    const station = space.cards[2].cards as Record<string, unknown>[];
    expect(station[0]).toEqual({
      type: "entities",
      title: "Laser",
      entities: [
        "binary_sensor.laser_occupied",
        "sensor.laser_people",
        { entity: "sensor.laser_screen_showing", name: "Display Laser screen shows", icon: "mdi:monitor" },
      ],
    });
    expect(station.slice(1).map((c) => c.entity)).toEqual(["camera.bench", "camera.laser"]);
    expect(space.cards[3]).toEqual({ type: "custom:makerhub-progress", title: "In progress", projects: [{ name: "Robot", status: "sensor.robot_status" }] });
    expect(space.cards[4].cards).toEqual([
      { type: "glance", title: "Robot", entities: ["sensor.robot_cost", "sensor.robot_status"] },
    ]);
  });

  it("keeps a station without an area, display or camera to its own entities", () => {
    const s = snapshot({
      devices: { st1: { id: "st1", name: "Bench" } },
      entities: [entry("sensor.bench_people", "station_people", "st1")],
      cameras: [{ entity_id: "camera.x", platform: "generic", area_id: "hall" }],
    });
    const [station] = stations(s);
    expect(station).toMatchObject({ name: "Bench", area: null, displays: [], cameras: [] });
    expect(stationCard(station)).toEqual({ type: "entities", title: "Bench", entities: ["sensor.bench_people"] });
  });

  it("makes the big screen a panel of turning pages: successes, the space now, projects", () => {
    const s = snapshot({
      devices: { p1: { id: "p1", name: "A robot arm with a very long name indeed" } },
      states: { "sensor.ann_station": { entity_id: "sensor.ann_station", state: "Laser", attributes: { person: "person.ann" } } },
      entities: [
        entry("sensor.makerhub_project_spend_this_month", "month_spend"),
        entry("sensor.makerhub_steps_done_this_week", "steps_done_week"),
        entry("sensor.makerhub_projects_finished", "projects_finished_month"),
        entry("sensor.makerhub_active_hours_this_week", "active_hours_week"),
        entry("sensor.makerhub_budget_used", "budget_used"),
        entry("sensor.makerhub_people_present", "people_present"),
        entry("sensor.ann_station", "person_station"),
        entry("sensor.robot_status", "project_status", "p1"),
        entry("sensor.robot_cost", "project_cost", "p1"),
        entry("sensor.robot_month", "project_month_cost", "p1"),
      ],
    });
    const big = buildDashboard({ type: "custom:makerhub", rotate_seconds: 3 }, s).views[1];
    expect(big.type).toBe("panel");
    expect(big.cards[0].type).toBe("custom:makerhub-big-screen");
    expect(big.cards[0].rotate_seconds).toBe(3);
    const pages = bigScreenPages(s);
    expect(pages.map((p) => p.title)).toEqual(["Our successes", "The space now", "Projects"]);
    expect(pages[0].tiles.map((t) => t.name)).toEqual([
      "Steps done this week",
      "Projects finished this month",
      "Hours active this week",
      "Spent this month",
      "Monthly budget",
    ]);
    expect(pages[1].tiles).toEqual([
      { entity: "sensor.makerhub_people_present", name: "People here", kind: "count" },
      { entity: "sensor.ann_station", name: "person.ann", kind: "station" },
    ]);
    expect(pages[2].tiles).toEqual([
      { entity: "sensor.robot_status", name: "A robot arm with a very long name indeed", kind: "project", secondary: "sensor.robot_month" },
    ]);
    expect(buildDashboard({ type: "custom:makerhub" }, s).views[1].cards[0].rotate_seconds).toBeUndefined();
  });

  it("shows a hint on the big screen while there is nothing to show", () => {
    expect(bigScreenView(snapshot()).cards[0].type).toBe("markdown");
  });

  it("makes only the views asked for", () => {
    expect(paths(snapshot(), ["me"])).toEqual(["me"]);
  });

  it("reads the registries only: nothing asked of the hub before the dashboard shows", async () => {
    const callWS = vi.fn();
    const hass = {
      states: {},
      entities: {
        "sensor.a": { entity_id: "sensor.a", platform: "makerhub" },
        "sensor.b": { entity_id: "sensor.b", platform: "demo" },
        "camera.c": { entity_id: "camera.c", platform: "demo" },
      },
      devices: {},
      callWS,
      callService: async () => undefined,
    } as unknown as Hass;
    const s = await snapshotOf(hass);
    expect(s.entities.map((e) => e.entity_id)).toEqual(["sensor.a"]);
    expect(s.cameras!.map((e) => e.entity_id)).toEqual(["camera.c"]);
    expect(s.units).toBeUndefined();
    expect(callWS).not.toHaveBeenCalled();
  });

  it("asks the hub for its units only for the displays of a station with an area, through the shared answer", async () => {
    forgetFleetGraph();
    const display = unit("d", "Laser screen", {
      area_id: "laser",
      inputs: [{ ...variable("show"), entity_id: "select.laser_screen_show" }],
      outputs: [{ ...variable("showing"), entity_id: "sensor.laser_screen_showing" }],
    });
    const callWS = vi.fn(async () => ({ units: [display], links: [] }));
    const hass = {
      states: {},
      entities: { "sensor.laser_people": { ...entry("sensor.laser_people", "station_people", "st1") } },
      devices: { st1: { id: "st1", name: "Laser", area_id: "laser" } },
      callWS,
      callService: async () => undefined,
    } as unknown as Hass;
    const s = await snapshotOf(hass);
    expect(s.units).toEqual([display]);
    expect(stations(s)[0].displays).toEqual([{ name: "Laser screen", device: display.device_id, showing: "sensor.laser_screen_showing" }]);
    // The Fleet view's cards take the same answer: one request in all.
    await sharedFleetGraph(hass);
    expect(callWS).toHaveBeenCalledTimes(1);
    expect(callWS).toHaveBeenCalledWith({ type: "makerhub/fleet_graph" });

    forgetFleetGraph();
    const refused = { ...hass, callWS: async () => Promise.reject({ code: "hub_not_loaded", message: "not loaded" }) } as unknown as Hass;
    const without = await snapshotOf(refused);
    expect(without.units).toBeUndefined();
    expect(stations(without)[0].displays).toEqual([]);
  });

  afterEach(() => forgetFleetGraph());
});
