import type { NodeAPI } from "node-red";
import { RegistryClient } from "../kafka/schema-registry/registry-client";
import { registrySettings } from "../kafka/schema-registry/registry-settings";
import type { SchemaRegistryCredentials, SchemaRegistryDef, SchemaRegistryNode } from "./node-config";

export = function registerSchemaRegistry(RED: NodeAPI): void {
  function SchemaRegistry(this: SchemaRegistryNode, config: SchemaRegistryDef): void {
    RED.nodes.createNode(this, config);
    try {
      const settings = registrySettings(config, this.credentials ?? {});
      if (settings.urls.length === 0) throw new Error(RED._("schema-registry.errors.no-url"));
      this.client = new RegistryClient(settings);
    } catch (error) {
      this.configError = RED._("schema-registry.errors.settings", { error: (error as Error).message });
      this.error(this.configError);
    }
  }
  RED.nodes.registerType<SchemaRegistryNode, SchemaRegistryDef, unknown, SchemaRegistryCredentials>("schema-registry", SchemaRegistry, {
    credentials: {
      username: { type: "text" },
      password: { type: "password" },
      token: { type: "password" },
      oauthClientSecret: { type: "password" },
      ca: { type: "text" },
    },
  });

  // the dialog's "Test connection": the settings as the dialog has them; secrets the
  // dialog does not show (a saved password) are taken from the saved node
  RED.httpAdmin.post("/schema-registry/test", RED.auth.needsPermission("schema-registry.write"), (req, res) => {
    const body = (req.body ?? {}) as Partial<SchemaRegistryDef> & SchemaRegistryCredentials & { id?: string };
    const saved = (body.id ? RED.nodes.getCredentials(body.id) : undefined) as SchemaRegistryCredentials | undefined;
    const secret = (typed: string | undefined, stored: string | undefined): string | undefined => (typed === "__PWRD__" ? stored : typed);
    let client: RegistryClient;
    try {
      const settings = registrySettings(
        { ...body, urls: body.urls ?? "", auth: body.auth ?? "none" },
        {
          username: body.username,
          password: secret(body.password, saved?.password),
          token: secret(body.token, saved?.token),
          oauthClientSecret: secret(body.oauthClientSecret, saved?.oauthClientSecret),
          ca: body.ca ?? saved?.ca,
        },
      );
      if (settings.urls.length === 0) throw new Error(RED._("schema-registry.errors.no-url"));
      client = new RegistryClient({ ...settings, timeoutMs: 5000 });
    } catch (error) {
      res.json({ ok: false, error: (error as Error).message });
      return;
    }
    client.subjects().then(
      (subjects) => res.json({ ok: true, subjects: subjects.length }),
      (error: Error) => res.json({ ok: false, error: error.message }),
    );
  });
};
