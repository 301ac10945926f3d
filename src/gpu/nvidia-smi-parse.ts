import type { GpuDevice, GpuProcess } from './report.js';

/** The `--query-gpu` fields taboot asks for, in this order. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'driver_version',
  'memory.used',
  'memory.total',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
  'power.limit',
] as const;

/** The `--query-compute-apps` fields taboot asks for, in this order. */
export const APPS_QUERY_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

const MIB = 1024 * 1024;

/** nvidia-smi's output could not be read: garbage, a changed format, or a message instead of CSV. */
export class NvidiaSmiFormatError extends Error {}

/**
 * `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `[Insufficient Permissions]`, `[GPU is lost]`,
 * `[Requires Pstate ...]` and a bare `N/A`: nvidia-smi's ways of saying it does not know.
 */
function isUnknownMarker(value: string): boolean {
  return /^\[.*\]$/.test(value) || value === 'N/A' || value === '';
}

function numberField(value: string, field: string, line: string): number | null {
  if (isUnknownMarker(value)) return null;
  const parsed = Number(value);
  if (!/^-?\d+(\.\d+)?$/.test(value) || !Number.isFinite(parsed)) {
    throw new NvidiaSmiFormatError(
      `expected a number for ${field}, got \`${value}\` in \`${shorten(line)}\``,
    );
  }
  return parsed;
}

function textField(value: string): string | null {
  return isUnknownMarker(value) ? null : value;
}

function shorten(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Parse `nvidia-smi --query-gpu=<GPU_QUERY_FIELDS> --format=csv,noheader,nounits`: one line per GPU,
 * memory in MiB (returned in bytes). A GPU name with a comma in it is put back together. Throws
 * `NvidiaSmiFormatError` on anything that is not that CSV, so a changed format is reported rather
 * than shown as wrong numbers.
 */
export function parseGpuQuery(text: string): GpuDevice[] {
  const rows = lines(text);
  if (rows.length === 0) throw new NvidiaSmiFormatError('nvidia-smi listed no GPU');
  return rows.map((line) => {
    const fields = line.split(',').map((field) => field.trim());
    const tail = GPU_QUERY_FIELDS.length - 3;
    if (fields.length < GPU_QUERY_FIELDS.length) {
      throw new NvidiaSmiFormatError(
        `expected ${GPU_QUERY_FIELDS.length} comma-separated fields, got ${fields.length} in \`${shorten(line)}\``,
      );
    }
    const [indexText = '', uuid = ''] = fields;
    const name = fields.slice(2, fields.length - tail).join(', ');
    const [driver = '', used = '', total = '', util = '', temp = '', draw = '', limit = ''] = fields.slice(
      fields.length - tail,
    );
    if (!/^\d+$/.test(indexText)) {
      throw new NvidiaSmiFormatError(`expected a GPU index, got \`${indexText}\` in \`${shorten(line)}\``);
    }
    const memoryUsed = numberField(used, 'memory.used', line);
    const memoryTotal = numberField(total, 'memory.total', line);
    const usedBytes = memoryUsed === null ? null : memoryUsed * MIB;
    const totalBytes = memoryTotal === null ? null : memoryTotal * MIB;
    return {
      index: Number(indexText),
      uuid: textField(uuid),
      name: textField(name) ?? 'unknown GPU',
      driverVersion: textField(driver),
      memoryUsedBytes: usedBytes,
      memoryTotalBytes: totalBytes,
      memoryFreeBytes: usedBytes === null || totalBytes === null ? null : Math.max(0, totalBytes - usedBytes),
      utilizationPercent: numberField(util, 'utilization.gpu', line),
      temperatureC: numberField(temp, 'temperature.gpu', line),
      powerDrawW: numberField(draw, 'power.draw', line),
      powerLimitW: numberField(limit, 'power.limit', line),
    };
  });
}

/**
 * Parse `nvidia-smi --query-compute-apps=<APPS_QUERY_FIELDS> --format=csv,noheader,nounits` and join
 * each process to its GPU by uuid. Empty output means no process holds GPU memory. A process name
 * with commas in it is put back together.
 */
export function parseComputeApps(text: string, gpus: readonly GpuDevice[]): GpuProcess[] {
  const rows = lines(text).filter((line) => !/^No running (compute )?processes found/i.test(line));
  return rows.map((line) => {
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length < APPS_QUERY_FIELDS.length) {
      throw new NvidiaSmiFormatError(
        `expected ${APPS_QUERY_FIELDS.length} comma-separated fields, got ${fields.length} in \`${shorten(line)}\``,
      );
    }
    const uuid = textField(fields[0] ?? '');
    const pidText = fields[1] ?? '';
    if (!/^\d+$/.test(pidText)) {
      throw new NvidiaSmiFormatError(`expected a process id, got \`${pidText}\` in \`${shorten(line)}\``);
    }
    const name = fields.slice(2, -1).join(', ');
    const memory = numberField(fields.at(-1) ?? '', 'used_memory', line);
    return {
      pid: Number(pidText),
      name,
      gpuUuid: uuid,
      gpuIndex: gpus.find((gpu) => uuid !== null && gpu.uuid === uuid)?.index ?? null,
      usedMemoryBytes: memory === null ? null : memory * MIB,
      role: processRole(name),
    };
  });
}

/** TEI's binary is `text-embeddings-router`; Qdrant's is `qdrant` (`/qdrant/qdrant` in its image). */
export function processRole(name: string): GpuProcess['role'] {
  const base = name.split(/[\\/]/).at(-1)?.toLowerCase() ?? '';
  if (base.startsWith('text-embeddings')) return 'tei';
  if (base === 'qdrant' || base.startsWith('qdrant ')) return 'qdrant';
  return 'other';
}
