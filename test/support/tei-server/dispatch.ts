import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultStatus } from './faults.js';
import { empty, goneFlag, inputsOf, preflight, type Reply, readBody, send } from './http.js';
import type { TeiContext } from './inference.js';

/** A request as a route handler sees it: the body already read and, where it was JSON, parsed. */
export interface RequestBody {
  contentType: string | undefined;
  /** Undefined when the body was over the payload limit. */
  raw: Buffer | undefined;
  /** The parsed JSON, or the parser's message when it was not JSON. */
  parsed: { value: unknown } | { syntaxError: string };
  /** True once the client has gone. */
  dropped: () => boolean;
}

export type Handler = (ctx: TeiContext, request: RequestBody) => Promise<Reply>;

export interface Route {
  method: 'GET' | 'POST';
  handler: Handler;
  /** Served without the API key. */
  open: boolean;
}

/**
 * What differs between the servers the test server can be: its routes, how it answers a missing key,
 * an injected fault and a thrown error, and whether a CORS layer wraps it.
 */
export interface Flavor {
  cors: boolean;
  /** Routes by path; a path may have a GET and a POST route. */
  routes: Map<string, Route[]>;
  unauthorized(authorization: string | undefined): Reply;
  faultReply(ctx: TeiContext, status: FaultStatus, path: string): Reply;
  /** The reply for an error a handler threw, or undefined to answer 500. */
  errorReply(error: unknown, path: string): Reply | undefined;
}

export interface DispatchOptions {
  apiKey: string | undefined;
  payloadLimit: number;
}

/**
 * One request through the layers both flavors share, in TEI's (axum's) order: CORS preflight, route,
 * API key, method, then injected faults, then the handler.
 */
export async function dispatch(
  ctx: TeiContext,
  flavor: Flavor,
  options: DispatchOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { stats, faults } = ctx;
  const reply = (answer: Reply) => send(stats, res, answer, flavor.cors);
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?')[0]!;
  stats.requests[path] = (stats.requests[path] ?? 0) + 1;
  const dropped = goneFlag(res);
  const raw = await readBody(req, options.payloadLimit);
  if (method === 'OPTIONS' && flavor.cors) return reply(preflight());
  const candidates = flavor.routes.get(path);
  if (!candidates) return reply(empty(404));
  const route = candidates.find((candidate) => candidate.method === method);
  const protectedPath = candidates.some((candidate) => !candidate.open);
  const authorization = req.headers.authorization;
  if (
    options.apiKey !== undefined &&
    !route?.open &&
    (route !== undefined || protectedPath) &&
    authorization !== `Bearer ${options.apiKey}`
  ) {
    return reply(flavor.unauthorized(authorization));
  }
  if (!route) {
    const allow: string[] = [...new Set(candidates.map((candidate) => candidate.method))];
    if (allow.includes('GET')) allow.push('HEAD');
    return reply(empty(405, { allow: allow.join(',') }));
  }
  const parsed = parseJson(raw);
  const decision = faults.decide(method, path, 'value' in parsed ? inputsOf(parsed.value) : []);
  if (decision.delayMs > 0) await ctx.sleep(decision.delayMs);
  if (decision.outcome === 'reset') {
    stats.resets += 1;
    req.socket.destroy();
    return;
  }
  if (decision.outcome) {
    const answer = flavor.faultReply(ctx, decision.outcome.status, path);
    if (decision.outcome.retryAfterSeconds !== undefined) {
      answer.headers['retry-after'] = String(decision.outcome.retryAfterSeconds);
    }
    return reply(answer);
  }
  try {
    reply(await route.handler(ctx, { contentType: req.headers['content-type'], raw, parsed, dropped }));
  } catch (error) {
    const answer = flavor.errorReply(error, path);
    if (!answer) throw error;
    reply(answer);
  }
}

function parseJson(raw: Buffer | undefined): RequestBody['parsed'] {
  if (raw === undefined || raw.length === 0) return { syntaxError: 'EOF while parsing a value' };
  try {
    return { value: JSON.parse(raw.toString('utf8')) };
  } catch (error) {
    return { syntaxError: (error as Error).message };
  }
}
