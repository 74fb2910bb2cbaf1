// The attribution trail of an output: who produced it, for whom, who checked it, who
// challenged it; drawn as a graph, with each signed record one click away.

import { gql } from "../api.js";
import { h, href, loading, notFound, proofBadge, replace, short } from "../dom.js";
import { trailGraph } from "../trailgraph.js";

const QUERY = `query Trail($hash: String!) {
  output(hash: $hash) {
    hash
    receipts {
      id ts verdict
      model { id name provider { id name } }
      node { id name }
      requester { id name }
      proof { type status measurement enclave { id } }
      attestations { items { id verdict fault note witness { id name } } }
      disputes { items { id reason requester { id name } } }
      record
    }
  }
}`;

export async function render(main, args, params, stale) {
  const hash = args[0] || "";
  replace(main, h("h1", {}, "Output trail"), loading("the trail"));
  const data = await gql(QUERY, { hash });
  if (stale()) return null;
  if (!data.output) {
    replace(
      main,
      h("h1", {}, "Unknown output"),
      notFound(`No receipt claims the output "${hash}".`),
    );
    return "Unknown output";
  }
  // A receipt's attestations and disputes are pages; one page holds them all here.
  const receipts = data.output.receipts.map((r) => ({
    ...r,
    attestations: r.attestations.items,
    disputes: r.disputes.items,
  }));
  const chosen = params.get("receipt");
  replace(
    main,
    h("h1", {}, "Output trail"),
    h("p", { class: "muted id" }, hash),
    h("p", {}, "Select a receipt to read its signed record; the other boxes open their entity."),
    trailGraph(hash, receipts),
    h("h2", {}, "Signed records"),
    receipts.map((r) =>
      h(
        "details",
        { id: "record-" + r.id, class: "record", open: r.id === chosen },
        h("summary", {}, `receipt ${short(r.id)} · ${r.verdict.toLowerCase()} `, proofBadge(r.proof)),
        r.proof.enclave
          ? h(
              "p",
              {},
              "Verified: signed by enclave ",
              h("a", { href: href(["enclave", r.proof.enclave.id]) }, short(r.proof.enclave.id)),
              ", registered by its node.",
            )
          : null,
        h("pre", { tabindex: "0" }, JSON.stringify(r.record, null, 2)),
        r.disputes.length
          ? h("p", {}, "Disputed: ", r.disputes.map((d) => `“${d.reason}”`).join("; "))
          : null,
      ),
    ),
  );
  if (chosen) document.getElementById("record-" + chosen)?.scrollIntoView({ block: "nearest" });
  return `Trail of ${short(hash)}`;
}
