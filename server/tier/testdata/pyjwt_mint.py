"""Mints JWTs with PyJWT (Debian's python3-jwt), so server/tier is checked against tokens
an independent implementation produced. Reads the same spec as jose-mint.js on stdin:
{"claims": {...}, "keys": [{"name", "alg", "kid"?, "pem"?, "secret"?}]}; prints
{"tokens": {name: jwt}} on stdout."""
import json
import sys

import jwt

spec = json.load(sys.stdin)
tokens = {}
for k in spec["keys"]:
    key = k["secret"] if "secret" in k else k["pem"]
    headers = {"kid": k["kid"]} if k.get("kid") else None
    tok = jwt.encode(spec["claims"], key, algorithm=k["alg"], headers=headers)
    tokens[k["name"]] = tok if isinstance(tok, str) else tok.decode()
print(json.dumps({"tokens": tokens}))
