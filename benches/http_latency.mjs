// The latency of one `execute` of `1 + 1` on `codemode serve --http`, from
// the MCP TypeScript SDK's client over streamable HTTP, one call at a time
// on a kept-alive connection: what most agents' MCP clients do.
//
//   node benches/http_latency.mjs http://127.0.0.1:PORT/mcp [CALLS] [TOKEN]
//
// `cargo bench --bench serve_load` runs it beside its own rmcp client.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(fileURLToPath(new URL('../tests/npm/package.json', import.meta.url)));
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');

const [url, calls = '300', token = ''] = process.argv.slice(2);
if (!url) {
  console.error('usage: node benches/http_latency.mjs URL [CALLS] [TOKEN]');
  process.exit(2);
}
const client = new Client({ name: 'codemode-latency', version: '1.0.0' });
const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : {};
await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit }));
const execute = async () => {
  const result = await client.callTool({ name: 'execute', arguments: { code: '1 + 1' } });
  if (result.isError) throw new Error(`execute failed: ${JSON.stringify(result.content)}`);
};
for (let i = 0; i < 20; i++) await execute();
const times = [];
for (let i = 0; i < Number(calls); i++) {
  const started = process.hrtime.bigint();
  await execute();
  times.push(Number(process.hrtime.bigint() - started) / 1e6);
}
times.sort((a, b) => a - b);
const at = (p) => times[Math.round((times.length - 1) * p)].toFixed(2);
console.log(`latency: execute \`1 + 1\`, the MCP TypeScript SDK's client over HTTP, ${calls} calls: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
await client.close();
