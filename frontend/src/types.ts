/** What `makerhub/fleet_graph` answers, and the parts of Home Assistant's `hass` object
 * the card and the strategy read. */

export type VarType = "float" | "int" | "bool" | "str" | "enum";
export type Direction = "input" | "output";

export interface GraphVariable {
  name: string;
  type: VarType;
  entity_id: string | null;
  unit?: string;
  options?: string[];
}

export interface GraphUnit {
  uid: string;
  name: string;
  model: string | null;
  device_id: string | null;
  area_id: string | null;
  owner: string | null;
  owner_name: string | null;
  visibility: string;
  repository: string | null;
  repository_name: string | null;
  available: boolean;
  version: string | null;
  entities: { connectivity: string | null; firmware: string | null; restart: string | null };
  outputs: GraphVariable[];
  inputs: GraphVariable[];
}

/** The hub's stored transform: `value * scale + offset`, clamped to `[min, max]`. */
export interface StoredTransform {
  scale?: number;
  offset?: number;
  min?: number;
  max?: number;
}

export interface GraphLink {
  id: string;
  title: string;
  source: string;
  output: string;
  target: string;
  input: string;
  transform?: StoredTransform;
}

export interface FleetGraph {
  units: GraphUnit[];
  links: GraphLink[];
}

export interface HassEntityState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
  last_changed?: string;
}

export interface HassEntityEntry {
  entity_id: string;
  platform: string;
  device_id?: string | null;
  area_id?: string | null;
  translation_key?: string;
  hidden?: boolean;
  entity_category?: string | null;
  name?: string | null;
}

export interface HassDeviceEntry {
  id: string;
  name: string | null;
  name_by_user?: string | null;
  area_id?: string | null;
  sw_version?: string | null;
  identifiers?: [string, string][];
}

export interface HassAreaEntry {
  area_id: string;
  name: string;
}

export interface HassUser {
  id: string;
  name: string;
  is_admin: boolean;
}

export interface Hass {
  states: Record<string, HassEntityState>;
  entities?: Record<string, HassEntityEntry>;
  devices?: Record<string, HassDeviceEntry>;
  areas?: Record<string, HassAreaEntry>;
  user?: HassUser;
  callWS<T>(message: Record<string, unknown>): Promise<T>;
  callApi?<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, data?: Record<string, unknown>): Promise<T>;
  callService(
    domain: string,
    service: string,
    data?: Record<string, unknown>,
    target?: Record<string, unknown>,
    notifyOnError?: boolean,
    returnResponse?: boolean,
  ): Promise<unknown>;
}
