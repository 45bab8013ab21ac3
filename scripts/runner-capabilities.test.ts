/**
 * DESIGN.md "Fast paths are plug-ins": nothing outside a plugin's package reads its name or option
 * keys. Checked on the runner's real source (apps/runner/src, tests excluded) with the TypeScript
 * parser, not a grep: a plugin's `use`/`name` compared with (or switched, looked up or searched
 * against) the name of a built-in plugin, and any key read from a sampler's options (directly,
 * through a variable holding them, or by destructuring) is a finding. The checker is itself tested
 * on the code the runner had before (`sampler.use !== 'ddpm'`, `o.clipSample`), so it cannot pass
 * by finding nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PACKAGES } from '../apps/runner/src/plugins.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const runnerSrc = join(root, 'apps/runner/src');

/** Every built-in plugin's config name (`ddpm`, `summary`, `seed-mlp`, …). */
const builtinNames = new Set(Object.values(BUILTIN_PACKAGES).flatMap((list) => list.map((p) => p.name)));

/**
 * Findings excused while the code they name is being moved (empty now: issue 14's steps ≤ T check
 * and run-directory helper removed the last ones). Each entry must still match a finding, so the
 * list only shrinks: when the code goes, the test asks for its entry to go too.
 */
const PENDING: { file: string; code: string; why: string }[] = [];

/** One rule broken at one place. */
interface Finding {
  line: number;
  text: string;
  rule: string;
}

/** The name an expression ends in: `use` for `r.sampler.use`, `x` for `x`, `k` for `o['k']`. */
function lastName(e: ts.Expression): string | undefined {
  let x = e;
  while (ts.isParenthesizedExpression(x) || ts.isAsExpression(x) || ts.isNonNullExpression(x) || ts.isSatisfiesExpression(x)) x = x.expression;
  if (ts.isIdentifier(x)) return x.text;
  if (ts.isPropertyAccessExpression(x)) return x.name.text;
  if (ts.isElementAccessExpression(x) && ts.isStringLiteralLike(x.argumentExpression)) return x.argumentExpression.text;
  return undefined;
}

/** The expression with casts, parentheses and `!` taken off. */
function bare(e: ts.Expression): ts.Expression {
  let x = e;
  while (ts.isParenthesizedExpression(x) || ts.isAsExpression(x) || ts.isNonNullExpression(x) || ts.isSatisfiesExpression(x)) x = x.expression;
  return x;
}

const isPluginName = (e: ts.Expression): boolean => ['use', 'name'].includes(lastName(e) ?? '');
const builtinLiteral = (e: ts.Expression): string | undefined => {
  const x = bare(e);
  return ts.isStringLiteralLike(x) && builtinNames.has(x.text) ? x.text : undefined;
};

/** Every finding in one source file. */
function findViolations(source: string, fileName = 'source.ts'): Finding[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Finding[] = [];
  const report = (node: ts.Node, rule: string): void => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push({ line: line + 1, text: source.split('\n')[line].trim(), rule });
  };
  // Variables that hold a sampler's options (`const o = sampler.options`), found in a first pass.
  const aliases = new Set<string>();
  const isSamplerOptions = (e: ts.Expression): boolean => {
    const x = bare(e);
    if (ts.isIdentifier(x)) return aliases.has(x.text);
    if (!ts.isPropertyAccessExpression(x) || x.name.text !== 'options') return false;
    return /sampler/i.test(lastName(x.expression) ?? '');
  };
  const collect = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && isSamplerOptions(node.initializer)) aliases.add(node.name.text);
    ts.forEachChild(node, collect);
  };
  collect(sf);
  const visit = (node: ts.Node): void => {
    // `x.use === 'ddpm'`, `'summary' !== s.name`
    if (
      ts.isBinaryExpression(node) &&
      [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken].includes(
        node.operatorToken.kind,
      )
    ) {
      const lit = builtinLiteral(node.left) ?? builtinLiteral(node.right);
      if (lit && (isPluginName(node.left) || isPluginName(node.right))) report(node, `compares a plugin name with the built-in '${lit}'`);
    }
    // `switch (slot.use) { case 'ddpm': … }`
    if (ts.isSwitchStatement(node) && isPluginName(node.expression)) {
      for (const clause of node.caseBlock.clauses) {
        const lit = ts.isCaseClause(clause) ? builtinLiteral(clause.expression) : undefined;
        if (lit) report(clause, `switches on a plugin name with case '${lit}'`);
      }
    }
    // `['ddpm', 'ddim'].includes(x.use)`, `new Set(['ddpm']).has(x.name)`
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ['includes', 'has', 'indexOf'].includes(node.expression.name.text)) {
      const arg = node.arguments[0];
      let names = '';
      node.expression.expression.forEachChild(function scan(n: ts.Node): void {
        if (ts.isStringLiteralLike(n) && builtinNames.has(n.text)) names ||= n.text;
        n.forEachChild(scan);
      });
      if (arg && isPluginName(arg) && names) report(node, `looks a plugin name up among built-ins ('${names}')`);
    }
    // `{ ddpm: … }[x.use]`
    if (ts.isElementAccessExpression(node) && isPluginName(node.argumentExpression) && ts.isObjectLiteralExpression(bare(node.expression))) {
      const keys = (bare(node.expression) as ts.ObjectLiteralExpression).properties.map((p) =>
        p.name && (ts.isIdentifier(p.name) || ts.isStringLiteralLike(p.name)) ? p.name.text : '',
      );
      const lit = keys.find((k) => builtinNames.has(k));
      if (lit) report(node, `indexes a table of built-ins ('${lit}') by a plugin name`);
    }
    // `r.sampler.options.steps`, `o.clipSample` (o = sampler.options), `sampler.options['variance']`
    if ((ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) && isSamplerOptions(node.expression)) {
      report(node, `reads the sampler option '${lastName(node) ?? '[computed]'}'`);
    }
    // `const { steps } = r.sampler.options`
    if (ts.isVariableDeclaration(node) && ts.isObjectBindingPattern(node.name) && node.initializer && isSamplerOptions(node.initializer)) {
      report(node, 'destructures sampler options');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The runner's shipped source files (tests and test utilities excluded). */
function runnerFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts)$/.test(e.name) && !/\.test\.ts$|\.test-util\.ts$|\.d\.ts$/.test(e.name)) out.push(p);
    }
  };
  walk(runnerSrc);
  return out;
}

