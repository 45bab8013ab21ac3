#!/usr/bin/env node
// Builds @tensorflow/tfjs-node's native binding from a TensorFlow CPU pip wheel, for machines that
// reach the npm registry but not storage.googleapis.com (where tfjs-node's install step downloads
// libtensorflow). Optional: nothing in `pnpm install` calls it, and it never edits package.json or
// the lockfile. See docs/tfjs-node-from-wheel.md.
//
//   node scripts/tfjs-node-from-wheel.mjs --wheel PATH/tensorflow_cpu-….whl [PROJECT_DIR]
//
// Steps:
//   1. `npm pack @tensorflow/tfjs-node@VERSION` (or --tarball) and unpack it in a work dir inside
//      PROJECT_DIR/node_modules/.cache; install its runtime dependencies there with npm
//      (--ignore-scripts, so its own install step does not run yet).
//   2. Read the wheel (a zip) with Node's zlib: extract libtensorflow_framework.so.N, the library
//      that exports the TensorFlow C API (checked with `nm -D`: libtensorflow_cc.so.N in TF 2.21,
//      _pywrap_tensorflow_internal.so in some older wheels), the shared libraries they need
//      (`readelf -d`), and only the C headers the binding includes (followed from its sources), into
//      tfjs-node's deps/ layout: deps/lib/libtensorflow.so → the C-API library, plus the
//      libtensorflow.so.<LIBTENSORFLOW_VERSION> name whose presence makes scripts/install.js skip
//      its download.
//   3. Run tfjs-node's own scripts/install.js with npm_config_build_from_source=true (node-pre-gyp's
//      switch, as `npm install --build-from-source` sets it), so node-pre-gyp compiles the binding
//      with node-gyp instead of fetching a prebuilt one; JOBS=--jobs (default 1).
//   4. Smoke-test it (matMul on the 'tensorflow' backend), then move it to
//      PROJECT_DIR/node_modules/@tensorflow/tfjs-node, where `import('@tensorflow/tfjs-node')`
//      resolves from every workspace package, and test it again from there.
//
// Flags: --wheel PATH (required unless --uninstall), --project DIR (or a positional PROJECT_DIR;
// default: the current directory), --version V (tfjs-node version, default 4.22.0),
// --tarball PATH (a tfjs-node .tgz already on disk, instead of npm pack), --jobs N (default 1),
// --node-gyp PATH (node-gyp.js to use; default: npm_config_node_gyp, else npm's bundled one, else
// node-gyp@NODE_GYP_VERSION from the npm registry), --force (replace an installed tfjs-node),
// --keep-work (keep the work dir), --uninstall (remove a tfjs-node this script installed).
// Requires Linux, python3, make and a C++ compiler (node-gyp's own requirements), and binutils
// (nm, readelf).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { basename, delimiter, dirname, join, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { createInflateRaw } from 'node:zlib';

/** tfjs-node version whose binding sources and install script this was written against. */
const DEFAULT_TFJS_NODE_VERSION = '4.22.0';
/** node-gyp used when neither npm_config_node_gyp nor npm's bundled copy exists; 11.x runs on Node ≥ 18.17. */
const NODE_GYP_VERSION = '11.4.2';
/** Marker written into the installed package so --uninstall removes only what this script made. */
const MARKER = 'from-wheel.json';

// ---------------------------------------------------------------------------------------------
// Command line

