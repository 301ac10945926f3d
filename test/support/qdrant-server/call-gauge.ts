/** A call starting or ending on the test server, with the count of that method's calls then in flight. */
export interface CallEvent {
  /** `Service/Method`, e.g. `Points/Upsert`. */
  method: string;
  phase: 'start' | 'end';
  /** Calls of `method` being handled after this event. */
  inFlight: number;
  /** `performance.now()` of this process. */
  at: number;
}

/**
 * Calls being handled right now, per method, and listeners told of every start and end. A call is
 * in flight from the moment its request has arrived until its response (or error) is sent, or the
 * client cancels it: tests measure from here how busy a client keeps the server, which the client
 * itself cannot misreport.
 */
export class CallGauge {
  readonly inFlight = new Map<string, number>();
  private readonly listeners = new Set<(event: CallEvent) => void>();

  /** Returns a function that removes the listener. */
  listen(listener: (event: CallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal */
  start(method: string): void {
    this.emit(method, 'start', (this.inFlight.get(method) ?? 0) + 1);
  }

  /** @internal */
  end(method: string): void {
    this.emit(method, 'end', (this.inFlight.get(method) ?? 1) - 1);
  }

  private emit(method: string, phase: CallEvent['phase'], inFlight: number): void {
    this.inFlight.set(method, inFlight);
    const event = { method, phase, inFlight, at: performance.now() };
    for (const listener of this.listeners) listener(event);
  }
}
