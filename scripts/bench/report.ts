/** What a pass adds to the JSON line, and its rows of the printed table. */
export interface PassResult {
  results: Record<string, number>;
  table: [string, string][];
}

export const round = (value: number): number => Math.round(value * 10) / 10;

export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
