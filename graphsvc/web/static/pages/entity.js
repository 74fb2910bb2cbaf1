// One entity: its standing now, its score history, why (the breakdown, with names), the
// incidents blamed on it with their receipts, and its models or provider.

import { gql } from "../api.js";
import { HELD, scoresHeld } from "../readiness.js";
import { timeChart } from "../charts.js";
import {
  add,
  badge,
  card,
  count,
  entityLink,
  h,
  hasConfidence,
  href,
  incidentHref,
  kindLabel,
  loading,
  notFound,
  num,
  pct,
  proofBadge,
  replace,
  riskText,
  short,
  statusBadge,
  table,
  tiles,
  trailHref,
  verdictBadge,
  when,
} from "../dom.js";

const QUERY = `query Entity($id: ID!) {
  entity(id: $id) {
    id kind name registeredAt
    reputation {
      score rank percentile mass faultRate confidence positiveEvidence faultWeight phi
      risk riskLow riskHigh riskEvents asOf
      breakdown {
        incoming { channel share entity { id name kind } }
        incomingOtherShare incomingSources
        faults { cause weight events entity { id name kind } }
      }
    }
    scoreHistory { asOf score rank faultRate }
    incidents(first: 20) { items {
      id ts status fault note
      party { id name }
      witness { id name }
      receipt { id ts verdict output { hash } node { id name } model { id name } }
    } }
    receipts(first: 10) { totalCount items {
      id ts verdict output { hash } model { id name } proof { type status }
    } }
    enclaves { id platform imageStatus attestedAt }
  }
}`;

// Every provider with all of its models (a policy that every model meets).
const CATALOGUE = `query Catalogue {
  recommendProviders(first: 500, policy: {minProofShare: 0}) {
    reputation { entity { id name } }
    models { reputation { score faultRate entity { id name } } proofs { tee zk none teeVerified } }
  }
}`;

export async function render(main, args, params, stale) {
  const id = args[0] || "";
  replace(main, h("h1", {}, short(id)), loading("the entity"));
  const data = await gql(QUERY, { id });
  if (stale()) return null;
  const entity = data.entity;
  if (!entity) {
    replace(
      main,
      h("h1", {}, "Unknown entity"),
      notFound(`No provider, model, node, witness or requester has the id "${id}".`),
    );
    return "Unknown entity";
  }
  // While the demo loads, the snapshots score a partial network: no figures from them.
  const rep = scoresHeld() ? null : entity.reputation;
  replace(
    main,
    h("h1", {}, entity.name, " ", h("span", { class: "kind" }, kindLabel(entity.kind))),
    h("p", { class: "muted id" }, entity.id, " · registered ", when(entity.registeredAt)),
    standing(rep, entity.kind),
  );
  const grid = h("div", { class: "grid" });
  add(main, grid);
  history(card(grid, "Score history"), scoresHeld() ? [] : entity.scoreHistory);
  breakdown(card(grid, "Why: the breakdown"), rep);
  incidents(card(grid, "Incidents", { wide: entity.incidents.items.length > 0 }), entity);
  if (entity.receipts.totalCount)
    receipts(card(grid, "Newest receipts", { wide: true }), entity.receipts);
  if (entity.enclaves.length)
    enclaves(card(grid, "Its attested enclaves", { wide: true }), entity.enclaves);
  if ((entity.kind === "PROVIDER" || entity.kind === "MODEL") && !scoresHeld()) {
    const catalogue = (await gql(CATALOGUE)).recommendProviders;
    if (stale()) return null;
    related(
      entity.kind === "PROVIDER"
        ? card(grid, "Its models", { wide: true })
        : card(grid, "Its provider"),
      entity,
      catalogue,
    );
  }
  return `${entity.name} (${kindLabel(entity.kind).toLowerCase()})`;
}

function enclaves(section, found) {
  add(section,
    table(
      ["enclave", "platform", "image", "attested"],
      found.map((e) =>
        h(
          "tr",
          {},
          h("td", { class: "id" }, h("a", { href: href(["enclave", e.id]) }, short(e.id))),
          h("td", {}, e.platform),
          h("td", {}, badge(e.imageStatus, e.imageStatus === "KNOWN" ? "good" : "warn")),
          h("td", {}, when(e.attestedAt)),
        ),
      ),
    ),
  );
}

function standing(rep, kind) {
  if (scoresHeld()) return h("p", { class: "state" }, HELD);
  if (!rep)
    return h("p", { class: "state" }, "Not scored yet: it arrived after the newest snapshot.");
  return tiles([
    ["score", num(rep.score)],
    ["rank", `#${rep.rank}`],
    ["percentile", num(rep.percentile, 0)],
    ["fault rate", pct(rep.faultRate)],
    ...(hasConfidence(kind) ? [["confidence", num(rep.confidence, 2)]] : []),
    ["risk (90 %)", riskText(rep)],
    ["as of", when(rep.asOf)],
  ]);
}

function history(section, points) {
  if (!points.length) {
    add(section, h("p", { class: "state" }, "No snapshot has scored it yet."));
    return;
  }
  timeChart(
    section,
    "Score (left) and fault rate (right) at each snapshot",
    points.map((p) => p.asOf),
    [
      {
        label: "score",
        values: points.map((p) => p.score),
        range: [0, 100],
        format: (v) => num(v),
      },
      {
        label: "fault rate",
        values: points.map((p) => p.faultRate),
        scale: "rate",
        range: [0, 1],
        format: (v) => pct(v),
      },
    ],
  );
}

