import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { PskCredentials } from '../coap/dtls-client-transport.ts'
import { rememberSecret } from '../../shared/security/redact.ts'
import { CliError } from './program.ts'

/** --psk-identity, --psk-key and --psk-key-file as commander parses them. */
export interface PskOptions {
  pskIdentity?: string
  pskKey?: string
  pskKeyFile?: string
}

/** The help of the three PSK options; `whose` says whose key it is ("this gateway's", "the local gateway's"). */
export function pskHelp(whose: string): { identity: string; key: string; keyFile: string } {
  return {
    identity: `${whose} DTLS PSK identity (coaps), as the server knows it`,
    key: `${whose} DTLS pre-shared key in hex (other local users can see it in the process list: prefer --psk-key-file)`,
    keyFile: `file holding ${whose} pre-shared key in hex`,
  }
}

/** Adds --psk-identity, --psk-key and --psk-key-file to a command. */
export function addPskOptions(command: Command, whose: string): Command {
  const help = pskHelp(whose)
  return command.option('--psk-identity <id>', help.identity).option('--psk-key <hex>', help.key).option('--psk-key-file <path>', help.keyFile)
}

export function hasPskOptions(options: PskOptions): boolean {
  return options.pskIdentity !== undefined || options.pskKey !== undefined || options.pskKeyFile !== undefined
}

/** The PSK from --psk-identity with --psk-key or --psk-key-file (hex either way); undefined when none is given. */
export function pskFrom(options: PskOptions): PskCredentials | undefined {
  if (!hasPskOptions(options)) return undefined
  if (options.pskIdentity === undefined) throw new CliError('--psk-key and --psk-key-file need --psk-identity')
  if ((options.pskKey === undefined) === (options.pskKeyFile === undefined)) throw new CliError('give the PSK as --psk-key HEX or --psk-key-file PATH, one of them')
  let hex = options.pskKey ?? ''
  if (options.pskKeyFile !== undefined) {
    try {
      hex = readFileSync(options.pskKeyFile, 'utf8').trim()
    } catch (e) {
      throw new CliError(`--psk-key-file: cannot read ${options.pskKeyFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
  }
  const source = options.pskKeyFile !== undefined ? `the key in ${options.pskKeyFile}` : '--psk-key'
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new CliError(`${source} must be hex digits, two per byte`)
  rememberSecret(hex)
  return { identity: options.pskIdentity, key: Buffer.from(hex, 'hex') }
}
