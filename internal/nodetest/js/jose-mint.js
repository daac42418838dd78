"use strict";
// jose-mint.js: mints JWTs with the npm `jose` library (panva/jose), so server/tier is
// checked against tokens an independent implementation produced.
//
// Flags:
//   --spec FILE   (required) JSON: {claims: {...}, keys: [{name, alg, kid?, pem?, secret?}]}
//                 pem is a PKCS #8 private key; secret an HMAC secret (UTF-8).
//   --timeout 20000
//
// Result: {ok, tokens: {name: jwt}}

const fs = require("fs");
const jose = require("jose");
const c = require("./lib/common");

const args = c.parseArgs({ timeout: "20000" });
if (!args.spec) c.fail("missing --spec");
c.hardTimeout(c.int(args.timeout, "timeout"));
const spec = JSON.parse(fs.readFileSync(args.spec, "utf8"));

(async () => {
  const tokens = {};
  for (const k of spec.keys) {
    const key = k.secret !== undefined ? new TextEncoder().encode(k.secret) : await jose.importPKCS8(k.pem, k.alg);
    const header = { alg: k.alg, typ: "JWT" };
    if (k.kid) header.kid = k.kid;
    tokens[k.name] = await new jose.SignJWT(spec.claims).setProtectedHeader(header).sign(key);
  }
  c.finish({ ok: true, tokens });
})();