describe('the checker', () => {
  it('knows the built-in plugin names', () => {
    for (const name of ['ddpm', 'ddim', 'summary', 'seed-mlp', 'linear', 'w1']) expect(builtinNames.has(name), name).toBe(true);
  });

  it('finds the name comparison and option reads the runner had before (sampling-path.ts at e24c37e)', () => {
    const before = `
      export function isReferenceDdpm(sampler: { use: string; options: Record<string, unknown> }, schedule: NoiseSchedule): boolean {
        const o = sampler.options;
        if (sampler.use !== 'ddpm') return false;
        if ((o.clipSample ?? false) !== false || (o.thresholding ?? false) !== false) return false;
        return ((o.steps as number | undefined) ?? T) === T;
      }
      const variance = p.sampler.options.variance === 'fixed-large' ? 'fixed-large' : 'fixed-small';
      const steps = path.steps ?? (r.sampler.options.steps as number | undefined);
      if (r.reporters.some((s) => s.use === 'summary')) return r;`;
    const found = findViolations(before).map((f) => f.rule);
    expect(found).toEqual([
      "compares a plugin name with the built-in 'ddpm'",
      "reads the sampler option 'clipSample'",
      "reads the sampler option 'thresholding'",
      "reads the sampler option 'steps'",
      "reads the sampler option 'variance'",
      "reads the sampler option 'steps'",
      "compares a plugin name with the built-in 'summary'",
    ]);
  });

  it('finds switches, look-ups, tables and destructuring; leaves non-plugin strings, other option objects and whole-object passing alone', () => {
    const src = `
      switch (slot.use) { case 'ddim': break; case 'my-own': break; }
      if (['euler', 'heun'].includes(r.sampler.use)) x();
      const f = { ddpm: 1, other: 2 }[slot.name];
      const { variance } = built.sampler.options;
      const k = r.sampler.options['timestepSpacing'];
      if (name === 'wasm') y();                     // a backend, not a plugin
      if (slot.use === 'my-plugin') z();            // not a built-in name
      const e = r.experiment.training.options.steps; // not a sampler's options
      create(r.sampler.def, r.sampler.options);     // passing them whole reads no key
      print(r.sampler.use);                         // showing the name is not comparing it`;
    expect(findViolations(src).map((f) => [f.line, f.rule])).toEqual([
      [2, "switches on a plugin name with case 'ddim'"],
      [3, "looks a plugin name up among built-ins ('euler')"],
      [4, "indexes a table of built-ins ('ddpm') by a plugin name"],
      [5, 'destructures sampler options'],
      [6, "reads the sampler option 'timestepSpacing'"],
    ]);
  });
});

describe('apps/runner/src', () => {
  const files = runnerFiles();
  const all = files.flatMap((file) => findViolations(readFileSync(file, 'utf8'), file).map((f) => ({ ...f, file: relative(runnerSrc, file) })));

  it('is the runner source (the check reads real files)', () => {
    expect(files.map((f) => relative(runnerSrc, f))).toEqual(expect.arrayContaining(['run.ts', 'sampling-path.ts', 'sample.ts', 'sweep.ts', 'cli.ts']));
  });

  it("never compares a plugin's name with a built-in's nor reads a sampler's option keys", () => {
    const pending = (f: { file: string; text: string }) => PENDING.some((p) => p.file === f.file && f.text.includes(p.code));
    expect(all.filter((f) => !pending(f)).map((f) => `${f.file}:${f.line} ${f.rule}: ${f.text}`)).toEqual([]);
  });

  it('keeps no stale PENDING entry (each one still matches the code it excuses)', () => {
    const stale = PENDING.filter((p) => !all.some((f) => f.file === p.file && f.text.includes(p.code)));
    expect(stale.map((p) => `${p.file}: ${p.code} (${p.why}) no longer occurs; remove it from PENDING`)).toEqual([]);
  });
});
