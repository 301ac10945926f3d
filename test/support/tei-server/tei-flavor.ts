import type { Flavor, Handler, Route } from './dispatch.js';
import { messages, Rejection, TeiError } from './errors.js';
import type { FaultStatus } from './faults.js';
import { empty, json, type Reply, text } from './http.js';
import type { TeiContext } from './inference.js';
import {
  cohereRerankRoute,
  embedRoute,
  healthRoute,
  infoRoute,
  metricsRoute,
  openAiRoute,
  rerankRoute,
  tokenizeRoute,
} from './routes.js';

/**
 * TEI 1.9.3 as router/src/http/server.rs builds it: inference routes behind the API key (a missing or
 * wrong key is a bare 401, empty body), `/health`, `/`, `/ping` and `/metrics` open, native routes
 * answering `{error, error_type}` and `/v1/*` answering `{message, code, type}`.
 */
export function teiFlavor(): Flavor {
  const routes = new Map<string, Route[]>();
  const add = (path: string, method: 'GET' | 'POST', handler: Handler, open = false) => {
    routes.set(path, [...(routes.get(path) ?? []), { method, handler, open }]);
  };
  for (const path of ['/health', '/', '/ping']) add(path, 'GET', healthRoute, true);
  add('/metrics', 'GET', metricsRoute, true);
  add('/info', 'GET', infoRoute);
  for (const path of ['/embed', '/', '/invocations']) add(path, 'POST', embedRoute);
  for (const path of ['/v1/embeddings', '/embeddings']) add(path, 'POST', openAiRoute);
  add('/rerank', 'POST', rerankRoute);
  add('/v1/rerank', 'POST', cohereRerankRoute);
  add('/tokenize', 'POST', tokenizeRoute);
  return {
    cors: true,
    routes,
    unauthorized: () => empty(401),
    faultReply: (ctx, status, path) => faultReply(ctx, status, path),
    errorReply: (error, path) => {
      if (error instanceof TeiError) return teiErrorReply(error, openAiShaped(path));
      if (error instanceof Rejection) return text(error.status, error.message);
      return undefined;
    },
  };
}

function openAiShaped(path: string): boolean {
  return path.startsWith('/v1/') || path === '/embeddings';
}

function teiErrorReply(error: TeiError, openAi: boolean): Reply {
  return json(openAi ? error.openAiBody() : error.nativeBody(), {}, error.status);
}

/** An injected status in TEI's own words for it. */
function faultReply(ctx: TeiContext, status: FaultStatus, path: string): Reply {
  const max = ctx.config.maxInputLength;
  switch (status) {
    case 413:
      return text(413, messages.bodyTooLarge);
    case 422:
      return teiErrorReply(
        new TeiError('Validation', messages.tooManyTokens(max, max + 1)),
        openAiShaped(path),
      );
    case 429:
      return teiErrorReply(new TeiError('Overloaded', messages.overloaded), openAiShaped(path));
    case 503:
      return teiErrorReply(new TeiError('Unhealthy', messages.unhealthy), openAiShaped(path));
    case 424:
      return teiErrorReply(new TeiError('Backend', messages.backend), openAiShaped(path));
    case 500:
      return teiErrorReply(new TeiError('Backend', messages.internal, 500), openAiShaped(path));
  }
}
