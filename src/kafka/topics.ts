/** "a, b" is two topics; "/^sensor-.*$/" is every topic the expression matches. */
export function parseTopics(setting: string): (string | RegExp)[] {
  const pattern = /^\/(.+)\/$/.exec(setting);
  if (pattern) return [new RegExp(pattern[1])];
  return setting
    .split(",")
    .map((topic) => topic.trim())
    .filter(Boolean);
}
