import { randomBytes } from 'node:crypto'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { ConsoleService } from '../console/console-service.ts'
import { isLoopback, startHttpApi } from '../console/http-api.ts'
import { CliError, type CliIo } from './program.ts'
import { shutdownSignal } from './shutdown-signal.ts'

interface ServeOptions {
  host: string
  httpPort: string
  coapPort: string
  dataDir: string
  token?: string
  memory?: boolean
  reobserve?: boolean
}

function port(value: string, name: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new CliError(`${name} must be a port number from 0 to 65535, not "${value}"`)
  return Number(value)
}

/** `serve`: the headless console — embedded LwM2M server plus the REST/SSE API. */
export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run the headless console: embedded LwM2M server and the REST/SSE API')
    .option('--host <address>', 'address for HTTP and CoAP; anything but loopback needs a token', '127.0.0.1')
    .option('--http-port <port>', 'HTTP port (0 = any free port)', '8080')
    .option('--coap-port <port>', 'CoAP/UDP port (0 = any free port)', '5683')
    .option('--data-dir <dir>', 'where registrations and history are kept', join(homedir(), '.objecttwin'))
    .option('--memory', 'keep nothing on disk (for trials and tests)')
    .option('--reobserve', "re-establish a client's observations when it registers again")
    .option('--token <token>', 'bearer token the API requires (generated when the host is not loopback)')
    .action(async (options: ServeOptions) => {
      const httpPort = port(options.httpPort, '--http-port')
      const coapPort = port(options.coapPort, '--coap-port')
      let token = options.token
      if (!token && !isLoopback(options.host)) {
        token = randomBytes(24).toString('base64url')
        io.out(`token ${token}`)
      }
      let service: ConsoleService
      try {
        service = await ConsoleService.create({
          coapHost: options.host,
          coapPort,
          ...(options.memory ? {} : { dataDir: options.dataDir }),
          ...(options.reobserve ? { reobserveOnRegister: true } : {}),
        })
      } catch (e) {
        throw new CliError((e as Error).message)
      }
      let http: Awaited<ReturnType<typeof startHttpApi>>
      try {
        http = await startHttpApi(service, { host: options.host, port: httpPort, ...(token ? { token } : {}) })
      } catch (e) {
        await service.close()
        throw new CliError(`cannot open the HTTP port ${options.host}:${httpPort}: ${(e as Error).message}`)
      }
      io.out(`listening http=${http.port} coap=${service.coapPort}`)
      await shutdownSignal()
      await http.app.close()
      await service.close()
    })
}
