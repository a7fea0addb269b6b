/** Text the card shows: values on edges, and the hub's refusals. */

import type { HassEntityState } from "./types";

export const UNAVAILABLE = new Set(["unavailable", "unknown"]);

export function formatValue(state: HassEntityState | undefined): string {
  if (state === undefined) return "—";
  if (UNAVAILABLE.has(state.state)) return state.state === "unknown" ? "?" : "—";
  const unit = state.attributes.unit_of_measurement;
  const text = state.state.length > 16 ? `${state.state.slice(0, 15)}…` : state.state;
  return typeof unit === "string" && unit !== "" ? `${text} ${unit}` : text;
}

interface ServiceError {
  code?: string;
  message?: string;
  translation_placeholders?: Record<string, string>;
}

/** The hub's reason for refusing an action, as a person reads it. Home Assistant sends a
 * refused link as a validation error whose `error` placeholder is the hub's message. */
export function refusalMessage(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const err = error as ServiceError;
    const reason = err.translation_placeholders?.error;
    if (typeof reason === "string" && reason !== "") return `Link refused: ${reason}`;
    if (typeof err.message === "string" && err.message !== "") {
      return err.message.replace(/^Validation error: /, "");
    }
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
