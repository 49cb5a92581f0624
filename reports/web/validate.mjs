// JSON Schema validation for the tests (ajv, draft 2020-12, formats checked).
//   node validate.mjs SCHEMA FILE [FILE...]    a .jsonl file is validated line by line
// Every *.schema.json beside SCHEMA is loaded too, so that schemas can refer to each other by $id.
// Exit codes: 0 all valid, 1 some document is invalid (errors on stderr), 2 bad usage or unreadable input.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const [schemaPath, ...files] = process.argv.slice(2);
if (!schemaPath || files.length === 0) {
  console.error('usage: node validate.mjs SCHEMA FILE [FILE...]');
  process.exit(2);
}
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
addFormats(ajv);
const main = resolve(schemaPath);
let validate;
try {
  for (const name of readdirSync(dirname(main))) {
    if (!name.endsWith('.schema.json')) continue;
    const path = join(dirname(main), name);
    if (path !== main) ajv.addSchema(JSON.parse(readFileSync(path, 'utf8')));
  }
  validate = ajv.compile(JSON.parse(readFileSync(main, 'utf8')));
} catch (e) {
  console.error(`cannot load ${schemaPath}: ${e.message}`);
  process.exit(2);
}

let bad = 0;
for (const file of files) {
  let docs;
  try {
    const text = readFileSync(file, 'utf8');
    docs = file.endsWith('.jsonl')
      ? text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
      : [JSON.parse(text)];
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  docs.forEach((doc, i) => {
    if (validate(doc)) return;
    ++bad;
    const where = docs.length > 1 ? `${file} line ${i + 1}` : file;
    for (const err of validate.errors.slice(0, 20)) console.error(`${where}: ${err.instancePath || '/'} ${err.message} ${JSON.stringify(err.params)}`);
  });
}
if (bad === 0) console.log(`valid: ${files.length} file(s) against ${schemaPath}`);
process.exit(bad ? 1 : 0);
