// Building the page: elements from data (never HTML strings, so names cannot inject
// markup), links between pages, number and time formats, loading and error states.

export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

// Appends children, skipping null, undefined and false (the DOM's own append would print
// them as text): every page appends through this or h().
export function add(el, ...children) {
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Hash routes: every page has a URL that can be bookmarked and shared.
export function href(path, params = {}) {
  const search = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""),
  ).toString();
  return "#/" + path.map(encodeURIComponent).join("/") + (search ? "?" + search : "");
}

export const entityHref = (id) => href(["entity", id]);
export const trailHref = (hash, receipt) => href(["trail", hash], { receipt });
export const incidentHref = (party, incident) =>
  href(["incident", party, incident.id], { at: incident.ts });

export function entityLink(entity, fallback) {
  if (!entity) return h("span", { class: "muted" }, fallback ?? "unknown");
  return h("a", { href: entityHref(entity.id), title: entity.id }, entity.name || short(entity.id));
}

export function short(id) {
  if (!id) return "";
  const text = String(id);
  return text.length > 24 ? text.slice(0, 14) + "…" + text.slice(-6) : text;
}

export const KINDS = ["PROVIDER", "MODEL", "NODE", "WITNESS", "REQUESTER"];
export const kindLabel = (kind) => {
  const word = String(kind).toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1);
};
export const plural = (kind) => {
  const word = kindLabel(kind);
  return word + (word.endsWith("s") ? "es" : "s");
};

// A risk with its 90 % credible interval, or a dash while scores are held back (loading).
export function riskText(reputation) {
  if (!isFigure(reputation.risk)) return "–";
  const [low, high] = [share(reputation.riskLow), share(reputation.riskHigh)];
  return `${share(reputation.risk)} (${low}–${high})`;
}

const isFigure = (value) =>
  value !== null && value !== undefined && value !== "" && Number.isFinite(Number(value));

export function num(value, digits = 1) {
  if (!isFigure(value)) return "–";
  return Number(value).toLocaleString("en", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

// The one rule for probabilities (risk, its interval) on every page
// (docs/decisions/number-formats.md): one decimal from 1 % up ("99.4 %", "5.0 %"), two
// significant digits below ("0.52 %", "0.0050 %"), and "< 0.001 %" below that, where the
// figure no longer means anything for a decision.
export const SHARE_FLOOR = 1e-5;
export function share(probability) {
  if (!isFigure(probability)) return "–";
  const p = Number(probability);
  if (p === 0) return "0 %";
  if (p < SHARE_FLOOR) return "< 0.001 %";
  if (p >= 0.01) return num(100 * p, 1) + " %";
  return (
    (100 * p).toLocaleString("en", {
      minimumSignificantDigits: 2,
      maximumSignificantDigits: 2,
    }) + " %"
  );
}

export const count = (value) => num(value, 0);
export const pct = (fraction, digits = 1) =>
  isFigure(fraction) ? num(100 * fraction, digits) + " %" : "–";

export function when(iso) {
  if (!iso) return "–";
  return new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

export function day(iso) {
  return iso ? new Date(iso).toISOString().slice(0, 10) : "–";
}

export function loading(what) {
  return h("p", { class: "state loading", role: "status" }, `Loading ${what}…`);
}

export function problem(error) {
  return h(
    "div",
    { class: "state error", role: "alert" },
    h("strong", {}, error.title || "Something went wrong"),
    h("p", {}, error.message),
  );
}

export function notFound(what) {
  return h(
    "div",
    { class: "state error", role: "alert" },
    h("strong", {}, "Not found"),
    h("p", {}, what),
  );
}

// Confidence measures the evidence about an entity itself. A provider has none of its own
// (it answers through its models), so its confidence, always 0, is not shown.
export const hasConfidence = (kind) => kind !== "PROVIDER";
export const CONFIDENCE_NOTE =
  "Confidence: how much recent evidence stands behind the figures, from 0 (none) toward 1.";

// A term and its value in a <dl class="facts">.
export function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, value)];
}

export function table(headers, rows, caption) {
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

// A titled card appended to a page's grid; returns it for the content. A wide one (a
// table of many columns) takes the grid's whole width, so it does not scroll sideways.
export function card(parent, title, { wide = false } = {}) {
  const el = h("section", { class: wide ? "card wide" : "card" }, h("h2", {}, title));
  parent.append(el);
  return el;
}

// A row of labelled figures: [[label, value], …].
export function tiles(pairs) {
  return h(
    "div",
    { class: "tiles" },
    pairs.map(([label, value]) =>
      h("div", { class: "tile" }, h("span", {}, label), h("strong", {}, value)),
    ),
  );
}

// A form whose fields live in the URL: submitting it opens `path` with their values.
// fields: {name, label, choices: [[value, text]]} for a select, or a number input's
// {name, label, step, min, max}; values: the current value of each, by name.
export function urlForm(path, { label, button, fields, values, required = false, extraClass }) {
  const field = (f) =>
    h(
      "label",
      {},
      f.label + " ",
      f.choices
        ? h(
            "select",
            { name: f.name },
            f.choices.map(([value, text]) =>
              h("option", { value, selected: String(value) === String(values[f.name]) }, text),
            ),
          )
        : h("input", {
            type: "number",
            name: f.name,
            step: f.step,
            min: f.min,
            max: f.max,
            value: values[f.name] ?? "",
            required,
            inputmode: "decimal",
          }),
    );
  const form = h(
    "form",
    { class: `controls ${extraClass || ""}`, "aria-label": label },
    fields.map(field),
    h("button", { type: "submit" }, button),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.location.hash = href(path, Object.fromEntries(new FormData(form)));
  });
  return form;
}

export function badge(text, tone) {
  return h("span", { class: `badge ${tone || ""}` }, text);
}

export function statusBadge(status) {
  return badge(status, status === "STANDS" ? "bad" : "neutral");
}

// A proof's type and whether graphsvc checked it: "tee · verified" or "tee · claimed".
export function proofBadge(proof) {
  const type = proof.type.toLowerCase();
  if (proof.type === "NONE") return badge("no proof", "neutral");
  return badge(`${type} · ${proof.status.toLowerCase()}`, proof.status === "VERIFIED" ? "good" : "warn");
}

export function verdictBadge(verdict) {
  const tone = { VALID: "good", INVALID: "bad", CONTESTED: "warn" }[verdict] || "neutral";
  return badge(verdict, tone);
}
