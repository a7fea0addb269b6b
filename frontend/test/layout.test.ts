import { describe, expect, it } from "vitest";
import {
  GAP_X,
  HEADER,
  NODE_WIDTH,
  ROW,
  acyclicEdges,
  edgePath,
  layers,
  layoutGraph,
  nodeHeight,
  portPosition,
  sameUnits,
} from "../src/layout";
import { chainFleet, link, unit, variable } from "./fixtures";

describe("layered layout", () => {
  it("puts what a unit feeds in the next column", () => {
    const units = [unit("c", "C"), unit("a", "A"), unit("b", "B")];
    const layout = layoutGraph(units, [link("a", "b"), link("b", "c")]);
    const x = (uid: string) => layout.nodes.get(uid)!.x;
    expect(x("a")).toBe(0);
    expect(x("b")).toBe(NODE_WIDTH + GAP_X);
    expect(x("c")).toBe(2 * (NODE_WIDTH + GAP_X));
    expect(layout.nodes.get("b")!.layer).toBe(1);
  });

  it("takes the longest path: a unit fed from two depths sits after the deeper", () => {
    const units = ["a", "b", "c"].map((id) => unit(id, id.toUpperCase()));
    const depth = layers(units, acyclicEdges(units, [link("a", "b"), link("b", "c"), link("a", "c")]));
    expect(Object.fromEntries(depth)).toEqual({ a: 0, b: 1, c: 2 });
  });

  it("places units without links after the linked ones, in name order", () => {
    const units = [unit("z", "Zeta"), unit("l1", "L1"), unit("l2", "L2"), unit("y", "Alpha")];
    const layout = layoutGraph(units, [link("l1", "l2")]);
    const alpha = layout.nodes.get("y")!;
    const zeta = layout.nodes.get("z")!;
    expect(alpha.layer).toBe(-1);
    expect(alpha.x).toBeGreaterThan(layout.nodes.get("l2")!.x);
    expect(alpha.y).toBeLessThan(zeta.y);
  });

  it("survives loops: the edge closing a cycle is dropped, every unit placed", () => {
    const units = ["a", "b", "c"].map((id) => unit(id, id));
    const links = [link("a", "b"), link("b", "c"), link("c", "a"), link("a", "a")];
    const edges = acyclicEdges(units, links);
    expect(edges.get("c")).toBeUndefined();
    expect(edges.get("a")).toEqual(["b"]);
    const layout = layoutGraph(units, links);
    expect([...layout.nodes.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(layout.nodes.get("c")!.layer).toBe(2);
  });

  it("ignores links to units it does not know", () => {
    const layout = layoutGraph([unit("a", "A")], [link("a", "gone"), link("gone", "a")]);
    expect(layout.nodes.get("a")!.layer).toBe(-1);
  });

  it("is deterministic whatever order the units and links come in", () => {
    const { units, links } = chainFleet(60, 2);
    const one = layoutGraph(units, links);
    const shuffled = [...units].reverse();
    const two = layoutGraph(shuffled, [...links].reverse());
    expect([...two.nodes.entries()].sort()).toEqual([...one.nodes.entries()].sort());
  });

  it("never overlaps two boxes", () => {
    const { units, links } = chainFleet(300, 1);
    units.push(...chainFleet(200).units.map((u) => ({ ...u, uid: `i${u.uid}`, name: `Iso ${u.name}` })));
    const layout = layoutGraph(units, links.slice(0, 120));
    const boxes = [...layout.nodes.values()];
    const byColumn = new Map<number, typeof boxes>();
    for (const box of boxes) byColumn.set(box.x, [...(byColumn.get(box.x) ?? []), box]);
    for (const column of byColumn.values()) {
      column.sort((a, b) => a.y - b.y);
      for (let i = 1; i < column.length; i++) {
        expect(column[i].y).toBeGreaterThanOrEqual(column[i - 1].y + column[i - 1].height);
      }
    }
    expect(layout.nodes.size).toBe(500);
  });

  it("wraps a thousand units into a grid, not a strip, fast", () => {
    const { units, links } = chainFleet(1000);
    const started = performance.now();
    const layout = layoutGraph(units, links);
    const took = performance.now() - started;
    expect(layout.width / layout.height).toBeGreaterThan(0.3);
    expect(layout.width / layout.height).toBeLessThan(3);
    expect(took).toBeLessThan(2000); // generous: measured in milliseconds
  });

  it("orders a column by what feeds it (fewer crossings)", () => {
    // a feeds y, b feeds x: x should sit below y though it sorts first by name.
    const units = [unit("a", "A"), unit("b", "B"), unit("x", "X"), unit("y", "Y")];
    const layout = layoutGraph(units, [link("a", "y"), link("b", "x")]);
    expect(layout.nodes.get("y")!.y).toBeLessThan(layout.nodes.get("x")!.y);
  });

  it("sizes nodes by their longest side and puts ports on the edges", () => {
    const big = unit("a", "A", { inputs: [variable("i1"), variable("i2"), variable("i3")], outputs: [variable("o")] });
    expect(nodeHeight(big)).toBe(HEADER + 3 * ROW + 8);
    const layout = layoutGraph([big], []);
    const box = layout.nodes.get("a")!;
    expect(portPosition(box, "input", 2)).toEqual({ x: box.x, y: box.y + HEADER + 2.5 * ROW });
    expect(portPosition(box, "output", 0).x).toBe(box.x + NODE_WIDTH);
  });

  it("knows when the units changed (only then is the layout redone)", () => {
    const units = [unit("a", "A"), unit("b", "B")];
    const layout = layoutGraph(units, []);
    expect(sameUnits(layout, [...units].reverse())).toBe(true);
    expect(sameUnits(layout, [units[0]])).toBe(false);
    expect(sameUnits(layout, [units[0], unit("c", "C")])).toBe(false);
    expect(sameUnits(layout, [units[0], { ...units[1], inputs: [variable("a"), variable("b")] }])).toBe(false);
  });

  it("draws an edge as a curve from one port to the other", () => {
    expect(edgePath({ x: 0, y: 0 }, { x: 200, y: 50 })).toBe("M0,0 C100,0 100,50 200,50");
  });
});
