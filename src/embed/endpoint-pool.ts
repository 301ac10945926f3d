import type { TeiEndpoint } from './tei-http.js';

interface PooledEndpoint {
  endpoint: TeiEndpoint;
  inFlight: number;
  consecutiveFailures: number;
  benchedUntil: number;
}

/**
 * Spreads requests over several TEI endpoints (`tei.urls`): each request goes to the endpoint with
 * the fewest requests in flight, and an endpoint that fails is benched for a while (1 s, doubling
 * per consecutive failure, at most 30 s) so that a dead replica does not take a share of the work.
 * When every endpoint is benched, the one that comes back first is used anyway: retries decide.
 */
export class EndpointPool {
  private readonly members: PooledEndpoint[];

  constructor(
    endpoints: readonly TeiEndpoint[],
    private readonly now: () => number = Date.now,
  ) {
    if (endpoints.length === 0) throw new Error('EndpointPool needs at least one endpoint');
    this.members = endpoints.map((endpoint) => ({
      endpoint,
      inFlight: 0,
      consecutiveFailures: 0,
      benchedUntil: 0,
    }));
  }

  get endpoints(): TeiEndpoint[] {
    return this.members.map((member) => member.endpoint);
  }

  /** Run `request` on the best endpoint, keeping the in-flight and failure counts. */
  async use<T>(
    request: (endpoint: TeiEndpoint) => Promise<T>,
    isEndpointFailure: (error: unknown) => boolean,
  ) {
    const member = this.pick();
    member.inFlight += 1;
    try {
      const result = await request(member.endpoint);
      member.consecutiveFailures = 0;
      member.benchedUntil = 0;
      return result;
    } catch (error) {
      if (isEndpointFailure(error)) {
        member.consecutiveFailures += 1;
        const benchMs = Math.min(30_000, 1000 * 2 ** (member.consecutiveFailures - 1));
        member.benchedUntil = this.now() + benchMs;
      }
      throw error;
    } finally {
      member.inFlight -= 1;
    }
  }

  private pick(): PooledEndpoint {
    const now = this.now();
    const available = this.members.filter((member) => member.benchedUntil <= now);
    if (available.length === 0) {
      return this.members.reduce((best, member) => (member.benchedUntil < best.benchedUntil ? member : best));
    }
    return available.reduce((best, member) => (member.inFlight < best.inFlight ? member : best));
  }
}
