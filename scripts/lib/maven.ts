/** A pom's dependencies as group:artifact:version, to say what setup fetches. */
export function pomDependencies(pom: string): string[] {
  const pattern = /<dependency>\s*<groupId>([^<]+)<\/groupId>\s*<artifactId>([^<]+)<\/artifactId>\s*<version>([^<]+)<\/version>/g;
  return [...pom.matchAll(pattern)].map(([, group, artifact, version]) => `${group}:${artifact}:${version}`);
}
