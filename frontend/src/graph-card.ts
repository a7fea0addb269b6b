/** `custom:makerhub-fleet-graph`: the fleet as a graph. Units are nodes with their inputs
 * (left) and outputs (right), links are edges carrying the source's live value. Drag from
 * an output to an input to link them (`makerhub.link`); click an edge to edit its
 * transform or remove it (`makerhub.unlink`). The layout is computed once for a set of
 * units; values and filters only change text and classes, panning and zooming only the
 * one transform of the drawing. */

import { forgetFleetGraph, sharedFleetGraph } from "./fleet-rows";
import { ANY, NO_FILTERS, filterChoices, visibleUnits, type Choice, type Filters } from "./filter";
import { UNAVAILABLE, escapeHtml, formatValue, refusalMessage } from "./format";
import { PortIndex, type Port } from "./hittest";
import {
  HEADER,
  NODE_WIDTH,
  ROW,
  edgePath,
  layoutGraph,
  portPosition,
  sameUnits,
  type Layout,
  type Point,
} from "./layout";
import {
  describeTransform,
  formOf,
  parseTransform,
  transformAllowed,
  type TransformFields,
} from "./transform";
import type { FleetGraph, GraphLink, GraphUnit, GraphVariable, Hass, HassEntityState } from "./types";
import { fitView, pan, toGraph, viewTransform, zoomAt, type View } from "./viewport";

export interface GraphCardConfig {
  type: string;
  title?: string;
  height?: number;
}

const SVG = "http://www.w3.org/2000/svg";

/** Below this zoom the drawing's texts are hidden (too small to read). */
export const FAR_ZOOM = 0.4;

const STYLE = `
:host { display: block; }
ha-card, .card { overflow: hidden; position: relative; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 12px; }
.toolbar .title { font-size: 1.2em; font-weight: 500; margin-right: auto; }
.toolbar select, .toolbar button, .editor button, .editor input { font: inherit; }
.message { margin: 0 12px 8px; padding: 6px 10px; border-radius: 4px; }
.message:empty { display: none; }
.message.error { background: var(--error-color, #db4437); color: #fff; }
.message.info { background: var(--success-color, #43a047); color: #fff; }
svg { display: block; width: 100%; touch-action: none; cursor: grab; background: var(--secondary-background-color, #f5f5f5); user-select: none; }
svg.panning { cursor: grabbing; }
.node rect.body { fill: var(--card-background-color, #fff); stroke: var(--divider-color, #bbb); stroke-width: 1; }
.node .title { font-weight: 600; font-size: 13px; fill: var(--primary-text-color, #212121); }
.node text { font-size: 11px; fill: var(--primary-text-color, #212121); font-family: var(--paper-font-body1_-_font-family, sans-serif); }
.node text.value { fill: var(--secondary-text-color, #727272); }
.node.unavailable { opacity: 0.45; }
.node.unavailable rect.body { fill: var(--disabled-color, #ddd); }
.node rect.header { fill: var(--primary-color, #03a9f4); opacity: 0.15; }
.port { stroke: var(--card-background-color, #fff); stroke-width: 1.5; cursor: crosshair; }
.port.input { fill: var(--accent-color, #ff9800); }
.port.output { fill: var(--primary-color, #03a9f4); }
.edge path.line { fill: none; stroke: var(--primary-color, #03a9f4); stroke-width: 2; opacity: 0.7; }
.edge path.hit { fill: none; stroke: transparent; stroke-width: 12; cursor: pointer; }
.edge.selected path.line { stroke: var(--accent-color, #ff9800); opacity: 1; stroke-width: 3; }
.edge text { cursor: pointer; font-size: 11px; fill: var(--primary-text-color, #212121); paint-order: stroke; stroke: var(--secondary-background-color, #f5f5f5); stroke-width: 3px; }
.hidden { display: none; }
svg.far text { display: none; }
.drag-line { fill: none; stroke: var(--accent-color, #ff9800); stroke-width: 2; stroke-dasharray: 6 4; pointer-events: none; }
.editor { position: absolute; right: 12px; bottom: 12px; background: var(--card-background-color, #fff); border: 1px solid var(--divider-color, #bbb); border-radius: 8px; padding: 10px 12px; box-shadow: 0 2px 8px rgba(0,0,0,.2); max-width: 320px; }
.editor[hidden] { display: none; }
.editor .link-title { font-weight: 600; margin-bottom: 6px; }
.editor label { display: grid; grid-template-columns: 70px 1fr; gap: 6px; align-items: center; margin: 4px 0; }
.editor input { width: 100%; box-sizing: border-box; }
.editor .buttons { display: flex; gap: 6px; margin-top: 8px; flex-wrap: wrap; }
.editor .field-error { color: var(--error-color, #db4437); font-size: 0.85em; }
`;

