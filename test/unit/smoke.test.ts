import { describe, expect, it } from '@jest/globals';
import middy from '@middy/core';

describe('toolchain', () => {
  it('runs an ESM middy handler under jest', async () => {
    const h = middy(async (e: { x: number }) => e.x + 1);
    expect(await h({ x: 1 }, {} as never)).toBe(2);
  });
});
