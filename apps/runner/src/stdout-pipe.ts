/**
 * A closed stdout is not an error: `diffusionlab list | head` closes the pipe after a few lines, and
 * the next write fails with EPIPE. Node reports that as an unhandled 'error' event with a stack
 * trace; a command-line tool should stop quietly and succeed, as `ls | head` does.
 */

/** Makes EPIPE on `stream` end the process with exit code 0 and no output; any other stream error is rethrown. */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
