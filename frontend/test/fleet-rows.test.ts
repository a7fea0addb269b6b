import { afterEach, describe, expect, it, vi } from "vitest";
import {
  SHARE_MS,
  fleetRows,
  forgetFleetGraph,
  matchingRows,
  rowsKey,
  sharedFleetGraph,
  unitStatus,
  updateText,
  valueText,
} from "../src/fleet-rows";
import type { FleetGraph, Hass, HassEntityState } from "../src/types";
import { unit, variable } from "./fixtures";

const state = (entity_id: string, value: string, attributes: Record<string, unknown> = {}): HassEntityState => ({
  entity_id,
  state: value,
  attributes,
});

describe("the fleet table's rows", () => {
  const bench = unit("a", "Bench", {
    version: "2.0.0",
    entities: { connectivity: "binary_sensor.bench_connectivity", firmware: "update.bench_firmware", restart: null },
    outputs: [variable("temperature"), { ...variable("gone"), entity_id: null }],
  });

  it("keeps per unit its name, version, status and update entities and the outputs with an entity", () => {
    expect(fleetRows([bench, unit("b", "Fan", { version: null })])).toEqual([
      {
        uid: "a",
        name: "Bench",
        version: "2.0.0",
        connectivity: "binary_sensor.bench_connectivity",
        available: true,
        firmware: "update.bench_firmware",
        values: [{ name: "temperature", entity_id: "sensor.temperature" }],
      },
      {
        uid: "b",
        name: "Fan",
        version: "—",
        connectivity: "binary_sensor.b_connectivity",
        available: true,
        firmware: null,
        values: [{ name: "out", entity_id: "sensor.out" }],
      },
    ]);
  });

  it("redraws for a new name or entity, not for the hub's availability (a state)", () => {
    const [row] = fleetRows([bench]);
    expect(rowsKey([{ ...row, available: false }])).toBe(rowsKey([row]));
    expect(rowsKey([{ ...row, name: "Bench 2" }])).not.toBe(rowsKey([row]));
    expect(rowsKey([{ ...row, values: [] }])).not.toBe(rowsKey([row]));
  });

  it("says online or offline by the connectivity entity, unknown before it has a state", () => {
    const [row] = fleetRows([bench]);
    const id = "binary_sensor.bench_connectivity";
    expect(unitStatus(row, { [id]: state(id, "on") })).toBe("online");
    expect(unitStatus(row, { [id]: state(id, "off") })).toBe("offline");
    expect(unitStatus(row, { [id]: state(id, "unavailable") })).toBe("unknown");
    expect(unitStatus(row, {})).toBe("unknown");
  });

  it("falls back to the hub's availability for a unit without a connectivity entity", () => {
    const row = { connectivity: null, available: true };
    expect(unitStatus(row, {})).toBe("online");
    expect(unitStatus({ ...row, available: false }, {})).toBe("offline");
  });

  it("describes the update entity's state", () => {
    const id = "update.bench_firmware";
    expect(updateText(undefined)).toBe("—");
    expect(updateText(state(id, "unknown"))).toBe("—");
    expect(updateText(state(id, "off", { latest_version: "2.0.0" }))).toBe("Up to date");
    expect(updateText(state(id, "on", { latest_version: "2.1.0" }))).toBe("Update: 2.1.0");
    expect(updateText(state(id, "on", { latest_version: null }))).toBe("Update available");
    expect(updateText(state(id, "on", { in_progress: true }))).toBe("Installing…");
    expect(updateText(state(id, "on", { in_progress: 40 }))).toBe("Installing 40 %");
  });

  it("labels a live value with its variable's name and unit", () => {
    expect(valueText("temperature", state("sensor.t", "21.5", { unit_of_measurement: "°C" }))).toBe("temperature 21.5 °C");
    expect(valueText("temperature", undefined)).toBe("temperature —");
  });

  it("finds units by every word of a query, in any case", () => {
    const rows = fleetRows([bench, unit("b", "Fan hall"), unit("c", "Fan bench")]);
    expect(matchingRows(rows, "")).toEqual(new Set(["a", "b", "c"]));
    expect(matchingRows(rows, "  BENCH ")).toEqual(new Set(["a", "c"]));
    expect(matchingRows(rows, "fan bench")).toEqual(new Set(["c"]));
    expect(matchingRows(rows, "door")).toEqual(new Set());
  });
});

describe("the shared fleet graph answer", () => {
  afterEach(() => forgetFleetGraph());
  const graph: FleetGraph = { units: [unit("a", "Bench")], links: [] };
  const hassWith = (callWS: Hass["callWS"], entities = {}, devices = {}): Hass =>
    ({ states: {}, entities, devices, callWS, callService: vi.fn() }) as unknown as Hass;

  it("asks once while the registries are the same objects and the answer is fresh", async () => {
    const callWS = vi.fn().mockResolvedValue(graph);
    const hass = hassWith(callWS);
    expect(await sharedFleetGraph(hass, 1000)).toBe(graph);
    expect(await sharedFleetGraph({ ...hass }, 1000 + SHARE_MS - 1)).toBe(graph);
    expect(callWS).toHaveBeenCalledTimes(1);
    expect(callWS).toHaveBeenCalledWith({ type: "makerhub/fleet_graph" });
  });

  it("asks again when a registry changed, the answer is old, or it was forgotten", async () => {
    const callWS = vi.fn().mockResolvedValue(graph);
    const hass = hassWith(callWS);
    await sharedFleetGraph(hass, 0);
    await sharedFleetGraph({ ...hass, entities: {} }, 0);
    expect(callWS).toHaveBeenCalledTimes(2);
    const now = hassWith(callWS, hass.entities, {});
    await sharedFleetGraph(now, 0);
    expect(callWS).toHaveBeenCalledTimes(3);
    await sharedFleetGraph(now, SHARE_MS);
    expect(callWS).toHaveBeenCalledTimes(4);
    forgetFleetGraph();
    await sharedFleetGraph(now, SHARE_MS);
    expect(callWS).toHaveBeenCalledTimes(5);
  });

  it("does not keep a refusal: the next caller asks again", async () => {
    const callWS = vi.fn().mockRejectedValueOnce(new Error("hub_not_loaded")).mockResolvedValue(graph);
    const hass = hassWith(callWS);
    await expect(sharedFleetGraph(hass, 0)).rejects.toThrow("hub_not_loaded");
    expect(await sharedFleetGraph(hass, 0)).toBe(graph);
    expect(callWS).toHaveBeenCalledTimes(2);
  });
});
