/**
 * The local-time stamp in default folder names (`runs/<name>-<stamp>`, `samples/<sampler>-<steps>-<stamp>`,
 * `sweeps/<name>-<stamp>`), one format for every command so folders sort by when they were made.
 */
export function timestamp(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}
