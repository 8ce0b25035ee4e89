import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.ts';

describe('base64 for etcd keys and values', () => {
  it('encodes the UTF-8 bytes, as etcd stores them', () => {
    for (const text of ['', '/services/api/127.0.0.1:3000', '{"a":"ü€😀"}', 'x'.repeat(10_000)]) {
      expect(encodeBase64(text)).toBe(Buffer.from(text, 'utf8').toString('base64'));
      expect(decodeBase64(encodeBase64(text))).toBe(text);
    }
  });
});
