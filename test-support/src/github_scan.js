// The Cloudflare-style scan of an OpenAPI description under `spec.github`:
// every operation of every path, kept when its summary or one of its tags
// mentions the word. Shared, as `github::SCAN`, by the documents tests and
// the documents and openapi benchmarks.
const word = "issue";
const found = [];
for (const [path, item] of Object.entries(spec.github.paths)) {
  for (const [method, operation] of Object.entries(item)) {
    if (typeof operation !== "object" || operation === null || Array.isArray(operation)) continue;
    const summary = operation.summary ?? "";
    const tags = operation.tags ?? [];
    if (summary.toLowerCase().includes(word) || tags.some((tag) => tag.includes(word))) {
      found.push(`${method.toUpperCase()} ${path}: ${summary}`);
    }
  }
}
found
