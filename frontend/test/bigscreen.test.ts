import { describe, expect, it } from "vitest";
import { nextPage, paginate, Rotator, tileText, type BigTile, type Timers } from "../src/bigscreen";
import type { HassEntityState } from "../src/types";

const state = (s: string, attributes: Record<string, unknown> = {}): HassEntityState => ({ entity_id: "x.y", state: s, attributes });
const tile = (kind: BigTile["kind"]): BigTile => ({ entity: "x.y", name: "A name", kind });

describe("the big screen's tiles", () => {
  it("says 'no budget set' rather than Unknown, with what was spent", () => {
    expect(tileText(tile("budget"), state("unknown", { budget: null, spend: 12.5, currency: "EUR" }))).toEqual({
      value: "no budget set",
      detail: "12.50 EUR spent",
      highlight: false,
    });
    expect(tileText(tile("budget"), undefined).value).toBe("no budget set");
  });

  it("tells a set budget's share used and what is left, highlighted once overspent", () => {
    const used = tileText(tile("budget"), state("42.4", { budget: 100, spend: 42.4, remaining: 57.6, currency: "EUR" }));
    expect(used).toEqual({ value: "42 % used", detail: "57.60 EUR left of 100.00 EUR", highlight: false });
    expect(tileText(tile("budget"), state("120", { budget: 100, remaining: -20 })).highlight).toBe(true);
  });

  it("shows hours, counts, the space, a person's station and a project's progress", () => {
    expect(tileText(tile("hours"), state("3.456", { unit_of_measurement: "h" })).value).toBe("3.5 h");
    expect(tileText(tile("hours"), state("many")).value).toBe("many");
    expect(tileText(tile("count"), state("7")).value).toBe("7");
    expect(tileText(tile("money"), state("12.00", { unit_of_measurement: "EUR" })).value).toBe("12.00 EUR");
    expect(tileText(tile("space"), state("on"))).toEqual({ value: "open", detail: "", highlight: true });
    expect(tileText(tile("space"), state("off")).value).toBe("quiet");
    expect(tileText(tile("station"), state("Laser", { project: "Robot" }))).toEqual({ value: "Laser", detail: "Robot", highlight: true });
    expect(tileText(tile("station"), state("away")).highlight).toBe(false);
    const project = tileText(tile("project"), state("active", { steps_done: 2, steps_total: 5 }), state("3", { unit_of_measurement: "EUR" }));
    expect(project).toEqual({ value: "active", detail: "2 of 5 steps · 3 EUR this month", highlight: true });
    expect(tileText(tile("project"), state("paused", { steps_total: 0 }), state("unknown")).detail).toBe("");
  });

  it("shows a dash for a missing value, never 'unknown'", () => {
    expect(tileText(tile("count"), state("unknown")).value).toBe("—");
    expect(tileText(tile("count"), undefined).value).toBe("—");
  });
});

describe("the big screen's pages", () => {
  it("splits tiles into numbered pages of a screen each", () => {
    const tiles = Array.from({ length: 7 }, (_, i) => ({ ...tile("count"), entity: `s.${i}` }));
    const pages = paginate("People", tiles, 3);
    expect(pages.map((p) => [p.title, p.tiles.length])).toEqual([
      ["People (1/3)", 3],
      ["People (2/3)", 3],
      ["People (3/3)", 1],
    ]);
    expect(paginate("One", tiles.slice(0, 2))[0].title).toBe("One");
    expect(paginate("None", [])).toEqual([]);
  });

  it("turns the pages on the timer given, round and round, and stops", () => {
    let tick: (() => void) | undefined;
    const cleared: unknown[] = [];
    const timers: Timers = {
      setInterval: (callback, ms) => {
        expect(ms).toBe(2000);
        tick = callback;
        return 7;
      },
      clearInterval: (handle) => cleared.push(handle),
    };
    const turned: number[] = [];
    const rotator = new Rotator((i) => turned.push(i), timers);
    rotator.start(() => 3, 2);
    expect(rotator.running).toBe(true);
    tick!();
    tick!();
    tick!();
    expect(turned).toEqual([1, 2, 0]);
    rotator.stop();
    expect(cleared).toEqual([7]);
    expect(rotator.running).toBe(false);
    rotator.start(() => 3, 0); // 0: the pages stay
    expect(rotator.running).toBe(false);
  });

  it("uses the window's timers by default", async () => {
    const turned: number[] = [];
    const rotator = new Rotator((i) => turned.push(i));
    rotator.start(() => 2, 0.01);
    await new Promise<void>((resolve) => {
      const wait = (): void => void (turned.length > 0 ? resolve() : setTimeout(wait, 5));
      wait();
    });
    rotator.stop();
    expect(turned[0]).toBe(1);
  });

  it("stays on a single page", () => {
    expect(nextPage(0, 1)).toBe(0);
    expect(nextPage(0, 0)).toBe(0);
    expect(nextPage(1, 2)).toBe(0);
  });
});
