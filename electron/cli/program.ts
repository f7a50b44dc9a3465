import { Command } from 'commander'
import { registerBenchCommand } from './bench-command.ts'
import { registerCodecCommands } from './codec-commands.ts'
import { registerGatewayCommand } from './gateway-command.ts'
import { registerServeCommand } from './serve-command.ts'
import { registerSimCommand } from './sim-command.ts'

/** Where a command writes; tests pass their own to capture output. */
export interface CliIo {
  out(text: string): void
  err(text: string): void
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
}

/** A failure the user caused: print the one-line reason and exit non-zero, no stack trace. */
export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

/** The `objecttwin` command and its subcommands; each issue adds the subcommands it builds. */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('objecttwin')
    .description('ObjectTwin Console: manage BLE medical sensors through OMA LwM2M')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
  registerServeCommand(program, io)
  registerCodecCommands(program, io)
  registerBenchCommand(program, io)
  registerSimCommand(program, io)
  registerGatewayCommand(program, io)
  return program
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io)
  // Nested commands too (`bench server`): a usage error returns an exit code instead of exiting.
  const override = (command: Command): void => {
    command.exitOverride()
    for (const sub of command.commands) override(sub)
  }
  override(program)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`objecttwin: ${e.message}`)
      return e.exitCode
    }
    const code = (e as { code?: string; exitCode?: number }).code
    if (typeof code === 'string' && code.startsWith('commander.')) return (e as { exitCode: number }).exitCode
    throw e
  }
}
