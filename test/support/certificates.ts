import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM files of a throwaway certificate authority, a broker and a client, made with openssl. */
export interface TestCertificates {
  dir: string;
  caCert: string;
  /** The broker's key and certificate in one file, as Kafka's PEM key store reads it. */
  brokerKeyAndCert: string;
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing here: trusting it alone must fail verification. */
  otherCaCert: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run("openssl", args, { cwd });
}

async function authority(dir: string, name: string): Promise<void> {
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.crt`], dir);
}

/** A key and a certificate signed by the CA `ca`; `altNames` are subjectAltName entries. */
async function signed(dir: string, name: string, ca: string, altNames: string): Promise<void> {
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.csr`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${altNames}\n`);
  await openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.crt`],
    dir,
  );
}

/** Made fresh for each test run: nothing secret is kept in the repository. */
export async function makeCertificates(): Promise<TestCertificates> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kafka-tls-"));
  await authority(dir, "test-ca");
  await authority(dir, "other-ca");
  await signed(dir, "broker", "test-ca", "IP:127.0.0.1,DNS:localhost");
  await signed(dir, "client", "test-ca", "DNS:node-red-client");
  const file = (name: string): string => path.join(dir, name);
  fs.writeFileSync(file("broker.pem"), fs.readFileSync(file("broker.key"), "utf8") + fs.readFileSync(file("broker.crt"), "utf8"));
  return {
    dir,
    caCert: file("test-ca.crt"),
    brokerKeyAndCert: file("broker.pem"),
    clientCert: file("client.crt"),
    clientKey: file("client.key"),
    otherCaCert: file("other-ca.crt"),
  };
}
