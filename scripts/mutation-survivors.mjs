// Lists the surviving and uncovered mutants of a Stryker JSON report by file and line, with the code each one replaced, and the score per file (killed + timed out over all valid).
// Usage: node scripts/mutation-survivors.mjs [reports/mutation/mutation.json] [--file SUBSTRING] [--scores]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--file') ?? 'reports/mutation/mutation.json';
const only = args.includes('--file') ? args[args.indexOf('--file') + 1] : undefined;
const scoresOnly = args.includes('--scores');
const report = JSON.parse(readFileSync(path, 'utf8'));
const rows = [];
for (const [file, entry] of Object.entries(report.files)) {
  if (only && !file.includes(only)) continue;
  const lines = entry.source.split('\n');
  const count = (s) => entry.mutants.filter((m) => m.status === s).length;
  const killed = count('Killed') + count('Timeout');
  const survived = count('Survived');
  const noCov = count('NoCoverage');
  const valid = killed + survived + noCov;
  rows.push({ file, valid, killed, survived, noCov, score: valid ? (100 * killed) / valid : NaN });
  if (scoresOnly) continue;
  const open = entry.mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage').sort((a, b) => a.location.start.line - b.location.start.line);
  if (open.length === 0) continue;
  console.log(`\n## ${file}`);
  for (const m of open) {
    const { start, end } = m.location;
    const original = start.line === end.line ? lines[start.line - 1].slice(start.column - 1, end.column - 1) : `${lines[start.line - 1].slice(start.column - 1)} ...`;
    console.log(`${String(start.line).padStart(5)} ${m.status === 'Survived' ? 'S' : 'N'} ${m.mutatorName}: ${original.trim().slice(0, 70)} -> ${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 70)}`);
  }
}
console.log('\n| file | valid | killed | survived | no coverage | score |\n|---|---|---|---|---|---|');
let t = { valid: 0, killed: 0, survived: 0, noCov: 0 };
for (const r of rows) {
  console.log(`| ${r.file} | ${r.valid} | ${r.killed} | ${r.survived} | ${r.noCov} | ${r.score.toFixed(1)}% |`);
  for (const k of Object.keys(t)) t[k] += r[k];
}
console.log(`| all | ${t.valid} | ${t.killed} | ${t.survived} | ${t.noCov} | ${((100 * t.killed) / t.valid).toFixed(1)}% |`);
