import { describe, expect, it } from "vitest";
import { layoutGraph } from "../src/layout";
import { MAX_ZOOM, fitView, pan, toGraph, toScreen, viewTransform, zoomAt } from "../src/viewport";
import { chainFleet } from "./fixtures";

describe("pan and zoom", () => {
  it("maps screen and graph points both ways", () => {
    const view = { x: 10, y: -20, k: 2 };
    const p = { x: 33, y: 44 };
    expect(toGraph(view, toScreen(view, p))).toEqual(p);
  });

  it("zooms about the pointer", () => {
    const view = { x: 5, y: 5, k: 1 };
    const pointer = { x: 200, y: 100 };
    const under = toGraph(view, pointer);
    const zoomed = zoomAt(view, pointer, 1.5);
    expect(zoomed.k).toBe(1.5);
    const after = toGraph(zoomed, pointer);
    expect(after.x).toBeCloseTo(under.x);
    expect(after.y).toBeCloseTo(under.y);
    expect(zoomAt(view, pointer, 1000).k).toBe(MAX_ZOOM);
  });

  it("pans by the pointer's movement", () => {
    expect(pan({ x: 1, y: 2, k: 3 }, 10, -5)).toEqual({ x: 11, y: -3, k: 3 });
  });

  it("fits the whole layout in the card, never enlarging", () => {
    const { units } = chainFleet(400);
    const layout = layoutGraph(units, []);
    const view = fitView(layout, 1000, 600);
    const corner = toScreen(view, { x: layout.width, y: layout.height });
    expect(corner.x).toBeLessThanOrEqual(1000);
    expect(corner.y).toBeLessThanOrEqual(600);
    const small = fitView(layoutGraph(units.slice(0, 1), []), 1000, 600);
    expect(small.k).toBe(1);
    expect(viewTransform({ x: 1, y: 2, k: 0.5 })).toBe("translate(1.00,2.00) scale(0.5000)");
  });
});
