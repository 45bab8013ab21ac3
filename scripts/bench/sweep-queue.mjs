// `node scripts/bench/sweep-queue.mjs [--trials 200] [--workers 1,2,4]` (after `pnpm build`): the
// bullmq launcher's throughput and overhead (issue 18). Starts its own redis-server on a free port
// on 127.0.0.1 and, for each worker count, runs a sweep of N oracle trials
// (examples/oracle-samplers.yaml, seed=1..N, evaluation.samples=1000: no training) through a fresh
// queue with that many `diffusionlab worker` processes (concurrency 1, each in a folder of its own).
// Prints one line per worker count:
//   trials/s            N / the sweep command's wall time
//   worker ms/trial     mean of the jobs' finishedOn − processedOn (the trial's process, tfjs load, compute, packing)
//   compute ms/trial    mean of the trials' own sampling and training seconds (their summary.json)
//   overhead ms/trial   engine overhead per trial: queue time plus transfer, i.e. the wall time per
//                       trial and worker that is not the trial's own compute: W·wall/N − compute
//   queue ms/trial      the queue's own part of that: W·wall/N − worker ms/trial (waiting for a job,
//                       enqueuing, the result's transfer into the sweep folder)
//   queued KB/trial     Redis used_memory growth per trial once all are enqueued, before a worker starts
//   done KB/trial       the same once all are complete (the packed results kept in Redis)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'apps', 'runner', 'dist', 'bin.js');
const { Queue } = createRequire(join(root, 'packages', 'launchers', 'package.json'))('bullmq');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const N = Number(arg('trials', '200'));
const counts = arg('workers', '1,2,4').split(',').map(Number);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const url = `redis://127.0.0.1:${port}`;
const cli = (...a) => execFileSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8' }).trim();
const usedMemory = () => Number(/used_memory:(\d+)/.exec(cli('info', 'memory'))[1]);
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
for (let i = 0; ; i++) {
  try {
    cli('ping');
    break;
  } catch {
    if (i > 100) throw new Error('redis-server did not start');
    await sleep(100);
  }
}

const seeds = Array.from({ length: N }, (_, i) => i + 1).join(',');
const rows = [];
try {
  for (const W of counts) {
    const queueName = `bench-${W}`;
    const dir = mkdtempSync(join(tmpdir(), 'dl-bench-queue-'));
    const memBefore = usedMemory();
    let enqueued;
    const enqueuedAt = new Promise((r) => {
      enqueued = r;
    });
    const t0 = performance.now();
    const sweep = spawn(
      process.execPath,
      [
        bin,
        'sweep',
        join(root, 'examples', 'oracle-samplers.yaml'),
        `seed=${seeds}`,
        'evaluation.samples=1000',
        'reporters=[{use: summary}]',
        '--launcher',
        'bullmq',
        '--redis',
        url,
        '--queue',
        queueName,
        '--poll-seconds',
        '0.2',
        '--out',
        join(dir, 'out'),
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    sweep.stdout.on('data', (c) => {
      out += c.toString();
      if (/^bullmq:/m.test(out)) enqueued();
    });
    const exited = new Promise((r) => sweep.on('close', r));
    await Promise.race([enqueuedAt, exited]);
    const memQueued = usedMemory();
    const workers = Array.from({ length: W }, () =>
      spawn(process.execPath, [bin, 'worker', '--redis', url, '--queue', queueName, '--concurrency', '1'], {
        cwd: mkdtempSync(join(tmpdir(), 'dl-bench-worker-')),
        stdio: 'ignore',
      }),
    );
    const code = await exited;
    const wall = (performance.now() - t0) / 1000;
    for (const w of workers) w.kill('SIGTERM');
    if (code !== 0) throw new Error(`the sweep with ${W} workers exited with ${code}:\n${out.slice(-2000)}`);
    const memDone = usedMemory();
    const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port } });
    const jobs = await queue.getJobs(['completed'], 0, -1);
    await queue.close();
    const workerMs = jobs.reduce((s, j) => s + (j.finishedOn - j.processedOn), 0) / jobs.length;
    const seconds = (j) => Number(j.returnvalue?.summary?.sampling?.seconds ?? 0) + Number(j.returnvalue?.summary?.training?.seconds ?? 0);
    const computeMs = (1000 * jobs.reduce((s, j) => s + seconds(j), 0)) / jobs.length;
    const row = {
      workers: W,
      trials: jobs.length,
      wallSeconds: +wall.toFixed(1),
      trialsPerSecond: +(N / wall).toFixed(2),
      workerMsPerTrial: Math.round(workerMs),
      computeMsPerTrial: Math.round(computeMs),
      overheadMsPerTrial: Math.round((W * wall * 1000) / N - computeMs),
      queueMsPerTrial: Math.round((W * wall * 1000) / N - workerMs),
      queuedKBPerTrial: +((memQueued - memBefore) / N / 1024).toFixed(1),
      doneKBPerTrial: +((memDone - memBefore) / N / 1024).toFixed(1),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
    rmSync(dir, { recursive: true, force: true });
    cli('flushall');
    await sleep(500);
  }
} finally {
  redis.kill('SIGTERM');
}
console.log('| workers | trials/s | wall s | worker ms/trial | compute ms/trial | overhead ms/trial | queue ms/trial | queued KB/trial | done KB/trial |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.workers} | ${r.trialsPerSecond} | ${r.wallSeconds} | ${r.workerMsPerTrial} | ${r.computeMsPerTrial} | ${r.overheadMsPerTrial} | ${r.queueMsPerTrial} | ${r.queuedKBPerTrial} | ${r.doneKBPerTrial} |`,
  );
