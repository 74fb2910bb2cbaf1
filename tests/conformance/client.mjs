// A graphsvc client in JavaScript (Node 20), the one docs/integrate.md walks through:
// keys from a seed or a `graphsvc keygen` file, canonical bytes (RFC 8785, by the
// `canonicalize` package), ids, Ed25519 signatures (Node's own crypto), co-signing, and
// POST /records with its NDJSON answer. It shares no code with graphsvc.
//
//   node client.mjs vectors ../../docs/integrate.md   # check the guide's test vectors
//   node client.mjs submit http://127.0.0.1:8000       # register, publish, run, attest

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as ed25519 } from "node:crypto";
import { readFileSync } from "node:fs";
import canonicalize from "canonicalize";

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

// A 32-byte Ed25519 seed as a key: the seed inside its PKCS#8 wrapping (RFC 8410).
export function keyFromSeed(seed) {
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  return createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
}

// A `graphsvc keygen` file: one line, the seed in unpadded base64url.
export const keyFromFile = (path) =>
  keyFromSeed(Buffer.from(readFileSync(path, "ascii").trim(), "base64url"));

export const newKey = () => generateKeyPairSync("ed25519").privateKey;

export const signerOf = (key) =>
  "ed25519:" + createPublicKey(key).export({ format: "jwk" }).x;

// RFC 8785 bytes of the record without the named fields (`sig` by default).
export function canonicalBytes(record, without = ["sig"]) {
  const kept = Object.fromEntries(Object.entries(record).filter(([k]) => !without.includes(k)));
  return Buffer.from(canonicalize(kept), "utf8");
}

export const recordId = (record) =>
  "sha256:" + createHash("sha256").update(canonicalBytes(record)).digest("hex");

// The signer's fields, then its signature over everything else (requester_sig included).
export function sign(record, key) {
  const signed = { ...record, signer: signerOf(key), ts: record.ts ?? Date.now() };
  delete signed.sig;
  return { ...signed, sig: b64url(ed25519(null, canonicalBytes(signed), key)) };
}

// A requester co-signs a receipt that already names its node (signer) and ts; the node
// signs after, so the node's sig covers requester_sig.
export function cosign(receipt, requesterKey) {
  const body = { ...receipt, requester: signerOf(requesterKey) };
  delete body.sig;
  delete body.requester_sig;
  const message = canonicalBytes(body, ["sig", "requester_sig"]);
  return { ...body, requester_sig: b64url(ed25519(null, message, requesterKey)) };
}

// POST /records: one JSON record a line; the answer is one line per record, then a summary.
export async function submit(server, records) {
  const response = await fetch(new URL("records", server), {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: records.map((r) => JSON.stringify(r)).join("\n") + "\n",
  });
  const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
  const summary = lines.pop().summary;
  return { status: response.status, results: lines, summary };
}

// Every ```json block of the guide after a "<!-- vector -->" line, checked from scratch.
function checkVectors(guide) {
  const blocks = [...readFileSync(guide, "utf8").matchAll(/<!-- vector -->\n```json\n(.*?)```/gs)];
  if (!blocks.length) throw new Error(`${guide} has no test vectors`);
  for (const [, text] of blocks) {
    const v = JSON.parse(text);
    const key = keyFromSeed(Buffer.from(v.seed, "hex"));
    const expect = (what, got, want) => {
      if (got !== want) throw new Error(`${v.id} ${what}: got ${got}, the guide says ${want}`);
    };
    expect("signer", signerOf(key), v.record.signer);
    expect("canonical bytes", canonicalBytes(v.record).toString("utf8"), v.canonical);
    expect("id", recordId(v.record), v.id);
    expect("sig", b64url(ed25519(null, Buffer.from(v.canonical, "utf8"), key)), v.sig);
    if (v.requester_seed) {
      const requester = keyFromSeed(Buffer.from(v.requester_seed, "hex"));
      expect("requester", signerOf(requester), v.record.requester);
      expect("requester_sig", cosign(v.record, requester).requester_sig, v.record.requester_sig);
    }
  }
  return blocks.length;
}

// A small network from fresh keys: one record of each simple type, in one request.
async function submitExample(server) {
  const [provider, node, requester, witness] = [newKey(), newKey(), newKey(), newKey()];
  const suffix = signerOf(node).slice(8, 14);
  const model = `js-client/echo-${suffix}@1`;
  const register = (key, kind, name) => sign({ type: "register", kind, name }, key);
  const receipt = sign(
    cosign(
      sign(
        {
          type: "receipt",
          model,
          input_hash: "sha256:" + "ab".repeat(32),
          output_hash: "sha256:" + "cd".repeat(32),
          proof: { type: "none" },
        },
        node,
      ),
      requester,
    ),
    node,
  );
  const records = [
    register(provider, "provider", `js-provider-${suffix}`),
    register(node, "node", `js-node-${suffix}`),
    register(requester, "requester", `js-requester-${suffix}`),
    register(witness, "witness", `js-witness-${suffix}`),
    sign({ type: "model", model, digest: "sha256:" + "ef".repeat(32) }, provider),
    receipt,
    sign({ type: "attestation", receipt: recordId(receipt), verdict: "valid" }, witness),
  ];
  const answer = await submit(server, records);
  console.log(JSON.stringify({ node: signerOf(node), ...answer }));
  return answer.status === 200 && answer.results.every((r) => r.status === "ACCEPTED");
}

const [command, argument] = process.argv.slice(2);
if (command === "vectors") {
  console.log(`${checkVectors(argument)} test vectors check`);
} else if (command === "submit") {
  process.exitCode = (await submitExample(argument)) ? 0 : 1;
} else if (command) {
  console.error("usage: node client.mjs vectors GUIDE.md | submit SERVER_URL");
  process.exitCode = 2;
}