/** Parses argv into options; exits with usage on a bad flag so nothing half-runs. */
function parseArgs(argv) {
  const opts = { version: DEFAULT_TFJS_NODE_VERSION, jobs: 1, force: false, keepWork: false, uninstall: false };
  const positional = [];
  const valueFlags = { '--wheel': 'wheel', '--project': 'project', '--version': 'version', '--tarball': 'tarball', '--jobs': 'jobs', '--node-gyp': 'nodeGyp' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag in valueFlags) {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) usage(`${flag} needs a value`);
      opts[valueFlags[flag]] = v;
    } else if (flag === '--force') opts.force = true;
    else if (flag === '--keep-work') opts.keepWork = true;
    else if (flag === '--uninstall') opts.uninstall = true;
    else if (flag === '--help' || flag === '-h') usage();
    else if (flag.startsWith('-')) usage(`unknown flag ${flag}`);
    else positional.push(a);
  }
  if (positional.length > 1) usage(`expected at most one PROJECT_DIR, got: ${positional.join(' ')}`);
  if (positional.length === 1 && opts.project) usage('give the project either as --project or as PROJECT_DIR, not both');
  opts.project = resolve(opts.project ?? positional[0] ?? '.');
  opts.jobs = Number(opts.jobs);
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) usage('--jobs must be a positive integer');
  if (!opts.uninstall && !opts.wheel) usage('--wheel PATH is required (a tensorflow or tensorflow_cpu wheel for this platform)');
  return opts;
}

