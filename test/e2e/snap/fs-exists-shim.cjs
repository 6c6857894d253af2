// E2E TEST-ONLY WORKAROUND (build-product.mjs, exists-as-daemon): node:fs with existsSync answered
// by stat(2) (effective uid) instead of access(2) (real uid).
'use strict';
const fs = require('fs');
function existsSync(p) {
  try {
    fs.statSync(p);
    return true;
  } catch {
    return false;
  }
}
module.exports = { ...fs, existsSync };
