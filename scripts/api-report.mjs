#!/usr/bin/env node
// Pins every published package's public API: @microsoft/api-extractor reads the built `dist/index.d.ts` and writes
// a readable report to `<package>/etc/<name>.api.md`, which is checked in. A change to the public API then shows up
// in review as a diff of that file, and CI fails until the report is updated on purpose.
//
//   node scripts/api-report.mjs            check: fail when a package's API differs from its report (CI)
//   node scripts/api-report.mjs --update   rewrite the reports from the current build (after an intended change)
//   --root <dir>        repository root to work on (default: this repo; tests point it at a temp copy)
//   --only <a,b>        only these package folders (e.g. packages/core,apps/runner)
//   --jobs <n>          threads (default: the CPU count, at most 4)
//
// The packages must be built first (`pnpm build`): the report is made from the published declarations, not src.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const update = argv.includes('--update');
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const root = resolve(flag('--root') ?? join(here, '..'));
const only = flag('--only')
  ?.split(',')
  .map((s) => s.replace(/\/$/, ''));

/** Folders of the packages that publish an API: every non-private workspace package with a `types` entry. */
function publishedPackages() {
  const dirs = [];
  for (const group of ['packages', 'apps']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name);
      const pkgPath = join(dir, 'package.json');
      if (!existsSync(pkgPath)) continue;
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
      if (pkg.private || !pkg.exports?.['.']?.types) continue;
      if (only && !only.includes(relative(root, dir))) continue;
      dirs.push({ dir, pkg, types: pkg.exports['.'].types });
    }
  }
  return dirs;
}

// Only a declaration that does not compile stops the check. Findings about the API's shape (e.g. ae-forgotten-export:
// a type reachable from the API but not exported by name) are written into the report, so they are pinned and
// reviewed with it instead of failing the build. Noise that does not serve pinning is off: release tags
// (@public/@beta) are not used in this repo, {@link}s to unexported names are a docs matter, and the TSDoc parser
// flags the math in comments (x_{t}, a > b) as malformed inline tags.
// Nothing written to a report may carry a source line number, or the report would change with unrelated edits.
const messages = {
  compilerMessageReporting: { default: { logLevel: 'error' } },
  extractorMessageReporting: {
    default: { logLevel: 'none', addToApiReportFile: true },
    'ae-missing-release-tag': { logLevel: 'none', addToApiReportFile: false },
    'ae-internal-missing-underscore': { logLevel: 'none', addToApiReportFile: false },
    'ae-unresolved-link': { logLevel: 'none', addToApiReportFile: false },
    // Each declaration without TSDoc is already marked "(undocumented)" in place; this message would add a second
    // list with source line numbers, which churns the report on every unrelated edit above the line.
    'ae-undocumented': { logLevel: 'none', addToApiReportFile: false },
  },
  tsdocMessageReporting: { default: { logLevel: 'none', addToApiReportFile: false } },
};

/**
 * One package: returns its outcome ('same' | 'changed' | 'updated' | 'error') and the lines to print, so that
 * parallel workers' output is printed whole, package by package.
 */
