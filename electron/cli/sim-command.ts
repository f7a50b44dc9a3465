import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import type { LinkSettings } from '../ble/virtual/link-model.ts'
import { createSensors, parseSensorList } from '../ble/virtual/sensors/index.ts'
import { VirtualRadio } from '../ble/virtual/virtual-radio.ts'
import { CliError, type CliIo } from './program.ts'
import { shutdownSignal } from './shutdown-signal.ts'

interface SimOptions {
  pty: string
  peripherals: string
  seed?: string
  interference?: string
  distance?: string
}

export const DEFAULT_SIM_PTY = join(tmpdir(), 'ttyObjectTwin')
export const DEFAULT_SIM_PERIPHERALS = 'ecg,hr,thermometer'

function number(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < min || n > max) throw new CliError(`${name} must be a number from ${min} to ${max}, not "${value}"`)
  return n
}

/**
 * `sim`: the virtual radio with simulated sensors, served as an HCI UART (H4) device on a pseudo-terminal until
 * stopped (Ctrl-C / SIGTERM). Any noble process opens it with its UART driver, as if a USB dongle were attached:
 * `withBindings('hci', { hciDriver: 'uart', bindParams: { uart: { port: PATH } } })`.
 */
export function registerSimCommand(program: Command, io: CliIo): void {
  program
    .command('sim')
    .description('serve the virtual BLE radio with simulated sensors as an HCI UART device on a pseudo-terminal')
    .option('--pty <path>', 'path that becomes a link to the pseudo-terminal', DEFAULT_SIM_PTY)
    .option('--peripherals <list>', 'sensors to simulate, comma-separated (ecg, hr, thermometer, battery; repeat for more)', DEFAULT_SIM_PERIPHERALS)
    .option('--seed <n>', 'seed for reproducible signals and radio behaviour')
    .option('--interference <0..1>', 'initial interference (mean notification loss) of every sensor link')
    .option('--distance <metres>', 'initial distance of every sensor (drives RSSI)')
    .action(async (options: SimOptions) => {
      let kinds
      try {
        kinds = parseSensorList(options.peripherals)
      } catch (e) {
        throw new CliError((e as Error).message)
      }
      if (!kinds.length) throw new CliError('--peripherals lists no sensor')
      const seed = number(options.seed, '--seed', 0, 2 ** 32 - 1)
      const link: Partial<LinkSettings> = {}
      const interference = number(options.interference, '--interference', 0, 1)
      const distance = number(options.distance, '--distance', 0.01, 100_000)
      if (interference !== undefined) link.interference = interference
      if (distance !== undefined) link.distanceM = distance

      const radio = new VirtualRadio()
      const sensors = createSensors(kinds, seed === undefined ? {} : { seed })
      for (const [i, s] of sensors.entries()) {
        const p = radio.addPeripheral(s.definition, { link, ...(seed === undefined ? {} : { seed: seed + i }) })
        p.on('connect', () => io.out(`connected ${s.kind} "${s.name}" ${s.address}`))
        p.on('disconnect', (reason) => io.out(`disconnected ${s.kind} "${s.name}" ${s.address} reason 0x${reason.toString(16).padStart(2, '0')}`))
        io.out(`sensor ${s.kind} "${s.name}" ${s.address}`)
      }
      let server
      try {
        server = await radio.serveOnPty(options.pty)
      } catch (e) {
        for (const s of sensors) s.dispose()
        await radio.close()
        throw new CliError((e as Error).message)
      }
      server.on('host', () => io.out(`host opened ${options.pty}`))
      server.on('hostGone', () => io.out(`host closed ${options.pty}`))
      server.on('error', (e) => io.err(`objecttwin sim: ${e.message}`))
      io.out(`serving ${options.pty} -> ${server.device ?? '?'} controller ${server.controller.address} socat pid ${server.pid ?? '?'}`)
      io.out(`open it with noble: withBindings('hci', { hciDriver: 'uart', bindParams: { uart: { port: '${options.pty}' } } })`)
      await shutdownSignal()
      for (const s of sensors) s.dispose()
      await radio.close()
      io.out('stopped')
    })
}
