/** Projects in progress: the active ones and their steps done. */

import type { HassEntityState } from "./types";

export interface Progress {
  name: string;
  done: number;
  total: number;
  percent: number;
}

/** The active projects' progress (steps done of all), those with most to do last. */
export function inProgress(projects: { name: string; status: string }[], states: Record<string, HassEntityState>): Progress[] {
  return projects
    .filter((p) => states[p.status]?.state === "active")
    .map((p) => {
      const a = states[p.status]!.attributes;
      const done = typeof a.steps_done === "number" ? a.steps_done : 0;
      const total = typeof a.steps_total === "number" ? a.steps_total : 0;
      return { name: p.name, done, total, percent: total > 0 ? Math.round((done / total) * 100) : 0 };
    })
    .sort((a, b) => b.percent - a.percent || a.name.localeCompare(b.name));
}
