import type { Config } from '../config/schema.js';
import { GrpcUpsertTransport } from './grpc-upsert-transport.js';
import { type EncodablePoint, estimatePointBytes } from './point-encoder.js';
import type { PointSink } from './point-sink.js';

/** Qdrant's `Points/Upsert` through the hand encoder and pre-encoded HTTP/2 frames. */
export class GrpcPointSink implements PointSink {
  private readonly transport: GrpcUpsertTransport;

  constructor(
    settings: Config['qdrant'],
    private readonly collectionName: string,
    private readonly wait: boolean,
  ) {
    this.transport = new GrpcUpsertTransport({
      url: settings.url,
      apiKey: settings.apiKey,
      timeoutMs: settings.timeoutMs,
    });
  }

  async upsert(points: readonly EncodablePoint[], signal?: AbortSignal): Promise<number> {
    // Encodes into buffers recycled from earlier batches: megabytes per batch not allocated anew.
    const result = await this.transport.upsertPoints(
      { collectionName: this.collectionName, wait: this.wait, points },
      signal,
    );
    return result.requestBytes;
  }

  pointBytes(point: EncodablePoint): number {
    return estimatePointBytes(point);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
