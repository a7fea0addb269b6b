/** Panning and zooming: the graph is drawn once and moved by one transform. */

import type { Layout, Point } from "./layout";

export interface View {
  x: number;
  y: number;
  k: number;
}

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 4;

export function toGraph(view: View, screen: Point): Point {
  return { x: (screen.x - view.x) / view.k, y: (screen.y - view.y) / view.k };
}

export function toScreen(view: View, point: Point): Point {
  return { x: point.x * view.k + view.x, y: point.y * view.k + view.y };
}

/** Zoom by `factor` keeping the graph point under `screen` where it is. */
export function zoomAt(view: View, screen: Point, factor: number): View {
  const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k * factor));
  const anchor = toGraph(view, screen);
  return { k, x: screen.x - anchor.x * k, y: screen.y - anchor.y * k };
}

export function pan(view: View, dx: number, dy: number): View {
  return { k: view.k, x: view.x + dx, y: view.y + dy };
}

/** The view showing the whole layout in a `width` × `height` area (never above 1:1). */
export function fitView(layout: Layout, width: number, height: number, margin = 24): View {
  if (layout.width <= 0 || layout.height <= 0 || width <= 0 || height <= 0) {
    return { x: margin, y: margin, k: 1 };
  }
  const k = Math.max(
    MIN_ZOOM,
    Math.min(1, (width - 2 * margin) / layout.width, (height - 2 * margin) / layout.height),
  );
  return {
    k,
    x: (width - layout.width * k) / 2,
    y: Math.max(margin, (height - layout.height * k) / 2),
  };
}

export function viewTransform(view: View): string {
  return `translate(${view.x.toFixed(2)},${view.y.toFixed(2)}) scale(${view.k.toFixed(4)})`;
}
