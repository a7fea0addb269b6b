import type { GraphLink, GraphUnit, GraphVariable, VarType } from "../src/types";

export function variable(name: string, type: VarType = "float"): GraphVariable {
  return { name, type, entity_id: `sensor.${name}` };
}

export function unit(uid: string, name: string, extra: Partial<GraphUnit> = {}): GraphUnit {
  return {
    uid,
    name,
    model: null,
    device_id: `device-${uid}`,
    area_id: null,
    owner: null,
    owner_name: null,
    visibility: "public",
    repository: null,
    repository_name: null,
    available: true,
    version: "1.0.0",
    entities: { connectivity: `binary_sensor.${uid}_connectivity`, firmware: null, restart: null },
    outputs: [variable("out")],
    inputs: [variable("in")],
    ...extra,
  };
}

export function link(source: string, target: string, extra: Partial<GraphLink> = {}): GraphLink {
  return {
    id: `${source}.out>${target}.in`,
    title: `${source} out → ${target} in`,
    source,
    output: "out",
    target,
    input: "in",
    ...extra,
  };
}

/** `n` units u000…, each feeding the next `fan` units after it (none past the end). */
export function chainFleet(n: number, fan = 0): { units: GraphUnit[]; links: GraphLink[] } {
  const units = Array.from({ length: n }, (_, i) => unit(`u${String(i).padStart(4, "0")}`, `Unit ${String(i).padStart(4, "0")}`));
  const links: GraphLink[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 1; j <= fan && i + j < n; j++) links.push(link(units[i].uid, units[i + j].uid));
  }
  return { units, links };
}
