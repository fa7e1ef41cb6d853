// Reads YAML from stdin with the `yaml` package (YAML 1.2, strict, unique keys) and prints
// {errors, documents} as JSON, so the tests check our hand-written YAML with an independent parser.
import { parseAllDocuments } from 'yaml';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const documents = parseAllDocuments(input, { strict: true, uniqueKeys: true, prettyErrors: false });
const list = Array.isArray(documents) ? documents : [documents];
const errors = list.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message));
process.stdout.write(JSON.stringify({ errors, documents: list.map((d) => d.toJS()) }));
