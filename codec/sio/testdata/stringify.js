// Reads one JSON value per line from stdin and writes JSON.stringify of each, one per line.
// A string "#f" followed by 16 hex digits stands for the IEEE 754 double with those bits, so
// that no decimal conversion stands between the Go test and Node.
'use strict';
const dv = new DataView(new ArrayBuffer(8));
const revive = (_, v) => {
  if (typeof v === 'string' && v.startsWith('#f')) {
    dv.setBigUint64(0, BigInt('0x' + v.slice(2)));
    return dv.getFloat64(0);
  }
  return v;
};
const out = [];
for (const line of require('fs').readFileSync(0, 'utf8').split('\n')) {
  if (line !== '') out.push(JSON.stringify(JSON.parse(line, revive)));
}
process.stdout.write(out.join('\n') + '\n');
