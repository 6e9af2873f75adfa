import { z } from 'zod';

/** What the New run dialog learns about a typed workspace path, in plain words (issue 15). */
export const WorkspaceCheck = z.object({
  /** As typed. */
  input: z.string(),
  /** `~` expanded, made absolute and resolved through symlinks when it exists. */
  resolved: z.string(),
  status: z.enum(['empty', 'missing', 'not_a_folder', 'not_git', 'git', 'unreadable']),
  /** One sentence a person can act on; null when all is well. */
  problem: z.string().nullable(),
  /** The folder exists and is not a repository: `workspace.init` can make it one. */
  canInit: z.boolean(),
});
export type WorkspaceCheck = z.infer<typeof WorkspaceCheck>;
