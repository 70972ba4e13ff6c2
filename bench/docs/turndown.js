// turndown side of bench/docs/run.sh: same protocol as bench_convert.
const fs = require("fs");
const path = require("path");
const TurndownService = require("turndown");
const { gfm } = require("turndown-plugin-gfm");

const [out, iterArg, ...files] = process.argv.slice(2);
const iterations = Number(iterArg);
const td = new TurndownService({ headingStyle: "atx", codeBlockStyle: "fenced", bulletListMarker: "-" });
td.use(gfm);
td.remove(["script", "style", "noscript"]);
const pages = files.map((f) => fs.readFileSync(f, "utf8"));
fs.mkdirSync(out, { recursive: true });
pages.forEach((p, i) => fs.writeFileSync(path.join(out, `${i}.md`), td.turndown(p)));
const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p), 0);
const start = process.hrtime.bigint();
let sink = 0;
for (let k = 0; k < iterations; k++) for (const p of pages) sink += td.turndown(p).length;
const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ pages: pages.length, bytes, iterations, secs, mb_per_s: (bytes * iterations) / 1e6 / secs, out_bytes: Math.round(sink / iterations) }));
