import type { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { TeiStats } from './metrics.js';

/** What a route answers; errors are thrown and turned into replies by the flavor. */
export interface Reply {
  status: number;
  body: string;
  contentType: string;
  headers: Record<string, string>;
}

export function json(body: string, headers: Record<string, string> = {}, status = 200): Reply {
  return { status, body, contentType: 'application/json', headers };
}

export function text(status: number, body: string): Reply {
  return { status, body, contentType: 'text/plain; charset=utf-8', headers: {} };
}

export function empty(status: number, headers: Record<string, string> = {}): Reply {
  return { status, body: '', contentType: '', headers };
}

/**
 * TEI's CORS layer (tower-http 0.5, `CorsLayer` with any origin, methods GET and POST, header
 * content-type) wraps every route: each answer, errors and 404s included, carries `vary` and
 * `access-control-allow-origin: *`, and any OPTIONS request gets the preflight answer.
 */
const corsHeaders = {
  vary: 'origin, access-control-request-method, access-control-request-headers',
  'access-control-allow-origin': '*',
};

export function preflight(): Reply {
  return empty(200, {
    'access-control-allow-methods': 'GET,POST',
    'access-control-allow-headers': 'content-type',
  });
}

export function send(stats: TeiStats, res: ServerResponse, reply: Reply, cors: boolean): void {
  stats.statuses[reply.status] = (stats.statuses[reply.status] ?? 0) + 1;
  if (res.destroyed || res.headersSent) return;
  const headers: Record<string, string | number> = {
    ...reply.headers,
    ...(cors ? corsHeaders : {}),
    'content-length': Buffer.byteLength(reply.body),
  };
  if (reply.contentType) headers['content-type'] = reply.contentType;
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/** The whole body, or undefined when it is over `limit` bytes (the rest is read and dropped). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

export function isJson(contentType: string | undefined): boolean {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || /^application\/[^/]+\+json$/.test(mime);
}

/** The texts a request carries, for fault rules that pick requests by input. */
export function inputsOf(body: unknown): string[] {
  if (body === null || typeof body !== 'object') return [];
  const texts: string[] = [];
  for (const key of ['inputs', 'input', 'texts', 'documents', 'query']) {
    const value = (body as Record<string, unknown>)[key];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string') texts.push(item);
      else if (item && typeof item === 'object' && typeof (item as { text?: unknown }).text === 'string') {
        texts.push((item as { text: string }).text);
      }
    }
  }
  return texts;
}

/** True once the client has closed its side before the answer went out (TEI drops such inputs). */
export function goneFlag(res: ServerResponse): () => boolean {
  let gone = false;
  res.on('close', () => {
    if (!res.writableFinished) gone = true;
  });
  return () => gone;
}

export function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
