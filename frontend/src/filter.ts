/** The card's filters: by area, owner and repository. */

import type { GraphUnit } from "./types";

export interface Filters {
  area: string;
  owner: string;
  repository: string;
}

export const ANY = "";
/** The value of a filter that picks units with none (no area, owner or repository). */
export const NONE = "-";

export const NO_FILTERS: Filters = { area: ANY, owner: ANY, repository: ANY };

function matches(wanted: string, value: string | null): boolean {
  return wanted === ANY || (wanted === NONE ? value === null : value === wanted);
}

export function unitMatches(unit: GraphUnit, filters: Filters): boolean {
  return (
    matches(filters.area, unit.area_id) &&
    matches(filters.owner, unit.owner) &&
    matches(filters.repository, unit.repository)
  );
}

/** The uids of the units the filters let through. */
export function visibleUnits(units: GraphUnit[], filters: Filters): Set<string> {
  return new Set(units.filter((unit) => unitMatches(unit, filters)).map((unit) => unit.uid));
}

export interface Choice {
  value: string;
  label: string;
}

function choices(
  units: GraphUnit[],
  pick: (unit: GraphUnit) => [string | null, string | null],
  noneLabel: string,
): Choice[] {
  const found = new Map<string, string>();
  let none = false;
  for (const unit of units) {
    const [value, label] = pick(unit);
    if (value === null) none = true;
    else found.set(value, label ?? value);
  }
  const list = [...found].map(([value, label]) => ({ value, label }));
  list.sort((a, b) => a.label.localeCompare(b.label) || a.value.localeCompare(b.value));
  if (none) list.push({ value: NONE, label: noneLabel });
  return list;
}

/** What each filter offers: the areas, owners and repositories the units have. */
export function filterChoices(
  units: GraphUnit[],
  areaNames: Record<string, string>,
): { area: Choice[]; owner: Choice[]; repository: Choice[] } {
  return {
    area: choices(units, (u) => [u.area_id, u.area_id && (areaNames[u.area_id] ?? u.area_id)], "No area"),
    owner: choices(units, (u) => [u.owner, u.owner_name], "No owner (admins)"),
    repository: choices(units, (u) => [u.repository, u.repository_name], "No repository"),
  };
}
