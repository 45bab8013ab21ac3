/**
 * Export names this package had before a rename. Each alias is the same function as its new name; it
 * stays for one minor version so existing imports keep working while they move, then this file goes.
 */
import { activateBackendBeforeAll } from './backend.js';

/**
 * @deprecated Renamed to {@link activateBackendBeforeAll}: it registers a vitest hook, and the old name
 * collided with core's `useBackend`, which activates a backend at once; removed in the next minor version.
 */
export const useBackend = activateBackendBeforeAll;
