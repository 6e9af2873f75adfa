export { resolveInWorkspace } from './paths.js';
export { readRegularFile, writeRegularFile, readLines, MAX_READ_BYTES } from './files.js';
export { Terminals, type TerminalEvents } from './terminals.js';
export { OutputBudget, TERMINAL_RECORD_LIMIT } from './output-budget.js';
export * from './checkpoints/index.js';
export { createRunWorktree, checkRunWorktree, worktreeBranch, worktreePath, type RunWorktree, type WorktreeCheck } from './worktrees.js';
export { gcWorktrees, type WorktreeGcOptions, type WorktreeGcResult, type WorktreeGcRemoval } from './worktree-gc.js';
export { runChanges, runChangeFile, ChangesRangeError, ChangeFileRefusedError, type ChangesScope } from './changes.js';
