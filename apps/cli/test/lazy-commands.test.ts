// CLI start-up per command (issue 16): bin.ts starts `keel <command>` with only that command's
// module. That is right only if the lazy table registers each command exactly as the whole
// program does: same name, description, options (flags, defaults) and subcommands, recursively.
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandFor, LAZY_COMMANDS, programShell } from '../src/commands.js';
import { buildProgram } from '../src/program.js';

interface Shape {
  name: string;
  description: string;
  aliases: string[];
  arguments: string[];
  options: Array<Pick<Option, 'flags' | 'description' | 'defaultValue' | 'mandatory'>>;
  commands: Shape[];
}

function shapeOf(command: Command): Shape {
  return {
    name: command.name(),
    description: command.description(),
    aliases: command.aliases(),
    arguments: command.registeredArguments.map((argument) => `${argument.name()} ${argument.required} ${argument.variadic} ${JSON.stringify(argument.defaultValue)}`),
    options: command.options.map((option) => ({ flags: option.flags, description: option.description, defaultValue: option.defaultValue, mandatory: option.mandatory })),
    commands: command.commands.map(shapeOf),
  };
}

describe('lazy command table', () => {
  const full = buildProgram();

  it('covers every command of the whole program (a missing one would still work, only slower)', () => {
    expect([...LAZY_COMMANDS].sort()).toEqual(full.commands.map((command) => command.name()).sort());
  });

  for (const name of LAZY_COMMANDS) {
    it(`\`keel ${name}\` started alone registers the same command as the whole program`, async () => {
      const program = programShell();
      (await commandFor(name))!(program);
      expect(program.commands.map((command) => command.name())).toEqual([name]);
      const expected = full.commands.find((command) => command.name() === name);
      expect(expected, `${name} is in program.ts`).toBeDefined();
      expect(shapeOf(program.commands[0]!)).toEqual(shapeOf(expected!));
    });
  }

  it('the program shell is the whole program without its commands (name, description, version, help)', async () => {
    const shell = programShell();
    expect({ name: shell.name(), description: shell.description(), options: shell.options.map((option) => option.flags) }).toEqual({
      name: full.name(),
      description: full.description(),
      options: full.options.map((option) => option.flags),
    });
    await expect(commandFor('no-such-command')).resolves.toBeNull();
  });
});
