'use strict'

// The compiled addon, loaded once through the loader `napi build --platform` generates.
module.exports = require('../binding.js')
