// Summarizes bench/docs/run.sh: throughput, tokens (o200k), code blocks kept, ratios.
const fs = require("fs");
const path = require("path");
const { encode } = require("gpt-tokenizer/encoding/o200k_base");

const [results, outDir] = process.argv.slice(2);
const rows = fs.readFileSync(results, "utf8").trim().split("\n").map((l) => {
  const i = l.indexOf(" ");
  return { tool: l.slice(0, i), ...JSON.parse(l.slice(i + 1)) };
});
for (const r of rows) {
  const dir = path.join(outDir, r.tool);
  let tokens = 0, fences = 0;
  for (const f of fs.readdirSync(dir)) {
    const md = fs.readFileSync(path.join(dir, f), "utf8");
    tokens += encode(md).length;
    fences += (md.match(/^\s*(```|~~~)/gm) || []).length;
  }
  r.tokens = tokens;
  r.code_blocks = Math.floor(fences / 2);
}
const by = Object.fromEntries(rows.map((r) => [r.tool, r]));
console.log("| tool | MB/s | tokens out | code blocks |");
console.log("| --- | --: | --: | --: |");
for (const r of rows) console.log(`| ${r.tool} | ${r.mb_per_s.toFixed(1)} | ${r.tokens} | ${r.code_blocks} |`);
const ours = by["suit-docs"], whole = by["suit-docs-whole-page"];
for (const peer of ["htmd", "turndown"]) {
  if (!by[peer]) continue;
  console.log(`suit-docs vs ${peer}: ${(ours.mb_per_s / by[peer].mb_per_s).toFixed(1)}x throughput ` +
    `(whole page: ${(whole.mb_per_s / by[peer].mb_per_s).toFixed(1)}x), ` +
    `${(by[peer].tokens / ours.tokens).toFixed(2)}x fewer tokens`);
}
