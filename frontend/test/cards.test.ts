import { describe, expect, it } from "vitest";
import { pageOf, type FleetRow } from "../src/fleetlist";
import { inProgress } from "../src/progress";
import type { HassEntityState } from "../src/types";

const rows: FleetRow[] = Array.from({ length: 60 }, (_, i) => ({ name: `Unit ${i}`, version: null, status: null, outputs: [] }));

describe("the fleet list", () => {
  it("shows a page of rows, the last page when asked past it", () => {
    expect(pageOf(rows, "", 0)).toMatchObject({ page: 0, pages: 3, matching: 60 });
    expect(pageOf(rows, "", 0).rows).toHaveLength(25);
    const last = pageOf(rows, "", 9);
    expect(last.page).toBe(2);
    expect(last.rows.map((r) => r.name)).toEqual(rows.slice(50).map((r) => r.name));
    expect(pageOf(rows, "", -1).page).toBe(0);
  });

  it("filters by name, any case", () => {
    const found = pageOf(rows, " UNIT 5", 0);
    expect(found.rows.map((r) => r.name)).toEqual(["Unit 5", "Unit 50", "Unit 51", "Unit 52", "Unit 53", "Unit 54", "Unit 55", "Unit 56", "Unit 57", "Unit 58", "Unit 59"]);
    expect(pageOf(rows, "nothing", 3)).toMatchObject({ rows: [], page: 0, pages: 1, matching: 0 });
  });
});

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