function usage(error) {
  const text =
    'usage: node scripts/tfjs-node-from-wheel.mjs --wheel PATH [PROJECT_DIR] [--version 4.22.0] [--tarball TGZ]\n' +
    '         [--jobs 1] [--node-gyp PATH] [--force] [--keep-work]\n' +
    '       node scripts/tfjs-node-from-wheel.mjs --uninstall [PROJECT_DIR]\n' +
    'Builds @tensorflow/tfjs-node from a TensorFlow pip wheel; see docs/tfjs-node-from-wheel.md.';
  if (error) {
    console.error(`tfjs-node-from-wheel: ${error}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

/** Stops with a message that says what failed and what to do; the work dir is kept for inspection. */
class StepError extends Error {}
function fail(message) {
  throw new StepError(message);
}

/** Reads an npm/node-gyp setting from the environment (outside turbo's task graph: this is a manual tool). */
function envVar(name) {
  return process.env[name];
}

function log(message) {
  console.log(`[tfjs-node-from-wheel] ${message}`);
}

/** Runs a command with inherited output; a non-zero exit is a StepError naming the command. */
function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.error) fail(`could not start \`${cmd}\`: ${r.error.message}`);
  if (r.status !== 0) fail(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})${options.cwd ? ` in ${options.cwd}` : ''}`);
}

/** Runs a command and returns its stdout; used for the read-only probes (nm, readelf, npm config). */
function capture(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (e) {
    if (e.code === 'ENOENT') fail(`\`${cmd}\` not found; it is needed to ${options.why ?? 'run this step'}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Wheel (zip) reading: central directory, ZIP64 included, entries streamed through zlib so an
// 800 MB library never sits in memory.

/** Lists a zip's entries by name with where their data lies; enough of APPNOTE 4.3 for wheels. */
function readZipDirectory(file) {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const tailLen = Math.min(size, 65557);
    const tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail(`${file} is not a zip file (no end-of-central-directory record); a wheel is a zip`);
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) fail(`${file}: ZIP64 locator missing`);
      const z64 = Buffer.alloc(56);
      readSync(fd, z64, 0, 56, Number(tail.readBigUInt64LE(loc + 8)));
      if (z64.readUInt32LE(0) !== 0x06064b50) fail(`${file}: ZIP64 end record missing`);
      count = Number(z64.readBigUInt64LE(32));
      cdSize = Number(z64.readBigUInt64LE(40));
      cdOffset = Number(z64.readBigUInt64LE(48));
    }
    const cd = Buffer.alloc(cdSize);
    readSync(fd, cd, 0, cdSize, cdOffset);
    const entries = new Map();
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) fail(`${file}: corrupt central directory at entry ${n}`);
      const method = cd.readUInt16LE(p + 10);
      let compressedSize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let headerOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      // ZIP64 extended information: 64-bit values for the fields that read as 0xFFFFFFFF, in order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) (size = Number(cd.readBigUInt64LE(q))), (q += 8);
          if (compressedSize === 0xffffffff) (compressedSize = Number(cd.readBigUInt64LE(q))), (q += 8);
          if (headerOffset === 0xffffffff) headerOffset = Number(cd.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
      entries.set(name, { name, method, compressedSize, size, headerOffset });
      p = extraEnd + commentLen;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/** Streams one zip entry to a file (stored or deflated) and checks its length. */
async function extractEntry(zipFile, entry, dest) {
  const fd = openSync(zipFile, 'r');
  const local = Buffer.alloc(30);
  readSync(fd, local, 0, 30, entry.headerOffset);
  closeSync(fd);
  if (local.readUInt32LE(0) !== 0x04034b50) fail(`${zipFile}: bad local header for ${entry.name}`);
  const start = entry.headerOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  mkdirSync(dirname(dest), { recursive: true });
  const out = createWriteStream(dest);
  if (entry.compressedSize === 0) {
    out.end();
    await new Promise((res, rej) => out.on('finish', res).on('error', rej));
  } else {
    const input = createReadStream(zipFile, { start, end: start + entry.compressedSize - 1 });
    if (entry.method === 8) await pipeline(input, createInflateRaw(), out);
    else if (entry.method === 0) await pipeline(input, out);
    else fail(`${entry.name}: unsupported zip compression method ${entry.method}`);
  }
  const got = statSync(dest).size;
  if (got !== entry.size) fail(`${entry.name}: extracted ${got} bytes, expected ${entry.size}; is the wheel complete?`);
}

// ---------------------------------------------------------------------------------------------
// ELF probes (binutils)

/** Dynamic symbols a shared library defines, without version suffixes (TF 2.21 tags them @@tensorflow). */
function definedSymbols(lib) {
  const out = capture('nm', ['-D', '--defined-only', lib], { why: 'check which library exports the TensorFlow C API (install binutils)' });
  const names = new Set();
  for (const line of out.split('\n')) {
    const name = line.trim().split(/\s+/)[2];
    if (name) names.add(name.replace(/@.*$/, ''));
  }
  return names;
}

/** DT_NEEDED and DT_SONAME of a shared library. */
function dynamicSection(lib) {
  const out = capture('readelf', ['-d', lib], { why: 'read the libraries TensorFlow links against (install binutils)' });
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const soname = out.match(/\(SONAME\)\s+Library soname: \[([^\]]+)\]/)?.[1];
  return { needed, soname };
}

// ---------------------------------------------------------------------------------------------
// Checks before the long steps

/** Fails early, with the reason, when the wheel cannot run here (platform, arch, glibc). */
function checkWheelFitsHost(wheel) {
  const file = basename(wheel);
  const m = file.match(/^(tensorflow(?:[_-]cpu|[_-]intel)?)-([^-]+)-[^-]+-[^-]+-(.+)\.whl$/i);
  if (!m) fail(`${file} does not look like a TensorFlow wheel (expected tensorflow[_cpu]-VERSION-…-PLATFORM.whl)`);
  const [, dist, tfVersion, platformTag] = m;
  if (platform() !== 'linux') fail(`only Linux is supported (this is ${platform()}); tfjs-node's binding.gyp expects other library names elsewhere`);
  const wantArch = { x64: 'x86_64', arm64: 'aarch64' }[arch()];
  if (!platformTag.includes('linux') || !wantArch || !platformTag.endsWith(wantArch)) {
    fail(`${file} is for ${platformTag}; this machine is linux ${arch()} (a …manylinux…_${wantArch ?? arch()}.whl is needed)`);
  }
  const glibcNeeded = platformTag.match(/manylinux_(\d+)_(\d+)/);
  const glibcHere = process.report?.getReport().header.glibcVersionRuntime;
  if (glibcNeeded && glibcHere) {
    const [hMaj, hMin] = glibcHere.split('.').map(Number);
    const [nMaj, nMin] = [Number(glibcNeeded[1]), Number(glibcNeeded[2])];
    if (hMaj < nMaj || (hMaj === nMaj && hMin < nMin)) fail(`${file} needs glibc ≥ ${nMaj}.${nMin}; this machine has ${glibcHere}`);
  }
  return { dist, tfVersion, platformTag };
}

