// Whether graphsvc is still loading its demo (GET /readyz answers 503 "loading" with its
// progress). Meanwhile every page shows a banner with that progress, and scores, ranks and
// risks are held back: the snapshots taken during the load score a partial network.

const POLL_MS = 1000;
let progress = null; // {done, total, unit} while loading, else null

export const scoresHeld = () => progress !== null;

// The sentence pages show where a score would be while it is held back.
export const HELD = "Scores, ranks and risks appear once the demo is loaded and scored.";

async function ask() {
  try {
    const response = await fetch(new URL("readyz", document.baseURI));
    const body = await response.json();
    return body.status === "loading" ? body.progress || { done: 0, total: 0 } : null;
  } catch {
    return null; // a server that does not answer is the pages' own error to show
  }
}

function describe({ done, total, unit }) {
  if (!total) return "Loading the demo network: preparing its records…";
  const share = Math.floor((100 * done) / total);
  const what = unit === "rec" || !unit ? "records" : unit;
  return (
    `Loading the demo network: ${done.toLocaleString("en")} of ` +
    `${total.toLocaleString("en")} ${what} (${share} %). ${HELD}`
  );
}

// Checks once (awaited before the first page renders), then every second while loading;
// `onReady` runs when loading ends, so the open page redraws with real scores.
export async function watch(banner, onReady) {
  const was = progress;
  progress = await ask();
  banner.hidden = progress === null;
  banner.textContent = progress ? describe(progress) : "";
  if (progress) setTimeout(() => watch(banner, onReady), POLL_MS);
  else if (was) onReady();
}
