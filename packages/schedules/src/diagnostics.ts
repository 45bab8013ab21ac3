/**
 * Schedule diagnostics live in core (`scheduleDiagnostics`), because the runner records them for
 * every run; this package re-exports them so schedule users find them here too, without a second
 * implementation. Typical use: `scheduleDiagnostics(linear.create({...}, ctx)).warnings`.
 */
export { ALPHA_BAR_T_WARN, type ScheduleDiagnostics, logSnr, scheduleDiagnostics } from '@diffusionlab/core';
