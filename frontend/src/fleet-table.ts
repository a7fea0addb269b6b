/** `custom:makerhub-fleet-table`: every unit in one card, a row each: name, status,
 * firmware version, update state and live values. Made for hundreds of units: the rows
 * are drawn once per set of units; a new state changes only the text of its cells; rows
 * outside the scrolled box are neither laid out nor painted (`content-visibility`). A
 * click on a cell opens that entity's dialog (the update entity's offers to install). */

import { escapeHtml, refusalMessage } from "./format";
import {
  STATUS_TEXT,
  fleetRows,
  matchingRows,
  rowsKey,
  sharedFleetGraph,
  unitStatus,
  updateText,
  valueText,
  type FleetRow,
  type UnitStatus,
} from "./fleet-rows";
import type { FleetGraph, Hass, HassEntityState } from "./types";

export interface FleetTableConfig {
  type: string;
  title?: string;
  /** The scrolled box's height, pixels. */
  height?: number;
}

const ROW_HEIGHT = 44;

const STYLE = `
:host { display: block; }
.head { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 12px; }
.head .title { font-size: 1.2em; font-weight: 500; margin-right: auto; }
.head .count { color: var(--secondary-text-color, #727272); }
.head input { font: inherit; min-width: 10em; }
.message { margin: 0 12px 8px; color: var(--error-color, #db4437); }
.message:empty { display: none; }
.box { overflow: auto; border-top: 1px solid var(--divider-color, #ddd); }
.row { display: grid; grid-template-columns: minmax(7em, 1.3fr) 5.2em minmax(5.5em, 0.9fr) minmax(7em, 1.6fr);
  gap: 8px; align-items: center; padding: 0 12px; min-height: ${ROW_HEIGHT}px; box-sizing: border-box;
  border-bottom: 1px solid var(--divider-color, #eee);
  content-visibility: auto; contain-intrinsic-size: auto ${ROW_HEIGHT}px; }
.row > span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.row > .unit { display: flex; flex-direction: column; }
.unit .name, .unit .version { overflow: hidden; text-overflow: ellipsis; }
.unit .version { font-size: 0.85em; color: var(--secondary-text-color, #727272); }
.row.header { position: sticky; top: 0; z-index: 1; content-visibility: visible; font-weight: 500;
  background: var(--card-background-color, #fff); color: var(--secondary-text-color, #727272); }
.row.hidden { display: none; }
.row [data-entity] { cursor: pointer; }
.status::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%;
  margin-right: 6px; background: var(--disabled-color, #bbb); }
.status.online::before { background: var(--success-color, #43a047); }
.status.offline::before { background: var(--error-color, #db4437); }
.status.offline, .status.unknown { color: var(--secondary-text-color, #727272); }
.values .value + .value::before { content: " · "; color: var(--secondary-text-color, #727272); }
.update.pending { color: var(--warning-color, #ffa600); font-weight: 500; }
`;

type CellKind = "status" | "update" | "value";
interface Cell {
  kind: CellKind;
  element: HTMLElement;
  name: string;
  row: FleetRow;
}

