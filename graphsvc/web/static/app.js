// The dashboard shell: hash routes (shareable URLs), page titles, the search box on every
// page, keyboard shortcuts, focus management. Each page module renders into <main>.

import { h, href, problem, replace } from "./dom.js";
import * as overview from "./pages/overview.js";
import * as leaderboard from "./pages/leaderboard.js";
import * as entity from "./pages/entity.js";
import * as incident from "./pages/incident.js";
import * as trail from "./pages/trail.js";
import * as choose from "./pages/choose.js";
import * as live from "./pages/live.js";
import * as search from "./pages/search.js";
import * as enclave from "./pages/enclave.js";

// First path segment → page module. Each exports `render(main, args, params)` returning
// its title (a string, or a promise of one); `leave()` if it holds a connection.
const PAGES = {
  "": overview,
  leaderboard,
  entity,
  incident,
  trail,
  choose,
  live,
  search,
  enclave,
};

const main = document.getElementById("main");
let current = null;
let generation = 0;

function parse() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || "", args: parts.slice(1), params: new URLSearchParams(query) };
}

function setTitle(title) {
  document.title = title ? `${title} · graphsvc` : "graphsvc";
}

// When a route has rendered, main's data-ready holds its hash (tests wait for that).
async function route() {
  const rendering = window.location.hash;
  const { name, args, params } = parse();
  const page = PAGES[name];
  current?.leave?.();
  current = page;
  const mine = ++generation;
  for (const link of document.querySelectorAll("nav a[data-page]")) {
    const active = link.dataset.page === (name || "overview");
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  replace(main);
  main.dataset.page = name || "overview";
  main.removeAttribute("data-ready");
  if (!page) {
    setTitle("Not found");
    replace(
      main,
      h("h1", {}, "Not found"),
      problem({ title: "No such page", message: `#/${name}` }),
    );
    main.dataset.ready = rendering;
    return;
  }
  setTitle(name ? name.charAt(0).toUpperCase() + name.slice(1) : "Overview");
  try {
    const title = await page.render(main, args, params, () => mine !== generation);
    if (mine === generation && title) setTitle(title);
  } catch (error) {
    if (mine !== generation) return;
    main.append(problem(error));
  }
  if (mine === generation) main.dataset.ready = rendering;
}

// A new page moves focus to its content, so keyboard and screen-reader users start there.
window.addEventListener("hashchange", () => {
  route();
  main.focus({ preventScroll: false });
});

// The skip link moves focus without touching the hash, which holds the route.
document.querySelector("a.skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

const form = document.getElementById("search");
const box = document.getElementById("search-text");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = box.value.trim();
  if (text) window.location.hash = href(["search"], { q: text });
});

// "/" jumps to the search box from anywhere (unless already typing somewhere).
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});

route();
