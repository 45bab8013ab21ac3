/** Test fixture: exports a helper, not a `plugins` array, so the runner must refuse it. */
export const helper = () => 42;
