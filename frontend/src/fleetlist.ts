/** The Fleet list's logic: which rows a page shows. */

export interface FleetRow {
  name: string;
  version: string | null;
  status: string | null;
  outputs: string[];
}

export const PAGE_SIZE = 25;

/** The rows whose name contains `filter` (any case), and the page of them to show. */
export function pageOf(rows: FleetRow[], filter: string, page: number, size = PAGE_SIZE): { rows: FleetRow[]; page: number; pages: number; matching: number } {
  const wanted = filter.trim().toLowerCase();
  const matching = wanted === "" ? rows : rows.filter((row) => row.name.toLowerCase().includes(wanted));
  const pages = Math.max(1, Math.ceil(matching.length / size));
  const shown = Math.min(Math.max(0, page), pages - 1);
  return { rows: matching.slice(shown * size, (shown + 1) * size), page: shown, pages, matching: matching.length };
}
