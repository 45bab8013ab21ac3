/**
 * Error classes shared by every diffusionlab package. Each one carries what happened, why and what
 * to do, so the CLI can print a single actionable message and exit non-zero.
 */

/**
 * The brand every diffusionlab error carries, registered in the global symbol registry so it is the
 * same symbol in every copy of this package: an install that holds two copies of
 * `@diffusionlab/core` (a plugin's and the CLI's) still recognises the other copy's errors, which
 * `instanceof` does not. Test with {@link isDiffusionLabError}, not with `instanceof`.
 */
export const DIFFUSIONLAB_ERROR: unique symbol = Symbol.for('diffusionlab.error') as typeof DIFFUSIONLAB_ERROR;

/** Base class, so callers can tell a diffusionlab error (user-fixable) from a bug. */
export class DiffusionLabError extends Error {
  /** The cross-copy brand (see {@link DIFFUSIONLAB_ERROR}); always true. */
  readonly [DIFFUSIONLAB_ERROR] = true as const;
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

/** The `code` of every {@link ConfigError}. */
const CONFIG_INVALID = 'CONFIG_INVALID';

/**
 * True for an error thrown by any copy of diffusionlab (it carries the {@link DIFFUSIONLAB_ERROR}
 * brand and a string `code`); why: callers print such errors as one clean message and exit 2, and
 * must recognise them even when they come from another copy of this package.
 */
export function isDiffusionLabError(e: unknown): e is DiffusionLabError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { [DIFFUSIONLAB_ERROR]?: unknown })[DIFFUSIONLAB_ERROR] === true &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

/**
 * True for a {@link ConfigError} from any copy of diffusionlab: a branded error with code
 * `CONFIG_INVALID` and an `issues` array; why: config loaders merge the issues of nested errors.
 */
export function isConfigError(e: unknown): e is ConfigError {
  return isDiffusionLabError(e) && e.code === CONFIG_INVALID && Array.isArray((e as { issues?: unknown }).issues);
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
    super(`${head}:\n${body}`, { code: CONFIG_INVALID, hint: options.hint });
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
      hint: hint ?? 'Lower training.learningRate, enable gradient clipping, or use a schedule whose betas stay well inside (0, 1).',
    });
    this.step = step;
    this.lastFiniteLoss = lastFiniteLoss;
  }
}
