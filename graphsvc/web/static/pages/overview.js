// Overview: what the network holds, how fast records arrive, where faults fall, how
// inference is proven, and the worst nodes right now.

import { gql } from "../api.js";
import { HELD, scoresHeld } from "../readiness.js";
import { barChart, timeChart } from "../charts.js";
import {
  add,
  KINDS,
  card,
  count,
  entityLink,
  h,
  href,
  loading,
  num,
  pct,
  plural,
  replace,
  riskText,
  table,
  tiles,
  when,
} from "../dom.js";

const FAULTY = 0.01; // an entity "has faults" from a 1 % fault rate on

const QUERY = `query Overview($faulty: Float!) {
  networkStats {
    entities { kind count massShare }
    receipts outputs attestations disputes records lastIngestAt
    snapshot { id asOf }
  }
  snapshots(first: 200) { items { asOf records } }
  ${KINDS.map((k) => `${k}: leaderboard(kind: ${k}, first: 1, filter: {minFaultRate: $faulty}) { totalCount }`).join("\n  ")}
  worst: leaderboard(kind: NODE, first: 5, orderBy: HIGHEST_RISK,
      filter: {minFaultRate: $faulty}) {
    items { rank score faultRate risk riskLow riskHigh entity { id name } }
  }
  recommendProviders(first: 500, policy: {minProofShare: 0}) {
    models { proofs { tee zk none teeVerified zkVerified } }
  }
}`;

export async function render(main, args, params, stale) {
  replace(main, h("h1", {}, "Overview"), loading("the network"));
  const data = await gql(QUERY, { faulty: FAULTY });
  if (stale()) return null;
  const stats = data.networkStats;
  const body = h("div", { class: "grid" });
  replace(main, h("h1", {}, "Overview"), summary(stats), body);

  const kinds = stats.entities.map((e) => e.kind);
  barChart(
    card(body, "Entities by kind"),
    "Registered entities per kind",
    kinds.map(plural),
    stats.entities.map((e) => e.count),
    { label: "entities", format: count },
  );
  recordsPerDay(card(body, "Records per day"), data.snapshots.items);
  const shares = stats.entities.map((e) => (e.count ? data[e.kind].totalCount / e.count : 0));
  const faults = card(body, "Fault rates per kind");
  if (scoresHeld()) add(faults, h("p", { class: "state" }, HELD));
  else
    barChart(
      faults,
      `Share of each kind with a fault rate of ${pct(FAULTY, 0)} or more`,
      kinds.map(plural),
      shares,
      { label: "share with faults", format: (v) => pct(v, 0) },
    );
  proofMix(card(body, "Proof mix and disputes"), data.recommendProviders, stats);
  worstNodes(card(body, "Failing nodes, riskiest first"), data.worst.items);
  return "Overview";
}

function summary(stats) {
  const snapshot = stats.snapshot;
  return tiles([
    ["receipts", count(stats.receipts)],
    ["outputs", count(stats.outputs)],
    ["attestations", count(stats.attestations)],
    ["disputes", count(stats.disputes)],
    ["records", count(stats.records)],
    ["scores as of", scoresHeld() ? "loading" : snapshot ? when(snapshot.asOf) : "not scored yet"],
  ]);
}

// Records per day between consecutive retained snapshots (each counts the records stored
// when it was taken), drawn at the later snapshot.
function recordsPerDay(card, snapshots) {
  const ordered = [...snapshots].sort((a, b) => Date.parse(a.asOf) - Date.parse(b.asOf));
  const times = [];
  const rates = [];
  for (let i = 1; i < ordered.length; i += 1) {
    const days = (Date.parse(ordered[i].asOf) - Date.parse(ordered[i - 1].asOf)) / 86_400_000;
    if (days <= 0) continue;
    times.push(ordered[i].asOf);
    rates.push((ordered[i].records - ordered[i - 1].records) / days);
  }
  if (!times.length) {
    add(card,
      h("p", { class: "muted" }, "Needs two snapshots; there are " + ordered.length + "."),
    );
    return;
  }
  timeChart(card, "Records stored per day, between snapshots", times, [
    { label: "records/day", values: rates, format: (v) => num(v, 0) },
  ]);
}

function proofMix(card, providers, stats) {
  // Verified proofs apart from claims: a claim is the node's word and weighs as no proof.
  const total = { teeVerified: 0, teeClaimed: 0, zkVerified: 0, zkClaimed: 0, none: 0 };
  for (const provider of providers) {
    for (const model of provider.models) {
      const p = model.proofs;
      total.teeVerified += p.teeVerified;
      total.teeClaimed += p.tee - p.teeVerified;
      total.zkVerified += p.zkVerified;
      total.zkClaimed += p.zk - p.zkVerified;
      total.none += p.none;
    }
  }
  const labels = ["TEE verified", "TEE claimed", "zk verified", "zk claimed", "none"];
  barChart(card, "Receipts by proof (all time)", labels, Object.values(total), {
    label: "receipts",
    format: count,
  });
  const disputed = stats.receipts ? stats.disputes / stats.receipts : 0;
  add(card,
    h(
      "p",
      {},
      `${count(stats.disputes)} disputes: ${pct(disputed, 2)} of receipts were challenged by `,
      "their requester. ",
      h(
        "a",
        { href: href(["leaderboard", "REQUESTER"], { order: "WORST_FIRST" }) },
        "Requesters with the most faults",
      ),
      " include those whose disputes were rejected.",
    ),
  );
}

// "Worst" means likeliest to fail next: among nodes that have failed (a fault rate of
// FAULTY or more), the highest risk first. A low score alone marks an unknown node (a
// Sybil with no standing), not a failing one.
function worstNodes(card, items) {
  if (scoresHeld()) {
    add(card, h("p", { class: "state" }, HELD));
    return;
  }
  if (!items.length) {
    add(card, h("p", { class: "state" }, `No node has a fault rate of ${pct(FAULTY, 0)} or more.`));
    return;
  }
  add(card,
    table(
      ["rank", "node", "score", "fault rate", "risk (90 %)"],
      items.map((r) =>
        h(
          "tr",
          {},
          h("td", {}, r.rank),
          h("td", {}, entityLink(r.entity)),
          h("td", { class: "n" }, num(r.score)),
          h("td", { class: "n" }, pct(r.faultRate)),
          h("td", { class: "n" }, riskText(r)),
        ),
      ),
      `Nodes with a fault rate of ${pct(FAULTY, 0)} or more, highest risk of a fault first`,
    ),
    h(
      "p",
      {},
      h(
        "a",
        {
          href: href(["leaderboard", "NODE"], { order: "HIGHEST_RISK", minFaultRate: FAULTY }),
        },
        "All failing nodes, riskiest first →",
      ),
    ),
  );
}
