/** One line of the results table. `target` is absent for figures shown for information only. */
export interface Row {
  workload: string;
  raw: number;
  netref: number;
  decimals: number;
  target?: { bound: 'max' | 'min'; ratio: number };
  /** Shown instead of netref / raw (a median of several runs' ratios). */
  ratio?: number;
}

/** The row-by-row medians of several runs of the same table: raw, netref, and the ratio taken run by run. */
export function medianRows(tables: readonly (readonly Row[])[]): Row[] {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  return tables[0]!.map((row, i) => {
    const same = tables.map((t) => t[i]!);
    return {
      ...row,
      raw: median(same.map((r) => r.raw)),
      netref: median(same.map((r) => r.netref)),
      ratio: median(same.map((r) => r.netref / r.raw)),
    };
  });
}

const HEADERS = ['workload', 'raw', 'netref', 'ratio', 'target', 'met'] as const;
/** Text columns read left to right; numbers line up on the right. */
const RIGHT_ALIGNED = [false, true, true, true, false, false];

export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((row) => {
    const ratio = row.ratio ?? row.netref / row.raw;
    const t = row.target;
    const met = t === undefined ? 'info' : (t.bound === 'max' ? ratio <= t.ratio : ratio >= t.ratio) ? 'yes' : 'NO';
    return [
      row.workload,
      formatNumber(row.raw, row.decimals),
      formatNumber(row.netref, row.decimals),
      `${ratio.toFixed(2)}x`,
      t === undefined ? '-' : `${t.bound === 'max' ? '<=' : '>='} ${t.ratio.toFixed(2)}x`,
      met,
    ];
  });
  return renderTable(HEADERS, cells, (c) => RIGHT_ALIGNED[c]!);
}

/** Columns as wide as their widest cell, two spaces apart, a rule under the headers; `right(c)` aligns numbers. */
export function renderTable(
  headers: readonly string[],
  cells: readonly (readonly string[])[],
  right: (column: number) => boolean,
): string {
  const widths = headers.map((_, c) => Math.max(headers[c]!.length, ...cells.map((line) => line[c]!.length)));
  const render = (line: readonly string[]) =>
    line
      .map((cell, c) => (right(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [render(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(render)].join('\n');
}

export function formatNumber(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
