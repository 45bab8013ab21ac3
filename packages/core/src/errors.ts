/**
 * Error classes shared by every diffusionlab package. Each one carries what happened, why and what
 * to do, so the CLI can print a single actionable message and exit non-zero.
 */

/** Base class, so callers can tell a diffusionlab error (user-fixable) from a bug. */
export class DiffusionLabError extends Error {
  /** Stable machine-readable code, for programs that branch on the failure kind. */
  readonly code: string;
  /** What the user can do about it; printed after the message. */
  readonly hint?: string;

  constructor(message: string, options: { code?: string; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'DIFFUSIONLAB_ERROR';
    this.hint = options.hint;
  }
}

/** One problem at one config key, so a message can name `schedule.timesteps` exactly. */
export interface ConfigIssue {
  /** Dotted path of the offending key, e.g. `sampler.steps`. */
  path: string;
  /** What is wrong, in words. */
  message: string;
  /** Valid alternatives, when there is a finite set. */
  choices?: readonly string[];
}

/** Formats one issue as `path: message (valid: a, b, c)`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '(root)' : issue.path;
  const choices = issue.choices && issue.choices.length > 0 ? ` (valid: ${issue.choices.join(', ')})` : '';
  return `${where}: ${issue.message}${choices}`;
}

/** A config (or plugin option) is invalid; raised before any work starts. */
export class ConfigError extends DiffusionLabError {
  /** Every problem found, so the user can fix them all in one pass. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue | readonly ConfigIssue[], options: { hint?: string; source?: string } = {}) {
    const list = Array.isArray(issues) ? (issues as readonly ConfigIssue[]) : [issues as ConfigIssue];
    const head = options.source ? `Invalid config ${options.source}` : 'Invalid config';
    const body = list.map((i) => `  - ${formatConfigIssue(i)}`).join('\n');
    super(`${head}:\n${body}`, { code: 'CONFIG_INVALID', hint: options.hint });
    this.issues = list;
  }
}

/** A plugin misbehaved or was asked for something it cannot do (e.g. wrong data shape). */
export class PluginError extends DiffusionLabError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, code: 'PLUGIN_ERROR' });
  }
}

/** The requested tfjs backend is unavailable; the hint says how to install it. */
export class BackendError extends DiffusionLabError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, code: 'BACKEND_UNAVAILABLE' });
  }
}

/** Training produced NaN/Inf; carries where, so the user can act (lower lr, other schedule). */
export class TrainingDivergedError extends DiffusionLabError {
  readonly step: number;
  readonly lastFiniteLoss: number | null;

  constructor(step: number, lastFiniteLoss: number | null, hint?: string) {
    const last = lastFiniteLoss === null ? 'none' : lastFiniteLoss.toPrecision(6);
    super(`Training diverged: the loss became NaN or Infinity at step ${step} (last finite loss: ${last}).`, {
      code: 'TRAINING_DIVERGED',
      hint:
        hint ??
        'Lower training.learningRate, enable gradient clipping, or use a schedule whose betas stay well inside (0, 1).',
    });
    this.step = step;
    this.lastFiniteLoss = lastFiniteLoss;
  }
}
