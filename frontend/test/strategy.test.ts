import { describe, expect, it, vi } from "vitest";
import { buildDashboard, snapshotOf, type Snapshot } from "../src/strategy";
import type { Hass, HassEntityEntry } from "../src/types";

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

  it("adds Ops only when the health feature's binary sensors exist", () => {
    expect(paths(snapshot({ entities: [entry("sensor.makerhub_health_items", "health_items")] }))).not.toContain("ops");
    const s = snapshot({
      entities: [entry("binary_sensor.broker_health", "health_item"), entry("sensor.makerhub_health_items", "health_items")],
    });
    const ops = buildDashboard({ type: "custom:makerhub" }, s).views.find((v) => v.path === "ops")!;
    expect(ops.cards.map((c) => c.entities)).toEqual([["binary_sensor.broker_health"], ["sensor.makerhub_health_items"]]);
  });

  it("builds Space from presence and project entities, stations by device", () => {
    const s = snapshot({
      devices: { st1: { id: "st1", name: "Laser" }, p1: { id: "p1", name: "Robot" } },
      entities: [
        entry("binary_sensor.makerhub_space_active", "space_active"),
        entry("sensor.makerhub_people_present", "people_present"),
        entry("sensor.ann_station", "person_station"),
        entry("binary_sensor.laser_occupied", "occupied", "st1"),
        entry("sensor.laser_people", "station_people", "st1"),
        entry("sensor.robot_status", "project_status", "p1"),
        entry("sensor.robot_cost", "project_cost", "p1"),
        { ...entry("sensor.hidden_station", "person_station"), hidden: true },
      ],
    });
    const space = buildDashboard({ type: "custom:makerhub" }, s).views[0];
    expect(space.cards.map((c) => c.title)).toEqual(["The space", "Who is where", "Laser", "Projects"]);
    expect(space.cards[1].entities).toEqual(["sensor.ann_station"]);
    expect(space.cards[2].entities).toEqual(["binary_sensor.laser_occupied", "sensor.laser_people"]);
    expect(space.cards[3].cards).toEqual([
      { type: "glance", title: "Robot", entities: ["sensor.robot_cost", "sensor.robot_status"] },
    ]);
  });

  it("puts costs, statuses and success counters on the big screen", () => {
    const s = snapshot({
      entities: [
        entry("sensor.makerhub_project_spend_this_month", "month_spend"),
        entry("sensor.makerhub_steps_done_this_week", "steps_done_week"),
        entry("sensor.robot_cost", "project_cost"),
        entry("sensor.robot_status", "project_status"),
      ],
    });
    const big = buildDashboard({ type: "custom:makerhub" }, s).views[1];
    expect(big.cards.map((c) => c.title)).toEqual(["This month", "Successes", "Cost this month per project", "Project status"]);
    expect(big.cards[1].entities).toEqual(["sensor.makerhub_steps_done_this_week"]);
    expect(big.cards[2].entities).toEqual(["sensor.robot_cost"]);
  });

  it("prefers each project's cost this month where the hub has it", () => {
    const s = snapshot({
      entities: [
        entry("sensor.robot_cost", "project_cost"),
        entry("sensor.robot_cost_this_month", "project_month_cost"),
        entry("sensor.makerhub_budget_used", "budget_used"),
        entry("sensor.makerhub_active_hours_this_week", "active_hours_week"),
      ],
    });
    const big = buildDashboard({ type: "custom:makerhub" }, s).views[1];
    const byTitle = Object.fromEntries(big.cards.map((c) => [c.title, c.entities]));
    expect(byTitle["Cost this month per project"]).toEqual(["sensor.robot_cost_this_month"]);
    expect(byTitle["Successes"]).toEqual(["sensor.makerhub_active_hours_this_week", "sensor.makerhub_budget_used"]);
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
      },
      devices: {},
      callWS,
      callService: async () => undefined,
    } as unknown as Hass;
    const s = await snapshotOf(hass);
    expect(s.entities.map((e) => e.entity_id)).toEqual(["sensor.a"]);
    expect(callWS).not.toHaveBeenCalled();
  });
});
