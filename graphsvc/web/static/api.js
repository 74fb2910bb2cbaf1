// The dashboard's only door to the data: the public GraphQL API (HTTP for queries,
// graphql-transport-ws for subscriptions). Errors say what failed in a person's words.

const ENDPOINT = new URL("graphql", document.baseURI).toString();

export class ApiError extends Error {
  constructor(title, message) {
    super(message);
    this.title = title;
  }
}

// 503 from /readyz: the store does not answer (its body names the cause).
function storeDown(cause) {
  return new ApiError(
    "The graph store is not answering",
    `graphsvc is running but its store is not ready (GET /readyz: ${cause}). ` +
      "The page will work again once the store is back; try reloading in a moment.",
  );
}

const SERVER_GONE = new ApiError(
  "graphsvc is not answering",
  "The server could not be reached. Is `graphsvc serve` still running?",
);

// After an error the API masks, ask /readyz whether the store is the cause.
async function explain(fallback) {
  try {
    const ready = await fetch(new URL("readyz", document.baseURI));
    if (ready.status === 503) {
      const body = await ready.json().catch(() => ({}));
      return storeDown(body.cause || body.status || "unavailable");
    }
  } catch {
    return SERVER_GONE;
  }
  return fallback;
}

// Queries go as GET when the URL stays short, so the browser's HTTP cache keeps them:
// answers fixed by a snapshot carry an ETag (with no-cache), and the browser revalidates
// with If-None-Match, getting 304 and no body until a newer snapshot is served.
// Mutations, and queries too long for a URL, are POSTed.
const MAX_GET_URL = 4000;

function request(query, variables) {
  const headers = { accept: "application/json" };
  if (!/^\s*mutation\b/.test(query)) {
    const url = new URL(ENDPOINT);
    url.searchParams.set("query", query);
    url.searchParams.set("variables", JSON.stringify(variables));
    if (url.toString().length <= MAX_GET_URL) {
      return fetch(url, { method: "GET", headers, cache: "no-cache" });
    }
  }
  return fetch(ENDPOINT, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
}

export async function gql(query, variables = {}) {
  let response;
  try {
    response = await request(query, variables);
  } catch {
    throw SERVER_GONE;
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok && !(body && body.errors)) {
    throw await explain(new ApiError("The server failed", `HTTP ${response.status}`));
  }
  if (body.errors && body.errors.length) {
    const message = messages(body.errors);
    // Internal errors reach the client masked as "Unexpected error." (maybe with more).
    const masked = body.errors.some((e) => e.message.startsWith("Unexpected error"));
    throw masked
      ? await explain(new ApiError("The server failed", message))
      : new ApiError("The request was refused", message);
  }
  return body.data;
}

// One graphql-ws client for the page, made when first needed.
let client = null;

const messages = (errors) => errors.map((e) => e.message).join("; ");

// The live page shows the connection's state; the client reports it here.
function announce(state) {
  window.dispatchEvent(new CustomEvent("graphsvc:ws", { detail: state }));
}

export function subscribe(query, variables, handlers) {
  if (!client) {
    const url = new URL(ENDPOINT);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    client = window.graphqlWs.createClient({
      url: url.toString(),
      retryAttempts: Infinity,
      shouldRetry: () => true,
      on: { connected: () => announce("connected"), closed: () => announce("closed") },
    });
  }
  return client.subscribe(
    { query, variables },
    {
      next: (message) =>
        message.errors
          ? handlers.error(new ApiError("Subscription refused", messages(message.errors)))
          : handlers.next(message.data),
      error: (error) =>
        handlers.error(
          new ApiError("Live connection lost", String(error?.reason || error?.message || error)),
        ),
      complete: () => handlers.complete?.(),
    },
  );
}
