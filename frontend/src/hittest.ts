/** Which port is under the pointer: an index of every variable's port in buckets of the
 * plane, built once per layout, so a drop over a thousand units looks at a handful. */

import { portPosition, type Layout, type Point } from "./layout";
import type { Direction, GraphUnit, GraphVariable } from "./types";

export interface Port {
  uid: string;
  direction: Direction;
  variable: GraphVariable;
  x: number;
  y: number;
}

const CELL = 128;

export class PortIndex {
  private readonly cells = new Map<string, Port[]>();
  readonly ports: Port[] = [];

  constructor(units: GraphUnit[], layout: Layout) {
    for (const unit of units) {
      const box = layout.nodes.get(unit.uid);
      if (box === undefined) continue;
      const add = (direction: Direction, variables: GraphVariable[]): void => {
        variables.forEach((variable, index) => {
          const at = portPosition(box, direction, index);
          const port = { uid: unit.uid, direction, variable, x: at.x, y: at.y };
          this.ports.push(port);
          const key = `${Math.floor(at.x / CELL)},${Math.floor(at.y / CELL)}`;
          const cell = this.cells.get(key);
          if (cell) cell.push(port);
          else this.cells.set(key, [port]);
        });
      };
      add("input", unit.inputs);
      add("output", unit.outputs);
    }
  }

  /** The nearest port within `radius` of `point` (graph coordinates), optionally of one
   * direction only and among the units `visible` accepts. */
  nearest(
    point: Point,
    radius: number,
    direction?: Direction,
    visible?: (uid: string) => boolean,
  ): Port | null {
    let best: Port | null = null;
    let bestDistance = radius * radius;
    const span = Math.ceil(radius / CELL);
    const cx = Math.floor(point.x / CELL);
    const cy = Math.floor(point.y / CELL);
    for (let i = cx - span; i <= cx + span; i++) {
      for (let j = cy - span; j <= cy + span; j++) {
        for (const port of this.cells.get(`${i},${j}`) ?? []) {
          if (direction !== undefined && port.direction !== direction) continue;
          if (visible !== undefined && !visible(port.uid)) continue;
          const d = (port.x - point.x) ** 2 + (port.y - point.y) ** 2;
          if (d <= bestDistance) {
            best = port;
            bestDistance = d;
          }
        }
      }
    }
    return best;
  }
}
