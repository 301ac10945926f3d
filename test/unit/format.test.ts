import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatChange,
  formatCount,
  formatDuration,
  formatNumber,
  formatPercent,
} from '../../src/format.js';

describe('number formatting for the terminal', () => {
  it.each([
    [0, '0'],
    [1234.4, '1,234'],
    [1_128_000, '1,128,000'],
  ])('formatCount(%d) = %s', (value, expected) => expect(formatCount(value)).toBe(expected));

  it.each([
    [420, '420 ms'],
    [8_500, '8.5 s'],
    [259_000, '4m 19s'],
    [7_380_000, '2h 03m'],
  ])('formatDuration(%d) = %s', (ms, expected) => expect(formatDuration(ms)).toBe(expected));

  it.each([
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [16 * 1024 * 1024, '16.0 MiB'],
  ])('formatBytes(%d) = %s', (bytes, expected) => expect(formatBytes(bytes)).toBe(expected));

  it.each([
    [0.123, '12.3%'],
    [1, '100.0%'],
    [0, '0.0%'],
  ])('formatPercent(%d) = %s', (fraction, expected) => expect(formatPercent(fraction)).toBe(expected));

  it.each([
    [1234567.8, '1,234,568'],
    [12.34, '12.3'],
    [1.234, '1.23'],
    [0.1234, '0.123'],
    [-2500, '-2,500'],
    [-0.0001, '0'],
    [Number.NaN, '–'],
  ])('formatNumber(%d) = %s', (value, expected) => expect(formatNumber(value)).toBe(expected));

  it.each([
    [0.052, '+5.2%'],
    [-0.5, '-50.0%'],
    [0, '±0.0%'],
    [Number.POSITIVE_INFINITY, '–'],
  ])('formatChange(%d) = %s', (fraction, expected) => expect(formatChange(fraction)).toBe(expected));
});