export class MakerhubFleetTable extends HTMLElement {
  private cardConfig: FleetTableConfig = { type: "custom:makerhub-fleet-table" };
  private _hass?: Hass;
  private rows: FleetRow[] = [];
  private unitsKey?: string;
  /** Per entity: the state last shown and the cells showing it. */
  private cells = new Map<string, { state?: HassEntityState; cells: Cell[] }>();
  private statuses = new Map<string, UnitStatus>();
  private loading?: Promise<void>;
  private entitiesSeen?: unknown;
  private devicesSeen?: unknown;
  private readonly root: ShadowRoot;
  private box?: HTMLElement;
  private list!: HTMLElement;
  private count!: HTMLElement;
  private message!: HTMLElement;
  private search!: HTMLInputElement;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
  }

  static getStubConfig(): FleetTableConfig {
    return { type: "custom:makerhub-fleet-table" };
  }

  setConfig(config: FleetTableConfig): void {
    if (config.height !== undefined && !(typeof config.height === "number" && config.height > 0)) {
      throw new Error("height must be a positive number of pixels");
    }
    this.cardConfig = { ...config };
    if (this.box) this.box.style.maxHeight = `${this.height}px`;
  }

  getCardSize(): number {
    return Math.ceil(this.height / 50) + 1;
  }

  private get height(): number {
    return this.cardConfig.height ?? 600;
  }

  set hass(hass: Hass) {
    this._hass = hass;
    if (!this.box) this.build();
    // Only a change of the registries can change the units; states only change cells.
    if (hass.entities !== this.entitiesSeen || hass.devices !== this.devicesSeen) {
      this.entitiesSeen = hass.entities;
      this.devicesSeen = hass.devices;
      void this.refresh();
    }
    this.updateCells(false);
  }

  get hass(): Hass | undefined {
    return this._hass;
  }

  /** Read the units again (fetches run one after another; the last sees the last change). */
  refresh(): Promise<void> {
    const fetch = async (): Promise<void> => {
      const hass = this._hass;
      if (!hass) return;
      try {
        this.show(await sharedFleetGraph(hass));
        this.message.textContent = "";
      } catch (err) {
        this.message.textContent = `Cannot read the fleet: ${refusalMessage(err)}`;
      }
    };
    this.loading = (this.loading ?? Promise.resolve()).then(fetch);
    return this.loading;
  }

  private build(): void {
    this.root.innerHTML = `<style>${STYLE}</style>
      <ha-card>
        <div class="head">
          <span class="title"></span>
          <span class="count"></span>
          <input type="search" placeholder="Find a unit" aria-label="Find a unit">
        </div>
        <div class="message" role="alert"></div>
        <div class="box">
          <div class="row header"><span>Unit, firmware</span><span>Status</span><span>Update</span><span>Live values</span></div>
          <div class="rows"></div>
        </div>
      </ha-card>`;
    const q = <T extends Element>(selector: string): T => this.root.querySelector(selector) as T;
    q<HTMLElement>(".title").textContent = this.cardConfig.title ?? "Units";
    this.box = q(".box");
    this.box.style.maxHeight = `${this.height}px`;
    this.list = q(".rows");
    this.count = q(".count");
    this.message = q(".message");
    this.search = q("input");
    this.search.addEventListener("input", () => this.applySearch());
    this.list.addEventListener("click", (ev) => {
      const cell = (ev.target as Element).closest<HTMLElement>("[data-entity]");
      if (cell?.dataset.entity) {
        this.dispatchEvent(
          new CustomEvent("hass-more-info", { detail: { entityId: cell.dataset.entity }, bubbles: true, composed: true }),
        );
      }
    });
  }

  /** Draw the rows when the units changed (by uid, name, version and entities). */
  private show(graph: FleetGraph): void {
    const rows = fleetRows(graph.units);
    const key = rowsKey(rows);
    this.rows = rows;
    if (key === this.unitsKey) {
      const byUid = new Map(rows.map((row) => [row.uid, row]));
      for (const entry of this.cells.values()) for (const cell of entry.cells) cell.row = byUid.get(cell.row.uid)!;
      this.updateCells(true);
      return;
    }
    this.unitsKey = key;
    const html: string[] = [];
    const attr = (id: string | null): string => (id ? ` data-entity="${escapeHtml(id)}"` : "");
    for (const row of rows) {
      html.push(
        `<div class="row" data-uid="${escapeHtml(row.uid)}">`,
        `<span class="unit"><span class="name"${attr(row.connectivity)}>${escapeHtml(row.name)}</span>`,
        `<span class="version" title="Firmware">${escapeHtml(row.version)}</span></span>`,
        `<span class="status unknown"${attr(row.connectivity)}>—</span>`,
        `<span class="update"${attr(row.firmware)}>—</span>`,
        `<span class="values">${row.values.map((v) => `<span class="value"${attr(v.entity_id)}></span>`).join("")}</span>`,
        "</div>",
      );
    }
    this.list.innerHTML = html.join("");
    this.cells.clear();
    this.statuses.clear();
    const add = (entity: string | null, cell: Cell): void => {
      if (!entity) return;
      const entry = this.cells.get(entity);
      if (entry) entry.cells.push(cell);
      else this.cells.set(entity, { cells: [cell] });
    };
    this.list.querySelectorAll<HTMLElement>(".row").forEach((element, index) => {
      const row = rows[index];
      add(row.connectivity ?? row.uid, { kind: "status", element: element.querySelector(".status")!, name: "", row });
      add(row.firmware, { kind: "update", element: element.querySelector(".update")!, name: "", row });
      element.querySelectorAll<HTMLElement>(".value").forEach((value, i) => {
        add(row.values[i].entity_id, { kind: "value", element: value, name: row.values[i].name, row });
      });
    });
    this.applySearch();
    this.updateCells(true);
    this.setAttribute("data-units", String(rows.length));
  }

  /** Show new states; only the cells of entities whose state object changed are touched. */
  private updateCells(force: boolean): void {
    const states = this._hass?.states;
    if (!states || this.rows.length === 0) return;
    let statusChanged = force;
    for (const [entity, entry] of this.cells) {
      const state = states[entity];
      if (!force && state === entry.state) continue;
      entry.state = state;
      for (const cell of entry.cells) {
        if (cell.kind === "value") {
          cell.element.textContent = valueText(cell.name, state);
        } else if (cell.kind === "update") {
          cell.element.textContent = updateText(state);
          cell.element.classList.toggle("pending", state?.state === "on");
        } else {
          const status = unitStatus(cell.row, states);
          if (this.statuses.get(cell.row.uid) !== status) {
            this.statuses.set(cell.row.uid, status);
            cell.element.textContent = STATUS_TEXT[status];
            cell.element.className = `status ${status}`;
            statusChanged = true;
          }
        }
      }
    }
    if (statusChanged) {
      let online = 0;
      for (const status of this.statuses.values()) if (status === "online") online += 1;
      this.count.textContent = `${this.rows.length} units · ${online} online`;
    }
  }

  private applySearch(): void {
    const shown = matchingRows(this.rows, this.search.value);
    this.list.querySelectorAll<HTMLElement>(".row").forEach((element, index) => {
      element.classList.toggle("hidden", !shown.has(this.rows[index].uid));
    });
  }
}
