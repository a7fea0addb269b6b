/** The Big screen's logic: which pages it cycles through, what each tile says, and the
 * timer that turns the pages (injectable, so tests turn them without waiting). */

import type { HassEntityState } from "./types";

export type TileKind = "budget" | "hours" | "count" | "money" | "space" | "station" | "project";

export interface BigTile {
  entity: string;
  name: string;
  kind: TileKind;
  /** A second entity told under the value (a project's cost this month). */
  secondary?: string;
}

export interface BigPage {
  title: string;
  tiles: BigTile[];
}

/** At most this many tiles a page: legible across a room, no scrolling at 1920×1080. */
export const TILES_PER_PAGE = 6;
export const DEFAULT_ROTATE_SECONDS = 15;

export interface TileText {
  value: string;
  detail: string;
  /** A tile to notice: a budget overspent, a space active. */
  highlight: boolean;
}

const MISSING = new Set(["unknown", "unavailable"]);

function number(text: string): number | null {
  const value = Number(text);
  return text.trim() === "" || Number.isNaN(value) ? null : value;
}

function withUnit(state: HassEntityState): string {
  const unit = state.attributes.unit_of_measurement;
  return typeof unit === "string" && unit !== "" ? `${state.state} ${unit}` : state.state;
}

function money(value: unknown, currency: unknown): string {
  const amount = typeof value === "number" ? value.toFixed(2) : String(value);
  return typeof currency === "string" && currency !== "" ? `${amount} ${currency}` : amount;
}

/** What a tile shows of its entity's state (a missing state reads "—", never "Unknown"). */
export function tileText(tile: BigTile, state: HassEntityState | undefined, secondary?: HassEntityState): TileText {
  const none = { value: "—", detail: "", highlight: false };
  if (tile.kind === "budget") {
    const budget = state?.attributes.budget;
    if (state === undefined || budget === null || budget === undefined || MISSING.has(state.state)) {
      const spend = state?.attributes.spend;
      return {
        value: "no budget set",
        detail: spend === undefined ? "" : `${money(spend, state?.attributes.currency)} spent`,
        highlight: false,
      };
    }
    const used = number(state.state) ?? 0;
    const remaining = state.attributes.remaining;
    return {
      value: `${Math.round(used)} % used`,
      detail: `${money(remaining, state.attributes.currency)} left of ${money(budget, state.attributes.currency)}`,
      highlight: used > 100,
    };
  }
  if (state === undefined || MISSING.has(state.state)) return none;
  switch (tile.kind) {
    case "hours": {
      const hours = number(state.state);
      return { value: hours === null ? state.state : `${hours.toFixed(1)} h`, detail: "", highlight: false };
    }
    case "space":
      return { value: state.state === "on" ? "open" : "quiet", detail: "", highlight: state.state === "on" };
    case "station": {
      const project = state.attributes.project;
      return {
        value: state.state,
        detail: typeof project === "string" && project !== "" ? project : "",
        highlight: state.state !== "away",
      };
    }
    case "project": {
      const done = state.attributes.steps_done;
      const total = state.attributes.steps_total;
      const steps = typeof done === "number" && typeof total === "number" && total > 0 ? `${done} of ${total} steps` : "";
      const cost = secondary && !MISSING.has(secondary.state) ? `${withUnit(secondary)} this month` : "";
      return { value: state.state, detail: [steps, cost].filter(Boolean).join(" · "), highlight: state.state === "active" };
    }
    default:
      return { value: withUnit(state), detail: "", highlight: false };
  }
}

/** Split `tiles` into pages of at most TILES_PER_PAGE, titled "title (2/3)" past one. */
export function paginate(title: string, tiles: BigTile[], size = TILES_PER_PAGE): BigPage[] {
  const pages: BigPage[] = [];
  for (let i = 0; i < tiles.length; i += size) pages.push({ title, tiles: tiles.slice(i, i + size) });
  if (pages.length > 1) pages.forEach((page, i) => (page.title = `${title} (${i + 1}/${pages.length})`));
  return pages;
}

export function nextPage(index: number, count: number): number {
  return count <= 1 ? 0 : (index + 1) % count;
}

export interface Timers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const windowTimers: Timers = {
  setInterval: (callback, ms) => globalThis.setInterval(callback, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle as ReturnType<typeof setInterval>),
};

/** Turns the pages every `seconds` while started (one timer at most). */
export class Rotator {
  index = 0;
  private handle: unknown = undefined;

  constructor(
    private readonly onTurn: (index: number) => void,
    private readonly timers: Timers = windowTimers,
  ) {}

  get running(): boolean {
    return this.handle !== undefined;
  }

  start(count: () => number, seconds: number): void {
    this.stop();
    if (!(seconds > 0)) return;
    this.handle = this.timers.setInterval(() => {
      this.index = nextPage(this.index, count());
      this.onTurn(this.index);
    }, seconds * 1000);
  }

  stop(): void {
    if (this.handle !== undefined) this.timers.clearInterval(this.handle);
    this.handle = undefined;
  }
}
