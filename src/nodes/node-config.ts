import type { Node, NodeDef } from "node-red";
import type { KafkaConnection } from "../kafka/connection";
import type { DeliveryMode } from "../kafka/consumer-loop";
import type { PayloadFormat } from "../kafka/record-codec";
import type { ModelKind } from "../python/protocol";

/** Node properties exactly as the editor saves them (see nodes/*.html `defaults`). */

export interface KafkaBrokerDef extends NodeDef {
  brokers: string;
  clientId: string;
}

/** What kafka-in and kafka-out see of their kafka-broker config node. */
export interface KafkaBrokerNode extends Node {
  connection: KafkaConnection;
  /**
   * A node that produces registers: it is shown the shared producer's state, and the
   * producer disconnects when the last registered node deregisters.
   */
  register(user: Node): void;
  deregister(user: Node): Promise<void>;
}

export interface KafkaInDef extends NodeDef {
  broker: string;
  topic: string;
  groupId: string;
  fromBeginning: boolean;
  payloadFormat: PayloadFormat;
  deliveryMode: DeliveryMode;
  maxUnsettled: number | string;
}

export type AcksSetting = "all" | "leader" | "none";

export interface KafkaOutDef extends NodeDef {
  broker: string;
  topic: string;
  acks: AcksSetting;
}

export interface PythonModelDef extends NodeDef {
  kind: ModelKind;
  modelPath: string;
  handlerPath: string;
  backend: string;
  python: string;
  batchSize: number | string;
  maxWaitMs: number | string;
  timeoutMs: number | string;
}

/** Editor numbers may arrive as strings; a blank or invalid one takes the default. */
export function numberSetting(value: number | string | undefined, fallback: number, min: number, max: number): number {
  const parsed = typeof value === "number" ? value : Number.parseInt(String(value ?? ""), 10);
  if (!Number.isFinite(parsed)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(parsed)));
}
