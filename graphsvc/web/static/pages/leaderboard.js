// Leaderboards per kind: filters, order, page size and paging, all kept in the URL.

import { gql } from "../api.js";
import { HELD, scoresHeld } from "../readiness.js";
import {
  add,
  CONFIDENCE_NOTE,
  KINDS,
  entityLink,
  h,
  hasConfidence,
  href,
  loading,
  notFound,
  num,
  pct,
  plural,
  replace,
  riskText,
  table,
  urlForm,
} from "../dom.js";

const ORDERS = {
  BEST_FIRST: "best first",
  WORST_FIRST: "worst first",
  LOWEST_RISK: "lowest risk",
  HIGHEST_RISK: "highest risk",
};
const FILTERS = [
  { name: "minScore", label: "min score", step: "1", min: 0, max: 100 },
  { name: "maxFaultRate", label: "max fault rate", step: "0.01", min: 0, max: 1 },
  { name: "minFaultRate", label: "min fault rate", step: "0.01", min: 0, max: 1 },
  { name: "minConfidence", label: "min confidence", step: "0.05", min: 0, max: 1 },
  { name: "maxRisk", label: "max risk", step: "0.01", min: 0, max: 1 },
];
const SIZES = [20, 50, 100];

const QUERY = `query Leaderboard($kind: EntityKind!, $first: Int!, $after: String,
    $order: LeaderboardOrder!, $filter: ReputationFilter) {
  leaderboard(kind: $kind, first: $first, after: $after, orderBy: $order, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    items { rank score percentile faultRate confidence risk riskLow riskHigh entity { id name } }
  }
}`;

export async function render(main, args, params, stale) {
  const kind = (args[0] || "NODE").toUpperCase();
  const title = `${KINDS.includes(kind) ? plural(kind) : kind} leaderboard`;
  replace(main, h("h1", {}, title), tabs(kind));
  if (!KINDS.includes(kind)) {
    add(main,
      notFound(`There is no kind "${args[0]}"; the kinds are ${KINDS.map(plural).join(", ")}.`),
    );
    return "Unknown kind";
  }
  const order = ORDERS[params.get("order")] ? params.get("order") : "BEST_FIRST";
  const first = SIZES.includes(Number(params.get("first")))
    ? Number(params.get("first"))
    : SIZES[0];
  const filter = {};
  for (const f of FILTERS) {
    const value = params.get(f.name);
    if (value !== null && value !== "" && !Number.isNaN(Number(value)))
      filter[f.name] = Number(value);
  }
  add(main, controls(kind, order, first, filter));
  if (scoresHeld()) {
    add(main, h("p", { class: "state" }, HELD));
    return title;
  }
  const results = h("div", {}, loading("the leaderboard"));
  add(main, results);
  const data = await gql(QUERY, {
    kind,
    first,
    after: params.get("after") || null,
    order,
    filter: Object.keys(filter).length ? filter : null,
  });
  if (stale()) return null;
  const page = data.leaderboard;
  const from = Math.max(1, Number(params.get("from")) || 1);
  replace(results, rows(kind, page.items), pager(kind, params, page, from, first));
  return `${title}, ${ORDERS[order]}`;
}

function tabs(active) {
  return h(
    "nav",
    { class: "tabs", "aria-label": "Kinds" },
    KINDS.map((k) =>
      h(
        "a",
        { href: href(["leaderboard", k]), "aria-current": k === active ? "page" : null },
        plural(k),
      ),
    ),
  );
}

function controls(kind, order, first, filter) {
  return urlForm(["leaderboard", kind], {
    label: "Filters and order",
    button: "Apply",
    fields: [
      { name: "order", label: "order", choices: Object.entries(ORDERS) },
      ...FILTERS,
      { name: "first", label: "per page", choices: SIZES.map((n) => [n, n]) },
    ],
    values: { ...filter, order, first },
  });
}

function rows(kind, items) {
  if (!items.length) return h("p", { class: "state" }, "No entity matches these filters.");
  const confident = hasConfidence(kind);
  const headers = ["rank", "name", "score", "percentile", "fault rate", "confidence", "risk (90 %)"];
  return [
    table(
      confident ? headers : headers.filter((t) => t !== "confidence"),
    items.map((r) =>
      h(
        "tr",
        {},
        h("td", { class: "n" }, r.rank),
        h("td", {}, entityLink(r.entity)),
        h(
          "td",
          { class: "n" },
          h("meter", { min: 0, max: 100, value: r.score, "aria-hidden": "true" }),
          " ",
          num(r.score),
        ),
        h("td", { class: "n" }, num(r.percentile, 0)),
        h("td", { class: "n" }, pct(r.faultRate)),
        confident ? h("td", { class: "n" }, num(r.confidence, 2)) : null,
        h("td", { class: "n" }, riskText(r)),
      ),
    ),
    ),
    h("p", { class: "muted" }, confident ? CONFIDENCE_NOTE : PROVIDER_NOTE),
  ];
}

const PROVIDER_NOTE =
  "A provider gets no evidence or faults of its own: its score comes through its models " +
  "(a faulty model costs it mass), so no confidence is shown.";

// Cursors are opaque: "previous" walks back a stack of the cursors that led here.
function pager(kind, params, page, from, first) {
  const base = Object.fromEntries(params);
  const back = (params.get("back") || "").split(",").filter(Boolean);
  const links = [];
  if (params.get("after") || from > 1) {
    const previous = back.slice(0, -1);
    links.push(
      h(
        "a",
        {
          href: href(["leaderboard", kind], {
            ...base,
            after: back.at(-1) === "-" ? "" : back.at(-1),
            back: previous.join(","),
            from: Math.max(1, from - first),
          }),
          rel: "prev",
        },
        "← previous",
      ),
    );
  }
  const to = from + page.items.length - 1;
  links.push(
    h(
      "span",
      {},
      page.items.length ? `${from}–${to} of ${page.totalCount}` : `0 of ${page.totalCount}`,
    ),
  );
  if (page.pageInfo.hasNextPage) {
    links.push(
      h(
        "a",
        {
          href: href(["leaderboard", kind], {
            ...base,
            after: page.pageInfo.endCursor,
            back: [...back, params.get("after") || "-"].join(","),
            from: to + 1,
          }),
          rel: "next",
        },
        "next →",
      ),
    );
  }
  return h("nav", { class: "pager", "aria-label": "Pages" }, links);
}
