// `pnpm bench`: the benchmark suite (issue 8) — not timed tests. Prints one line per workload ×
// backend × path (median of the repetitions, with min and max) and writes bench.json at the
// repository root: { "workloads": [ { name, backend, path, unit, median, min, max,
// numTensorsBefore, numTensorsAfter, reps, … } ] }, the default path of each workload first.
// Needs `pnpm build` first (it runs the built packages).
//
// What is timed: a training entry (steps/s; timed: 'steps', stepsPerRep, warmupSteps) is one train()
// per repetition on a fresh model, its first warmupSteps (⌈stepsPerRep/8⌉) steps untimed and then
// stepsPerRep timed ones — model build, training-path setup and warm-up outside the timer (the
// PyTorch twins time the same steps). A sampling entry (s) times generateSamples() on a model and
// sampling path made beforehand. seed-train-32k-memory times its whole train() call.
//
// Options:
//   --quick            fewer repetitions and steps (a smoke test, seconds instead of minutes)
//   --only a,b         run only these workloads (names below)
//   --out FILE         write the JSON there instead of <root>/bench.json
//   --reps N           repetitions per entry (default 5; --quick: 3)
//   --compare          also run the PyTorch twins (scripts/bench/torch_twins.py) of the selected
//                      workloads that have one, at 1 and 2 threads, before and after ours, and print
//                      ours ÷ PyTorch, with a line saying which steps each side timed; bench.json
//                      gains "compare" (skipped with one line without torch)
//   --python PATH      the twins' python (default $DIFFUSIONLAB_BENCH_PYTHON, else /usr/bin/python3)
//   --list             print the workload names and exit (twinned ones marked)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModules } from './bench/lib.mjs';
import { parseBenchArgs, runBench } from './bench/run.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let options;
try {
  options = parseBenchArgs(process.argv.slice(2), root);
} catch (e) {
  console.error(`bench: ${e.message}`);
  process.exit(2);
}
const modules = options.list ? null : await loadModules(root);
process.exitCode = await runBench(modules, options, (line) => console.log(line));
