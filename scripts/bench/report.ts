/** What a pass adds to the JSON line, and its rows of the printed table. */
export interface PassResult {
  results: Record<string, number | string>;
  table: [string, string][];
}

export const round = (value: number): number => Math.round(value * 10) / 10;

export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
