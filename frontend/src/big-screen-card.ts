/** `custom:makerhub-big-screen`: the wall TV's view. Big tiles on one screen (no
 * scrolling at 1920×1080), the pages the strategy made turned every `rotate_seconds`
 * (0: never), names wrapped rather than cut. */

import { DEFAULT_ROTATE_SECONDS, Rotator, tileText, type BigPage } from "./bigscreen";
import { escapeHtml } from "./format";
import type { Hass } from "./types";

interface BigScreenConfig {
  pages?: BigPage[];
  rotate_seconds?: number;
}

const STYLE = `
:host { display: block; }
.screen { box-sizing: border-box; height: calc(100vh - var(--header-height, 56px)); overflow: hidden; padding: 2vh 2vw; display: flex; flex-direction: column; gap: 2vh; }
header { display: flex; align-items: baseline; justify-content: space-between; gap: 2vw; }
h1 { margin: 0; font-size: clamp(28px, 5vh, 64px); line-height: 1.1; }
.dots { font-size: clamp(16px, 3vh, 36px); letter-spacing: .4em; color: var(--secondary-text-color); white-space: nowrap; }
.dots .on { color: var(--primary-color); }
.tiles { flex: 1; min-height: 0; display: grid; grid-template-columns: repeat(3, 1fr); grid-auto-rows: 1fr; gap: 2vh 2vw; }
.tile { min-height: 0; overflow: hidden; border-radius: 16px; padding: 2vh 1.5vw; background: var(--card-background-color, #fff); box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0,0,0,.2)); display: flex; flex-direction: column; justify-content: center; gap: 1vh; }
.tile.highlight { outline: 4px solid var(--primary-color); }
.name { font-size: clamp(18px, 3.2vh, 40px); color: var(--secondary-text-color); overflow-wrap: anywhere; line-height: 1.15; }
.value { font-size: clamp(28px, 7vh, 96px); font-weight: 600; line-height: 1.05; overflow-wrap: anywhere; }
.detail { font-size: clamp(16px, 2.8vh, 34px); color: var(--secondary-text-color); overflow-wrap: anywhere; }
.detail:empty { display: none; }
`;

export class MakerhubBigScreen extends HTMLElement {
  private _hass?: Hass;
  private config: BigScreenConfig = {};
  private shown = "";
  private readonly root: ShadowRoot;
  readonly rotator = new Rotator(() => this.render());

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
  }

  setConfig(config: BigScreenConfig): void {
    this.config = config;
    this.rotator.index = 0;
    if (this.isConnected) this.startRotating();
    this.render();
  }

  getCardSize(): number {
    return 12;
  }

  set hass(hass: Hass) {
    this._hass = hass;
    this.render();
  }

  connectedCallback(): void {
    this.startRotating();
  }

  disconnectedCallback(): void {
    this.rotator.stop();
  }

  private get pages(): BigPage[] {
    return this.config.pages ?? [];
  }

  private startRotating(): void {
    this.rotator.start(() => this.pages.length, this.config.rotate_seconds ?? DEFAULT_ROTATE_SECONDS);
  }

  private render(): void {
    const hass = this._hass;
    if (!hass) return;
    const pages = this.pages;
    const index = Math.min(this.rotator.index, Math.max(0, pages.length - 1));
    const page = pages[index];
    const tiles = (page?.tiles ?? [])
      .map((tile) => {
        const text = tileText(tile, hass.states[tile.entity], tile.secondary ? hass.states[tile.secondary] : undefined);
        return `<div class="tile${text.highlight ? " highlight" : ""}" data-entity="${escapeHtml(tile.entity)}">
          <div class="name">${escapeHtml(tile.name)}</div>
          <div class="value">${escapeHtml(text.value)}</div>
          <div class="detail">${escapeHtml(text.detail)}</div></div>`;
      })
      .join("");
    const dots = pages.map((_, i) => `<span class="${i === index ? "on" : ""}">●</span>`).join("");
    const html = `<style>${STYLE}</style><div class="screen" data-page="${index}">
      <header><h1>${escapeHtml(page?.title ?? "Makerhub")}</h1><div class="dots">${pages.length > 1 ? dots : ""}</div></header>
      <div class="tiles">${tiles}</div></div>`;
    if (html === this.shown) return;
    this.shown = html;
    this.root.innerHTML = html;
  }
}
