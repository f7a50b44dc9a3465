import { readFileSync } from 'node:fs'
import { type Command, Option } from 'commander'
import { FORMAT_NAMES, type FormatName } from '../../shared/lwm2m/content-format.ts'
import { decodePayload, encodePayload } from '../../shared/lwm2m/payload-json.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { CliError, type CliIo } from './program.ts'

interface CodecOptions {
  format: FormatName
  path?: string
  ddf?: string[]
}

function registryWith(ddfFiles: readonly string[] = []): ObjectRegistry {
  const registry = ObjectRegistry.withBuiltins()
  for (const file of ddfFiles) {
    let xml: string
    try {
      xml = readFileSync(file, 'utf8')
    } catch (e) {
      throw new CliError(`cannot read DDF file ${file}: ${(e as Error).message}`)
    }
    try {
      registry.loadDdf(xml)
    } catch (e) {
      throw new CliError(`${file}: ${(e as Error).message}`)
    }
  }
  return registry
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** `decode` and `encode`: the LwM2M data layer on the command line. */
export function registerCodecCommands(program: Command, io: CliIo): void {
  const formatOption = (): Option => new Option('--format <format>', 'content format').choices(FORMAT_NAMES).makeOptionMandatory()

  program
    .command('decode')
    .description('decode an LwM2M payload given as hex and print it as JSON')
    .addOption(formatOption())
    .option('--path <path>', 'the request path the payload answers, e.g. /3/0 (needed by TLV, text, opaque, CBOR)')
    .option('--ddf <file>', 'load object definitions from an OMA DDF XML file (repeatable)', collect)
    .argument('<hex>', 'the payload in hex (spaces and colons allowed)')
    .action((hex: string, options: CodecOptions) => {
      const result = decodePayload(options.format, hex, options.path, registryWith(options.ddf))
      if (!result.ok) throw new CliError(result.error)
      io.out(JSON.stringify(result.value, null, 2))
    })

  program
    .command('encode')
    .description('encode records given as JSON ([{"path","value","type?","time?"}]) and print the payload as hex')
    .addOption(formatOption())
    .option('--path <path>', 'the request path the payload answers; relative record paths resolve against it', '/')
    .option('--ddf <file>', 'load object definitions from an OMA DDF XML file (repeatable)', collect)
    .argument('<json>', 'the records as a JSON array')
    .action((text: string, options: CodecOptions) => {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch (e) {
        throw new CliError(`records are not valid JSON: ${(e as Error).message}`)
      }
      const result = encodePayload(options.format, json, options.path, registryWith(options.ddf))
      if (!result.ok) throw new CliError(result.error)
      io.out(result.hex)
    })
}
