import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { phoneMetadataInfo } from '../src/index.js';

describe('phoneMetadataInfo', () => {
  it('names the library, the installed version and the max metadata', () => {
    const require = createRequire(import.meta.url);
    const installed = JSON.parse(readFileSync(require.resolve('libphonenumber-js/package.json'), 'utf8')) as {
      version: string;
    };
    expect(phoneMetadataInfo()).toEqual({
      library: 'libphonenumber-js',
      version: installed.version,
      metadata: 'max',
    });
    expect(installed.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
