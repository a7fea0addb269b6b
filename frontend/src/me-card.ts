/** `custom:makerhub-me`, the Me view for a phone: my active project (swipe, or the arrows,
 * to switch to another of my projects: `makerhub.set_active_project`), my station, my
 * project's status, cost and next steps, and a button to open its desktop. */

import { escapeHtml, refusalMessage } from "./format";
import {
  activeIndex,
  fromMe,
  myPerson,
  projectEntities,
  stepIndex,
  swipeDirection,
  type MeAnswer,
  type MeView,
  type MyProject,
  type ProjectEntities,
} from "./me";
import type { Hass, HassEntityEntry, HassEntityState } from "./types";

interface TodoItem {
  summary: string;
  status: string;
}

const STYLE = `
:host { display: block; }
.me { padding: 16px; touch-action: pan-y; user-select: none; }
.hello { font-size: 1.1em; color: var(--secondary-text-color); }
.project { margin: 12px 0; padding: 16px; border-radius: 12px; background: var(--card-background-color, #fff); box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0,0,0,.2)); }
.project h2 { margin: 0 0 8px; font-size: 1.6em; }
.row { display: flex; justify-content: space-between; margin: 4px 0; }
.nav { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.nav button, .actions button { font: inherit; padding: 8px 14px; border-radius: 8px; border: 1px solid var(--divider-color, #ccc); background: var(--secondary-background-color, #eee); color: var(--primary-text-color); }
.dots { text-align: center; letter-spacing: 4px; color: var(--secondary-text-color); }
.dots .on { color: var(--primary-color); }
ul.steps { padding-left: 20px; margin: 6px 0; }
.message { color: var(--error-color, #db4437); margin-top: 8px; }
.message:empty { display: none; }
.agreement { margin: 12px 0; padding: 12px 16px; border-radius: 12px; border: 2px solid var(--primary-color); white-space: pre-wrap; }
.agreement button { font: inherit; padding: 8px 14px; border-radius: 8px; }
`;

