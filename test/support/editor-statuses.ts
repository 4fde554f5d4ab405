import * as crypto from "node:crypto";
import * as http from "node:http";
import type { Duplex } from "node:stream";

interface CommsMessage {
  topic: string;
  data?: { text?: string };
}

const TEXT_FRAME = 0x1;

/**
 * Every node status a real Node-RED sends its editor, read from the editor's comms
 * WebSocket as the editor reads it. A Status node cannot stand in: Node-RED wires Status
 * nodes up after every node of the flow is created, so they miss the status each node
 * shows as it starts. The client is the least of RFC 6455 this needs: the server's
 * unfragmented text frames in, one masked text frame (the subscription) out.
 */
export class EditorStatuses {
  private readonly seen: { id: string; text: string }[] = [];
  private unread = Buffer.alloc(0);

  private constructor(private readonly socket: Duplex) {
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    socket.on("error", () => undefined);
  }

  static connect(url: string): Promise<EditorStatuses> {
    const request = http.request(`${url}/comms`, {
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": crypto.randomBytes(16).toString("base64") },
    });
    return new Promise((resolve, reject) => {
      request.on("upgrade", (_response, socket, head) => {
        const statuses = new EditorStatuses(socket);
        statuses.read(head);
        statuses.send(JSON.stringify({ subscribe: "status/#" }));
        resolve(statuses);
      });
      request.on("response", (response) => reject(new Error(`no WebSocket at ${url}/comms: HTTP ${response.statusCode}`)));
      request.on("error", reject);
      request.end();
    });
  }

  /** The texts a node's status has shown, in order. */
  of(id: string): string[] {
    return this.seen.filter((status) => status.id === id).map((status) => status.text);
  }

  close(): void {
    this.socket.destroy();
  }

  private send(text: string): void {
    const payload = Buffer.from(text, "utf8");
    if (payload.length > 125) throw new Error("only short messages are sent");
    const mask = crypto.randomBytes(4);
    const masked = payload.map((byte, index) => byte ^ mask[index % 4]);
    this.socket.write(Buffer.concat([Buffer.from([0x80 | TEXT_FRAME, 0x80 | payload.length]), mask, masked]));
  }

  private read(chunk: Buffer): void {
    this.unread = Buffer.concat([this.unread, chunk]);
    for (;;) {
      if (this.unread.length < 2) return;
      let length = this.unread[1] & 0x7f;
      let start = 2;
      if (length === 126) {
        if (this.unread.length < 4) return;
        length = this.unread.readUInt16BE(2);
        start = 4;
      } else if (length === 127) {
        if (this.unread.length < 10) return;
        length = Number(this.unread.readBigUInt64BE(2));
        start = 10;
      }
      if (this.unread.length < start + length) return;
      const opcode = this.unread[0] & 0x0f;
      const payload = this.unread.subarray(start, start + length);
      this.unread = this.unread.subarray(start + length);
      if (opcode === TEXT_FRAME) this.record(payload.toString("utf8"));
    }
  }

  private record(text: string): void {
    for (const message of JSON.parse(text) as CommsMessage[]) {
      if (message.topic.startsWith("status/")) this.seen.push({ id: message.topic.slice("status/".length), text: message.data?.text ?? "" });
    }
  }
}
