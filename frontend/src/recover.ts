/** Home Assistant gives a custom strategy's element 5 s to be defined once a dashboard
 * asks for it, then shows "Timeout waiting for strategy element" for good. On a starved
 * machine this module can run after that (it is loaded after the app's own code). When it
 * runs, it looks for a dashboard panel showing that very error for this strategy and asks
 * the panel to generate the dashboard again, as its Refresh button would. */

export const STRATEGY_ELEMENT = "ll-strategy-dashboard-makerhub";

interface LovelacePanel extends Element {
  lovelace?: { config?: { views?: { cards?: { content?: unknown }[] }[] } };
  _regenerateStrategyConfig?: () => Promise<void>;
}

/** Whether a generated dashboard is Home Assistant's error for this strategy's timeout. */
export function timedOut(panel: LovelacePanel): boolean {
  const views = panel.lovelace?.config?.views ?? [];
  return views.some((view) =>
    (view.cards ?? []).some(
      (card) => typeof card.content === "string" && card.content.includes("Timeout waiting for strategy element") && card.content.includes(STRATEGY_ELEMENT),
    ),
  );
}

/** The dashboard panel in the app's page (through its shadow roots), if one is shown. */
export function lovelacePanel(doc: Document): LovelacePanel | null {
  const main = doc.querySelector("home-assistant")?.shadowRoot?.querySelector("home-assistant-main");
  return (main?.shadowRoot?.querySelector("ha-panel-lovelace") as LovelacePanel | null) ?? null;
}

/** Generate the dashboard again if it timed out waiting for this module; returns whether
 * it asked. Home Assistant's method is private: without it, nothing is done (a reload
 * still works). */
export async function recoverFromTimeout(panel: LovelacePanel | null): Promise<boolean> {
  if (!panel || !timedOut(panel) || typeof panel._regenerateStrategyConfig !== "function") return false;
  await panel._regenerateStrategyConfig();
  return true;
}
