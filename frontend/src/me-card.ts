/** `custom:makerhub-me`, the Me view for a phone: my active project (swipe, or the arrows,
 * to switch to another of my projects: `makerhub.set_active_project`), my station, my
 * project's status, cost and next steps, and a button to open its desktop. */

import { escapeHtml, refusalMessage } from "./format";
import {
  ACCOUNT_SERVICES,
  accountPath,
  activeIndex,
  fromMe,
  myPerson,
  projectEntities,
  showOnDisplay,
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
section { margin: 12px 0; padding: 12px 16px; border-radius: 12px; background: var(--card-background-color, #fff); box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0,0,0,.2)); }
section h3 { margin: 0 0 8px; }
section button { font: inherit; min-height: 44px; padding: 8px 14px; border-radius: 8px; border: 1px solid var(--divider-color, #ccc); background: var(--secondary-background-color, #eee); color: var(--primary-text-color); }
.actions { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 8px; }
.account { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 6px 0; }
.account .service { min-width: 70px; font-weight: 600; }
.account input { font: inherit; flex: 1; min-width: 120px; padding: 6px; }
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
  /** Tokens being typed (kept across redraws; never put in the page's HTML). */
  private tokens: Record<string, string> = {};
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

  private async show(what: "desktop" | "idle"): Promise<void> {
    const screen = this.me?.screen;
    if (!screen || !this.me) return;
    this.message = "";
    try {
      await this._hass!.callService("makerhub", "show_on_display", showOnDisplay(screen.device, what, this.me.person), undefined, false);
    } catch (err) {
      this.message = refusalMessage(err);
    }
    this.render();
  }

  private async setAccount(service: string, link: boolean): Promise<void> {
    const hass = this._hass!;
    const token = (this.tokens[service] ?? "").trim();
    if (link && token === "") {
      this.message = "Paste a token first.";
      this.render();
      return;
    }
    this.message = "";
    try {
      const answer = await hass.callApi!<{ accounts: string[] }>(link ? "POST" : "DELETE", accountPath(service), link ? { token } : undefined);
      delete this.tokens[service];
      if (this.me) this.me.accounts = answer.accounts;
    } catch (err) {
      this.message = refusalMessage((err as { body?: unknown }).body ?? err);
    }
    this.render();
  }

  private screenSection(): string {
    const me = this.me;
    if (!me) return "";
    const screen = me.screen;
    if (!screen) {
      const why = me.station ? `${me.station} has no screen.` : "You are at no station.";
      return `<section class="screen"><h3>Screen near me</h3><p>${escapeHtml(why)}</p></section>`;
    }
    const showing = screen.showing ? (this._hass!.states[screen.showing]?.state ?? "—") : "—";
    return `<section class="screen"><h3>Screen near me</h3>
      <div class="row"><span>Showing</span><span class="showing">${escapeHtml(showing)}</span></div>
      <div class="actions"><button type="button" class="show-desktop">Show my desktop</button><button type="button" class="show-idle">Idle</button></div></section>`;
  }

  private accountsSection(): string {
    const linked = this.me?.accounts;
    if (!linked || !this._hass?.callApi) return "";
    const rows = ACCOUNT_SERVICES.map(([service, name]) =>
      linked.includes(service)
        ? `<div class="account" data-service="${service}"><span class="service">${name}</span><span class="state">linked</span><button type="button" class="unlink">Unlink</button></div>`
        : `<div class="account" data-service="${service}"><span class="service">${name}</span><input type="password" name="${service}" autocomplete="off" placeholder="Personal token" aria-label="${name} token"><button type="button" class="link">Link</button></div>`,
    ).join("");
    return `<section class="accounts"><h3>My accounts</h3>${rows}</section>`;
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
      ${agreement}${body}${this.screenSection()}${this.accountsSection()}<div class="message">${escapeHtml(this.message)}</div></div></ha-card>`;
    if (html === this.shown) return; // most state changes change nothing shown here
    this.shown = html;
    this.root.innerHTML = html;
    this.root.querySelector(".previous")?.addEventListener("click", () => void this.switchTo(stepIndex(this.index, this.projects.length, -1)));
    this.root.querySelector(".next")?.addEventListener("click", () => void this.switchTo(stepIndex(this.index, this.projects.length, 1)));
    this.root.querySelector(".sign")?.addEventListener("click", () => void this.signAgreement());
    this.root.querySelector(".show-desktop")?.addEventListener("click", () => void this.show("desktop"));
    this.root.querySelector(".show-idle")?.addEventListener("click", () => void this.show("idle"));
    for (const row of this.root.querySelectorAll<HTMLElement>(".account")) {
      const service = row.dataset.service!;
      const input = row.querySelector("input");
      if (input) {
        input.value = this.tokens[service] ?? "";
        input.addEventListener("input", () => (this.tokens[service] = input.value));
      }
      row.querySelector(".link")?.addEventListener("click", () => void this.setAccount(service, true));
      row.querySelector(".unlink")?.addEventListener("click", () => void this.setAccount(service, false));
    }
    if (project) this.root.querySelector(".desktop")?.addEventListener("click", () => void this.openDesktop(project));
  }
}
