'use strict'

// The few statistics the reports need. Medians, not means: one disturbed round
// on a shared machine should not move the result.

function median (values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** a / b, or null when it means nothing (b not positive, e.g. an overhead lost in noise). */
function ratio (a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0 || a < 0) return null
  return a / b
}

module.exports = { median, ratio }
