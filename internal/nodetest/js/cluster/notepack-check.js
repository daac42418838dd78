"use strict";
// What notepack.io (the msgpack codec of @socket.io/redis-adapter and
// @socket.io/redis-emitter) makes of the cases in a JSON file, so rooms/redis can
// check its own transcoder byte for byte.
//
// Usage: node cluster/notepack-check.js CASES.json
// CASES.json: {"encode":[{"json":TEXT,"atts":[HEX...]}...], "decode":[HEX...]}
//   encode: JSON.parse(TEXT) with socket.io-parser placeholders replaced by the
//           attachments (as the Node server holds an event), then notepack.encode.
//   decode: notepack.decode, then the value as the Node server would send it to a
//           client: JSON.stringify of socket.io-parser's deconstructed packet data
//           (Buffers become placeholders, numbered in order).
// stdout, last line: {"ok":true,"encoded":[HEX...],"decoded":[{"json":TEXT,"atts":[HEX...]}|{"error":MSG}]}

const fs = require("fs");
const path = require("path");
const notepack = require("notepack.io");

function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const encoded = cases.encode.map((c) => {
    const buffers = c.atts.map((h) => Buffer.from(h, "hex"));
    const value = reconstruct(JSON.parse(c.json), buffers);
    return notepack.encode(value).toString("hex");
  });
  const decoded = cases.decode.map((h) => {
    try {
      const v = notepack.decode(Buffer.from(h, "hex"));
      const { packet, buffers } = deconstruct([v]);
      const text = JSON.stringify(packet.data);
      return { json: text.slice(1, -1), atts: buffers.map((b) => Buffer.from(b).toString("hex")) };
    } catch (e) {
      return { error: e.message };
    }
  });
  process.stdout.write(JSON.stringify({ ok: true, encoded, decoded }) + "\n");
}

// socket.io-parser's binary helpers (the same ones the Node server uses).
const binary = require(path.join(path.dirname(require.resolve("socket.io-parser")), "binary.js"));

function reconstruct(data, buffers) {
  const packet = binary.reconstructPacket({ type: 5, data, attachments: buffers.length }, buffers);
  return packet.data;
}

function deconstruct(data) {
  return binary.deconstructPacket({ type: 2, data });
}

main();