function runOne({ dir, pkg, types }, tempRoot) {
  const log = [];
  const done = (outcome) => ({ outcome, log });
  const rel = relative(root, dir) || '.';
  const entry = join(dir, types);
  const unscoped = pkg.name.replace(/^@[^/]+\//, '');
  const reportPath = join(dir, 'etc', `${unscoped}.api.md`);
  const reportRel = relative(root, reportPath);
  if (!existsSync(entry)) {
    log.push(`api: ${pkg.name}: ${relative(root, entry)} is missing. Run \`pnpm build\` first, then run this again.`);
    return done('error');
  }
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: dir,
      mainEntryPointFilePath: entry,
      compiler: {
        // Analyse only the published declarations (not src), resolved the way a NodeNext consumer resolves them.
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2022'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: true,
            types: ['node'],
          },
          files: [entry],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${unscoped}.api.md`,
        // api-extractor writes the fresh report to a temp folder; this script compares and copies it itself, so
        // that it can drop source positions first (see `normalise`) and print a short diff.
        reportFolder: join(tempRoot, unscoped),
        reportTempFolder: join(tempRoot, unscoped, 'temp'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      messages,
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: join(dir, 'package.json'),
  });

  const problems = [];
  const result = Extractor.invoke(config, {
    localBuild: true,
    messageCallback: (m) => {
      m.handled = true;
      if (m.logLevel === ExtractorLogLevel.Error) {
        const where = m.sourceFilePath ? `${relative(root, m.sourceFilePath)}:${m.sourceFileLine}: ` : '';
        problems.push(`  ${where}(${m.messageId}) ${m.text}`);
      }
    },
  });
  if (result.errorCount > 0) {
    log.push(`api: ${pkg.name}: api-extractor could not analyse ${relative(root, entry)}:\n${problems.join('\n')}`);
    return done('error');
  }

  const actual = normalise(readFileSync(join(tempRoot, unscoped, `${unscoped}.api.md`), 'utf8'));
  const expected = existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : undefined;
  if (actual === expected) return done('same');
  if (update) {
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, actual);
    log.push(`api: ${pkg.name}: wrote ${reportRel}`);
    return done('updated');
  }
  const why = expected === undefined ? `has no report (${reportRel} is missing)` : `differs from ${reportRel}`;
  log.push(
    `api: ${pkg.name} (${rel}): the public API ${why}.\n` +
      '  If the change is intended, run `pnpm api:update` and commit the updated report with your change;\n' +
      '  otherwise restore what the report lists.' +
      (expected === undefined ? '' : ` Report lines (-) and current API (+):\n${lineDiff(expected, actual)}`),
  );
  return done('changed');
}

/**
 * Drops `path:line:col` from the report's analysis notes (`// src/run.ts:459:80 - (ae-…) …`): a pinned API must not
 * change because an unrelated edit moved a declaration down a few lines.
 */
function normalise(report) {
  return report.replace(/^\/\/ (\S+?):\d+:\d+ - \((ae-[a-z-]+)\)/gm, '// $1 - ($2)');
}

/** The changed lines of two reports (an LCS diff, reports are ~1000 lines), each with its report line number. */
function lineDiff(before, after, limit = 60) {
  const a = before.split('\n');
  const b = after.split('\n');
  // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..]
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push(`    ${String(i + 1).padStart(5)} -${a[i]}`);
      i++;
    } else {
      out.push(`    ${String(j + 1).padStart(5)} +${b[j]}`);
      j++;
    }
  }
  return out.length > limit ? [...out.slice(0, limit), `    … ${out.length - limit} more changed lines`].join('\n') : out.join('\n');
}

/** Runs `dirs` (indices into `packages`) in this thread. */
function runMany(packages, indices) {
  const tempRoot = mkdtempSync(join(tmpdir(), 'api-report-'));
  try {
    return indices.map((i) => ({ i, ...runOne(packages[i], tempRoot) }));
  } finally {
    rmSync(tempRoot, { recursive: true, force: true });
  }
}

if (!isMainThread) {
  parentPort.postMessage(runMany(publishedPackages(), workerData.indices));
} else {
  const packages = publishedPackages();
  if (packages.length === 0) {
    console.error(`api: no published package found under ${root}${only ? ` matching --only ${only.join(',')}` : ''}.`);
    process.exit(1);
  }
  const started = performance.now();
  // Each package is a separate TypeScript program (about a second of CPU each); two threads halve the wall time
  // on a 2-core CI runner. Packages are dealt round-robin from the largest, so the threads finish together.
  const jobs = Math.max(1, Math.min(Number(flag('--jobs') ?? availableParallelism()), 4, packages.length));
  const order = packages
    .map((p, i) => ({ i, size: statSync(join(p.dir, p.types)).size }))
    .sort((a, b) => b.size - a.size)
    .map((x) => x.i);
  const groups = Array.from({ length: jobs }, (_, j) => order.filter((_, k) => k % jobs === j));
  const results = (
    await Promise.all(
      groups.map((indices, j) =>
        j === 0
          ? Promise.resolve().then(() => runMany(packages, indices))
          : new Promise((ok, fail) => {
              const w = new Worker(new URL(import.meta.url), { argv: process.argv.slice(2), workerData: { indices } });
              w.once('message', ok);
              w.once('error', fail);
            }),
      ),
    )
  )
    .flat()
    .sort((a, b) => a.i - b.i);
  for (const r of results) {
    if (r.log.length === 0) continue;
    (r.outcome === 'changed' || r.outcome === 'error' ? console.error : console.log)(r.log.join('\n'));
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  const count = (o) => results.filter((x) => x.outcome === o).length;
  const n = packages.length;
  if (count('error') > 0) {
    console.error(`api: ${count('error')} of ${n} package(s) could not be analysed (${secs}s).`);
    process.exit(1);
  }
  if (update) {
    console.log(`api: ${count('updated')} report(s) updated, ${count('same')} unchanged (${n} packages, ${secs}s).`);
  } else if (count('changed') > 0) {
    console.error(`api: ${count('changed')} of ${n} package(s) changed their public API. ` + `Run \`pnpm api:update\` and commit the etc/*.api.md files (${secs}s).`);
    process.exit(1);
  } else {
    console.log(`api: all ${n} public API reports are up to date (${secs}s).`);
  }
}
