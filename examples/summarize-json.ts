// Summarize a folder of JSON files into a report: with a config that grants
// `data` (read-only) and `out` (read-write), e.g.
//   { "files": { "data": { "root": "orders", "mode": "read-only" },
//                "out": { "root": "reports", "mode": "read-write" } } }
//   codemode run --config files.json examples/summarize-json.ts
interface Order { customer: string; total: number }

const { entries } = await data.list({ glob: "*.json" });
const orders: Order[] = [];
for (const entry of entries) {
  const { content } = await data.read({ path: entry.path });
  orders.push(JSON.parse(content) as Order);
}
const byCustomer = new Map<string, number>();
for (const order of orders) {
  byCustomer.set(order.customer, (byCustomer.get(order.customer) ?? 0) + order.total);
}
const lines = [...byCustomer].sort((a, b) => b[1] - a[1]).map(([customer, total]) => `- ${customer}: ${total}`);
const report = `# Orders\n\n${orders.length} orders from ${byCustomer.size} customers.\n\n${lines.join("\n")}\n`;
await out.write({ path: "summary.md", content: report });
({ orders: orders.length, customers: byCustomer.size })
