import { describe, expect, it } from "vitest";
import { ACCOUNT_SERVICES, accountPath, activeIndex, fromMe, myPerson, projectEntities, showingEntity, showOnDisplay, stepIndex, swipeDirection } from "../src/me";

describe("the Me card", () => {
  it("reads a horizontal swipe, not a scroll", () => {
    expect(swipeDirection(-120, 10)).toBe(1);
    expect(swipeDirection(90, -20)).toBe(-1);
    expect(swipeDirection(30, 0)).toBe(0);
    expect(swipeDirection(-80, 120)).toBe(0);
  });

  it("goes round the projects", () => {
    expect(stepIndex(2, 3, 1)).toBe(0);
    expect(stepIndex(0, 3, -1)).toBe(2);
    expect(stepIndex(0, 0, 1)).toBe(0);
  });

  it("finds my person by my user", () => {
    const states = {
      "person.ann": { entity_id: "person.ann", state: "home", attributes: { user_id: "u1" } },
      "person.bob": { entity_id: "person.bob", state: "home", attributes: { user_id: "u2" } },
      "sensor.x": { entity_id: "sensor.x", state: "1", attributes: { user_id: "u2" } },
    };
    expect(myPerson(states, "u2")?.entity_id).toBe("person.bob");
    expect(myPerson(states, "u3")).toBeUndefined();
    expect(myPerson(states, undefined)).toBeUndefined();
  });

  it("finds a project's entities on its device", () => {
    const devices = {
      d1: { id: "d1", name: "Robot", identifiers: [["makerhub", "project-p1"]] as [string, string][] },
      d2: { id: "d2", name: "Other", identifiers: [["makerhub", "project-p2"]] as [string, string][] },
    };
    const entities = [
      { entity_id: "sensor.robot_status", platform: "makerhub", device_id: "d1", translation_key: "project_status" },
      { entity_id: "sensor.robot_cost", platform: "makerhub", device_id: "d1", translation_key: "project_cost" },
      { entity_id: "todo.robot_steps", platform: "makerhub", device_id: "d1", translation_key: "steps" },
      { entity_id: "switch.robot_desktop", platform: "makerhub", device_id: "d1", translation_key: "desktop_running" },
      { entity_id: "sensor.other_cost", platform: "makerhub", device_id: "d2", translation_key: "project_cost" },
    ];
    expect(projectEntities("p1", devices, entities)).toEqual({
      status: "sensor.robot_status",
      cost: "sensor.robot_cost",
      steps: "todo.robot_steps",
      desktop: "switch.robot_desktop",
    });
    expect(projectEntities("p3", devices, entities)).toEqual({});
  });

  it("starts at my active project", () => {
    const projects = [
      { id: "a", name: "Alpha" },
      { id: "b", name: "Beta" },
    ];
    expect(activeIndex(projects, "Beta")).toBe(1);
    expect(activeIndex(projects, "Beta (beta-2)")).toBe(1);
    expect(activeIndex(projects, "none")).toBe(0);
  });
});

describe("the Me card with makerhub/me", () => {
  it("reads my projects with their entities and starts at my active one", () => {
    const view = fromMe({
      person: "person.ann",
      name: "Ann",
      agreement: { needs_signing: false },
      station: { name: "Laser" },
      projects: [
        { id: "a", name: "Alpha", status: "active", active: false, entities: { status: "sensor.a_status", cost: "sensor.a_cost", month_cost: "sensor.a_month", todo: "todo.a", desktop_running: null } },
        { id: "old", name: "Old", status: "archived", active: false, entities: {} },
        { id: "b", name: "Beta", status: "active", active: true, entities: { status: "sensor.b_status", cost: "sensor.b_cost", todo: null, desktop_running: "switch.b_desktop" } },
      ],
    });
    expect(view.projects.map((p) => p.id)).toEqual(["a", "b"]);
    expect(view.index).toBe(1);
    expect(view.station).toBe("Laser");
    expect(view.needsAgreement).toBe(false);
    expect(view.projects[0].entities).toEqual({ status: "sensor.a_status", cost: "sensor.a_month", steps: "todo.a", desktop: undefined });
    expect(view.projects[1].entities.cost).toBe("sensor.b_cost");
    expect(view.projects[1].entities.desktop).toBe("switch.b_desktop");
  });

  it("says when my agreement needs signing", () => {
    const view = fromMe({ person: "person.bob", name: "Bob", agreement: { needs_signing: true }, station: null, projects: [] });
    expect(view.needsAgreement).toBe(true);
    expect(view.index).toBe(0);
    expect(view.station).toBeNull();
  });
});

describe("the Me card's screen and accounts", () => {
  it("finds the screen near me and what it shows, from makerhub/me", () => {
    const answer = {
      person: "person.ann",
      name: "Ann",
      projects: [],
      accounts: ["github"],
      station: { name: "Laser", display_device_id: "dev1", display_entities: ["select.screen_show", "sensor.screen_showing"] },
    };
    const view = fromMe(answer);
    expect(view.screen).toEqual({ device: "dev1", showing: "sensor.screen_showing" });
    expect(view.accounts).toEqual(["github"]);
    expect(fromMe({ ...answer, station: { name: "Laser", display_device_id: null } }).screen).toBeNull();
    expect(fromMe({ ...answer, station: { name: "Laser", display_device_id: "d" } }).screen).toEqual({ device: "d", showing: undefined });
    expect(fromMe({ person: "p", name: "P", projects: [], station: null }).accounts).toBeNull();
  });

  it("asks show_on_display for my desktop or idle on that display", () => {
    expect(showOnDisplay("dev1", "desktop", "person.ann")).toEqual({ display: ["dev1"], what: "desktop", person: "person.ann" });
    expect(showOnDisplay("dev1", "idle", "person.ann")).toEqual({ display: ["dev1"], what: "idle" });
    expect(showingEntity(["sensor.a_touch", "sensor.a_showing"])).toBe("sensor.a_showing");
    expect(showingEntity(["select.a_showing"])).toBeUndefined();
  });

  it("links accounts at the members' endpoint", () => {
    expect(accountPath("github")).toBe("makerhub/me/accounts/github");
    expect(ACCOUNT_SERVICES.map(([service]) => service)).toEqual(["github", "todoist"]);
  });
});
