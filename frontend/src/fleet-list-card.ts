/** `custom:makerhub-fleet-list`: the units of a large fleet, a page at a time. Hundreds
 * of entities cards (one per unit) each redraw for every state change; this card draws
 * only the rows of the page shown, and only when a value on it changed. */

import { escapeHtml, formatValue } from "./format";
import { PAGE_SIZE, pageOf, type FleetRow } from "./fleetlist";
import type { Hass } from "./types";

interface FleetListConfig {
  title?: string;
  units?: FleetRow[];
  page_size?: number;
}

const STYLE = `
:host { display: block; }
.list { padding: 8px 16px 16px; }
h2 { margin: 8px 0; font-size: 1.3em; font-weight: 400; }
.bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
.bar input { font: inherit; padding: 6px 8px; flex: 1; min-width: 120px; }
.bar button { font: inherit; padding: 6px 12px; }
table { width: 100%; border-collapse: collapse; }
td, th { text-align: left; padding: 6px 4px; border-bottom: 1px solid var(--divider-color, #ddd); vertical-align: top; }
.value { cursor: pointer; margin-right: 12px; white-space: nowrap; }
.status.on { color: var(--success-color, #2e7d32); }
.status.off { color: var(--error-color, #c62828); }
`;

export class MakerhubFleetList extends HTMLElement {
  private _hass?: Hass;
  private config: FleetListConfig = {};
  private page = 0;
  private filter = "";
  private shownRows = "";
  private readonly root: ShadowRoot;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
  }

  setConfig(config: FleetListConfig): void {
    performance.mark("makerhub:fleet-list-config");
    this.config = config;
    this.root.innerHTML = `<style>${STYLE}</style><ha-card><div class="list">
      <h2>${escapeHtml(config.title ?? "Units")}</h2>
      <div class="bar"><input type="search" name="filter" placeholder="Filter by name" aria-label="Filter by name">
        <button type="button" class="previous" aria-label="Previous page">‹</button><span class="pages"></span>
        <button type="button" class="next" aria-label="Next page">›</button></div>
      <table><tbody></tbody></table></div></ha-card>`;
    this.shownRows = "";
    const input = this.root.querySelector("input")!;
    input.addEventListener("input", () => {
      this.filter = input.value;
      this.page = 0;
      this.render();
    });
    this.root.querySelector(".previous")!.addEventListener("click", () => this.turn(-1));
    this.root.querySelector(".next")!.addEventListener("click", () => this.turn(1));
    this.root.querySelector("tbody")!.addEventListener("click", (ev) => {
      const entity = (ev.target as HTMLElement).closest<HTMLElement>("[data-entity]")?.dataset.entity;
      if (entity) this.dispatchEvent(new CustomEvent("hass-more-info", { detail: { entityId: entity }, bubbles: true, composed: true }));
    });
    this.render();
  }

  getCardSize(): number {
    return 12;
  }

  set hass(hass: Hass) {
    this._hass = hass;
    this.render();
  }

  private turn(step: number): void {
    this.page += step;
    this.render();
  }

  private render(): void {
    const hass = this._hass;
    const body = this.root.querySelector("tbody");
    if (!hass || !body) return;
    if (this.shownRows === "") performance.mark("makerhub:fleet-list-drawn");
    const shown = pageOf(this.config.units ?? [], this.filter, this.page, this.config.page_size ?? PAGE_SIZE);
    this.page = shown.page;
    const html = shown.rows
      .map((row) => {
        const status = row.status ? hass.states[row.status]?.state : undefined;
        const values = row.outputs
          .map((entity) => `<span class="value" data-entity="${escapeHtml(entity)}">${escapeHtml(formatValue(hass.states[entity]))}</span>`)
          .join("");
        return `<tr><td class="name">${escapeHtml(row.name)}${row.version ? ` · ${escapeHtml(row.version)}` : ""}</td>
          <td class="status ${status === "on" ? "on" : "off"}"${row.status ? ` data-entity="${escapeHtml(row.status)}"` : ""}>${status === "on" ? "online" : status === undefined ? "—" : "offline"}</td>
          <td>${values}</td></tr>`;
      })
      .join("");
    const pages = `${shown.page + 1} / ${shown.pages} (${shown.matching})`;
    this.root.querySelector(".pages")!.textContent = pages;
    if (html === this.shownRows) return;
    this.shownRows = html;
    body.innerHTML = html;
  }
}
