// One incident: which witness blamed whom on which receipt, whether it stands, and the
// way on to the output's trail. The API lists incidents per party (newest first, in a
// time window), so the page asks for the party's incidents up to this one's time.

import { gql } from "../api.js";
import {
  add,
  entityLink,
  fact,
  h,
  loading,
  notFound,
  num,
  proofBadge,
  replace,
  short,
  statusBadge,
  table,
  trailHref,
  verdictBadge,
  when,
} from "../dom.js";

const QUERY = `query Incident($party: ID!, $to: DateTime) {
  entity(id: $party) {
    id name kind
    incidents(first: 50, filter: {to: $to}) { items {
      id ts status fault note
      witness { id name }
      party { id name kind }
      receipt {
        id ts verdict
        output { hash }
        model { id name } node { id name } requester { id name }
        proof { type status }
        attestations { items { id ts verdict score fault witness { id name } } }
      }
    } }
  }
}`;

export async function render(main, args, params, stale) {
  const [party, id] = args;
  replace(main, h("h1", {}, "Incident"), loading("the incident"));
  const at = Date.parse(params.get("at") || "");
  const to = Number.isNaN(at) ? null : new Date(at).toISOString();
  const data = await gql(QUERY, { party: party || "", to });
  if (stale()) return null;
  const incident = data.entity?.incidents.items.find((i) => i.id === id);
  if (!incident) {
    replace(
      main,
      h("h1", {}, "Unknown incident"),
      notFound(`No incident "${id}" blames "${party}".`),
    );
    return "Unknown incident";
  }
  const r = incident.receipt;
  replace(
    main,
    h("h1", {}, "Incident against ", entityLink(incident.party)),
    h("p", { class: "muted id" }, incident.id),
    h(
      "dl",
      { class: "facts" },
      fact("status", statusBadge(incident.status)),
      fact("blamed", `the ${incident.fault.toLowerCase()}`),
      fact("witness", entityLink(incident.witness)),
      fact("signed", when(incident.ts)),
      incident.note ? fact("note", incident.note) : null,
    ),
    h(
      "p",
      { class: "explain" },
      incident.status === "STANDS"
        ? "It stands: it counts as a fault of the party it blames."
        : "It was outvoted: a strict majority of witnesses attested the receipt valid, so it faults only its witness.",
    ),
  );
  if (!r) return `Incident against ${incident.party?.name}`;
  add(main,
    h("h2", {}, "The receipt"),
    h(
      "dl",
      { class: "facts" },
      fact("receipt", short(r.id)),
      fact("verdict", verdictBadge(r.verdict)),
      fact("model", entityLink(r.model)),
      fact("node", entityLink(r.node)),
      fact("requester", entityLink(r.requester)),
      fact("proof", proofBadge(r.proof)),
    ),
    h("h3", {}, "Every witness's attestation"),
    table(
      ["witness", "verdict", "score", "fault", "when"],
      r.attestations.items.map((a) =>
        h(
          "tr",
          {},
          h("td", {}, entityLink(a.witness)),
          h("td", {}, verdictBadge(a.verdict)),
          h("td", { class: "score" }, num(a.score, 2)),
          h("td", {}, a.fault ? a.fault.toLowerCase() : "–"),
          h("td", {}, when(a.ts)),
        ),
      ),
    ),
    h(
      "p",
      {},
      h("a", { class: "button", href: trailHref(r.output.hash, r.id) }, "The output's trail →"),
    ),
  );
  return `Incident against ${incident.party?.name}`;
}