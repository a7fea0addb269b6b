/** A link's transform in the card's editor: the hub's rules checked before asking it
 * (finite numbers, minimum not above maximum, numbers only), and the action's fields. */

import type { GraphVariable, StoredTransform, VarType } from "./types";

export interface TransformForm {
  scale: string;
  offset: string;
  minimum: string;
  maximum: string;
}

/** The `makerhub.link` fields of a transform (defaults left out). */
export interface TransformFields {
  scale?: number;
  offset?: number;
  minimum?: number;
  maximum?: number;
}

export type Parsed =
  | { ok: true; fields: TransformFields }
  | { ok: false; errors: Partial<Record<keyof TransformForm, string>> };

const NUMERIC: ReadonlySet<VarType> = new Set(["float", "int"]);

export function transformAllowed(output: GraphVariable, input: GraphVariable): boolean {
  return NUMERIC.has(output.type) && NUMERIC.has(input.type);
}

export function formOf(transform: StoredTransform | undefined): TransformForm {
  const text = (value: number | undefined): string => (value === undefined ? "" : String(value));
  return {
    scale: text(transform?.scale),
    offset: text(transform?.offset),
    minimum: text(transform?.min),
    maximum: text(transform?.max),
  };
}

export function parseTransform(form: TransformForm): Parsed {
  const errors: Partial<Record<keyof TransformForm, string>> = {};
  const fields: TransformFields = {};
  for (const key of ["scale", "offset", "minimum", "maximum"] as const) {
    const text = form[key].trim();
    if (text === "") continue;
    const value = Number(text);
    if (!Number.isFinite(value)) errors[key] = `${key} must be a finite number, not "${text}"`;
    else fields[key] = value;
  }
  if (
    errors.minimum === undefined &&
    errors.maximum === undefined &&
    fields.minimum !== undefined &&
    fields.maximum !== undefined &&
    fields.minimum > fields.maximum
  ) {
    errors.minimum = `minimum ${fields.minimum} is greater than maximum ${fields.maximum}`;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  if (fields.scale === 1) delete fields.scale;
  if (fields.offset === 0) delete fields.offset;
  return { ok: true, fields };
}

/** The transform as the edge's label shows it: `×2 +1 [0…100]`, empty for none. */
export function describeTransform(transform: StoredTransform | undefined): string {
  if (transform === undefined) return "";
  const parts: string[] = [];
  if (transform.scale !== undefined && transform.scale !== 1) parts.push(`×${transform.scale}`);
  if (transform.offset !== undefined && transform.offset !== 0) {
    parts.push(transform.offset > 0 ? `+${transform.offset}` : `−${-transform.offset}`);
  }
  if (transform.min !== undefined || transform.max !== undefined) {
    parts.push(`[${transform.min ?? "−∞"}…${transform.max ?? "∞"}]`);
  }
  return parts.join(" ");
}

/** What the unit will receive for `value` (the card's preview; units apply it). */
export function applyTransform(transform: StoredTransform | undefined, value: number): number {
  let result = value * (transform?.scale ?? 1) + (transform?.offset ?? 0);
  if (transform?.min !== undefined && result < transform.min) result = transform.min;
  if (transform?.max !== undefined && result > transform.max) result = transform.max;
  return result;
}
