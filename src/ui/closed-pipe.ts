/**
 * A reader that stops early (`taboot search ... | head -3`) closes its end of the pipe, and the next
 * write to it fails with EPIPE. Node reports that as an unhandled 'error' event, with a stack trace
 * and exit code 1. This watches the streams and calls `onClosed` instead; any other stream error
 * is rethrown as before, since it is not the reader's choice.
 */
export function watchForClosedPipe(
  streams: readonly NodeJS.EventEmitter[],
  onClosed: (stream: NodeJS.EventEmitter) => void,
): () => void {
  const listeners = streams.map((stream) => {
    const listener = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      onClosed(stream);
    };
    stream.on('error', listener);
    return () => stream.off('error', listener);
  });
  return () => {
    for (const remove of listeners) remove();
  };
}
