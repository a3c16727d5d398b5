// A taste of what an agent's script can do in the sandbox: top-level await,
// timers, concurrency, console output formatted like Node's, web globals,
// and a JSON result. Run it with: codemode run examples/workflow.js
const started = Date.now();

const pause = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms));
const results = await Promise.all([pause(50, "a"), pause(80, "b"), pause(20, "c")]);
console.log("three timers, run concurrently:", results, `in ${Date.now() - started} ms`);

const url = new URL("https://api.example.com/repos/acme/app/issues?state=open");
url.searchParams.set("per_page", "5");
console.info("a URL built in the sandbox:", url.href);

const id = crypto.randomUUID();
console.log({ id, encoded: btoa("codemode"), bytes: new TextEncoder().encode("héllo").length });

({
  results,
  path: url.pathname.split("/").filter(Boolean),
  elapsedMs: Date.now() - started,
})
