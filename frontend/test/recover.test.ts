import { describe, expect, it } from "vitest";
import { lovelacePanel, recoverFromTimeout, STRATEGY_ELEMENT, timedOut } from "../src/recover";

const error = (element: string) => ({
  lovelace: {
    config: {
      views: [{ cards: [{ content: `Error loading the dashboard strategy:\n> Error: Timeout waiting for strategy element ${element} to be registered` }] }],
    },
  },
});

function panel(config: object): { calls: number } & Record<string, unknown> {
  const p = {
    ...config,
    calls: 0,
    async _regenerateStrategyConfig(): Promise<void> {
      p.calls += 1;
    },
  };
  return p;
}

describe("recovering from Home Assistant's strategy timeout", () => {
  it("tells this strategy's timeout from other dashboards and errors", () => {
    expect(timedOut(error(STRATEGY_ELEMENT) as never)).toBe(true);
    expect(timedOut(error("ll-strategy-dashboard-other") as never)).toBe(false);
    expect(timedOut({ lovelace: { config: { views: [{ cards: [{ content: 42 }] }, {}] } } } as never)).toBe(false);
    expect(timedOut({} as never)).toBe(false);
  });

  it("asks the panel to generate the dashboard again, only after the timeout", async () => {
    const stuck = panel(error(STRATEGY_ELEMENT));
    expect(await recoverFromTimeout(stuck as never)).toBe(true);
    expect(stuck.calls).toBe(1);
    const fine = panel({ lovelace: { config: { views: [] } } });
    expect(await recoverFromTimeout(fine as never)).toBe(false);
    expect(fine.calls).toBe(0);
    expect(await recoverFromTimeout(error(STRATEGY_ELEMENT) as never)).toBe(false); // no such method
    expect(await recoverFromTimeout(null)).toBe(false);
  });

  it("finds the panel through the app's shadow roots", () => {
    const found = { tagName: "HA-PANEL-LOVELACE" };
    const root = (child: unknown) => ({ querySelector: () => child });
    const doc = { querySelector: () => ({ shadowRoot: root({ shadowRoot: root(found) }) }) };
    expect(lovelacePanel(doc as never)).toBe(found);
    expect(lovelacePanel({ querySelector: () => null } as never)).toBeNull();
  });
});
