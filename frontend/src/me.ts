/** The Me card's logic: whose projects, which is shown, which way a swipe goes. */

import type { Hass, HassEntityEntry, HassEntityState } from "./types";

export interface MyProject {
  id: string;
  name: string;
  status?: string;
}

export interface ProjectEntities {
  status?: string;
  cost?: string;
  steps?: string;
  desktop?: string;
}

export const SWIPE_DISTANCE = 50;

/** -1 (to the previous project), 1 (to the next) or 0 for a pointer moved by dx, dy. */
export function swipeDirection(dx: number, dy: number, distance = SWIPE_DISTANCE): -1 | 0 | 1 {
  if (Math.abs(dx) < distance || Math.abs(dx) < Math.abs(dy) * 1.5) return 0;
  return dx < 0 ? 1 : -1;
}

export function stepIndex(index: number, count: number, direction: number): number {
  return count === 0 ? 0 : (((index + direction) % count) + count) % count;
}

/** My person: the person whose user is the one logged in. */
export function myPerson(states: Record<string, HassEntityState>, userId: string | undefined): HassEntityState | undefined {
  if (!userId) return undefined;
  return Object.values(states).find((s) => s.entity_id.startsWith("person.") && s.attributes.user_id === userId);
}

/** A project's entities: its device (identifier `project-<id>`) and their translation keys. */
export function projectEntities(
  projectId: string,
  devices: Hass["devices"],
  entities: HassEntityEntry[],
): ProjectEntities {
  const device = Object.values(devices ?? {}).find((d) =>
    (d.identifiers ?? []).some(([domain, id]) => domain === "makerhub" && id === `project-${projectId}`),
  );
  if (!device) return {};
  const found: ProjectEntities = {};
  const keys: Record<string, keyof ProjectEntities> = {
    project_status: "status",
    project_cost: "cost",
    steps: "steps",
    desktop_running: "desktop",
  };
  for (const entry of entities) {
    const key = entry.translation_key && keys[entry.translation_key];
    if (entry.device_id === device.id && key) found[key] = entry.entity_id;
  }
  return found;
}

/** My active project's index: the one my active-project select shows (by name). */
export function activeIndex(projects: MyProject[], selected: string | undefined): number {
  const index = projects.findIndex((p) => p.name === selected || selected?.startsWith(`${p.name} (`));
  return index < 0 ? 0 : index;
}

/** What `makerhub/me` answers (the members feature), as far as the card reads it. */
export interface MeAnswer {
  person: string;
  name: string;
  agreement?: { needs_signing?: boolean };
  projects: {
    id: string;
    name: string;
    status: string;
    active: boolean;
    entities: Record<string, string | null>;
  }[];
  station: { name: string; display_device_id?: string | null; display_entities?: string[] } | null;
  accounts?: string[];
}

/** The screen near me: my station's display (its device) and what it shows. */
export interface MyScreen {
  device: string;
  showing: string | undefined;
}

export const ACCOUNT_SERVICES = [
  ["github", "GitHub"],
  ["todoist", "Todoist"],
] as const;

/** Where the Me card links (POST, with the token) or forgets (DELETE) an account. */
export function accountPath(service: string): string {
  return `makerhub/me/accounts/${encodeURIComponent(service)}`;
}

/** `makerhub.show_on_display`'s data: my desktop (my active project's) or idle, on the
 * display near me. */
export function showOnDisplay(device: string, what: "desktop" | "idle", person: string): Record<string, unknown> {
  return what === "desktop" ? { display: [device], what, person } : { display: [device], what };
}

/** The display's "showing" sensor among its entities. */
export function showingEntity(entities: string[]): string | undefined {
  return entities.find((e) => e.startsWith("sensor.") && e.endsWith("_showing"));
}

export interface MeView {
  person: string;
  name: string;
  projects: (MyProject & { entities: ProjectEntities })[];
  index: number;
  station: string | null;
  screen: MyScreen | null;
  /** The services my accounts are linked on; null when the hub does not say. */
  accounts: string[] | null;
  needsAgreement: boolean;
}

/** The card's view of a `makerhub/me` answer: my projects (archived ones left out) with
 * their entities, starting at my active one. */
export function fromMe(answer: MeAnswer): MeView {
  const projects = answer.projects
    .filter((p) => p.status !== "archived")
    .map((p) => ({
      id: p.id,
      name: p.name,
      status: p.status,
      active: p.active,
      entities: {
        status: p.entities.status ?? undefined,
        cost: p.entities.month_cost ?? p.entities.cost ?? undefined,
        steps: p.entities.todo ?? undefined,
        desktop: p.entities.desktop_running ?? undefined,
      },
    }));
  const active = projects.findIndex((p) => p.active);
  return {
    person: answer.person,
    name: answer.name,
    projects: projects.map(({ active: _active, ...project }) => project),
    index: active < 0 ? 0 : active,
    station: answer.station?.name ?? null,
    screen: answer.station?.display_device_id
      ? { device: answer.station.display_device_id, showing: showingEntity(answer.station.display_entities ?? []) }
      : null,
    accounts: answer.accounts ?? null,
    needsAgreement: answer.agreement?.needs_signing === true,
  };
}
