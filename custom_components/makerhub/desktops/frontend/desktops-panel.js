// The Makerhub Desktops panel: the signed-in user's project desktops, one opened in the
// page with noVNC (an iframe of the single-use connect URL). A plain ES module web
// component, no build step. What the user may do is decided by Home Assistant
// (makerhub/desktops/* WebSocket commands, see desktops/panel.py): the panel only asks.
// Works in the companion app's web view: no popups, no new windows, touch-sized buttons.

const FALLBACK = {
  title: "Desktops",
  open: "Open",
  start: "Start",
  stop: "Stop",
  close: "Close",
  controller: "You control this desktop",
  viewer: "You are watching this desktop",
  connected: "connected",
  not_configured: "No desktops service is set up.",
  unavailable: "The desktops service cannot be reached right now.",
  no_projects: "You have no projects with a desktop yet.",
  failed: "That did not work",
};
const STATES = ["stopped", "starting", "running", "suspended", "error"];
const POLL_MS = 10000;
const SESSION_CHECK_MS = 60000;

const STYLE = `
  :host { display: block; height: 100%; background: var(--primary-background-color);
    color: var(--primary-text-color); font-family: var(--paper-font-body1_-_font-family, sans-serif); }
  .shell { display: flex; flex-direction: column; height: 100%; }
  header { display: flex; align-items: center; gap: 8px; min-height: 56px; padding: 0 12px;
    background: var(--app-header-background-color, var(--primary-color));
    color: var(--app-header-text-color, #fff); box-sizing: border-box; }
  header h1 { font-size: 20px; font-weight: 400; margin: 0; flex: 1; overflow: hidden;
    text-overflow: ellipsis; white-space: nowrap; }
  header .role { font-size: 13px; opacity: 0.85; }
  main { flex: 1; overflow: auto; padding: 16px; box-sizing: border-box; }
  main.viewing { padding: 0; overflow: hidden; display: flex; }
  .message { padding: 12px 16px; margin-bottom: 12px; border-radius: 8px;
    background: var(--secondary-background-color, #eee); }
  .message.error { background: var(--error-color, #db4437); color: #fff; }
  ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 12px;
    grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); }
  li { background: var(--card-background-color, #fff); border-radius: 12px; padding: 16px;
    box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0,0,0,0.2));
    display: flex; flex-direction: column; gap: 8px; }
  .name { font-size: 18px; font-weight: 500; }
  .state { font-size: 14px; color: var(--secondary-text-color); }
  .state[data-state="running"] { color: var(--success-color, #43a047); }
  .state[data-state="error"] { color: var(--error-color, #db4437); }
  .buttons { display: flex; gap: 8px; flex-wrap: wrap; }
  button { min-height: 44px; min-width: 44px; padding: 0 16px; border-radius: 8px; border: 0;
    font-size: 15px; cursor: pointer; touch-action: manipulation;
    background: var(--secondary-background-color, #e0e0e0); color: var(--primary-text-color); }
  button.primary { background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff); }
  button:disabled { opacity: 0.5; cursor: default; }
  header button { background: transparent; color: inherit; }
  iframe { flex: 1; width: 100%; height: 100%; border: 0; background: #000; display: block; }
`;

