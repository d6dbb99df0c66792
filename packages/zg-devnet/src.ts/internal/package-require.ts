/**
 * A `require` that resolves packages from this package's own location.
 * In the CommonJS build it is Node's `require`; the build replaces this module in the
 * ESM build with `createRequire(import.meta.url)` (see scripts/build.mjs).
 * @internal
 */
export const packageRequire: NodeJS.Require = require;
