/**
 * Prints the hot-path micro-benchmarks: `npx tsx scripts/perf/micro.ts [encode] [decode] [upsert]`
 * (all three by default). The upsert benchmark talks to a discard gRPC sink started in a child
 * process, so the sink's work does not share this process's event loop.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { benchDecode } from './bench-decode.js';
import { benchEncode } from './bench-encode.js';
import { benchUpsert } from './bench-upsert.js';

const rate = (n: number) => `${Math.round(n).toLocaleString('en-US')} vectors/s`;
const times = (n: number) => `${n.toFixed(1)}x`;

async function withSink<T>(run: (url: string) => Promise<T>): Promise<T> {
  const sinkPath = fileURLToPath(new URL('../../test/support/grpc-sink.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', sinkPath, '--port', '0'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const port = /listening (\d+)/.exec(line.toString())?.[1];
    if (!port) throw new Error(`the sink did not start: ${line.toString()}`);
    return await run(`http://127.0.0.1:${port}`);
  } finally {
    child.kill('SIGTERM');
  }
}

const selected = new Set(process.argv.slice(2));
const wants = (name: string) => selected.size === 0 || selected.has(name);

if (wants('encode')) {
  const r = await benchEncode();
  console.log(`encode UpsertPoints, ${r.points} points x ${r.dim} dims (${(r.bytes / 1e6).toFixed(2)} MB)`);
  console.log(`  stock toBinary(create(...)): ${rate(r.stock)}`);
  console.log(`  encodeUpsertPoints:          ${rate(r.fast)}  (${times(r.ratio)})`);
}
if (wants('decode')) {
  const r = await benchDecode();
  console.log(`decode a TEI batch, ${r.vectors} x ${r.dim} dims`);
  console.log(`  JSON.parse of /embed:        ${rate(r.jsonParse)}`);
  console.log(`  parseFloatMatrix of /embed:  ${rate(r.floatScanner)}  (${times(r.scannerRatio)})`);
  console.log(`  base64 /v1/embeddings:       ${rate(r.base64)}  (${times(r.base64Ratio)})`);
}
if (wants('upsert')) {
  const r = await withSink((url) => benchUpsert({ url }));
  console.log(
    `upsert ${r.count} vectors x ${r.dim} dims into a discard sink, batch ${r.batch}, ${r.parallel} in flight`,
  );
  console.log(`  js-client-grpc points.upsert: ${rate(r.stock)}`);
  console.log(`  GrpcUpsertTransport:          ${rate(r.fast)}  (${times(r.ratio)})`);
}
