/**
 * Advice: a warning with fixes the tool accepts. A fix is a list of `key=value` overrides applied
 * together (`['schedule.rescaleZeroTerminalSnr=true', 'training.predictionType=v']`), so a warning
 * never suggests half a fix that validation then refuses, and a test can run every fix it suggests.
 */

/** One warning and the fixes for it (each fix: overrides applied together; alternatives in order of preference). */
export interface Advice {
  message: string;
  fixes: string[][];
}

/** The one-line form printed and recorded: the message, then `Fix: a b, or c`. */
export function formatAdvice(a: Advice): string {
  if (a.fixes.length === 0) return a.message;
  const fixes = a.fixes.map((f) => f.join(' ')).join(', or ');
  return `${a.message} Fix: ${fixes}.`;
}
