/**
 * The MQTT bridge over TLS (issue 7): Mosquitto listens with a certificate from a CA made here with openssl. The
 * bridge connects when it is given that CA, refuses the broker without it (naming the certificate problem), may be
 * told not to check (rejectUnauthorized false), and names a CA file it cannot read.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import type { MqttStatus } from '../../shared/api/mqtt-schemas.ts'
import { startBroker, subscribe, type Broker } from '../support/mosquitto.ts'
import { waitFor } from '../support/server-harness.ts'
import { hostLacks } from '../support/host-tools.ts'

let dir: string
let broker: Broker
let service: ConsoleService

function openssl(args: string[]): void {
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr}`)
}

/** A CA and a broker certificate for 127.0.0.1 signed by it (EC keys: quick to make). */
function makeCertificates(): { caFile: string; certFile: string; keyFile: string } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=ObjectTwin test CA'])
  openssl(['req', ...ec, '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1'])
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
  openssl(['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.crt', '-days', '2', '-extfile', 'san.ext'])
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'broker.crt'), keyFile: join(dir, 'broker.key') }
}

function settled(what: string, done: (status: MqttStatus) => boolean): Promise<MqttStatus> {
  return waitFor(() => {
    const status = service.mqttStatus()
    return done(status) ? status : undefined
  }, `${what} (now ${service.mqttStatus().state}, last error ${service.mqttStatus().lastError ?? 'none'})`, 15_000)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ot-mqtt-tls-'))
  broker = await startBroker({ tls: makeCertificates() })
  service = await ConsoleService.create({ coapPort: 0, onWarning: () => undefined })
})

afterAll(async () => {
  await service?.close()
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(hostLacks('mosquitto'))('MQTT bridge over TLS', () => {
  it('connects to mqtts:// with the CA that signed the broker', async () => {
    expect(broker.url).toMatch(/^mqtts:/)
    const configured = await service.configureMqtt({ enabled: true, url: broker.url, topicPrefix: 'tls', reconnectPeriodMs: 200, tls: { caFile: join(dir, 'ca.crt'), rejectUnauthorized: true } })
    expect(configured.ok).toBe(true)
    await settled('connected over TLS', (s) => s.state === 'connected')
    const online = await subscribe(broker, 'tls/bridge/status', 1).messages
    expect(JSON.parse(online[0]?.payload ?? '{}')).toMatchObject({ online: true })
  })

  it('refuses the broker without its CA, and names the certificate problem', async () => {
    await service.configureMqtt({ tls: { caFile: null } })
    const refused = await settled('a certificate error', (s) => s.state !== 'connected' && /certificate/i.test(s.lastError ?? ''))
    expect(refused.lastError).toContain(broker.url)
  })

  it('connects without checking when told to (rejectUnauthorized false)', async () => {
    await service.configureMqtt({ tls: { rejectUnauthorized: false } })
    await settled('connected unchecked', (s) => s.state === 'connected')
  })

  it('names a CA file it cannot read', async () => {
    const missing = join(dir, 'no-such-ca.crt')
    await service.configureMqtt({ tls: { caFile: missing, rejectUnauthorized: true } })
    const failed = await settled('an unreadable CA file', (s) => s.state === 'error')
    expect(failed.lastError).toMatch(new RegExp(`cannot read the CA file ${missing}: .*ENOENT`))
  })
})