class MakerhubDesktopsPanel extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._desktops = [];
    this._status = null; // the last list answer
    this._open = null; // {project, name, role, url}
    this._error = "";
    this._busy = new Set();
    this._texts = { ...FALLBACK };
    this._stateTexts = {};
    this._session = null;
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (first) {
      this._loadTexts();
      this._refresh();
    }
    this._syncMenuButton();
  }

  get hass() {
    return this._hass;
  }

  set narrow(narrow) {
    this._narrow = narrow;
    this._syncMenuButton();
  }

  set panel(panel) {
    this._panel = panel;
  }

  set route(route) {
    this._route = route;
  }

  connectedCallback() {
    this._render();
    this._poll = setInterval(() => {
      if (!this._open) this._refresh();
    }, POLL_MS);
  }

  disconnectedCallback() {
    clearInterval(this._poll);
    clearInterval(this._sessionTimer);
  }

  // --- data -------------------------------------------------------------------------

  async _loadTexts() {
    const prefix = "component.makerhub.selector.desktops_panel.options.";
    try {
      const [selector, entity] = await Promise.all([
        this._hass.loadBackendTranslation("selector", "makerhub"),
        this._hass.loadBackendTranslation("entity", "makerhub"),
      ]);
      for (const key of Object.keys(FALLBACK)) {
        const text = selector(prefix + key);
        if (text) this._texts[key] = text;
      }
      for (const state of STATES) {
        const text = entity(`component.makerhub.entity.sensor.desktop_state.state.${state}`);
        if (text) this._stateTexts[state] = text;
      }
    } catch (err) {
      // English it is.
    }
    this._render();
  }

  async _refresh() {
    if (!this._hass) return;
    try {
      this._status = await this._hass.callWS({ type: "makerhub/desktops/list" });
      this._desktops = this._status.desktops;
    } catch (err) {
      this._error = this._message(err);
    }
    this._render();
  }

  async _act(project, type) {
    this._busy.add(project);
    this._error = "";
    this._render();
    try {
      await this._hass.callWS({ type: `makerhub/desktops/${type}`, project });
    } catch (err) {
      this._error = this._message(err);
    }
    this._busy.delete(project);
    await this._refresh();
  }

  async _openDesktop(desktop) {
    this._busy.add(desktop.project);
    this._error = "";
    this._render();
    try {
      // No role sent: the server gives controller to the owner and admins, viewer otherwise.
      const answer = await this._hass.callWS({
        type: "makerhub/desktops/connect",
        project: desktop.project,
      });
      if (answer.ingress) await this._ingressSession();
      this._open = { project: desktop.project, name: desktop.name, role: answer.role, url: answer.url };
    } catch (err) {
      this._error = this._message(err);
    }
    this._busy.delete(desktop.project);
    this._render();
  }

  _close() {
    this._open = null;
    this._refresh();
  }

  // Through ingress the browser needs the Supervisor's session cookie, as Home
  // Assistant's own add-on panels get it; it is checked (and renewed) every minute.
  async _ingressSession() {
    if (this._session) return;
    const answer = await this._hass.callWS({
      type: "supervisor/api",
      endpoint: "/ingress/session",
      method: "post",
    });
    this._setSession(answer.session);
    this._sessionTimer = setInterval(async () => {
      try {
        await this._hass.callWS({
          type: "supervisor/api",
          endpoint: "/ingress/validate_session",
          method: "post",
          data: { session: this._session },
        });
      } catch (err) {
        this._session = null;
        clearInterval(this._sessionTimer);
        if (this._open) await this._ingressSession();
      }
    }, SESSION_CHECK_MS);
  }

  _setSession(session) {
    this._session = session;
    const secure = location.protocol === "https:" ? ";Secure" : "";
    document.cookie = `ingress_session=${session};path=/api/hassio_ingress/;SameSite=Strict${secure}`;
  }

  _message(err) {
    return `${this._texts.failed}: ${(err && err.message) || err}`;
  }

  // --- view -------------------------------------------------------------------------

  _syncMenuButton() {
    const button = this.shadowRoot.querySelector("ha-menu-button");
    if (button) {
      button.hass = this._hass;
      button.narrow = this._narrow;
    }
  }

  _render() {
    const root = this.shadowRoot;
    root.innerHTML = "";
    const style = document.createElement("style");
    style.textContent = STYLE;
    const shell = el("div", { class: "shell" });
    root.append(style, shell);
    const header = el("header");
    header.append(el("ha-menu-button"));
    const main = el("main");
    shell.append(header, main);
    if (this._open) {
      this._renderDesktop(header, main);
    } else {
      header.append(el("h1", {}, this._texts.title));
      this._renderList(main);
    }
    this._syncMenuButton();
  }

  _renderDesktop(header, main) {
    const open = this._open;
    header.append(el("h1", {}, open.name));
    header.append(
      el("span", { class: "role", "data-role": open.role }, this._texts[open.role] || open.role),
    );
    const close = el("button", { class: "close" }, this._texts.close);
    close.addEventListener("click", () => this._close());
    header.append(close);
    main.classList.add("viewing");
    const frame = el("iframe", {
      src: open.url,
      title: open.name,
      allow: "clipboard-read; clipboard-write; fullscreen",
    });
    main.append(frame);
  }

  _renderList(main) {
    if (this._error) main.append(el("div", { class: "message error" }, this._error));
    const status = this._status;
    if (status === null) return;
    if (!status.configured) {
      main.append(el("div", { class: "message" }, this._texts.not_configured));
      return;
    }
    if (!status.available) main.append(el("div", { class: "message" }, this._texts.unavailable));
    if (this._desktops.length === 0) {
      main.append(el("div", { class: "message" }, this._texts.no_projects));
      return;
    }
    const list = el("ul");
    for (const desktop of this._desktops) list.append(this._row(desktop));
    main.append(list);
  }

  _row(desktop) {
    const busy = this._busy.has(desktop.project);
    const item = el("li", { "data-project": desktop.project });
    item.append(el("div", { class: "name" }, desktop.name));
    const connections = desktop.viewers + desktop.controllers;
    let state = this._stateTexts[desktop.state] || desktop.state;
    if (connections > 0) state += ` · ${connections} ${this._texts.connected}`;
    if (desktop.error) state += ` · ${desktop.error}`;
    item.append(el("div", { class: "state", "data-state": desktop.state }, state));
    const buttons = el("div", { class: "buttons" });
    const open = el("button", { class: "primary open" }, this._texts.open);
    open.disabled = busy;
    open.addEventListener("click", () => this._openDesktop(desktop));
    buttons.append(open);
    const running = desktop.state !== "stopped";
    if (!running) {
      const start = el("button", { class: "start" }, this._texts.start);
      start.disabled = busy;
      start.addEventListener("click", () => this._act(desktop.project, "start"));
      buttons.append(start);
    } else if (desktop.may_control) {
      const stop = el("button", { class: "stop" }, this._texts.stop);
      stop.disabled = busy;
      stop.addEventListener("click", () => this._act(desktop.project, "stop"));
      buttons.append(stop);
    }
    item.append(buttons);
    return item;
  }
}

function el(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

if (!customElements.get("makerhub-desktops-panel")) {
  customElements.define("makerhub-desktops-panel", MakerhubDesktopsPanel);
}