interface Drag {
  from: Port;
  pointer: number;
}

/** Resolves once the browser has drawn the next frame. */
function afterNextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

export class MakerhubFleetGraph extends HTMLElement {
  private cardConfig: GraphCardConfig = { type: "custom:makerhub-fleet-graph" };
  private _hass?: Hass;
  private graph?: FleetGraph;
  // Names Home Assistant sets on cards (layout, isPanel, preview, …) are avoided.
  private graphLayout?: Layout;
  private portIndex?: PortIndex;
  private camera: View = { x: 0, y: 0, k: 1 };
  private filters: Filters = { ...NO_FILTERS };
  private visible = new Set<string>();
  private selected?: GraphLink;
  private drag?: Drag;
  private panFrom?: { x: number; y: number; pointer: number };
  private frame = 0;
  private loading?: Promise<void>;
  private queued?: Promise<void>;
  private entitiesSeen?: unknown;
  private devicesSeen?: unknown;
  /** Per entity: the state last shown and the text elements showing it. */
  private valueTexts = new Map<string, { state?: HassEntityState; texts: SVGTextElement[] }>();
  private unitGroups = new Map<string, { group: SVGGElement; unavailable: boolean }>();
  private portGroups = new Map<string, SVGGElement>();
  private readonly root: ShadowRoot;
  private svg!: SVGSVGElement;
  private viewport!: SVGGElement;
  private edgesLayer!: SVGGElement;
  private nodesLayer!: SVGGElement;
  private portsLayer!: SVGGElement;
  private dragLine!: SVGPathElement;
  private messageBox!: HTMLElement;
  private editor!: HTMLElement;
  private selects: Partial<Record<keyof Filters, HTMLSelectElement>> = {};

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
  }

  static getStubConfig(): GraphCardConfig {
    return { type: "custom:makerhub-fleet-graph" };
  }

  setConfig(config: GraphCardConfig): void {
    if (config.height !== undefined && !(typeof config.height === "number" && config.height > 0)) {
      throw new Error("height must be a positive number of pixels");
    }
    this.cardConfig = { ...config };
    if (this.svg) this.svg.style.height = `${this.height}px`;
  }

  getCardSize(): number {
    return Math.ceil(this.height / 50) + 1;
  }

  private get height(): number {
    return this.cardConfig.height ?? 600;
  }

  set hass(hass: Hass) {
    this._hass = hass;
    if (!this.svg) this.build();
    // The registries changed (an entity, a device's area): the hub's answer may too.
    // States alone never fetch: a fleet sends hundreds of values a second.
    const registries = hass.entities !== this.entitiesSeen || hass.devices !== this.devicesSeen;
    if (registries || (this.graph === undefined && this.loading === undefined)) {
      this.entitiesSeen = hass.entities;
      this.devicesSeen = hass.devices;
      void this.refresh();
    }
    this.updateValues();
  }

  get hass(): Hass | undefined {
    return this._hass;
  }

  /** Fetch the units and links again (after a change) and redraw what changed. Fetches
   * run one after another, so the last one always sees the last change. */
  refresh(): Promise<void> {
    if (this.queued) return this.queued; // one waiting fetch answers every caller
    const fetch = async (): Promise<void> => {
      this.queued = undefined; // a change from now on needs a fetch of its own
      const hass = this._hass;
      if (!hass) return;
      try {
        const first = this.graph === undefined;
        const graph = await sharedFleetGraph(hass); // the answer the strategy got, if as new
        // The first layout of a large fleet takes the main thread for a while: let the
        // rest of the view (the other cards) be drawn first.
        if (first) await afterNextPaint();
        this.show(graph);
      } catch (err) {
        this.say(`Cannot read the fleet: ${refusalMessage(err)}`, "error");
      }
    };
    const next = (this.loading ?? Promise.resolve()).then(fetch);
    this.queued = next;
    this.loading = next;
    return next;
  }

  private build(): void {
    this.root.innerHTML = `<style>${STYLE}</style>
      <ha-card>
        <div class="toolbar">
          <span class="title"></span>
          <select name="area" aria-label="Area"></select>
          <select name="owner" aria-label="Owner"></select>
          <select name="repository" aria-label="Repository"></select>
          <button class="fit" type="button">Fit</button>
        </div>
        <div class="message" role="status"></div>
        <svg xmlns="${SVG}">
          <g class="viewport"><g class="nodes"></g><g class="edges"></g><g class="ports"></g><path class="drag-line hidden"></path></g>
        </svg>
        <div class="editor" hidden></div>
      </ha-card>`;
    const q = <T extends Element>(selector: string): T => this.root.querySelector(selector) as T;
    this.svg = q("svg");
    this.svg.style.height = `${this.height}px`;
    this.viewport = q("g.viewport");
    this.edgesLayer = q("g.edges");
    this.nodesLayer = q("g.nodes");
    this.portsLayer = q("g.ports");
    this.dragLine = q("path.drag-line");
    this.messageBox = q(".message");
    this.editor = q(".editor");
    q<HTMLElement>(".title").textContent = this.cardConfig.title ?? "Fleet graph";
    for (const name of ["area", "owner", "repository"] as const) {
      const select = q<HTMLSelectElement>(`select[name=${name}]`);
      select.addEventListener("change", () => {
        this.filters = { ...this.filters, [name]: select.value };
        this.applyFilters();
      });
      this.selects[name] = select;
    }
    q<HTMLButtonElement>("button.fit").addEventListener("click", () => this.fit());
    this.svg.addEventListener("pointerdown", (ev) => this.onPointerDown(ev));
    this.svg.addEventListener("pointermove", (ev) => this.onPointerMove(ev));
    this.svg.addEventListener("pointerup", (ev) => this.onPointerUp(ev));
    this.svg.addEventListener("pointercancel", () => this.endGestures());
    this.svg.addEventListener("wheel", (ev) => this.onWheel(ev), { passive: false });
  }

  // -- drawing -----------------------------------------------------------------------

  private show(graph: FleetGraph): void {
    const relayout = this.graphLayout === undefined || !sameUnits(this.graphLayout, graph.units);
    this.graph = graph;
    if (relayout) {
      this.graphLayout = layoutGraph(graph.units, graph.links);
      this.portIndex = new PortIndex(graph.units, this.graphLayout);
      this.drawNodes();
    }
    this.drawEdges();
    this.fillFilters();
    this.applyFilters();
    if (relayout) this.fit();
    if (this.selected) {
      this.selected = graph.links.find((link) => link.id === this.selected!.id);
      this.showEditor();
    }
    this.updateValues(true);
    this.dispatchEvent(new CustomEvent("makerhub-graph-drawn", { bubbles: true, composed: true }));
  }

  /** Nodes below the edges (labels stay readable and clickable), ports above both
   * (a drag always starts on a port, even where an edge ends on it). */
  private drawNodes(): void {
    const nodes: string[] = [];
    const ports: string[] = [];
    for (const unit of this.graph!.units) {
      const box = this.graphLayout!.nodes.get(unit.uid)!;
      const uid = escapeHtml(unit.uid);
      nodes.push(
        `<g class="node" data-uid="${uid}" transform="translate(${box.x},${box.y})">`,
        `<rect class="body" width="${box.width}" height="${box.height}" rx="6"></rect>`,
        `<rect class="header" width="${box.width}" height="${HEADER - 4}" rx="6"></rect>`,
        `<text class="title" x="10" y="18">${escapeHtml(unit.name)}</text>`,
      );
      ports.push(`<g class="unit-ports" data-uid="${uid}">`);
      const port = (direction: "input" | "output", variable: GraphVariable, index: number): void => {
        const at = portPosition(box, direction, index);
        ports.push(
          `<circle class="port ${direction}" r="6" cx="${at.x}" cy="${at.y}" data-uid="${uid}" data-direction="${direction}" data-name="${escapeHtml(variable.name)}" data-entity="${escapeHtml(variable.entity_id ?? "")}"><title>${escapeHtml(`${unit.name} ${variable.name} (${variable.type})`)}</title></circle>`,
        );
      };
      unit.inputs.forEach((variable, i) => {
        port("input", variable, i);
        nodes.push(`<text x="10" y="${HEADER + ROW * (i + 0.5) + 4}">${escapeHtml(variable.name)}</text>`);
      });
      unit.outputs.forEach((variable, i) => {
        port("output", variable, i);
        nodes.push(
          `<text x="${NODE_WIDTH - 10}" y="${HEADER + ROW * (i + 0.5) + 4}" text-anchor="end">${escapeHtml(variable.name)} <tspan class="value" data-entity="${escapeHtml(variable.entity_id ?? "")}"></tspan></text>`,
        );
      });
      nodes.push("</g>");
      ports.push("</g>");
    }
    this.nodesLayer.innerHTML = nodes.join("");
    this.portsLayer.innerHTML = ports.join("");
    this.unitGroups.clear();
    for (const group of this.nodesLayer.querySelectorAll<SVGGElement>("g.node")) {
      this.unitGroups.set(group.dataset.uid!, { group, unavailable: false });
    }
    this.portGroups.clear();
    for (const group of this.portsLayer.querySelectorAll<SVGGElement>("g.unit-ports")) {
      this.portGroups.set(group.dataset.uid!, group);
    }
  }

  private variable(uid: string, direction: "input" | "output", name: string): [GraphVariable, number] | null {
    const unit = this.graph!.units.find((u) => u.uid === uid);
    const list = direction === "input" ? unit?.inputs : unit?.outputs;
    const index = list?.findIndex((v) => v.name === name) ?? -1;
    return list && index >= 0 ? [list[index], index] : null;
  }

  private drawEdges(): void {
    const parts: string[] = [];
    for (const link of this.graph!.links) {
      const from = this.variable(link.source, "output", link.output);
      const to = this.variable(link.target, "input", link.input);
      const fromBox = this.graphLayout!.nodes.get(link.source);
      const toBox = this.graphLayout!.nodes.get(link.target);
      if (!from || !to || !fromBox || !toBox) continue;
      const a = portPosition(fromBox, "output", from[1]);
      const b = portPosition(toBox, "input", to[1]);
      const d = edgePath(a, b);
      const label = describeTransform(link.transform);
      const selected = this.selected?.id === link.id ? " selected" : "";
      parts.push(
        `<g class="edge${selected}" data-link="${escapeHtml(link.id)}" data-source="${escapeHtml(link.source)}" data-target="${escapeHtml(link.target)}">`,
        `<path class="line" d="${d}"></path><path class="hit" d="${d}"></path>`,
        `<text x="${(a.x + b.x) / 2}" y="${(a.y + b.y) / 2 - 6}" text-anchor="middle"><tspan class="value" data-entity="${escapeHtml(from[0].entity_id ?? "")}"></tspan>${label ? ` <tspan class="transform">${escapeHtml(label)}</tspan>` : ""}</text>`,
        "</g>",
      );
    }
    this.edgesLayer.innerHTML = parts.join("");
    for (const edge of this.edgesLayer.querySelectorAll<SVGGElement>("g.edge")) {
      edge.addEventListener("click", () => {
        this.select(this.graph!.links.find((link) => link.id === edge.dataset.link));
      });
    }
    // Every text showing a value, by entity; refilled as the drawing changed.
    this.valueTexts.clear();
    for (const text of this.root.querySelectorAll<SVGTextElement>("tspan.value")) {
      const entity = text.dataset.entity;
      if (!entity) continue;
      const entry = this.valueTexts.get(entity);
      if (entry) entry.texts.push(text);
      else this.valueTexts.set(entity, { texts: [text] });
    }
  }

  /** Show new values and availability; only what changed is touched. */
  private updateValues(force = false): void {
    const hass = this._hass;
    if (!hass || !this.graph) return;
    for (const [entity, entry] of this.valueTexts) {
      const state = hass.states[entity];
      if (!force && state === entry.state) continue;
      entry.state = state;
      const text = formatValue(state);
      for (const node of entry.texts) node.textContent = text;
    }
    for (const unit of this.graph.units) {
      const drawn = this.unitGroups.get(unit.uid);
      if (!drawn) continue;
      const unavailable = this.unitUnavailable(hass, unit);
      if (unavailable !== drawn.unavailable || force) {
        drawn.unavailable = unavailable;
        drawn.group.classList.toggle("unavailable", unavailable);
      }
    }
  }

  private unitUnavailable(hass: Hass, unit: GraphUnit): boolean {
    const connectivity = unit.entities.connectivity;
    if (connectivity) {
      const state = hass.states[connectivity];
      return state === undefined || state.state === "off" || UNAVAILABLE.has(state.state);
    }
    return !unit.available;
  }

  // -- filters -----------------------------------------------------------------------

  private fillFilters(): void {
    const areaNames: Record<string, string> = {};
    for (const [id, area] of Object.entries(this._hass?.areas ?? {})) areaNames[id] = area.name;
    const choices = filterChoices(this.graph!.units, areaNames);
    const labels = { area: "All areas", owner: "All owners", repository: "All repositories" };
    for (const name of ["area", "owner", "repository"] as const) {
      const select = this.selects[name]!;
      const options: Choice[] = [{ value: ANY, label: labels[name] }, ...choices[name]];
      select.innerHTML = options
        .map((c) => `<option value="${escapeHtml(c.value)}">${escapeHtml(c.label)}</option>`)
        .join("");
      if (!options.some((c) => c.value === this.filters[name])) this.filters[name] = ANY;
      select.value = this.filters[name];
      select.hidden = choices[name].length < 2 && this.filters[name] === ANY;
    }
  }

  private applyFilters(): void {
    if (!this.graph) return;
    this.visible = visibleUnits(this.graph.units, this.filters);
    for (const [uid, drawn] of this.unitGroups) drawn.group.classList.toggle("hidden", !this.visible.has(uid));
    for (const [uid, group] of this.portGroups) group.classList.toggle("hidden", !this.visible.has(uid));
    for (const edge of this.edgesLayer.querySelectorAll<SVGGElement>("g.edge")) {
      const shown = this.visible.has(edge.dataset.source!) && this.visible.has(edge.dataset.target!);
      edge.classList.toggle("hidden", !shown);
    }
  }

  // -- view --------------------------------------------------------------------------

  fit(): void {
    if (!this.graphLayout) return;
    const rect = this.svg.getBoundingClientRect();
    this.camera = fitView(this.graphLayout, rect.width || 800, rect.height || this.height);
    this.applyView();
  }

  private applyView(): void {
    this.viewport.setAttribute("transform", viewTransform(this.camera));
    // Zoomed out too far to read, texts are not drawn: hundreds of changing values would
    // otherwise lay the whole drawing out again on every update.
    this.svg.classList.toggle("far", this.camera.k < FAR_ZOOM);
  }

  private scheduleView(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.applyView();
    });
  }

  private local(ev: { clientX: number; clientY: number }): Point {
    const rect = this.svg.getBoundingClientRect();
    return { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
  }

  private onWheel(ev: WheelEvent): void {
    ev.preventDefault();
    this.camera = zoomAt(this.camera, this.local(ev), Math.exp(-ev.deltaY * 0.0015));
    this.scheduleView();
  }

  private onPointerDown(ev: PointerEvent): void {
    const target = ev.target as Element;
    if (target.classList.contains("port") && target.getAttribute("data-direction") === "output") {
      const point = toGraph(this.camera, this.local(ev));
      const port = this.portIndex?.nearest(point, 20 / this.camera.k + 8, "output");
      if (port) {
        this.drag = { from: port, pointer: ev.pointerId };
        this.svg.setPointerCapture(ev.pointerId);
        this.dragLine.setAttribute("d", edgePath(port, point));
        this.dragLine.classList.remove("hidden");
        ev.preventDefault();
        return;
      }
    }
    if (target.closest("g.edge")) return; // an edge (line or label): its click selects it
    this.panFrom = { ...this.local(ev), pointer: ev.pointerId };
    this.svg.setPointerCapture(ev.pointerId);
    this.svg.classList.add("panning");
  }

  private onPointerMove(ev: PointerEvent): void {
    if (this.drag && ev.pointerId === this.drag.pointer) {
      this.dragLine.setAttribute("d", edgePath(this.drag.from, toGraph(this.camera, this.local(ev))));
    } else if (this.panFrom && ev.pointerId === this.panFrom.pointer) {
      const at = this.local(ev);
      this.camera = pan(this.camera, at.x - this.panFrom.x, at.y - this.panFrom.y);
      this.panFrom = { ...at, pointer: ev.pointerId };
      this.scheduleView();
    }
  }

  private onPointerUp(ev: PointerEvent): void {
    const drag = this.drag;
    this.endGestures();
    if (!drag || ev.pointerId !== drag.pointer) return;
    const point = toGraph(this.camera, this.local(ev));
    const target = this.portIndex?.nearest(point, 20 / this.camera.k + 8, "input", (uid) => this.visible.has(uid));
    if (target) void this.link(drag.from, target);
  }

  private endGestures(): void {
    this.drag = undefined;
    this.panFrom = undefined;
    this.dragLine.classList.add("hidden");
    this.svg.classList.remove("panning");
  }

  // -- links -------------------------------------------------------------------------

  private say(text: string, kind: "error" | "info"): void {
    this.messageBox.textContent = text;
    this.messageBox.className = `message ${kind}`;
    this.messageBox.setAttribute("role", kind === "error" ? "alert" : "status");
  }

  private async call(service: string, data: Record<string, unknown>): Promise<unknown> {
    return this._hass!.callService("makerhub", service, data, undefined, false, true);
  }

  private unitName(uid: string): string {
    return this.graph?.units.find((unit) => unit.uid === uid)?.name ?? uid;
  }

  /** Ask the hub for a link from an output's port to an input's; show its answer. */
  async link(from: Port, to: Port, fields: TransformFields = {}): Promise<boolean> {
    const title = `${this.unitName(from.uid)} ${from.variable.name} → ${this.unitName(to.uid)} ${to.variable.name}`;
    if (!from.variable.entity_id || !to.variable.entity_id) {
      this.say(`Link refused: ${title}: a variable without an entity cannot be linked`, "error");
      return false;
    }
    try {
      await this.call("link", { source: from.variable.entity_id, target: to.variable.entity_id, ...fields });
    } catch (err) {
      this.say(refusalMessage(err), "error");
      return false;
    }
    this.say(`Linked ${title}`, "info");
    forgetFleetGraph(); // a link changes no registry: ask the hub again
    await this.refresh();
    return true;
  }

  private select(link: GraphLink | undefined): void {
    this.selected = link;
    for (const edge of this.edgesLayer.querySelectorAll<SVGGElement>("g.edge")) {
      edge.classList.toggle("selected", edge.dataset.link === link?.id);
    }
    this.showEditor();
  }

  private ports(link: GraphLink): [Port, Port] | null {
    const from = this.portIndex?.ports.find(
      (p) => p.uid === link.source && p.direction === "output" && p.variable.name === link.output,
    );
    const to = this.portIndex?.ports.find(
      (p) => p.uid === link.target && p.direction === "input" && p.variable.name === link.input,
    );
    return from && to ? [from, to] : null;
  }

  private showEditor(): void {
    const link = this.selected;
    if (!link) {
      this.editor.hidden = true;
      this.editor.innerHTML = "";
      return;
    }
    const ports = this.ports(link);
    const numeric = ports !== null && transformAllowed(ports[0].variable, ports[1].variable);
    const form = formOf(link.transform);
    const field = (name: keyof typeof form, label: string): string =>
      `<label>${label}<input name="${name}" inputmode="decimal" value="${escapeHtml(form[name])}"></label><div class="field-error" data-for="${name}"></div>`;
    this.editor.innerHTML = `
      <div class="link-title">${escapeHtml(link.title)}</div>
      ${numeric ? field("scale", "Scale") + field("offset", "Offset") + field("minimum", "Minimum") + field("maximum", "Maximum") : ""}
      <div class="buttons">
        ${numeric ? '<button type="button" class="save">Save transform</button>' : ""}
        <button type="button" class="remove">Remove link</button>
        <button type="button" class="close">Close</button>
      </div>`;
    this.editor.hidden = false;
    this.editor.querySelector(".close")!.addEventListener("click", () => this.select(undefined));
    this.editor.querySelector(".remove")!.addEventListener("click", () => void this.unlink(link));
    this.editor.querySelector(".save")?.addEventListener("click", () => {
      const value = (name: string): string =>
        (this.editor.querySelector(`input[name=${name}]`) as HTMLInputElement).value;
      void this.saveTransform(link, {
        scale: value("scale"),
        offset: value("offset"),
        minimum: value("minimum"),
        maximum: value("maximum"),
      });
    });
  }

  async unlink(link: GraphLink): Promise<boolean> {
    try {
      await this.call("unlink", { link: link.id });
    } catch (err) {
      this.say(refusalMessage(err), "error");
      return false;
    }
    this.say(`Removed ${link.title}`, "info");
    this.selected = undefined;
    this.showEditor();
    forgetFleetGraph();
    await this.refresh();
    return true;
  }

  /** A new transform: the link is replaced (the hub keeps one link per output → input). */
  async saveTransform(link: GraphLink, form: ReturnType<typeof formOf>): Promise<boolean> {
    for (const box of this.editor.querySelectorAll<HTMLElement>(".field-error")) box.textContent = "";
    const parsed = parseTransform(form);
    if (!parsed.ok) {
      for (const [name, text] of Object.entries(parsed.errors)) {
        const box = this.editor.querySelector<HTMLElement>(`.field-error[data-for=${name}]`);
        if (box) box.textContent = text ?? "";
      }
      return false;
    }
    const ports = this.ports(link);
    if (!ports) return false;
    try {
      await this.call("unlink", { link: link.id });
    } catch (err) {
      this.say(refusalMessage(err), "error");
      return false;
    }
    const old = formOf(link.transform);
    if (await this.link(ports[0], ports[1], parsed.fields)) return true;
    const previous = parseTransform(old);
    const message = this.messageBox.textContent ?? "";
    await this.link(ports[0], ports[1], previous.ok ? previous.fields : {});
    this.say(message, "error"); // the refusal of the new transform, not the restore
    return false;
  }
}
