// One entity: its standing now, its score history, why (the breakdown, with names), the
// incidents blamed on it with their receipts, and its models or provider.

import { gql } from "../api.js";
import { timeChart } from "../charts.js";
import {
  badge,
  card,
  count,
  entityLink,
  h,
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
  const rep = entity.reputation;
  replace(
    main,
    h("h1", {}, entity.name, " ", h("span", { class: "kind" }, kindLabel(entity.kind))),
    h("p", { class: "muted id" }, entity.id, " · registered ", when(entity.registeredAt)),
    standing(rep),
  );
  const grid = h("div", { class: "grid" });
  main.append(grid);
  history(card(grid, "Score history"), entity.scoreHistory);
  breakdown(card(grid, "Why: the breakdown"), rep);
  incidents(card(grid, "Incidents"), entity);
  if (entity.receipts.totalCount) receipts(card(grid, "Newest receipts"), entity.receipts);
  if (entity.enclaves.length) enclaves(card(grid, "Its attested enclaves"), entity.enclaves);
  if (entity.kind === "PROVIDER" || entity.kind === "MODEL") {
    const catalogue = (await gql(CATALOGUE)).recommendProviders;
    if (stale()) return null;
    related(
      card(grid, entity.kind === "PROVIDER" ? "Its models" : "Its provider"),
      entity,
      catalogue,
    );
  }
  return `${entity.name} (${kindLabel(entity.kind).toLowerCase()})`;
}

function enclaves(section, found) {
  section.append(
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

function standing(rep) {
  if (!rep)
    return h("p", { class: "state" }, "Not scored yet: it arrived after the newest snapshot.");
  return tiles([
    ["score", num(rep.score)],
    ["rank", `#${rep.rank}`],
    ["percentile", num(rep.percentile, 0)],
    ["fault rate", pct(rep.faultRate)],
    ["confidence", num(rep.confidence, 2)],
    ["risk (90 %)", riskText(rep)],
    ["as of", when(rep.asOf)],
  ]);
}

function history(section, points) {
  if (!points.length) {
    section.append(h("p", { class: "state" }, "No snapshot has scored it yet."));
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
    section.append(h("p", { class: "state" }, "No breakdown: not scored yet."));
    return;
  }
  // The breakdown names each source entity; teleport mass comes from no entity.
  const source = (entity) =>
    entity ? entityLink(entity) : h("em", {}, "trusted seeds (teleport)");
  section.append(
    h("h3", {}, "Where its mass comes from"),
    table(
      ["from", "kind", "channel", "share"],
      (b.incoming || []).map((x) =>
        h(
          "tr",
          {},
          h("td", {}, source(x.entity)),
          h("td", {}, x.entity ? kindLabel(x.entity.kind) : "–"),
          h("td", {}, x.channel.toLowerCase()),
          h("td", { class: "n" }, pct(x.share)),
        ),
      ),
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
    section.append(h("p", {}, "No witness has blamed it."));
  } else {
    section.append(
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
    section.append(
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
  section.append(
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
      section.append(h("p", {}, "It has published no model that has been scored."));
      return;
    }
    section.append(
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
  section.append(
    owner
      ? h("p", {}, "Published by ", entityLink(owner.reputation.entity), ".")
      : h("p", { class: "muted" }, "Its provider is not scored yet."),
  );
}
