// One attested enclave: the node that answers for it, its attestation document's time
// and measurements, and whether a provider published them as its image.

import { gql } from "../api.js";
import {
  badge,
  entityLink,
  fact,
  h,
  loading,
  notFound,
  replace,
  short,
  table,
  when,
} from "../dom.js";

const QUERY = `query Enclave($id: String!) {
  enclave(id: $id) {
    id platform attestedAt registeredAt imageStatus root recordId
    node { id name kind }
    image { name publishedAt provider { id name kind } }
    measurements { index value }
  }
}`;

const IMAGE_TONES = { KNOWN: "good", UNKNOWN: "warn", DEBUG: "bad" };

const IMAGE_TEXT = {
  KNOWN: "Its image measurements (PCR0-2) match an image its provider published and signed.",
  UNKNOWN:
    "Its attestation document verified, but no provider has published these measurements: the image is unknown.",
  DEBUG:
    "A debug-mode enclave: its measurements are zero and prove nothing about the code it runs.",
};

export async function render(main, args, params, stale) {
  const id = args[0] || "";
  replace(main, h("h1", {}, "Enclave"), loading("the enclave"));
  const data = await gql(QUERY, { id });
  if (stale()) return null;
  const e = data.enclave;
  if (!e) {
    replace(main, h("h1", {}, "Unknown enclave"), notFound(`No node registered "${id}".`));
    return "Unknown enclave";
  }
  replace(
    main,
    h("h1", {}, "Enclave of ", entityLink(e.node)),
    h("p", { class: "muted id" }, e.id),
    h(
      "dl",
      { class: "facts" },
      fact("platform", e.platform),
      fact("image", badge(e.imageStatus, IMAGE_TONES[e.imageStatus])),
      e.image ? fact("published image", [e.image.name, " by ", entityLink(e.image.provider)]) : null,
      fact("attested", when(e.attestedAt)),
      fact("registered", when(e.registeredAt)),
      fact("trusted root", e.root),
      fact("registration record", short(e.recordId)),
    ),
    h("p", { class: "explain" }, IMAGE_TEXT[e.imageStatus]),
    h(
      "p",
      { class: "explain" },
      "Receipts signed by this enclave are VERIFIED: the signature proves a key held in " +
        "this enclave signed them. It does not prove the answer was right; witnesses check that.",
    ),
    h("h2", {}, "Measurements"),
    table(
      ["register", "value"],
      e.measurements.map((m) =>
        h("tr", {}, h("td", {}, `PCR${m.index}`), h("td", { class: "id" }, m.value)),
      ),
    ),
  );
  return `Enclave ${short(e.id)}`;
}