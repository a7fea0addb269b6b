import { describe, expect, it } from "vitest";
import { escapeHtml, formatValue, refusalMessage } from "../src/format";

const state = (value: string, unit?: string) => ({
  entity_id: "sensor.x",
  state: value,
  attributes: unit ? { unit_of_measurement: unit } : {},
});

describe("text shown", () => {
  it("formats values with their unit", () => {
    expect(formatValue(state("21.5", "°C"))).toBe("21.5 °C");
    expect(formatValue(state("on"))).toBe("on");
    expect(formatValue(state("unavailable"))).toBe("—");
    expect(formatValue(state("unknown"))).toBe("?");
    expect(formatValue(undefined)).toBe("—");
    expect(formatValue(state("a very long text value here"))).toBe("a very long tex…");
  });

  it("shows the hub's reason for a refused link", () => {
    const error = {
      code: "service_validation_error",
      message: "Validation error: Invalid link: input: bool cannot feed int",
      translation_key: "invalid_link",
      translation_placeholders: { error: "input: bool cannot feed int" },
    };
    expect(refusalMessage(error)).toBe("Link refused: input: bool cannot feed int");
    expect(refusalMessage({ message: "Validation error: hub not loaded" })).toBe("hub not loaded");
    expect(refusalMessage(new Error("socket closed"))).toBe("socket closed");
    expect(refusalMessage("odd")).toBe("odd");
  });

  it("escapes names put into the drawing", () => {
    expect(escapeHtml(`<b a="x">&'`)).toBe("&#60;b a=&#34;x&#34;&#62;&#38;&#39;");
  });
});
