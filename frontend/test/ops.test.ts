import { describe, expect, it } from "vitest";
import { itemName, opsTile, opsTiles } from "../src/ops";
import type { HassEntityState } from "../src/types";

const state = (entity_id: string, s: string, attributes: Record<string, unknown>): HassEntityState => ({ entity_id, state: s, attributes });

const states: Record<string, HassEntityState> = {
  "binary_sensor.broker_problem": state("binary_sensor.broker_problem", "on", {
    friendly_name: "Makerhub Broker problem",
    item: "broker",
    root_cause: "broker",
    status: "problem",
    message: "connection refused",
    restarts: 2,
    restart_limit: 5,
    last_seen: "2026-01-01T10:00:00+00:00",
    next_restart: "2026-01-01T10:05:00+00:00",
  }),
  "binary_sensor.bench_health_problem": state("binary_sensor.bench_health_problem", "on", {
    friendly_name: "Bench Health problem",
    item: "unit:bench",
    status: "down_because",
    root_cause: "broker",
  }),
  "binary_sensor.fan_health_problem": state("binary_sensor.fan_health_problem", "off", {
    friendly_name: "Fan Health problem",
    item: "unit:fan",
    status: "healthy",
  }),
};

describe("the Ops tiles", () => {
  it("names items without the sensor's 'problem'", () => {
    expect(itemName(states["binary_sensor.bench_health_problem"], "x")).toBe("Bench");
    expect(itemName(states["binary_sensor.broker_problem"], "x")).toBe("Makerhub Broker");
    expect(itemName(undefined, "binary_sensor.gone")).toBe("binary_sensor.gone");
  });

  it("is red with its cause, grey down because of its parent, green when running; problems first", () => {
    const tiles = opsTiles(Object.keys(states), states);
    expect(tiles.map((t) => [t.name, t.colour, t.cause])).toEqual([
      ["Makerhub Broker", "red", "connection refused"],
      ["Bench", "grey", "down because Makerhub Broker is down"],
      ["Fan", "green", "running"],
    ]);
    const details = Object.fromEntries(tiles[0].details);
    expect(details.Restarts).toBe("2 of 5");
    expect(details["Last seen"]).not.toBe("—");
    expect(details["Root cause"]).toBe("—");
    expect(Object.fromEntries(tiles[1].details)["Root cause"]).toBe("Makerhub Broker");
  });

  it("tells a crash loop, an unknown parent, no report and a gone item", () => {
    const names = new Map<string, string>();
    const looping = opsTile("b.x", state("b.x", "on", { status: "problem", crash_looping: true }), names);
    expect(looping.cause).toBe("not running (crash loop: restarts stopped)");
    expect(opsTile("b.x", state("b.x", "on", { status: "down_because" }), names).cause).toBe("down because of what it depends on");
    expect(opsTile("b.x", state("b.x", "on", { status: "down_because", root_cause: "db" }), names).cause).toBe("down because db is down");
    expect(opsTile("b.x", state("b.x", "unknown", {}), names)).toMatchObject({ colour: "grey", cause: "no report yet" });
    expect(opsTile("b.x", state("b.x", "unavailable", {}), names).cause).toBe("no longer expected");
    expect(Object.fromEntries(opsTile("b.x", undefined, names).details)).toMatchObject({ Status: "—", "Last seen": "—", Restarts: "—" });
    expect(Object.fromEntries(opsTile("b.x", state("b.x", "on", { last_seen: "soon" }), names).details)["Last seen"]).toBe("soon");
  });
});