export class MakerhubMeCard extends HTMLElement {
  private _hass?: Hass;
  private projects: (MyProject & { entities?: ProjectEntities })[] = [];
  /** What `makerhub/me` answered (the members feature); unset where it does not exist. */
  private me?: MeView;
  private agreementText?: string;
  private index = 0;
  private loaded = false;
  private steps: TodoItem[] = [];
  private stepsOf?: string;
  private message = "";
  private start?: { x: number; y: number };
  private shown = "";
  private readonly root: ShadowRoot;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
  }

  setConfig(_config: Record<string, unknown>): void {}

  getCardSize(): number {
    return 8;
  }

  set hass(hass: Hass) {
    const first = this._hass === undefined;
    this._hass = hass;
    if (first) {
      this.root.addEventListener("pointerdown", (ev) => {
        const p = ev as PointerEvent;
        this.start = { x: p.clientX, y: p.clientY };
      });
      this.root.addEventListener("pointerup", (ev) => {
        const p = ev as PointerEvent;
        if (!this.start) return;
        const direction = swipeDirection(p.clientX - this.start.x, p.clientY - this.start.y);
        this.start = undefined;
        if (direction !== 0) void this.switchTo(stepIndex(this.index, this.projects.length, direction));
      });
      void this.load();
    }
    this.render();
  }

  private get person(): HassEntityState | undefined {
    return myPerson(this._hass?.states ?? {}, this._hass?.user?.id);
  }

  private entities(): HassEntityEntry[] {
    return Object.values(this._hass?.entities ?? {}).filter((e) => e.platform === "makerhub");
  }

  private selectedProject(): string | undefined {
    const person = this.person;
    if (!person) return undefined;
    const name = String(person.attributes.friendly_name ?? "");
    const select = this.entities().find(
      (e) =>
        e.translation_key === "active_project" &&
        String(this._hass!.states[e.entity_id]?.attributes.friendly_name ?? "").includes(name),
    );
    return select ? this._hass!.states[select.entity_id]?.state : undefined;
  }

  private async load(): Promise<void> {
    const hass = this._hass!;
    this.message = "";
    try {
      this.me = fromMe(await hass.callWS<MeAnswer>({ type: "makerhub/me" }));
      this.projects = this.me.projects;
      this.index = this.me.index;
      if (this.me.needsAgreement) {
        const agreement = await hass.callWS<{ text: string }>({ type: "makerhub/agreement" });
        this.agreementText = agreement.text;
      }
    } catch (err) {
      if ((err as { code?: string }).code === "unknown_command") await this.loadWithoutMe();
      else this.message = refusalMessage(err);
    }
    this.loaded = true;
    this.render();
  }

  /** Without the members feature: my projects by owner, my active one from my select. */
  private async loadWithoutMe(): Promise<void> {
    const hass = this._hass!;
    try {
      const list = await hass.callWS<MyProject[]>({ type: "makerhub/projects/list", owner: hass.user?.id });
      this.projects = list.filter((p) => p.status !== "archived");
    } catch (err) {
      this.message = refusalMessage(err);
    }
    this.index = activeIndex(this.projects, this.selectedProject());
  }

  private async signAgreement(): Promise<void> {
    try {
      await this._hass!.callService("makerhub", "sign_agreement", {}, undefined, false, true);
      this.agreementText = undefined;
      await this.load();
    } catch (err) {
      this.message = refusalMessage(err);
      this.render();
    }
  }

  private async switchTo(index: number): Promise<void> {
    const project = this.projects[index];
    const person = this.me?.person ?? this.person?.entity_id;
    if (!project || index === this.index) return;
    this.index = index;
    this.message = "";
    this.render();
    if (!person) return;
    try {
      await this._hass!.callService("makerhub", "set_active_project", { person, project: project.id }, undefined, false, true);
    } catch (err) {
      this.message = refusalMessage(err);
      this.render();
    }
  }

  private async loadSteps(entity: string): Promise<void> {
    this.stepsOf = entity;
    try {
      const answer = await this._hass!.callWS<{ items: TodoItem[] }>({ type: "todo/item/list", entity_id: entity });
      this.steps = answer.items.filter((item) => item.status === "needs_action").slice(0, 5);
    } catch {
      this.steps = [];
    }
    this.render();
  }

  private async openDesktop(project: MyProject): Promise<void> {
    try {
      const answer = (await this._hass!.callService("makerhub", "desktop_url", { project: project.id, role: "controller" }, undefined, false, true)) as { response?: { url?: string } };
      const url = answer?.response?.url;
      if (url) window.open(url, "_blank");
    } catch (err) {
      this.message = refusalMessage(err);
      this.render();
    }
  }

  private render(): void {
    const hass = this._hass;
    if (!hass) return;
    const person = this.person;
    const project = this.projects[this.index];
    const state = (id?: string): string => (id ? (hass.states[id]?.state ?? "—") : "—");
    const unit = (id?: string): string => String((id && hass.states[id]?.attributes.unit_of_measurement) ?? "");
    let body: string;
    if (!this.loaded) body = "<p>Loading…</p>";
    else if (!project) body = "<p>You have no projects yet.</p>";
    else {
      const mine = project.entities ?? projectEntities(project.id, hass.devices, this.entities());
      if (mine.steps && this.stepsOf !== mine.steps) void this.loadSteps(mine.steps);
      const station = this.entities().find(
        (e) => e.translation_key === "person_station" && hass.states[e.entity_id]?.attributes.person === person?.entity_id,
      );
      body = `
        <div class="nav">
          <button type="button" class="previous" aria-label="Previous project">‹</button>
          <div class="dots">${this.projects.map((_, i) => `<span class="${i === this.index ? "on" : ""}">●</span>`).join("")}</div>
          <button type="button" class="next" aria-label="Next project">›</button>
        </div>
        <div class="project" data-project="${escapeHtml(project.id)}">
          <h2>${escapeHtml(project.name)}</h2>
          <div class="row"><span>Status</span><span class="status">${escapeHtml(state(mine.status))}</span></div>
          <div class="row"><span>Cost this month</span><span class="cost">${escapeHtml(`${state(mine.cost)} ${unit(mine.cost)}`.trim())}</span></div>
          ${this.me ? `<div class="row"><span>My station</span><span>${escapeHtml(this.me.station ?? "away")}</span></div>` : station ? `<div class="row"><span>My station</span><span>${escapeHtml(state(station.entity_id))}</span></div>` : ""}
          <h3>Next steps</h3>
          <ul class="steps">${this.steps.map((s) => `<li>${escapeHtml(s.summary)}</li>`).join("") || "<li>None</li>"}</ul>
          <div class="actions">${mine.desktop ? '<button type="button" class="desktop">Open my desktop</button>' : ""}</div>
        </div>`;
    }
    const agreement =
      this.me?.needsAgreement && this.agreementText !== undefined
        ? `<div class="agreement"><h3>Welcome! The space's agreement</h3><p>${escapeHtml(this.agreementText)}</p><button type="button" class="sign">I agree</button></div>`
        : "";
    const hello = this.me?.name ?? (person ? String(person.attributes.friendly_name ?? person.entity_id) : hass.user?.name ?? "");
    const html = `<style>${STYLE}</style><ha-card><div class="me">
      <div class="hello">${escapeHtml(hello)}</div>
      ${agreement}${body}<div class="message">${escapeHtml(this.message)}</div></div></ha-card>`;
    if (html === this.shown) return; // most state changes change nothing shown here
    this.shown = html;
    this.root.innerHTML = html;
    this.root.querySelector(".previous")?.addEventListener("click", () => void this.switchTo(stepIndex(this.index, this.projects.length, -1)));
    this.root.querySelector(".next")?.addEventListener("click", () => void this.switchTo(stepIndex(this.index, this.projects.length, 1)));
    this.root.querySelector(".sign")?.addEventListener("click", () => void this.signAgreement());
    if (project) this.root.querySelector(".desktop")?.addEventListener("click", () => void this.openDesktop(project));
  }
}
