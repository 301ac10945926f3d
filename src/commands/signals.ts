/**
 * SIGINT/SIGTERM as an AbortSignal: the first one asks the job to stop reading and drain; a second
 * one restores the default handler and re-sends itself, so an impatient Ctrl-C still ends the process.
 */
export function interruptOnSignals(onFirst?: (signal: NodeJS.Signals) => void): {
  signal: AbortSignal;
  received: () => NodeJS.Signals | undefined;
  dispose: () => void;
} {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (name: NodeJS.Signals) => {
    if (received) {
      dispose();
      process.kill(process.pid, name);
      return;
    }
    received = name;
    onFirst?.(name);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  const dispose = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { signal: controller.signal, received: () => received, dispose };
}
