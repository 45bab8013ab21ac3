/**
 * One collector for every warning a run or a sample directory raises (dropped options, schedule
 * diagnostics, sampler advice, dataset notes, divergence): each is recorded once, with its fixes as
 * data, and printed on the console once — whether or not a console reporter also prints it.
 */
import { type Advice, formatAdvice, type NoiseSchedule, type Sampler } from '@diffusionlab/core';
import type { ResolvedExperiment } from './config.js';
import { droppedMessage } from './inherit.js';

const PREFIX = 'warning: ';

/** Records warnings and prints each once; its {@link WarningLog.print} drops repeated `warning: …` lines. */
export class WarningLog {
  /** Every warning so far, in order, with its fixes. */
  readonly items: Advice[] = [];
  private readonly printed = new Set<string>();
  private readonly known = new Set<string>();

  /**
   * @param out where lines go (stdout in the CLI)
   * @param acceptsFix which fixes this command can apply (`sample` cannot change the trained model);
   *   the others are named as needing a new run, so no fix printed here is one the command refuses
   */
  constructor(
    private readonly out: (line: string) => void,
    private readonly acceptsFix: (fix: string[]) => boolean = () => true,
  ) {}

  /** The print to hand to plugins: a `warning: …` line already printed is not printed again. */
  readonly print = (line: string): void => {
    if (line.startsWith(PREFIX)) {
      if (this.printed.has(line)) return;
      this.printed.add(line);
    }
    this.out(line);
  };

  /** Records a warning (a repeat is ignored); {@link WarningLog.flush} prints it. */
  add(w: string | Advice): void {
    const given = typeof w === 'string' ? { message: w, fixes: [] } : w;
    const refused = given.fixes.filter((f) => !this.acceptsFix(f));
    const advice =
      refused.length === 0
        ? given
        : {
            message: `${given.message} (Needs a new run: ${refused.map((f) => f.join(' ')).join(', or ')}.)`,
            fixes: given.fixes.filter((f) => this.acceptsFix(f)),
          };
    const text = formatAdvice(advice);
    if (this.known.has(text)) return;
    this.known.add(text);
    this.items.push(advice);
  }

  /** Prints every recorded warning not printed yet (by this log or by a reporter through {@link WarningLog.print}). */
  flush(): void {
    for (const text of this.messages) this.print(`${PREFIX}${text}`);
  }

  /** The warnings as recorded in summary.json: one line each, fixes included. */
  get messages(): string[] {
    return this.items.map(formatAdvice);
  }

  /** The warnings that come with fixes, as data (summary.json's `fixes`). */
  get withFixes(): Advice[] {
    return this.items.filter((a) => a.fixes.length > 0);
  }
}

/** The step count a sampler will take on this schedule, asked of the sampler itself. */
export function plannedSteps(sampler: Sampler, schedule: NoiseSchedule): number {
  return sampler.defaultStepsFor?.(schedule) ?? sampler.defaultSteps;
}

/**
 * What a config warrants before any work: options dropped by a `use` switch, the schedule's
 * diagnostics and the sampler's own advice on this combination. `validate` prints these; `run` and
 * `sample` record and print them.
 */
export function configAdvice(
  r: ResolvedExperiment,
  built: { schedule: NoiseSchedule; sampler: Sampler; denoiser: { trainable: boolean } },
  diagnostics: { advice: Advice[] },
): Advice[] {
  const out: Advice[] = (r.droppedOptions ?? []).map((d) => ({ message: droppedMessage(d), fixes: [] }));
  out.push(...diagnostics.advice);
  const advice = built.sampler.advise?.({
    schedule: built.schedule,
    predictionType: r.experiment.training.predictionType,
    steps: plannedSteps(built.sampler, built.schedule),
    trainable: built.denoiser.trainable,
  });
  out.push(...(advice ?? []));
  return out;
}
