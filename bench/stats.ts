/** Latencies (ms) collected without allocating per sample; percentiles on demand. */
export class Latencies {
  private values = new Float64Array(1024)
  private size = 0
  private sorted = true

  get count(): number {
    return this.size
  }

  add(ms: number): void {
    if (this.size === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2)
      bigger.set(this.values)
      this.values = bigger
    }
    this.values[this.size++] = ms
    this.sorted = false
  }

  /** The p-th percentile (0–100), nearest rank; 0 when empty. */
  percentile(p: number): number {
    if (this.size === 0) return 0
    if (!this.sorted) {
      this.values.subarray(0, this.size).sort()
      this.sorted = true
    }
    const rank = Math.min(this.size - 1, Math.max(0, Math.ceil((p / 100) * this.size) - 1))
    return this.values[rank] as number
  }
}

/** A number for the summary line: integers as they are, others with at most two decimals. */
export function plainNumber(n: number): string {
  if (!Number.isFinite(n)) return '0'
  if (Math.abs(n) >= 100) return String(Math.round(n))
  return String(Math.round(n * 100) / 100)
}

/** A number for the table: thousands separated; one decimal below 100, two below 1. */
export function readable(n: number): string {
  if (!Number.isFinite(n)) return '-'
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US')
  return Math.abs(n) >= 1 ? String(Math.round(n * 10) / 10) : String(Math.round(n * 100) / 100)
}

/** Left-aligned columns separated by two spaces; the first row is the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  const [header, ...body] = rows
  if (!header) return ''
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

/** The contract's last line: `summary: key=value …` with plain numbers. */
export function summaryLine(summary: Readonly<Record<string, number>>): string {
  return 'summary: ' + Object.entries(summary)
    .map(([key, value]) => `${key}=${plainNumber(value)}`)
    .join(' ')
}
