import type { RegistrySettings } from "./registry-client";

/** The registry's settings from a node's configuration and credentials. */
export function registrySettings(config: { urls?: string; auth?: string }, credentials: { username?: string; password?: string; token?: string; ca?: string }): RegistrySettings {
  const urls = (config.urls ?? "")
    .split(",")
    .map((url) => url.trim())
    .filter(Boolean);
  for (const url of urls) {
    if (!/^https?:\/\/[^/]/.test(url)) throw new Error(`${url} is not an http:// or https:// URL`);
  }
  const settings: RegistrySettings = { urls, ca: credentials.ca?.trim() || undefined };
  if (config.auth === "basic") return { ...settings, username: credentials.username ?? "", password: credentials.password ?? "" };
  if (config.auth === "bearer") return { ...settings, token: credentials.token ?? "" };
  return settings;
}
