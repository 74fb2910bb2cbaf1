// Search by name (any part of it) or by id: an entity id, a receipt id or an output hash.

import { gql } from "../api.js";
import { scoresHeld } from "../readiness.js";
import {
  entityLink,
  h,
  kindLabel,
  loading,
  notFound,
  num,
  replace,
  table,
  trailHref,
} from "../dom.js";

const QUERY = `query Search($text: String!, $id: ID!, $first: Int!) {
  search(text: $text, first: $first) { items { id name kind reputation { score rank } } }
  entity(id: $id) { id name kind reputation { score rank } }
  receipt(id: $id) { id output { hash } }
  output(hash: $text) { hash }
}`;

export async function render(main, args, params, stale) {
  const text = (params.get("q") || "").trim().slice(0, 200);
  const box = document.getElementById("search-text");
  if (box) box.value = text;
  replace(main, h("h1", {}, `Search: “${text}”`), loading("matches"));
  if (!text) {
    replace(main, h("h1", {}, "Search"), h("p", {}, "Type a name or an id in the search box."));
    return "Search";
  }
  const data = await gql(QUERY, { text, id: text, first: 50 });
  if (stale()) return null;
  const exact = [];
  const named = data.search.items;
  if (data.entity && !named.some((e) => e.id === data.entity.id)) exact.push(data.entity);
  const byName = [...exact, ...named];
  const found = [];
  if (data.output)
    found.push(
      h("p", {}, "An output: ", h("a", { href: trailHref(data.output.hash) }, "its trail →")),
    );
  if (data.receipt)
    found.push(
      h(
        "p",
        {},
        "A receipt: ",
        h(
          "a",
          { href: trailHref(data.receipt.output.hash, data.receipt.id) },
          "its output's trail →",
        ),
      ),
    );
  if (byName.length) {
    found.push(
      table(
        ["name", "kind", "score", "rank"],
        byName.map((e) =>
          h(
            "tr",
            {},
            h("td", {}, entityLink(e)),
            h("td", {}, kindLabel(e.kind)),
            h("td", { class: "n" }, scoresHeld() ? "–" : num(e.reputation?.score)),
            h("td", { class: "n" }, scoresHeld() ? "–" : (e.reputation?.rank ?? "–")),
          ),
        ),
        `${byName.length} ${byName.length === 1 ? "entity" : "entities"}`,
      ),
    );
  }
  replace(
    main,
    h("h1", {}, `Search: “${text}”`),
    found.length ? found : notFound(`Nothing is named or identified by “${text}”.`),
  );
  return `Search: ${text}`;
}
