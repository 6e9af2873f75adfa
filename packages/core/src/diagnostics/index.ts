// Diagnostics bundles (DESIGN I12): everything needed to understand a run, redacted (fail
// closed) into one zip with a manifest of checksums; inspection and read-only import.
export { Redactor, RedactionError, secretlintDetector, type RedactorOptions, type Redacted } from './redactor.js';
export { keelPatterns, environmentValues, entropy, type Detector, type SecretRange } from './secret-patterns.js';
export { writeBundle, MANIFEST_ENTRY, type WriteBundleOptions, type BundleProgress } from './bundle-writer.js';
export { inspectBundle, openBundle, readManifest, safeEntryName, BundleError, DEFAULT_BUNDLE_LIMITS, type BundleLimits } from './bundle-reader.js';
export { importBundle, checkSlice, sliceEvents, importedDir } from './bundle-import.js';
export { listImportedRuns, readImportedEvents, importedSliceFile, type ImportedRun } from './imported-runs.js';
export { readSliceFrom, type SliceRecord } from './slice-reader.js';
export { collectVersions, type Versions } from './versions.js';
