'use strict'

module.exports = require('neostandard')({
  ignores: ['binding.js', 'binding.d.ts', 'target/**', 'npm/**', 'node_modules/**'],
  ts: true
})
