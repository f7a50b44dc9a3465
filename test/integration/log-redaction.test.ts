/**
 * Logs never contain keys or tokens (issue 9). A console with an API token, device keys set over REST, an MQTT
 * bridge with a password (and one in a URL it cannot parse), a local gateway and a standalone gateway with PSKs, a
 * gateway with a wrong key: every path that logs runs, and none of the secrets appears in any console event (as
 * subscribers and the SSE stream get them), the gateway process's output, the warnings, or the API's answers.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { redactLogMessage } from '../../electron/main/log-redaction.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { jsonRequest, openEvents } from '../support/http-client.ts'
import { startObjecttwin } from '../support/run-objecttwin.ts'
import { waitFor } from '../support/server-harness.ts'

const TOKEN = 'api-token-5f1c2e9a7b'
const DEVICE_KEY = '8c1f3a5e7b9d0c2e4f6a8b0d1e3f5a7c'
const GATEWAY_KEY = '2a4c6e8f0b1d3f5a7c9e1b3d5f7a9c0e'
const LOCAL_KEY = '0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a'
const WRONG_KEY = '5555aaaa5555aaaa5555aaaa5555aaaa'
const MQTT_PASSWORD = 'mqtt-pw-Zk29xQ'
const URL_PASSWORD = 'url-pw-Hq83vW'
const SECRETS = [TOKEN, DEVICE_KEY, GATEWAY_KEY, LOCAL_KEY, WRONG_KEY, MQTT_PASSWORD, URL_PASSWORD]

const dataDir = mkdtempSync(join(tmpdir(), 'ot-redact-'))
let service: ConsoleService
let app: FastifyInstance
let base: string
const events: ConsoleEvent[] = []
const warnings: string[] = []
const outputs: string[] = []

const auth = { authorization: `Bearer ${TOKEN}` }
const api = (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => jsonRequest(method, `${base}${path}`, body, auth)

/** Every secret, as is and upper-cased (hex keys), that occurs in `text`. */
function leaked(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s) || text.includes(s.toUpperCase()))
}

beforeAll(async () => {
  service = await ConsoleService.create({
    dataDir,
    coapPort: 0,
    coapsPort: 0,
    requestTimeoutMs: 2000,
    demo: true,
    localGateway: { virtualSensors: ['battery'], psk: { identity: 'local-id', key: Buffer.from(LOCAL_KEY, 'hex') } },
    // A broker nobody listens on: the bridge keeps failing and says so.
    mqtt: { enabled: true, url: 'mqtt://127.0.0.1:9', username: 'console', password: MQTT_PASSWORD, reconnectPeriodMs: 200, connectTimeoutMs: 500 },
    onWarning: (message) => warnings.push(message),
  })
  service.onEvent((event) => events.push(event))
  const http = await startHttpApi(service, { host: '127.0.0.1', port: 0, token: TOKEN, rendererDir: null })
  app = http.app
  base = `http://127.0.0.1:${http.port}`
})

afterAll(async () => {
  await app.close()
  await service.close()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('secrets in logs', () => {
  it('appear in no event, output, warning or API answer while every logging path runs', async () => {
    const stream = await openEvents(`${base}/api/events?token=${TOKEN}`)
    try {
      expect((await api('PUT', '/api/security/ecg-1', { identity: 'ecg-1-id', key: DEVICE_KEY })).status).toBe(200)
      expect((await api('PUT', '/api/security/gw-r', { identity: 'gw-r-id', key: GATEWAY_KEY })).status).toBe(200)
      expect((await jsonRequest('GET', `${base}/api/clients`, undefined, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401)
      // A password has its own write-only field: a URL carrying one is refused (and the refusal does not echo it).
      const withPassword = await api('PUT', '/api/mqtt', { url: `mqtt://alice:${URL_PASSWORD}@broker:1883` })
      expect(withPassword).toEqual({ status: 400, json: { error: { code: 'invalid_input', message: 'url: url must not carry a user name or password: give them in their own fields' } } })
      await waitFor(() => service.mqttStatus().lastError, 'the bridge to report its error')
      await waitFor(() => service.gatewayStatus().registered, 'the local gateway to register over DTLS', 20_000)

      const uri = `coaps://127.0.0.1:${service.coapsPort}`
      const wrong = startObjecttwin(['gateway', '--server', uri, '--psk-identity', 'gw-r-id', '--psk-key', WRONG_KEY, '--endpoint', 'gw-r', '--adapter', 'virtual', '--sensors', 'battery', '--data-dir', join(dataDir, 'gw-wrong')])
      await waitFor(() => /register failed: DTLS handshake/.test(wrong.output()), `the wrong key to fail (output: ${wrong.output()})`, 20_000)
      await wrong.stop('SIGTERM', 10_000)
      outputs.push(wrong.output())

      const right = startObjecttwin(['gateway', '--server', uri, '--psk-identity', 'gw-r-id', '--psk-key', GATEWAY_KEY, '--endpoint', 'gw-r', '--adapter', 'virtual', '--sensors', 'battery', '--data-dir', join(dataDir, 'gw-right')])
      await right.line(/^registered /, 20_000)
      expect(await right.stop('SIGTERM', 10_000)).toBe(0)
      outputs.push(right.output())
      await waitFor(() => events.some((e) => e.kind === 'deregistered' && e.endpoint === 'gw-r'), 'the gateway to de-register')

      const answers = await Promise.all(['/api/security', '/api/security-policy', '/api/mqtt', '/api/clients', '/api/gateway'].map((path) => api('GET', path)))
      outputs.push(...answers.map((a) => JSON.stringify(a.json)))
    } finally {
      stream.close()
    }

    // The paths did log: failures, handshakes, the bridge's error, the security changes.
    const logLines = events.flatMap((e) => (e.kind === 'log' ? [e.message] : []))
    expect(logLines.some((m) => m.includes('wrong PSK for identity "gw-r-id"'))).toBe(true)
    expect(logLines.some((m) => m.startsWith('security: ecg-1 bound to PSK identity'))).toBe(true)
    expect(stream.events.length).toBeGreaterThan(0)

    expect(leaked(JSON.stringify(events))).toEqual([])
    expect(leaked(JSON.stringify(stream.events))).toEqual([])
    expect(leaked(outputs.join('\n'))).toEqual([])
    expect(leaked(warnings.join('\n'))).toEqual([])
    expect(leaked(JSON.stringify(service.mqttStatus()))).toEqual([])
    // What the desktop app writes through electron-log passes the same hook.
    expect(leaked(JSON.stringify(redactLogMessage({ data: [`psk ${GATEWAY_KEY} token=${TOKEN}`, { password: MQTT_PASSWORD }, new Error(`mqtt://a:${URL_PASSWORD}@h`)] }).data.map(String)))).toEqual([])
  }, 60_000)
})
