import type { Config } from '../config/schema.js';
import type { PointSink } from '../pipeline/point-sink.js';
import { GrpcUpsertTransport } from './grpc-upsert-transport.js';
import { type EncodablePoint, encodeUpsertPoints } from './point-encoder.js';

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
    const encoded = encodeUpsertPoints({ collectionName: this.collectionName, wait: this.wait, points });
    await this.transport.upsert(encoded, signal);
    return encoded.byteLength;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
