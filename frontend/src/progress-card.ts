/** `custom:makerhub-progress`: the projects in progress (status active) with their steps
 * done, as bars. */

import { escapeHtml } from "./format";
import { inProgress } from "./progress";
import type { Hass } from "./types";

interface ProgressConfig {
  title?: string;
  /** Project name → its status sensor. */
  projects?: { name: string; status: string }[];
}

const STYLE = `
:host { display: block; }
.progress { padding: 8px 16px 16px; }
h2 { margin: 8px 0; font-size: 1.3em; font-weight: 400; }
.project { margin: 10px 0; }
.row { display: flex; justify-content: space-between; gap: 8px; }
.bar { height: 10px; border-radius: 5px; background: var(--divider-color, #ddd); overflow: hidden; margin-top: 4px; }
.bar span { display: block; height: 100%; background: var(--primary-color); }
`;

export class MakerhubProgressCard extends HTMLElement {
  private _hass?: Hass;
  private config: ProgressConfig = {};
  private shown = "";
  private readonly root: ShadowRoot;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
  }

  setConfig(config: ProgressConfig): void {
    this.config = config;
    this.render();
  }

  getCardSize(): number {
    return 3;
  }

  set hass(hass: Hass) {
    this._hass = hass;
    this.render();
  }

  private render(): void {
    const hass = this._hass;
    if (!hass) return;
    const rows = inProgress(this.config.projects ?? [], hass.states)
      .map(
        (p) => `<div class="project"><div class="row"><span class="name">${escapeHtml(p.name)}</span>
          <span class="steps">${p.total > 0 ? `${p.done} of ${p.total} steps` : "no steps yet"}</span></div>
          <div class="bar"><span style="width:${p.percent}%"></span></div></div>`,
      )
      .join("");
    const html = `<style>${STYLE}</style><ha-card><div class="progress"><h2>${escapeHtml(this.config.title ?? "In progress")}</h2>
      ${rows || "<p>No project in progress.</p>"}</div></ha-card>`;
    if (html === this.shown) return;
    this.shown = html;
    this.root.innerHTML = html;
  }
}
