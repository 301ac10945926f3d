import { Worker } from 'node:worker_threads';
import { errorMessage, TabootError } from '../../errors.js';
import type { DiscoveredFile } from '../../sources/discovered-file.js';
import type { ReadEvent, SourceDocument } from '../../sources/document.js';
import {
  type JsonlReadOptions,
  jsonlContext,
  READ_CHUNK_BYTES,
  RecycledBuffers,
  readJsonlSegments,
  segmentProblem,
} from '../../sources/jsonl-reader.js';
import { attachPrepared } from './prepared.js';
import type { SegmentResult, SegmentTask } from './protocol.js';

export interface ReaderThreadOptions extends JsonlReadOptions {
  /** Threads to start (at least 1). */
  threads: number;
  /** Bytes per segment handed to a thread (default 1 MiB). */
  segmentBytes?: number;
  /** The thread's module; tests point it elsewhere. */
  entry?: URL;
}

interface Waiting {
  resolve: (result: SegmentResult) => void;
  reject: (error: unknown) => void;
}

interface Thread {
  worker: Worker;
  waiting: Map<number, Waiting>;
}

/** Segments each thread may hold (queued or being parsed) before reading waits. */
const SEGMENTS_PER_THREAD = 2;

/**
 * Parses JSONL files on worker threads: the main thread reads a file in segments of whole lines
 * (about 1 MiB each) and hands each to the least busy thread, which parses its lines and, for
 * documents with a precomputed vector, builds and encodes their points (see `worker.ts`). Events
 * come back in file order, exactly those `readJsonlFile` yields. At most two segments per thread
 * are out at once, so memory stays bounded whatever the file's size, and reading waits for the
 * pipeline. A thread that dies (an exception, out of memory) fails the read with a `TabootError`
 * that names it: no read ever waits on a thread that is gone.
 */
export class ReaderThreads {
  private readonly threads: Thread[] = [];
  private readonly buffers: RecycledBuffers;
  private readonly segmentBytes: number;
  private failure: TabootError | undefined;
  private closing = false;
  private seq = 0;

  constructor(private readonly options: ReaderThreadOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new TypeError(`Expected \`threads\` to be a positive integer, got \`${options.threads}\``);
    }
    this.segmentBytes = options.segmentBytes ?? READ_CHUNK_BYTES;
    this.buffers = new RecycledBuffers(options.threads * SEGMENTS_PER_THREAD + 2);
  }

  /** The events of `file`, in order, as `readJsonlFile` gives them. */
  async *read(file: DiscoveredFile): AsyncGenerator<ReadEvent> {
    this.start();
    const fileContext = jsonlContext(file, this.options);
    const context = {
      source: fileContext.source,
      relative: fileContext.relative,
      display: fileContext.display,
      line: 0,
      textField: fileContext.textField,
      idField: fileContext.idField,
    };
    const segments = readJsonlSegments(file, fileContext, {
      buffers: this.buffers,
      segmentBytes: this.segmentBytes,
    });
    const limit = this.threads.length * SEGMENTS_PER_THREAD;
    const queue: Array<Promise<ReadEvent[]>> = [];
    let done = false;
    let stop = false;
    let failed: { error: unknown } | undefined;
    let wakeReader: (() => void) | undefined;
    let wakePump: (() => void) | undefined;

    // Reads ahead while the caller works on earlier segments, until `limit` are out.
    const pump = (async () => {
      try {
        for await (const segment of segments) {
          if (segment.kind === 'lines') {
            const task = { seq: this.seq++, firstLine: segment.firstLine, bytes: segment.bytes, context };
            const parsed = this.parse(task).then((result) => this.receive(result));
            // Awaited in order below; this only keeps a failure nobody waits for from going unhandled.
            parsed.catch(() => {});
            queue.push(parsed);
          } else {
            queue.push(Promise.resolve([segmentProblem(fileContext, segment)]));
          }
          wakeReader?.();
          while (queue.length >= limit && !stop) await new Promise<void>((resolve) => (wakePump = resolve));
          if (stop) break;
        }
      } catch (error) {
        failed = { error };
      } finally {
        done = true;
        wakeReader?.();
      }
    })();

    try {
      for (;;) {
        const next = queue.shift();
        if (next === undefined) {
          if (done) break;
          await new Promise<void>((resolve) => (wakeReader = resolve));
          continue;
        }
        wakePump?.();
        yield* await next;
      }
      if (failed) throw failed.error;
    } finally {
      stop = true;
      wakePump?.();
      await pump;
    }
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
    this.threads.length = 0;
  }

  private start(): void {
    if (this.threads.length > 0 || this.closing) return;
    for (let index = 0; index < this.options.threads; index += 1) {
      const worker = startWorker(this.options.entry);
      const thread: Thread = { worker, waiting: new Map() };
      worker.unref();
      worker.on('message', (result: SegmentResult) => {
        const waiting = thread.waiting.get(result.seq);
        thread.waiting.delete(result.seq);
        if (thread.waiting.size === 0) worker.unref();
        waiting?.resolve(result);
      });
      worker.on('error', (error) => this.fail(thread, error));
      worker.on('messageerror', (error) => this.fail(thread, error));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(thread, new Error(`it exited with code ${code}`));
      });
      this.threads.push(thread);
    }
  }

  /** Sends a segment to the thread with the fewest segments out. */
  private parse(task: SegmentTask): Promise<SegmentResult> {
    if (this.failure) return Promise.reject(this.failure);
    let thread = this.threads[0]!;
    for (const candidate of this.threads) {
      if (candidate.waiting.size < thread.waiting.size) thread = candidate;
    }
    return new Promise((resolve, reject) => {
      thread.waiting.set(task.seq, { resolve, reject });
      // A thread at work must keep the process alive; an idle one must not.
      thread.worker.ref();
      thread.worker.postMessage(task, [task.bytes.buffer as ArrayBuffer]);
    });
  }

  private receive(result: SegmentResult): ReadEvent[] {
    this.buffers.give(new Uint8Array(result.input));
    const events: ReadEvent[] = [];
    for (const event of result.events) {
      if (event.kind !== 'prepared') {
        events.push(event);
        continue;
      }
      const points = result.points!;
      const document = event.document as SourceDocument;
      const floatsAt = event.offset + event.length - 4 * event.dimensions;
      document.vector = new Float32Array(points, floatsAt, event.dimensions);
      attachPrepared(document, {
        fingerprint: event.fingerprint,
        pointId: event.pointId,
        encoded: new Uint8Array(points, event.offset, event.length),
      });
      events.push({ kind: 'document', document });
    }
    return events;
  }

  private fail(thread: Thread, error: unknown): void {
    this.failure ??= new TabootError(`a JSONL reader thread failed: ${errorMessage(error)}`, {
      hint: 'Run again with --read-workers 0 to read on the main thread, and report this with --debug output.',
      cause: error,
    });
    const index = this.threads.indexOf(thread);
    if (index !== -1) this.threads.splice(index, 1);
    for (const waiting of thread.waiting.values()) waiting.reject(this.failure);
    thread.waiting.clear();
    void thread.worker.terminate();
  }
}

/**
 * The reader thread. From the TypeScript sources (tests, `tsx` scripts) it is loaded through
 * tsx, which a worker does not inherit from the thread that starts it.
 */
function startWorker(entry: URL | undefined): Worker {
  const here = import.meta.url;
  const module = entry ?? new URL(here.endsWith('.ts') ? './worker.ts' : './worker.js', here);
  if (!module.pathname.endsWith('.ts')) return new Worker(module);
  const tsx = import.meta.resolve('tsx/esm/api');
  const load = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(load, { eval: true });
}
