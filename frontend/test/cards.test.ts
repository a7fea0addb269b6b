import { describe, expect, it } from "vitest";
import { inProgress } from "../src/progress";
import type { HassEntityState } from "../src/types";


describe("projects in progress", () => {
  it("keeps the active projects, the furthest first, with their steps done", () => {
    const state = (s: string, attributes: Record<string, unknown>): HassEntityState => ({ entity_id: "", state: s, attributes });
    const states = {
      "s.a": state("active", { steps_done: 1, steps_total: 4 }),
      "s.b": state("active", { steps_done: 3, steps_total: 4 }),
      "s.c": state("paused", { steps_done: 4, steps_total: 4 }),
      "s.d": state("active", {}),
    };
    const projects = ["a", "b", "c", "d", "e"].map((n) => ({ name: n.toUpperCase(), status: `s.${n}` }));
    expect(inProgress(projects, states)).toEqual([
      { name: "B", done: 3, total: 4, percent: 75 },
      { name: "A", done: 1, total: 4, percent: 25 },
      { name: "D", done: 0, total: 0, percent: 0 },
    ]);
  });
});
