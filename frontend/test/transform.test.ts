import { describe, expect, it } from "vitest";
import { applyTransform, describeTransform, formOf, parseTransform, transformAllowed } from "../src/transform";
import { variable } from "./fixtures";

describe("transform editing", () => {
  it("reads the stored form into the editor and back into the action's fields", () => {
    const form = formOf({ scale: 2, min: 0, max: 100 });
    expect(form).toEqual({ scale: "2", offset: "", minimum: "0", maximum: "100" });
    expect(parseTransform(form)).toEqual({ ok: true, fields: { scale: 2, minimum: 0, maximum: 100 } });
  });

  it("leaves out defaults and empty fields", () => {
    expect(parseTransform({ scale: "1", offset: "0", minimum: " ", maximum: "" })).toEqual({ ok: true, fields: {} });
    expect(parseTransform({ scale: "-0.5", offset: "3e1", minimum: "", maximum: "" })).toEqual({
      ok: true,
      fields: { scale: -0.5, offset: 30 },
    });
  });

  it("refuses what the hub would refuse, field by field", () => {
    const bad = parseTransform({ scale: "two", offset: "Infinity", minimum: "", maximum: "" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors.scale).toContain("finite number");
      expect(bad.errors.offset).toContain("finite number");
    }
    const crossed = parseTransform({ scale: "", offset: "", minimum: "10", maximum: "5" });
    expect(crossed).toEqual({ ok: false, errors: { minimum: "minimum 10 is greater than maximum 5" } });
  });

  it("is offered between numbers only", () => {
    expect(transformAllowed(variable("a", "float"), variable("b", "int"))).toBe(true);
    expect(transformAllowed(variable("a", "bool"), variable("b", "bool"))).toBe(false);
    expect(transformAllowed(variable("a", "int"), variable("b", "str"))).toBe(false);
  });

  it("labels an edge with its transform", () => {
    expect(describeTransform(undefined)).toBe("");
    expect(describeTransform({ scale: 2, offset: -1, min: 0 })).toBe("×2 −1 [0…∞]");
    expect(describeTransform({ offset: 3, max: 9 })).toBe("+3 [−∞…9]");
  });

  it("previews what the unit will receive, as the unit applies it", () => {
    expect(applyTransform({ scale: 2, offset: 1, max: 10 }, 3)).toBe(7);
    expect(applyTransform({ scale: 2, offset: 1, max: 10 }, 30)).toBe(10);
    expect(applyTransform({ min: 0 }, -4)).toBe(0);
    expect(applyTransform(undefined, 4.5)).toBe(4.5);
  });
});
