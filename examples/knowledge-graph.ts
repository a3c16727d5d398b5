// One `execute`: build a knowledge graph of 15 entities with relations in the
// reference memory server, one tool call per entity and per relation (29
// calls an agent would otherwise make one model turn at a time), and read it
// back. scripts/demo sends this to `codemode serve` through the MCP
// inspector's CLI. It runs unattended behind examples/servers.json's
// approval gates: that config allows `memory.create_*`, and `read_graph` is
// read-only.
type Entity = { name: string; entityType: string; observations: string[] };

const pioneers = [
  ["Ada Lovelace", "wrote the first published program"],
  ["Alan Turing", "defined computability"],
  ["Grace Hopper", "built the first compiler"],
  ["John Backus", "led the FORTRAN team"],
  ["John McCarthy", "invented Lisp"],
  ["Edsger Dijkstra", "argued for structured programming"],
  ["Tony Hoare", "invented quicksort"],
  ["Niklaus Wirth", "designed Pascal"],
  ["Barbara Liskov", "defined data abstraction"],
  ["Donald Knuth", "wrote The Art of Computer Programming"],
  ["Ken Thompson", "co-created Unix"],
  ["Dennis Ritchie", "created C"],
  ["Frances Allen", "pioneered optimizing compilers"],
  ["Leslie Lamport", "formalized distributed systems"],
  ["Margaret Hamilton", "led Apollo's flight software"],
];

for (const [name, deed] of pioneers) {
  const entity: Entity = { name, entityType: "computer scientist", observations: [deed] };
  await memory.create_entities({ entities: [entity] });
}
for (let i = 1; i < pioneers.length; i++) {
  await memory.create_relations({
    relations: [{ from: pioneers[i][0], to: pioneers[i - 1][0], relationType: "came after" }],
  });
}

const graph = await memory.read_graph({});
console.log(`the graph holds ${graph.entities.length} entities and ${graph.relations.length} relations`);
({
  entities: graph.entities.length,
  relations: graph.relations.length,
  chain: graph.relations.slice(0, 3).map((r: { from: string; to: string }) => `${r.from} → ${r.to}`),
})
