// The page's side of the sandbox: each Run instantiates the transpiled CLI
// component afresh (its compiled modules are reused), hands it the code as
// standard input and `--json` as arguments, and shows the outcome it
// prints. The outcome is put on the page as text only.
import { WASIShim } from "@bytecodealliance/preview2-shim/instantiation";
import { instantiate } from "./sandbox/sandbox.js";

const DEADLINE_MS = 2000;
const modules = new Map();
const compile = (path) => {
  if (!modules.has(path)) {
    modules.set(path, WebAssembly.compileStreaming(fetch(`./sandbox/${path}`)));
  }
  return modules.get(path);
};

/** Run `code` in a fresh sandbox: the outcome JSON it prints. */
async function execute(code) {
  const input = new TextEncoder().encode(code);
  let offset = 0;
  const printed = [];
  const decoder = new TextDecoder();
  const shim = new WASIShim({
    arguments: ["sandbox", "--json", "--timeout-ms", String(DEADLINE_MS)],
    environment: {},
    stdin: {
      blockingRead(length) {
        if (offset >= input.length) throw { tag: "closed" };
        const chunk = input.slice(offset, offset + Number(length));
        offset += chunk.length;
        return chunk;
      },
    },
    stdout: { write(bytes) { printed.push(decoder.decode(bytes, { stream: true })); }, blockingFlush() {} },
    stderr: { write() {}, blockingFlush() {} },
  });
  const root = await instantiate(compile, shim.getImportObject());
  try {
    await root.run.run();
  } catch (error) {
    // The component exits with `codemode run`'s status when the script
    // failed (preview2-shim throws that exit); the outcome says why.
    if (!error?.exitError) throw error;
  }
  return JSON.parse(printed.join(""));
}

const code = document.getElementById("code");
const button = document.getElementById("run");
const status = document.getElementById("status");
const outcome = document.getElementById("outcome");
document.getElementById("deadline").textContent = String(DEADLINE_MS);

button.addEventListener("click", async () => {
  button.disabled = true;
  status.textContent = "running…";
  outcome.textContent = "";
  outcome.className = "";
  const started = performance.now();
  try {
    const result = await execute(code.value);
    const lines = result.logs.map((line) => `[${line.level}] ${line.text}`);
    if (result.ok) {
      lines.push(`result: ${JSON.stringify(result.result, null, 2)}`);
    } else {
      outcome.className = "failed";
      const at = result.error.line ? ` at line ${result.error.line}, column ${result.error.column}` : "";
      lines.push(`${result.error.kind} error${at}: ${result.error.name}: ${result.error.message}`);
    }
    outcome.textContent = lines.join("\n");
    outcome.dataset.outcome = JSON.stringify(result);
    status.textContent = `done in ${Math.round(performance.now() - started)} ms`;
  } catch (error) {
    outcome.className = "failed";
    outcome.textContent = `the sandbox failed: ${error}`;
    status.textContent = "failed";
  } finally {
    button.disabled = false;
  }
});
button.disabled = false;
status.textContent = "ready";
