// Live feed: incidents as they are stored and score changes at each new snapshot, over
// the API's subscriptions (graphql-transport-ws), newest first.

import { gql, subscribe } from "../api.js";
import { entityLink, h, incidentHref, num, problem, replace, statusBadge, when } from "../dom.js";

const INCIDENTS = `subscription Incidents {
  incidents { id ts status fault party { id name } witness { id name } }
}`;

// From the snapshot the page was opened on: none in between can be missed.
const CHANGES = `subscription ScoreChanges($minDelta: Float!, $after: ID) {
  scoreChanges(minDelta: $minDelta, after: $after) {
    before after reputation { rank asOf entity { id name kind } }
  }
}`;

const NEWEST = `query Newest { networkStats { snapshot { id } } }`;

const KEEP = 200; // rows kept per list
let stops = [];

export function leave() {
  for (const stop of stops) stop();
  stops = [];
  window.removeEventListener("graphsvc:ws", onState);
}

let state = null;
function onState(event) {
  if (!state) return;
  state.textContent =
    event.detail === "connected" ? "connected: waiting for news" : "reconnecting…";
  state.dataset.state = event.detail;
}

export async function render(main, args, params, stale) {
  const asked = Number.parseFloat(params.get("minDelta") ?? "");
  const minDelta = Number.isFinite(asked) && asked >= 0 ? asked : 1;
  state = h("span", { class: "badge neutral", "data-state": "connecting" }, "connecting…");
  const incidents = h("ol", { class: "feed", "aria-live": "polite", "aria-label": "Incidents" });
  const changes = h("ol", { class: "feed", "aria-live": "polite", "aria-label": "Score changes" });
  const errors = h("div");
  replace(
    main,
    h("h1", {}, "Live"),
    h(
      "p",
      {},
      "Live connection: ",
      state,
      `. Score changes of more than ${num(minDelta, 2)} points.`,
    ),
    errors,
    h(
      "div",
      { class: "grid" },
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Incidents"),
        incidents,
        empty(incidents, "No incident since you opened this page."),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Score changes"),
        changes,
        empty(changes, "No new snapshot since you opened this page."),
      ),
    ),
  );
  const after = (await gql(NEWEST)).networkStats.snapshot?.id ?? null;
  if (stale()) return null;
  window.addEventListener("graphsvc:ws", onState);
  const onError = (error) => replace(errors, problem(error));
  stops.push(
    subscribe(
      INCIDENTS,
      {},
      {
        next: ({ incidents: i }) =>
          push(
            incidents,
            h(
              "li",
              {},
              h("a", { href: incidentHref(i.party.id, i) }, when(i.ts)),
              " ",
              statusBadge(i.status),
              " ",
              entityLink(i.party),
              ` (${i.fault.toLowerCase()}) blamed by `,
              entityLink(i.witness),
            ),
          ),
        error: onError,
      },
    ),
    subscribe(
      CHANGES,
      { minDelta, after },
      {
        next: ({ scoreChanges: c }) => {
          const delta = c.after - (c.before ?? 0);
          push(
            changes,
            h(
              "li",
              {},
              entityLink(c.reputation.entity),
              ` ${c.reputation.entity.kind.toLowerCase()}: `,
              c.before === null ? "new" : num(c.before),
              " → ",
              h("strong", {}, num(c.after)),
              h(
                "span",
                { class: delta < 0 ? "fail" : "pass" },
                ` (${delta >= 0 ? "+" : ""}${num(delta, 2)})`,
              ),
              ` · rank ${c.reputation.rank} · ${when(c.reputation.asOf)}`,
            ),
          );
        },
        error: onError,
      },
    ),
  );
  return "Live";
}

function empty(list, text) {
  const note = h("p", { class: "muted" }, text);
  list.emptyNote = note;
  return note;
}

function push(list, item) {
  list.emptyNote?.remove();
  list.prepend(item);
  while (list.children.length > KEEP) list.lastElementChild.remove();
}
