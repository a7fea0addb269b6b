import { describe, expect, it } from "vitest";
import { PortIndex } from "../src/hittest";
import { layoutGraph, portPosition } from "../src/layout";
import { chainFleet, unit, variable } from "./fixtures";

describe("port hit-testing", () => {
  const units = [
    unit("a", "A", { inputs: [variable("i1"), variable("i2")], outputs: [variable("o1")] }),
    unit("b", "B"),
  ];
  const layout = layoutGraph(units, []);
  const index = new PortIndex(units, layout);

  it("finds the port under the pointer", () => {
    const at = portPosition(layout.nodes.get("a")!, "input", 1);
    const port = index.nearest({ x: at.x + 3, y: at.y - 2 }, 10);
    expect(port?.uid).toBe("a");
    expect(port?.variable.name).toBe("i2");
    expect(port?.direction).toBe("input");
  });

  it("finds nothing beyond the radius", () => {
    const at = portPosition(layout.nodes.get("a")!, "input", 0);
    expect(index.nearest({ x: at.x - 30, y: at.y }, 10)).toBeNull();
  });

  it("keeps to one direction and to visible units when asked", () => {
    const at = portPosition(layout.nodes.get("b")!, "output", 0);
    expect(index.nearest(at, 5, "input")).toBeNull();
    expect(index.nearest(at, 5, "output")?.uid).toBe("b");
    expect(index.nearest(at, 5, "output", (uid) => uid !== "b")).toBeNull();
  });

  it("finds ports across bucket borders and among a thousand units", () => {
    const fleet = chainFleet(1000);
    const big = layoutGraph(fleet.units, fleet.links);
    const bigIndex = new PortIndex(fleet.units, big);
    expect(bigIndex.ports.length).toBe(2000);
    for (const uid of ["u0000", "u0500", "u0999"]) {
      const at = portPosition(big.nodes.get(uid)!, "output", 0);
      expect(bigIndex.nearest({ x: at.x + 7, y: at.y + 7 }, 12)?.uid).toBe(uid);
    }
  });
});
