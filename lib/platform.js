'use strict'

// The platform part of the names napi-rs gives prebuilt binaries: the package
// `express-session-rs-<platform>` and the file `express-session-rs.<platform>.node`
// (linux-x64-gnu, darwin-arm64, win32-x64-msvc, ...). Loads no binary itself.

function platformTriple () {
  let abi = ''
  if (process.platform === 'linux') {
    const report = typeof process.report === 'object' && process.report.getReport()
    abi = report && report.header && report.header.glibcVersionRuntime ? '-gnu' : '-musl'
  } else if (process.platform === 'win32') {
    abi = '-msvc'
  }
  return `${process.platform}-${process.arch}${abi}`
}

/** The npm package that carries this platform's binary. */
function platformPackage () {
  return `express-session-rs-${platformTriple()}`
}

module.exports = { platformTriple, platformPackage }
