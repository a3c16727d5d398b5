const x = 4.832459602360192e+276;
const r = await echo.echo({ x });
if (r.args.x !== x) throw new Error(`sent ${x}, the connector returned ${r.args.x}`);
