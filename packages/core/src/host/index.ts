export * from './router.js';
export * from './connection.js';
export * from './data-dir.js';
export * from './workstation.js';
export { runDoctor, type DoctorOptions } from './doctor.js';
export * from './keep-alive.js';
export * from './settings-store.js';
export { generateHistory, measureOpen, measureRunView, type GeneratedHistory, type HistoryShape, type OpenFigures, type RunViewFigures } from './scale-bench.js';
