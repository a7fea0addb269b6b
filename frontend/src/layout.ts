/** A deterministic layered layout of the fleet: linked units in columns by their depth
 * in the link graph (sources left, what they feed to the right), units without links in a
 * grid after them. The same units and links always give the same positions, whatever
 * order they arrive in; it is computed once and values never move anything. */

import type { Direction, GraphLink, GraphUnit } from "./types";

export const NODE_WIDTH = 220;
export const HEADER = 28;
export const ROW = 20;
export const PADDING = 8;
export const GAP_X = 140;
export const GAP_Y = 28;

export interface NodeBox {
  uid: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The column group: the depth in the link graph, or -1 for units without links. */
  layer: number;
}

export interface Layout {
  nodes: Map<string, NodeBox>;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export function nodeHeight(unit: GraphUnit): number {
  return HEADER + Math.max(1, unit.inputs.length, unit.outputs.length) * ROW + PADDING;
}

/** Where a variable's port is: inputs on the node's left edge, outputs on its right. */
export function portPosition(box: NodeBox, direction: Direction, index: number): Point {
  return {
    x: direction === "input" ? box.x : box.x + box.width,
    y: box.y + HEADER + ROW * (index + 0.5),
  };
}

function byName(a: GraphUnit, b: GraphUnit): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
}

/** The unit-to-unit edges (each pair once), with the edges closing a cycle left out:
 * a depth-first walk in name order drops each edge back to a unit on its path. */
export function acyclicEdges(units: GraphUnit[], links: GraphLink[]): Map<string, string[]> {
  const known = new Set(units.map((unit) => unit.uid));
  const rank = new Map(units.map((unit, index) => [unit.uid, index]));
  const next = new Map<string, string[]>();
  for (const link of links) {
    if (!known.has(link.source) || !known.has(link.target) || link.source === link.target) continue;
    const targets = next.get(link.source) ?? [];
    if (!targets.includes(link.target)) targets.push(link.target);
    next.set(link.source, targets);
  }
  for (const targets of next.values()) targets.sort((a, b) => rank.get(a)! - rank.get(b)!);
  const kept = new Map<string, string[]>();
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  for (const unit of units) {
    if (state.has(unit.uid)) continue;
    // Iterative DFS: hundreds of units in a chain must not overflow the stack.
    const stack: [string, number][] = [[unit.uid, 0]];
    state.set(unit.uid, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const targets = next.get(top[0]) ?? [];
      if (top[1] >= targets.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const target = targets[top[1]++];
      if (state.get(target) === 1) continue; // back edge: closes a loop
      const out = kept.get(top[0]) ?? [];
      out.push(target);
      kept.set(top[0], out);
      if (!state.has(target)) {
        state.set(target, 1);
        stack.push([target, 0]);
      }
    }
  }
  return kept;
}

/** Each linked unit's depth: 0 for units nothing feeds, else one more than the deepest
 * unit feeding it (longest path over the acyclic edges). */
export function layers(units: GraphUnit[], edges: Map<string, string[]>): Map<string, number> {
  const incoming = new Map<string, number>();
  const linked = new Set<string>();
  for (const [source, targets] of edges) {
    linked.add(source);
    for (const target of targets) {
      linked.add(target);
      incoming.set(target, (incoming.get(target) ?? 0) + 1);
    }
  }
  const depth = new Map<string, number>();
  const queue = units.filter((u) => linked.has(u.uid) && !incoming.get(u.uid)).map((u) => u.uid);
  for (const uid of queue) depth.set(uid, 0);
  for (let head = 0; head < queue.length; head++) {
    const uid = queue[head];
    for (const target of edges.get(uid) ?? []) {
      depth.set(target, Math.max(depth.get(target) ?? 0, depth.get(uid)! + 1));
      const left = incoming.get(target)! - 1;
      incoming.set(target, left);
      if (left === 0) queue.push(target);
    }
  }
  return depth;
}

/** Stack boxes into columns no taller than `maxHeight` starting at `x`; return the x
 * after the last column. */
function placeColumns(
  column: GraphUnit[],
  layer: number,
  x: number,
  maxHeight: number,
  nodes: Map<string, NodeBox>,
): number {
  let y = 0;
  let used = false;
  for (const unit of column) {
    const height = nodeHeight(unit);
    if (used && y + height > maxHeight) {
      x += NODE_WIDTH + GAP_X;
      y = 0;
    }
    nodes.set(unit.uid, { uid: unit.uid, x, y, width: NODE_WIDTH, height, layer });
    y += height + GAP_Y;
    used = true;
  }
  return used ? x + NODE_WIDTH + GAP_X : x;
}

export function layoutGraph(unitsIn: GraphUnit[], links: GraphLink[]): Layout {
  const units = [...unitsIn].sort(byName);
  const edges = acyclicEdges(units, links);
  const depth = layers(units, edges);
  const predecessors = new Map<string, string[]>();
  for (const [source, targets] of edges) {
    for (const target of targets) {
      const list = predecessors.get(target) ?? [];
      list.push(source);
      predecessors.set(target, list);
    }
  }
  const columns: GraphUnit[][] = [];
  const isolated: GraphUnit[] = [];
  for (const unit of units) {
    const layer = depth.get(unit.uid);
    if (layer === undefined) isolated.push(unit);
    else (columns[layer] ??= []).push(unit);
  }
  // Order each column by the mean position of what feeds it (fewer crossings); ties and
  // the first column by name.
  const position = new Map<string, number>();
  columns.forEach((column, layer) => {
    if (layer > 0) {
      const key = (unit: GraphUnit): number => {
        const feeds = predecessors.get(unit.uid) ?? [];
        const known = feeds.filter((uid) => position.has(uid));
        return known.length === 0
          ? Number.MAX_SAFE_INTEGER
          : known.reduce((sum, uid) => sum + position.get(uid)!, 0) / known.length;
      };
      const keys = new Map(column.map((unit) => [unit.uid, key(unit)]));
      column.sort((a, b) => keys.get(a.uid)! - keys.get(b.uid)! || byName(a, b));
    }
    column.forEach((unit, index) => position.set(unit.uid, index));
  });
  // Columns about as tall as the whole is wide: hundreds of units make a grid, not a strip.
  const area = units.reduce((sum, unit) => sum + (nodeHeight(unit) + GAP_Y) * (NODE_WIDTH + GAP_X), 0);
  const maxHeight = Math.max(800, Math.sqrt(area));
  const nodes = new Map<string, NodeBox>();
  let x = 0;
  columns.forEach((column, layer) => {
    x = placeColumns(column, layer, x, maxHeight, nodes);
  });
  x = placeColumns(isolated, -1, x, maxHeight, nodes);
  let height = 0;
  for (const box of nodes.values()) height = Math.max(height, box.y + box.height);
  return { nodes, width: Math.max(0, x - GAP_X), height };
}

/** Whether the units differ from those a layout was made for (only then is it redone). */
export function sameUnits(layout: Layout, units: GraphUnit[]): boolean {
  if (layout.nodes.size !== units.length) return false;
  return units.every((unit) => {
    const box = layout.nodes.get(unit.uid);
    return box !== undefined && box.height === nodeHeight(unit);
  });
}

/** A cubic curve from an output port to an input port. */
export function edgePath(from: Point, to: Point): string {
  const bend = Math.max(40, Math.abs(to.x - from.x) / 2);
  return `M${from.x},${from.y} C${from.x + bend},${from.y} ${to.x - bend},${to.y} ${to.x},${to.y}`;
}
