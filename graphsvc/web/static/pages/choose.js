// Choose a provider: an accountability policy in a form, recommendProviders' answer, and
// for every provider and model the figures that made it pass.

import { gql } from "../api.js";
import { entityLink, h, loading, num, pct, replace, table, urlForm } from "../dom.js";

const FIELDS = [
  {
    name: "minProofShare",
    label: "at least this share of receipts with that proof",
    step: "0.05",
    min: 0,
    max: 1,
    value: "0.6",
  },
  { name: "minScore", label: "min score (0–100)", step: "1", min: 0, max: 100, value: "0" },
  {
    name: "maxFaultRate",
    label: "max fault rate (0–1)",
    step: "0.01",
    min: 0,
    max: 1,
    value: "0.02",
  },
  { name: "minEvidence", label: "min decayed positive evidence", step: "1", min: 0, value: "0" },
];

const QUERY = `query Choose($policy: ProviderPolicy!, $first: Int!) {
  recommendProviders(policy: $policy, first: $first) {
    reputation { score faultRate entity { id name } }
    models {
      reputation { score faultRate positiveEvidence entity { id name } }
      proofs { tee zk none teeVerified zkVerified shareAtLeastMinProof }
    }
  }
}`;

export async function render(main, args, params, stale) {
  const values = Object.fromEntries(FIELDS.map((f) => [f.name, params.get(f.name) ?? f.value]));
  const minProof = ["NONE", "TEE", "ZK"].includes(params.get("minProof"))
    ? params.get("minProof")
    : "TEE";
  const acceptClaimed = params.get("acceptClaimed") === "true" ? "true" : "false";
  replace(
    main,
    h("h1", {}, "Choose a provider"),
    h(
      "p",
      {},
      "Set the accountability you need; providers that meet it come best first, each with the models that qualify and why.",
    ),
    form(minProof, acceptClaimed, values),
  );
  const results = h(
    "section",
    { "aria-label": "Providers meeting the policy" },
    loading("recommendations"),
  );
  main.append(results);
  const policy = { minProof, acceptClaimed: acceptClaimed === "true" };
  for (const f of FIELDS) policy[f.name] = Number(values[f.name]);
  const data = await gql(QUERY, { policy, first: 20 });
  if (stale()) return null;
  const found = data.recommendProviders;
  replace(
    results,
    h(
      "h2",
      {},
      found.length ? `${found.length} providers meet it` : "No provider meets this policy",
    ),
    found.map((p) => offer(p, policy)),
  );
  return "Choose a provider";
}

function form(minProof, acceptClaimed, values) {
  const proofs = ["NONE", "TEE", "ZK"].map((p) => [p, p === "NONE" ? "none needed" : p]);
  const claims = [
    ["false", "verified proofs only"],
    ["true", "claimed proofs count too"],
  ];
  return urlForm(["choose"], {
    label: "Accountability policy",
    button: "Recommend",
    fields: [
      { name: "minProof", label: "minimum proof", choices: proofs },
      { name: "acceptClaimed", label: "proofs that count", choices: claims },
      ...FIELDS,
    ],
    values: { ...values, minProof, acceptClaimed },
    required: true,
    extraClass: "policy",
  });
}

const check = (ok, text) => h("span", { class: ok ? "pass" : "fail" }, ok ? "✓ " : "✗ ", text);

function offer(provider, policy) {
  const rep = provider.reputation;
  return h(
    "article",
    { class: "card offer" },
    h(
      "h3",
      {},
      entityLink(rep.entity),
      " ",
      h("span", { class: "muted" }, `score ${num(rep.score)}`),
    ),
    h(
      "p",
      {},
      "Passed: ",
      check(rep.score >= policy.minScore, `score ${num(rep.score)} ≥ ${num(policy.minScore, 0)}`),
      "; ",
      check(
        rep.faultRate <= policy.maxFaultRate,
        `fault rate ${pct(rep.faultRate)} ≤ ${pct(policy.maxFaultRate)}`,
      ),
      `; ${provider.models.length} qualifying model${provider.models.length === 1 ? "" : "s"}.`,
    ),
    table(
      ["model", `receipts with ${policy.minProof} or stronger`, "score", "fault rate", "evidence"],
      provider.models.map((m) =>
        h(
          "tr",
          {},
          h("td", {}, entityLink(m.reputation.entity)),
          h(
            "td",
            {},
            check(
              m.proofs.shareAtLeastMinProof >= policy.minProofShare,
              `${pct(m.proofs.shareAtLeastMinProof)} ≥ ${pct(policy.minProofShare, 0)}`,
            ),
            h("br"),
            h(
              "small",
              { class: "muted" },
              `TEE ${m.proofs.tee} (${m.proofs.teeVerified} verified) · ` +
                `zk ${m.proofs.zk} (${m.proofs.zkVerified} verified) · none ${m.proofs.none}`,
            ),
          ),
          h("td", {}, check(m.reputation.score >= policy.minScore, num(m.reputation.score))),
          h(
            "td",
            {},
            check(m.reputation.faultRate <= policy.maxFaultRate, pct(m.reputation.faultRate)),
          ),
          h(
            "td",
            {},
            check(
              m.reputation.positiveEvidence >= policy.minEvidence,
              num(m.reputation.positiveEvidence, 1),
            ),
          ),
        ),
      ),
    ),
  );
}
