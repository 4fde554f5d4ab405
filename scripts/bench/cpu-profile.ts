import { Session } from "node:inspector/promises";

/** V8's CPU profile, as the inspector's Profiler.stop gives it. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** How often the profiler samples the JavaScript thread. */
const SAMPLING_INTERVAL_US = 500;

/** Samples this process's JavaScript thread (the embedded Node-RED's) until stop(). */
export async function startCpuProfile(): Promise<{ stop(): Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: CpuProfile };
      session.disconnect();
      return profile;
    },
  };
}

/** A frame as a flame graph names it: the function and the file (under node_modules, the package's path). */
function frameName(frame: CpuProfile["nodes"][number]["callFrame"]): string {
  const file = frame.url.replace(/^file:\/\//, "");
  const inModules = file.lastIndexOf("node_modules/");
  const where = inModules >= 0 ? file.slice(inModules + "node_modules/".length) : file.replace(/^.*\/(dist|src|scripts|test)\//, "$1/");
  const name = frame.functionName || "(anonymous)";
  return (where ? `${name} ${where}:${frame.lineNumber + 1}` : name).replace(/;/g, ",");
}

/**
 * The profile as folded stacks ("root;caller;callee count" per line), the input of
 * flame graph tools, with the time in µs as the count. `(idle)` (the event loop
 * waiting) is left out: the graph shows where the busy time goes. `(program)` is time in
 * native code with no JavaScript on the stack (a native client's callbacks, libuv).
 */
export function foldedStacks(profile: CpuProfile): string {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stackOf = new Map<number, string>();
  const stack = (id: number): string => {
    const known = stackOf.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const own = node ? frameName(node.callFrame) : "?";
    const whole = up === undefined ? own : `${stack(up)};${own}`;
    stackOf.set(id, whole);
    return whole;
  };
  const micros = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const name = byId.get(id)?.callFrame.functionName;
    if (name === "(idle)") return;
    const key = stack(id);
    micros.set(key, (micros.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return [...micros].map(([key, us]) => `${key} ${us}`).join("\n");
}

/** A share of the time: the frames its test passes, and what they call that no other category claims. */
export interface Category {
  name: string;
  test: (frame: { functionName: string; url: string }) => boolean;
}

/**
 * The profile's time by category, in µs: each sample goes to the category of the
 * innermost frame of its stack that some category claims (JSON.parse called by the
 * record decoder counts as decoding); `idle` is the event loop waiting, `other` the rest.
 */
export function timeByCategory(profile: CpuProfile, categories: Category[]): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryOf = new Map<number, string>();
  const categorise = (id: number): string => {
    const known = categoryOf.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)?.callFrame ?? { functionName: "", url: "" };
    const up = parent.get(id);
    const own = frame.functionName === "(idle)" ? "idle" : categories.find((category) => category.test(frame))?.name;
    const name = own ?? (up === undefined ? "other" : categorise(up));
    categoryOf.set(id, name);
    return name;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const name = categorise(id);
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return totals;
}

/** The frames that took most of the busy time themselves (not in what they called), with their time in µs. */
export function topSelfFrames(profile: CpuProfile, count: number): [string, number][] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") return;
    const name = frameName(frame);
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, count);
}