function breakdown(section, rep) {
  const b = rep?.breakdown;
  if (!b) {
    add(section, h("p", { class: "state" }, "No breakdown: not scored yet."));
    return;
  }
  // The breakdown names each source entity; teleport mass comes from no entity.
  const source = (entity) =>
    entity ? entityLink(entity) : h("em", {}, "trusted seeds (teleport)");
  add(section,
    h("h3", {}, "Where its mass comes from"),
    (b.incoming || []).length
      ? table(
          ["from", "kind", "channel", "share"],
          b.incoming.map((x) =>
            h(
              "tr",
              {},
              h("td", {}, source(x.entity)),
              h("td", {}, x.entity ? kindLabel(x.entity.kind) : "–"),
              h("td", {}, x.channel.toLowerCase()),
              h("td", { class: "n" }, pct(x.share)),
            ),
          ),
        )
      : h(
          "p",
          { class: "state" },
          "No mass: no trusted seed reaches it, and nobody with standing has used or vouched for it yet.",
        ),
    b.incomingOtherShare > 0
      ? h(
          "p",
          { class: "muted" },
          `${pct(b.incomingOtherShare)} more from ${count(b.incomingSources - (b.incoming || []).length)} other sources.`,
        )
      : null,
    h("h3", {}, "Faults applied"),
    (b.faults || []).length
      ? table(
          ["blamed by", "cause", "weight", "events"],
          b.faults.map((f) =>
            h(
              "tr",
              {},
              h("td", {}, source(f.entity)),
              h("td", {}, f.cause.toLowerCase().replaceAll("_", " ")),
              h("td", { class: "n" }, num(f.weight, 2)),
              h("td", { class: "n" }, count(f.events)),
            ),
          ),
        )
      : h("p", {}, "None."),
    h(
      "p",
      { class: "muted" },
      `Penalty φ = ${num(rep.phi, 3)} (positive evidence ${num(rep.positiveEvidence, 2)}, fault weight ${num(rep.faultWeight, 2)}).`,
    ),
  );
}

function incidents(section, entity) {
  const list = entity.incidents.items;
  if (!list.length) {
    add(section, h("p", {}, "No witness has blamed it."));
  } else {
    add(section,
      table(
        ["when", "status", "blamed", "witness", "receipt"],
        list.map((i) =>
          h(
            "tr",
            {},
            h("td", {}, h("a", { href: incidentHref(i.party?.id ?? entity.id, i) }, when(i.ts))),
            h("td", {}, statusBadge(i.status)),
            // A provider's incidents blame its models: name which one.
            h(
              "td",
              {},
              i.party && i.party.id !== entity.id ? entityLink(i.party) : i.fault.toLowerCase(),
            ),
            h("td", {}, entityLink(i.witness)),
            h(
              "td",
              {},
              i.receipt
                ? h(
                    "a",
                    { href: trailHref(i.receipt.output.hash, i.receipt.id) },
                    short(i.receipt.id),
                    " ",
                    verdictBadge(i.receipt.verdict),
                  )
                : "–",
            ),
          ),
        ),
        `The ${list.length} newest incidents and the receipts they concern`,
      ),
    );
  }
  // Which nodes ran it in the receipts its incidents concern.
  if (entity.kind === "MODEL" && list.length) {
    const nodes = new Map(
      list.filter((i) => i.receipt?.node).map((i) => [i.receipt.node.id, i.receipt.node]),
    );
    add(section,
      h(
        "p",
        {},
        "Nodes that ran it in these receipts: ",
        [...nodes.values()].map((n, k) => [k ? ", " : "", entityLink(n)]),
      ),
    );
  }
}

// The newest of the receipts it is party to (signed, ran, co-signed), each a way on to
// its output's trail.
function receipts(section, page) {
  add(section,
    table(
      ["when", "model", "proof", "verdict"],
      page.items.map((r) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: trailHref(r.output.hash, r.id) }, when(r.ts))),
          h("td", {}, entityLink(r.model)),
          h("td", {}, proofBadge(r.proof)),
          h("td", {}, verdictBadge(r.verdict)),
        ),
      ),
      `The ${page.items.length} newest of ${count(page.totalCount)} receipts`,
    ),
  );
}

function related(section, entity, catalogue) {
  if (entity.kind === "PROVIDER") {
    const mine = catalogue.find((p) => p.reputation.entity.id === entity.id);
    const models = mine ? mine.models : [];
    if (!models.length) {
      add(section, h("p", {}, "It has published no model that has been scored."));
      return;
    }
    add(section,
      table(
        ["model", "score", "fault rate", "receipts (TEE verified / TEE claimed / zk / none)"],
        models.map((m) =>
          h(
            "tr",
            {},
            h("td", {}, entityLink(m.reputation.entity)),
            h("td", { class: "n" }, num(m.reputation.score)),
            h("td", { class: "n" }, pct(m.reputation.faultRate)),
            h(
              "td",
              { class: "n" },
              `${count(m.proofs.teeVerified)} / ${count(m.proofs.tee - m.proofs.teeVerified)} / ` +
                `${count(m.proofs.zk)} / ${count(m.proofs.none)}`,
            ),
          ),
        ),
      ),
    );
    return;
  }
  const owner = catalogue.find((p) => p.models.some((m) => m.reputation.entity.id === entity.id));
  add(section,
    owner
      ? h("p", {}, "Published by ", entityLink(owner.reputation.entity), ".")
      : h("p", { class: "muted" }, "Its provider is not scored yet."),
  );
}
