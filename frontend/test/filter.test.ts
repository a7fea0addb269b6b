import { describe, expect, it } from "vitest";
import { NONE, NO_FILTERS, filterChoices, visibleUnits } from "../src/filter";
import { unit } from "./fixtures";

const units = [
  unit("a", "A", { area_id: "lab", owner: "u1", owner_name: "Ann", repository: "r1", repository_name: "thermo" }),
  unit("b", "B", { area_id: "shop", owner: "u2", owner_name: "Bob" }),
  unit("c", "C", { area_id: "lab" }),
];

describe("filters", () => {
  it("show everything by default", () => {
    expect([...visibleUnits(units, NO_FILTERS)]).toEqual(["a", "b", "c"]);
  });

  it("filter by area, owner and repository together", () => {
    expect([...visibleUnits(units, { ...NO_FILTERS, area: "lab" })]).toEqual(["a", "c"]);
    expect([...visibleUnits(units, { ...NO_FILTERS, area: "lab", owner: "u1" })]).toEqual(["a"]);
    expect([...visibleUnits(units, { ...NO_FILTERS, repository: "r1" })]).toEqual(["a"]);
    expect([...visibleUnits(units, { ...NO_FILTERS, owner: NONE })]).toEqual(["c"]);
    expect([...visibleUnits(units, { ...NO_FILTERS, repository: NONE })]).toEqual(["b", "c"]);
  });

  it("offer the values the units have, by label, and none when some have none", () => {
    const choices = filterChoices(units, { lab: "Laboratory", shop: "Workshop" });
    expect(choices.area).toEqual([
      { value: "lab", label: "Laboratory" },
      { value: "shop", label: "Workshop" },
    ]);
    expect(choices.owner.map((c) => c.label)).toEqual(["Ann", "Bob", "No owner (admins)"]);
    expect(choices.repository).toEqual([
      { value: "r1", label: "thermo" },
      { value: NONE, label: "No repository" },
    ]);
  });
});