/**
 * The TF_/TFE_ functions the binding calls that the wheel's headers declare as exported (inline
 * helpers such as TF_TString_* are not library symbols); every one must be defined by the library.
 */
function requiredCApiSymbols(pkgDir, includeDir) {
  const used = new Set();
  for (const f of readdirSync(join(pkgDir, 'binding'))) {
    for (const m of readFileSync(join(pkgDir, 'binding', f), 'utf8').matchAll(/\b(TFE?_[A-Za-z0-9_]+)\s*\(/g)) used.add(m[1]);
  }
  const declared = new Set();
  const walk = (dir) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name.endsWith('.h')) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(/TF_CAPI_EXPORT\s+extern\s+[^;{}()]*?\b(TFE?_[A-Za-z0-9_]+)\s*\(/g)) declared.add(m[1]);
      }
    }
  };
  walk(join(includeDir, 'tensorflow', 'c'));
  return [...used].filter((s) => declared.has(s)).sort();
}

// ---------------------------------------------------------------------------------------------
// Steps

/** npm-packs (or takes) the tfjs-node tarball and unpacks it; returns the package dir. */
function fetchPackage(opts, workDir) {
  let tgz = opts.tarball && resolve(opts.tarball);
  if (tgz) {
    if (!existsSync(tgz)) fail(`--tarball ${tgz} does not exist`);
  } else {
    log(`npm pack @tensorflow/tfjs-node@${opts.version}`);
    const out = capture('npm', ['pack', `@tensorflow/tfjs-node@${opts.version}`, '--pack-destination', workDir, '--json'], {
      cwd: workDir,
      why: 'fetch the tfjs-node tarball',
    });
    tgz = join(workDir, JSON.parse(out)[0].filename);
  }
  run('tar', ['-xzf', tgz, '-C', workDir]);
  const pkgDir = join(workDir, 'package');
  const pj = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (pj.name !== '@tensorflow/tfjs-node') fail(`${tgz} holds ${pj.name}, not @tensorflow/tfjs-node`);
  if (!existsSync(join(pkgDir, 'binding.gyp')) || !existsSync(join(pkgDir, 'scripts', 'install.js'))) {
    fail(`${tgz} has no binding.gyp or scripts/install.js; this script knows tfjs-node 4.x's layout`);
  }
  return { pkgDir, pj };
}

/**
 * Extracts the libraries and headers into deps/, named the way binding.gyp (-ltensorflow
 * -ltensorflow_framework, rpath $ORIGIN/../../deps/lib) and scripts/install.js expect.
 */
