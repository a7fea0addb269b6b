/** `custom:makerhub-ops`: every expected health item as a tile for a wall touchscreen
 * (green working, red with its cause, grey when down because of what it depends on);
 * tap one for its details and to restart it now (`makerhub.restart_item`). */

import { escapeHtml, refusalMessage } from "./format";
import { opsTiles, type OpsTile } from "./ops";
import type { Hass } from "./types";

interface OpsConfig {
  entities?: string[];
  summary?: string;
}

const STYLE = `
:host { display: block; }
.ops { padding: 16px; }
.summary { font-size: 1.6em; margin: 0 0 12px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
button.tile { font: inherit; text-align: left; min-height: 96px; padding: 14px; border-radius: 14px; border: none; color: #fff; cursor: pointer; display: flex; flex-direction: column; gap: 6px; }
.tile.green { background: var(--success-color, #2e7d32); }
.tile.red { background: var(--error-color, #c62828); }
.tile.grey { background: #5f6368; }
.tile .name { font-size: 1.25em; font-weight: 600; overflow-wrap: anywhere; }
.tile .cause { font-size: 1em; overflow-wrap: anywhere; }
.details { position: fixed; inset: 0; background: rgba(0,0,0,.5); display: flex; align-items: center; justify-content: center; z-index: 10; }
.panel { background: var(--card-background-color, #fff); color: var(--primary-text-color); border-radius: 16px; padding: 24px; width: min(560px, 92vw); font-size: 1.2em; }
.panel h2 { margin: 0 0 12px; }
.panel dl { display: grid; grid-template-columns: auto 1fr; gap: 6px 16px; margin: 0 0 16px; }
.panel dt { color: var(--secondary-text-color); }
.panel dd { margin: 0; overflow-wrap: anywhere; }
.panel button { font: inherit; min-height: 56px; min-width: 140px; padding: 0 20px; border-radius: 12px; border: 1px solid var(--divider-color, #ccc); background: var(--secondary-background-color, #eee); color: var(--primary-text-color); }
.panel button.restart { background: var(--primary-color); color: var(--text-primary-color, #fff); border: none; }
.actions { display: flex; gap: 12px; flex-wrap: wrap; }
.message { margin-top: 12px; }
.message.error { color: var(--error-color, #c62828); }
.message:empty { display: none; }
`;

export class MakerhubOpsCard extends HTMLElement {
  private _hass?: Hass;
  private config: OpsConfig = {};
  private open?: string;
  private message = "";
  private failed = false;
  private shown = "";
  private readonly root: ShadowRoot;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.root.addEventListener("click", (ev) => this.clicked(ev));
  }

  setConfig(config: OpsConfig): void {
    this.config = config;
    this.render();
  }

  getCardSize(): number {
    return 6;
  }

  set hass(hass: Hass) {
    this._hass = hass;
    this.render();
  }

  private clicked(ev: Event): void {
    const target = ev.target as HTMLElement;
    const tile = target.closest<HTMLElement>("button.tile");
    if (tile) {
      this.open = tile.dataset.entity;
      this.message = "";
      this.failed = false;
    } else if (target.closest("button.close") || target.classList.contains("details")) {
      this.open = undefined;
    } else if (target.closest("button.restart") && this.open) {
      void this.restart(this.open);
      return;
    } else return;
    this.render();
  }

  private async restart(entity: string): Promise<void> {
    this.message = "Restarting…";
    this.failed = false;
    this.render();
    try {
      await this._hass!.callService("makerhub", "restart_item", { item: entity }, undefined, false);
      this.message = "Restart asked: the tile turns green once it runs again.";
    } catch (err) {
      this.message = refusalMessage(err);
      this.failed = true;
    }
    this.render();
  }

  private render(): void {
    const hass = this._hass;
    if (!hass) return;
    const tiles = opsTiles(this.config.entities ?? [], hass.states);
    const summary = this.config.summary ? hass.states[this.config.summary]?.attributes.summary : undefined;
    const open = tiles.find((tile) => tile.entity === this.open);
    const html = `<style>${STYLE}</style><ha-card><div class="ops">
      ${typeof summary === "string" ? `<p class="summary">${escapeHtml(summary)}</p>` : ""}
      <div class="tiles">${tiles.map((tile) => this.tile(tile)).join("")}</div>
      ${open ? this.details(open) : ""}</div></ha-card>`;
    if (html === this.shown) return;
    this.shown = html;
    this.root.innerHTML = html;
  }

  private tile(tile: OpsTile): string {
    return `<button type="button" class="tile ${tile.colour}" data-entity="${escapeHtml(tile.entity)}">
      <span class="name">${escapeHtml(tile.name)}</span><span class="cause">${escapeHtml(tile.cause)}</span></button>`;
  }

  private details(tile: OpsTile): string {
    const rows = tile.details.map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`).join("");
    return `<div class="details"><div class="panel" role="dialog" data-entity="${escapeHtml(tile.entity)}">
      <h2>${escapeHtml(tile.name)}</h2><dl>${rows}</dl>
      <div class="actions"><button type="button" class="restart">Restart now</button><button type="button" class="close">Close</button></div>
      <div class="message${this.failed ? " error" : ""}">${escapeHtml(this.message)}</div></div></div>`;
  }
}
