// The attribution trail of one output, drawn as a small layered graph in SVG:
// output → receipts → model, node, requester → provider, attestations, disputes.
// The graph has a handful of nodes, so a fixed four-column layout drawn by hand reads
// better than a general graph-layout library would, and costs nothing to ship.

import { entityHref, h, short, trailHref } from "./dom.js";

const COLUMN = 230;
const NODE_W = 190;
const NODE_H = 40;
const ROW = 54;
const TONES = { VALID: "good", INVALID: "bad", CONTESTED: "warn" };

function layout(hash, receipts) {
  const columns = [[], [], [], []];
  const nodes = new Map();
  const edges = [];
  const add = (column, key, node) => {
    if (!nodes.has(key)) {
      nodes.set(key, { ...node, key, column, row: columns[column].length });
      columns[column].push(key);
    }
    return key;
  };
  const output = add(0, "output", { kind: "output", title: "output", text: short(hash) });
  for (const r of receipts) {
    const receipt = add(1, "receipt:" + r.id, {
      kind: "receipt",
      title: `receipt · ${r.verdict.toLowerCase()}`,
      text: `${r.ts.slice(0, 10)} · ${r.proof.type.toLowerCase()} proof, ${r.proof.status.toLowerCase()}`,
      href: trailHref(hash, r.id),
      tone: TONES[r.verdict],
    });
    edges.push({ from: output, to: receipt, label: "claimed by" });
    const party = (column, kind, entity) =>
      entity
        ? add(column, kind + ":" + entity.id, {
            kind,
            title: kind,
            text: entity.name || short(entity.id),
            href: entityHref(entity.id),
          })
        : null;
    const model = party(2, "model", r.model);
    if (model) edges.push({ from: receipt, to: model, label: "ran" });
    const node = party(2, "node", r.node);
    if (node) edges.push({ from: receipt, to: node, label: "on" });
    const requester = party(2, "requester", r.requester);
    if (requester) edges.push({ from: receipt, to: requester, label: "for" });
    const provider = r.model && party(3, "provider", r.model.provider);
    if (provider) edges.push({ from: model, to: provider, label: "published by" });
    for (const a of r.attestations) {
      const key = add(3, "attestation:" + a.id, {
        kind: "attestation",
        title: `attestation · ${a.verdict.toLowerCase()}${a.fault ? " (" + a.fault.toLowerCase() + ")" : ""}`,
        text: a.witness ? a.witness.name : "unknown witness",
        href: a.witness ? entityHref(a.witness.id) : undefined,
        tone: TONES[a.verdict],
      });
      edges.push({ from: receipt, to: key, label: "witnessed" });
    }
    for (const d of r.disputes) {
      const key = add(3, "dispute:" + d.id, {
        kind: "dispute",
        title: "dispute",
        text: d.requester ? d.requester.name : d.reason,
        href: d.requester ? entityHref(d.requester.id) : undefined,
        tone: "warn",
      });
      edges.push({ from: receipt, to: key, label: "disputed" });
    }
  }
  return { nodes, edges, rows: Math.max(...columns.map((c) => c.length)) };
}

const position = (node, rows, columnSize) => ({
  x: 10 + node.column * COLUMN,
  // Each column is centred vertically against the tallest one.
  y: 10 + node.row * ROW + ((rows - columnSize[node.column]) * ROW) / 2,
});

export function trailGraph(hash, receipts) {
  const { nodes, edges, rows } = layout(hash, receipts);
  const columnSize = [0, 0, 0, 0];
  for (const node of nodes.values()) columnSize[node.column] += 1;
  const width = 20 + 3 * COLUMN + NODE_W;
  const height = 20 + rows * ROW;
  const at = new Map([...nodes.values()].map((n) => [n.key, position(n, rows, columnSize)]));
  const svg = h("svg:svg", {
    class: "trail-graph",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": `Attribution trail: ${nodes.size} nodes, ${edges.length} links`,
    "data-nodes": nodes.size,
  });
  for (const edge of edges) {
    const a = at.get(edge.from);
    const b = at.get(edge.to);
    const [x1, y1, x2, y2] = [a.x + NODE_W, a.y + NODE_H / 2, b.x, b.y + NODE_H / 2];
    const mid = (x1 + x2) / 2;
    svg.append(
      h(
        "svg:path",
        { class: "edge", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` },
        h("svg:title", {}, edge.label),
      ),
    );
  }
  for (const node of nodes.values()) {
    const { x, y } = at.get(node.key);
    const box = h(
      "svg:g",
      { class: `node ${node.kind} ${node.tone || ""}`, "data-kind": node.kind },
      h("svg:rect", { x, y, width: NODE_W, height: NODE_H, rx: 6 }),
      h("svg:text", { x: x + 8, y: y + 15, class: "title" }, node.title),
      h("svg:text", { x: x + 8, y: y + 31 }, clip(node.text)),
    );
    svg.append(
      node.href
        ? h("svg:a", { href: node.href, "aria-label": `${node.title}: ${node.text}` }, box)
        : box,
    );
  }
  return h("div", { class: "scroll graph" }, svg);
}

const clip = (text) => (text.length > 26 ? text.slice(0, 25) + "…" : text);