async function stageDeps(wheel, pkgDir) {
  log(`reading ${wheel}`);
  const entries = readZipDirectory(wheel);
  const byBase = new Map();
  for (const name of entries.keys()) if (!name.endsWith('/')) byBase.set(basename(name), [...(byBase.get(basename(name)) ?? []), name]);
  const top = [...entries.keys()].find((n) => /^[^/]+\/libtensorflow_framework\.so\.\d+$/.test(n));
  if (!top) fail(`${basename(wheel)} has no <pkg>/libtensorflow_framework.so.N; is it a Linux TensorFlow wheel?`);
  const root = top.slice(0, top.indexOf('/') + 1); // "tensorflow/"
  const includeRoot = `${root}include/`;
  if (!entries.has(`${includeRoot}tensorflow/c/c_api.h`)) fail(`${basename(wheel)} has no ${includeRoot}tensorflow/c/c_api.h (C headers)`);

  const constants = createRequire(join(pkgDir, 'package.json'))('./scripts/deps-constants.js');
  const libDir = constants.depsLibPath;
  const includeDir = join(constants.depsPath, 'include');
  rmSync(constants.depsPath, { recursive: true, force: true });
  mkdirSync(libDir, { recursive: true });

  // Headers: the closure of the binding's quoted #includes inside the wheel's include tree.
  const queue = readdirSync(join(pkgDir, 'binding')).map((f) => ({ text: readFileSync(join(pkgDir, 'binding', f), 'utf8'), dir: null }));
  const staged = new Set();
  while (queue.length > 0) {
    const { text, dir } = queue.pop();
    for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
      const inc = m[1];
      const candidates = [`${includeRoot}${inc}`, dir ? posix.normalize(`${dir}/${inc}`) : null].filter(Boolean);
      const hit = candidates.find((c) => entries.has(c));
      if (!hit || staged.has(hit)) continue;
      staged.add(hit);
      const dest = join(includeDir, hit.slice(includeRoot.length));
      await extractEntry(wheel, entries.get(hit), dest);
      queue.push({ text: readFileSync(dest, 'utf8'), dir: posix.dirname(hit) });
    }
  }
  log(`staged ${staged.size} C headers in deps/include`);

  // libtensorflow_framework.so.N first: since TF 2.x it defines part of the C API (TF_NewStatus,
  // TF_AllocateTensor, …); the rest (TFE_*, graph functions) lives in one other library.
  const frameworkName = basename(top);
  const frameworkPath = join(libDir, frameworkName);
  log(`extracting ${top} (${(entries.get(top).size / 2 ** 20).toFixed(0)} MiB)`);
  await extractEntry(wheel, entries.get(top), frameworkPath);
  const frameworkSyms = definedSymbols(frameworkPath);

  // The library that exports the rest: the first candidate that defines TFE_NewContext and, with
  // the framework, every C API function the binding calls.
  const candidates = [...entries.keys()]
    .filter((n) => /^[^/]+\/libtensorflow(_cc)?\.so\.\d+$/.test(n) || n === `${root}python/_pywrap_tensorflow_internal.so`)
    .sort((a, b) => rank(a) - rank(b));
  function rank(n) {
    return n.includes('libtensorflow.so') ? 0 : n.includes('libtensorflow_cc') ? 1 : 2;
  }
  const required = requiredCApiSymbols(pkgDir, includeDir);
  let capi = null;
  const report = [];
  for (const cand of candidates) {
    const dest = join(libDir, basename(cand));
    log(`extracting ${cand} (${(entries.get(cand).size / 2 ** 20).toFixed(0)} MiB)`);
    await extractEntry(wheel, entries.get(cand), dest);
    const syms = definedSymbols(dest);
    const missing = required.filter((s) => !syms.has(s) && !frameworkSyms.has(s));
    const hasEager = syms.has('TFE_NewContext');
    report.push(
      `${cand}: ${hasEager ? `${required.length - missing.length}/${required.length} needed C API functions with ${frameworkName}` : 'no TFE_ (eager C API) symbols'}${hasEager && missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
    );
    if (hasEager && missing.length === 0) {
      capi = dest;
      break;
    }
    rmSync(dest);
  }
  if (!capi) fail(`no library in ${basename(wheel)} exports every TensorFlow C API function the binding calls:\n  ${report.join('\n  ') || '(no candidates)'}`);
  log(`C API: ${basename(capi)} + ${frameworkName} define all ${required.length} TF_/TFE_ functions the binding calls`);

  // Their dependencies that ship in the wheel (auditwheel's *.libs/, python/ helpers), recursively.
  const seen = new Set([basename(capi), frameworkName]);
  const todo = [capi, frameworkPath];
  while (todo.length > 0) {
    const lib = todo.pop();
    for (const need of dynamicSection(lib).needed) {
      if (seen.has(need)) continue;
      seen.add(need);
      const inWheel = byBase.get(need) ?? [];
      if (inWheel.length === 0) continue; // a system library (libc, libstdc++, …)
      const dest = join(libDir, need);
      log(`extracting ${inWheel[0]} (needed by ${basename(lib)})`);
      await extractEntry(wheel, entries.get(inWheel[0]), dest);
      todo.push(dest);
    }
  }
  for (const f of readdirSync(libDir)) chmodSync(join(libDir, f), 0o755);

  // Names binding.gyp links (-l → lib*.so) and install.js tests (lib*.so.<LIBTENSORFLOW_VERSION>).
  const links = {
    'libtensorflow.so': basename(capi),
    [basename(constants.depsLibTensorFlowPath)]: basename(capi),
    'libtensorflow_framework.so': frameworkName,
    [basename(constants.depsLibTensorFlowFrameworkPath)]: frameworkName,
  };
  const soname = dynamicSection(capi).soname;
  if (soname && soname !== basename(capi)) links[soname] = basename(capi);
  const major = frameworkName.split('.').pop();
  links[`libtensorflow.so.${major}`] = basename(capi);
  for (const [link, target] of Object.entries(links)) {
    if (link === target || existsSync(join(libDir, link))) continue;
    symlinkSync(target, join(libDir, link));
  }
  return { capi: basename(capi), framework: frameworkName, headers: staged.size, requiredSymbols: required.length };
}

/** node-gyp to build with: the one npm would use, or a pinned one from the npm registry. */
function findNodeGyp(opts, workDir) {
  const given = opts.nodeGyp ?? envVar('npm_config_node_gyp');
  if (given) {
    if (!existsSync(given)) fail(`node-gyp ${given} does not exist`);
    return given;
  }
  try {
    const npmRoot = capture('npm', ['root', '-g']).trim();
    const bundled = join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(bundled)) return bundled;
  } catch {
    // fall through to the registry
  }
  log(`installing node-gyp@${NODE_GYP_VERSION} from the npm registry`);
  const dir = join(workDir, 'node-gyp');
  mkdirSync(dir, { recursive: true });
  run('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', `node-gyp@${NODE_GYP_VERSION}`]);
  return join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

/**
 * Node's headers for node-gyp without a download: npm's nodedir setting, else the ones that ship
 * beside this node binary (official tarballs and distro packages put them in <prefix>/include/node).
 */
function findNodeDir() {
  if (envVar('npm_config_nodedir')) return envVar('npm_config_nodedir');
  try {
    const configured = capture('npm', ['config', 'get', 'nodedir']).trim();
    if (configured && configured !== 'undefined' && configured !== 'null') return configured;
  } catch {
    // no npm config; try the prefix
  }
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) return prefix;
  return undefined; // node-gyp downloads the headers (needs nodejs.org)
}

/** Compiles the binding with tfjs-node's own install script, from source, with a bounded job count. */
function buildBinding(opts, pkgDir, workDir) {
  log('installing tfjs-node runtime dependencies (npm, --ignore-scripts)');
  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-package-lock', '--no-audit', '--no-fund'], { cwd: pkgDir });
  const nodeGyp = findNodeGyp(opts, workDir);
  const nodeDir = findNodeDir();
  log(`building the binding (node-gyp ${nodeGyp}, nodedir ${nodeDir ?? '(download)'}, JOBS=${opts.jobs})`);
  const env = {
    ...process.env,
    PATH: `${join(pkgDir, 'node_modules', '.bin')}${delimiter}${process.env.PATH}`,
    npm_config_build_from_source: 'true',
    npm_config_node_gyp: nodeGyp,
    JOBS: String(opts.jobs),
    MAKEFLAGS: `-j${opts.jobs}`,
  };
  if (nodeDir) env.npm_config_nodedir = nodeDir;
  run(process.execPath, ['scripts/install.js'], { cwd: pkgDir, env });
  const libRoot = join(pkgDir, 'lib');
  const built = existsSync(libRoot)
    ? readdirSync(libRoot)
        .map((d) => join(libRoot, d, 'tfjs_binding.node'))
        .find((p) => existsSync(p))
    : undefined;
  if (!built) fail(`scripts/install.js exited 0 but no lib/napi-v*/tfjs_binding.node was built in ${pkgDir}`);
  return built;
}

/** Imports tfjs-node as an app would and checks a matMul on the 'tensorflow' backend. */
function smokeTest(cwd, specifier) {
  const code = `
    const tf = await import(${JSON.stringify(specifier)});
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const c = tf.matMul(a, a);
    const got = Array.from(await c.data());
    const ok = tf.getBackend() === 'tensorflow' && JSON.stringify(got) === JSON.stringify([7, 10, 15, 22]);
    console.log(JSON.stringify({ backend: tf.getBackend(), matMul: got, versions: tf.version, ok }));
    if (!ok) process.exit(1);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (r.status !== 0) fail(`tfjs-node did not load from ${cwd}:\n${(r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n')}`);
  return r.stdout.trim().split('\n').pop();
}

function sha256(file) {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
}

async function uninstall(opts) {
  const dest = join(opts.project, 'node_modules', '@tensorflow', 'tfjs-node');
  if (!existsSync(dest)) return log(`nothing to remove: ${dest} does not exist`);
  if (!existsSync(join(dest, MARKER))) fail(`${dest} was not installed by this script (no ${MARKER}); remove it with your package manager`);
  rmSync(dest, { recursive: true, force: true });
  log(`removed ${dest}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(join(opts.project, 'package.json'))) fail(`${opts.project} has no package.json; pass the project directory`);
  if (opts.uninstall) return uninstall(opts);

  const wheel = resolve(opts.wheel);
  if (!existsSync(wheel)) fail(`--wheel ${wheel} does not exist`);
  const wheelInfo = checkWheelFitsHost(wheel);
  const dest = join(opts.project, 'node_modules', '@tensorflow', 'tfjs-node');
  if (existsSync(dest) && !opts.force) fail(`${dest} already exists; pass --force to replace it (or --uninstall first)`);

  // Work dir on the project's filesystem, so the finished package is moved, not copied (~850 MB).
  const workDir = join(opts.project, 'node_modules', '.cache', 'tfjs-node-from-wheel');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const t0 = Date.now();
  try {
    const { pkgDir, pj } = fetchPackage(opts, workDir);
    const staged = await stageDeps(wheel, pkgDir);
    const binding = buildBinding(opts, pkgDir, workDir);
    log(`built ${binding}`);
    log(`smoke test in the work dir: ${smokeTest(pkgDir, pathToFileURL(join(pkgDir, 'dist', 'index.js')).href)}`);

    writeFileSync(
      join(pkgDir, MARKER),
      `${JSON.stringify(
        {
          tfjsNode: pj.version,
          wheel: basename(wheel),
          wheelSha256: await sha256(wheel),
          tensorflow: wheelInfo.tfVersion,
          cApiLibrary: staged.capi,
          frameworkLibrary: staged.framework,
          builtWith: { node: process.version, napi: process.versions.napi },
          builtAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(pkgDir, dest);
    log(`installed ${dest} (nothing added to package.json or the lockfile)`);
    log(`smoke test from ${opts.project}: ${smokeTest(opts.project, '@tensorflow/tfjs-node')}`);
    if (!opts.keepWork) rmSync(workDir, { recursive: true, force: true });
    log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s: TensorFlow ${wheelInfo.tfVersion} (${staged.capi}) under @tensorflow/tfjs-node@${pj.version}`);
  } catch (e) {
    if (e instanceof StepError) {
      console.error(`[tfjs-node-from-wheel] error: ${e.message}\n[tfjs-node-from-wheel] the work dir is kept for inspection: ${workDir}`);
      process.exit(1);
    }
    throw e;
  }
}

main().catch((e) => {
  console.error(e instanceof StepError ? `[tfjs-node-from-wheel] error: ${e.message}` : e);
  process.exit(1);
});
