import { describe, expect, it } from "vitest";
import { FRESH_MS, keepGraph, takeGraph } from "../src/graphcache";
import type { FleetGraph, Hass } from "../src/types";

const graph: FleetGraph = { units: [], links: [] };
const hass = (entities = {}, devices = {}): Hass => ({ entities, devices }) as unknown as Hass;

describe("the strategy's graph kept for the graph card", () => {
  it("is taken once, while the registries are those the strategy saw", () => {
    const seen = hass();
    keepGraph(graph, seen, 1000);
    expect(takeGraph(seen, 1500)).toBe(graph);
    expect(takeGraph(seen, 1600)).toBeUndefined(); // taken: the card fetches from then on
  });

  it("is not taken once a registry changed, once old, or from the future", () => {
    const seen = hass();
    keepGraph(graph, seen, 1000);
    expect(takeGraph(hass({}, seen.devices), 1001)).toBeUndefined();
    keepGraph(graph, seen, 1000);
    expect(takeGraph(hass(seen.entities, {}), 1001)).toBeUndefined();
    keepGraph(graph, seen, 1000);
    expect(takeGraph(seen, 1000 + FRESH_MS + 1)).toBeUndefined();
    keepGraph(graph, seen, 1000);
    expect(takeGraph(seen, 999)).toBeUndefined();
  });
});
