// Holds isx's CSAF 2.0 documents to the official validator library
// (@secvisogram/csaf-validator-lib, BSI): run as
//   node scripts/csaf-validator.mjs cases DIR      the mandatory-test cases
//   node scripts/csaf-validator.mjs valid FILE...  documents that must pass
//   node scripts/csaf-validator.mjs optional FILE... the optional (6.2) and
//     informative (6.3) findings, one `file test message` line each (exit 0)
// `cases`: every `6.1.N-fail-K.json` must fail the library's test 6.1.N,
// every `6.1.N-pass-K.json` (and base.json) must pass the schema and every
// mandatory test. `valid`: each file must pass the schema and every
// mandatory test. Prints each disagreement; exits 1 if there is any.
// The library is CSAF_VALIDATOR_LIB (its directory), else the copy
// scripts/test installs in .ci-node.
import { readFileSync, readdirSync } from 'node:fs'
import { join, basename } from 'node:path'

const lib =
  process.env.CSAF_VALIDATOR_LIB ??
  new URL('../.ci-node/node_modules/@secvisogram/csaf-validator-lib', import.meta.url).pathname
const schema = await import(`${lib}/schemaTests.js`)
const mandatory = await import(`${lib}/mandatoryTests.js`)

const all = Object.entries(mandatory)
const optional = await import(`${lib}/optionalTests.js`)
const informative = await import(`${lib}/informativeTests.js`)
const name = (t) => t.replace('mandatoryTest_', '').replaceAll('_', '.')

async function failures(doc) {
  const out = []
  const s = await schema.csaf_2_0(doc)
  if (!s.isValid) out.push(['schema', s.errors])
  for (const [key, test] of all) {
    const r = await test(doc)
    if (r.isValid === false) out.push([name(key), r.errors])
  }
  return out
}

const [mode, ...args] = process.argv.slice(2)
let problems = 0
let checked = 0
const say = (file, text) => {
  problems++
  console.log(`${basename(file)}: ${text}`)
}

if (mode === 'cases') {
  const dir = args[0]
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const file = join(dir, f)
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    const failed = await failures(doc)
    const names = failed.map(([n]) => n)
    checked++
    const m = f.match(/^(6\.1\.[0-9.]+)-(fail|pass)-\d+\.json$/)
    if (f === 'base.json' || (m && m[2] === 'pass')) {
      if (failed.length) say(file, `should pass, fails ${JSON.stringify(failed)}`)
    } else if (m) {
      if (!names.includes(m[1])) say(file, `should fail ${m[1]}, fails [${names}]`)
      // A CVSS object that breaks FIRST's schema (6.1.8) breaks the CSAF
      // schema too; every other failing case is schema-valid.
      if (names.includes('schema') && m[1] !== '6.1.8')
        say(file, `not schema-valid: ${JSON.stringify(failed[0][1])}`)
    } else {
      say(file, 'not a case name')
    }
  }
} else if (mode === 'valid') {
  for (const file of args) {
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    const failed = await failures(doc)
    checked++
    if (failed.length) say(file, `fails ${JSON.stringify(failed)}`)
  }
} else if (mode === 'optional') {
  const tests = [...Object.entries(optional), ...Object.entries(informative)]
  for (const file of args) {
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    for (const [key, test] of tests) {
      // 6.3.6/6.3.7 fetch URLs and 6.3.8 needs hunspell: not offline tests.
      if (/6_3_(6|7|8)$/.test(key)) continue
      const r = await test(doc)
      const id = key.replace(/^(optional|informative)Test_/, '').replaceAll('_', '.')
      for (const w of [...(r.warnings ?? []), ...(r.infos ?? [])])
        console.log(`${basename(file)} ${id} ${w.instancePath}: ${w.message}`)
    }
  }
  process.exit(0)
} else {
  console.error('usage: csaf-validator.mjs cases DIR | valid FILE... | optional FILE...')
  process.exit(2)
}
console.log(`csaf-validator: ${checked} documents, ${problems} disagreements`)
process.exit(problems ? 1 : 0)
