'use strict'

// The compiled addon, loaded once through the loader `napi build --platform`
// generates. When no binary fits, say which package was expected and why it
// may be missing, instead of the loader's generic message.

function platformPackage () {
  let abi = ''
  if (process.platform === 'linux') {
    const report = typeof process.report === 'object' && process.report.getReport()
    abi = report && report.header && report.header.glibcVersionRuntime ? '-gnu' : '-musl'
  } else if (process.platform === 'win32') {
    abi = '-msvc'
  }
  return `express-session-rs-${process.platform}-${process.arch}${abi}`
}

try {
  module.exports = require('../binding.js')
} catch (err) {
  const expected = platformPackage()
  const error = new Error(
    `express-session-rs: no native binary could be loaded for ${process.platform}-${process.arch}. ` +
    `It comes in the package "${expected}", which npm installs as an optional dependency: ` +
    'check that optional dependencies were not omitted (--omit=optional, --no-optional) and that ' +
    'the lockfile was not made on another platform, then reinstall. Without a prebuilt binary for ' +
    'this platform, build it from a checkout with a Rust toolchain: npm run build.'
  )
  error.code = 'ERR_EXPRESS_SESSION_RS_NO_BINARY'
  error.cause = err
  throw error
}
