import { createRequire } from 'node:module';

/** Which library and metadata judged the numbers; reports carry it. */
export interface PhoneMetadataInfo {
  readonly library: 'libphonenumber-js';
  /** The installed libphonenumber-js version, e.g. `1.13.16` (its metadata ships with it). */
  readonly version: string;
  readonly metadata: 'max';
}

let info: PhoneMetadataInfo | undefined;

/** The library, installed version and metadata set the normaliser uses (read once, then cached). */
export function phoneMetadataInfo(): PhoneMetadataInfo {
  if (info === undefined) {
    // Read the version that is actually resolved from this package, not a declared range:
    // the metadata (and so which numbers are valid) changes with every release.
    const require = createRequire(import.meta.url);
    const pkg = require('libphonenumber-js/package.json') as { version: string };
    info = Object.freeze({ library: 'libphonenumber-js', version: pkg.version, metadata: 'max' });
  }
  return info;
}
