// Node file-system helpers with no Keel dependency: the bottom layer next to the contract.
// Anything may use them, including the built-in agent's child process (which must not load
// the ledger or better-sqlite3), so nothing here may import another Keel folder.
export { FILE_MODE, DIR_MODE, ensurePrivateDir, fsyncDir, writeFully, writeFileAtomic, copyRangeAtomic } from './atomic-file.js';
