/**
 * Revoking a device's PSK over REST ends what was set up with it at once, against libcoap's coap-client (OpenSSL
 * and GnuTLS builds): its live DTLS session gets close_notify, its registration is removed, and only the new key
 * shakes hands again.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContentType } from '../../electron/coap/dtls/record.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { coapsClient, registerArgs, UdpRelay, type LibcoapTls } from '../support/dtls-peers.ts'
import { hostLacks } from '../support/host-tools.ts'
import { jsonRequest } from '../support/http-client.ts'
import { EventLog, waitFor } from '../support/server-harness.ts'

const NO_LIBCOAP = hostLacks('coap-client-notls')
const hex = (ascii: string): string => Buffer.from(ascii).toString('hex')

describe.skipIf(NO_LIBCOAP)('revoking a PSK over REST', () => {
  let service: ConsoleService
  let http: FastifyInstance
  let base: string
  let events: EventLog
  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0, onWarning: () => {} })
    const started = await startHttpApi(service, { host: '127.0.0.1', port: 0, rendererDir: null })
    http = started.app
    base = `http://127.0.0.1:${started.port}`
    events = new EventLog(service)
  })
  afterAll(async () => {
    events.unsubscribe()
    await http.close()
    await service.close()
  })

  const api = (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => jsonRequest(method, `${base}${path}`, body)

  it.each([
    ['deleted', 'openssl'],
    ['deleted', 'gnutls'],
    ['replaced', 'openssl'],
    ['replaced', 'gnutls'],
  ] as Array<['deleted' | 'replaced', LibcoapTls]>)('key %s: coap-client-%s gets close_notify, its registration is gone, the old key is refused', async (action, tls) => {
    const endpoint = `revoked-${action}-${tls}`
    const old = { identity: `${endpoint}-id`, key: 'the-old-secret' }
    expect((await api('PUT', `/api/security/${endpoint}`, { identity: old.identity, key: hex(old.key) })).status).toBe(200)
    // The server's answers (application data) are withheld, so coap-client keeps its session and waits; alerts pass.
    const alerts: string[] = []
    const relay = await UdpRelay.start({ address: '127.0.0.1', port: service.coapsPort }, (datagram, direction) => {
      if (datagram[0] === ContentType.alert) alerts.push(`${direction} epoch ${datagram.readUInt16BE(3)}`)
      return direction === 'toClient' && datagram[0] === ContentType.applicationData ? undefined : datagram
    })
    try {
      const held = coapsClient(tls, registerArgs(relay.port, endpoint), { ...old, waitS: 30 })
      const registered = await waitFor(() => service.server.getClient(endpoint), `${endpoint} to register`, 15_000)
      expect(registered.secure).toBe(true)
      expect(alerts).toEqual([])

      const revoke = action === 'deleted' ? await api('DELETE', `/api/security/${endpoint}`) : await api('PUT', `/api/security/${endpoint}`, { identity: old.identity, key: hex('the-new-secret') })
      expect(revoke.status).toBe(200)
      // Done by the time REST answers, not at the device's next Update.
      expect(service.server.getClient(endpoint)).toBeUndefined()
      expect(events.of('deregistered')).toContainEqual(expect.objectContaining({ endpoint, registrationId: registered.registrationId }))
      const logs = events.of('log').map((e) => e.message)
      expect(logs).toContain(`registration of ${endpoint} removed: the key of PSK identity "${old.identity}" it registered with was revoked`)
      expect(logs.some((l) => /^DTLS session with 127\.0\.0\.1:\d+ closed: the key of PSK identity "[^"]+" was revoked$/.test(l) && l.includes(old.identity))).toBe(true)

      // coap-client got an encrypted alert, answered it with its own close_notify, and gave its request up.
      const result = await held
      expect(result.code, result.output).toBeUndefined()
      expect(result.output).toContain('cannot send CoAP pdu')
      if (tls === 'openssl') expect(result.output).toContain('alert read:warning:close notify')
      expect(alerts).toEqual(['toClient epoch 1', 'toServer epoch 1'])
    } finally {
      await relay.close()
    }

    const again = await coapsClient(tls, registerArgs(service.coapsPort, endpoint), { ...old, waitS: 3 })
    expect(again.code, again.output).toBeUndefined()
    expect(again.output).toMatch(action === 'deleted' ? /unknown PSK identity|Alert '115'/i : /decrypt error|Alert '51'/i)
    expect(service.server.getClient(endpoint)).toBeUndefined()
    if (action === 'replaced') {
      const renewed = await coapsClient(tls, registerArgs(service.coapsPort, endpoint), { identity: old.identity, key: 'the-new-secret' })
      expect(renewed.code, renewed.output).toBe('2.01')
    }
  })

  it('keeps the session and registration when the same identity and key are stored again', async () => {
    const endpoint = 'rebound-same'
    const credentials = { identity: 'rebound-same-id', key: 'the-same-secret' }
    const put = (): Promise<{ status: number; json: unknown }> => api('PUT', `/api/security/${endpoint}`, { identity: credentials.identity, key: hex(credentials.key) })
    expect((await put()).status).toBe(200)
    const relay = await UdpRelay.start({ address: '127.0.0.1', port: service.coapsPort }, (datagram, direction) => (direction === 'toClient' && datagram[0] === ContentType.applicationData ? undefined : datagram))
    try {
      const held = coapsClient('openssl', registerArgs(relay.port, endpoint), { ...credentials, waitS: 3 })
      const registered = await waitFor(() => service.server.getClient(endpoint), `${endpoint} to register`, 15_000)
      expect((await put()).status).toBe(200)
      expect(service.server.getClient(endpoint)?.registrationId).toBe(registered.registrationId)
      expect(events.of('log').filter((e) => e.message.includes(credentials.identity) && / closed: /.test(e.message))).toEqual([])
      // It waited out its -B 3 with its session up: no alert came.
      const output = (await held).output
      expect(output).toContain('INFO timeout')
      expect(output).not.toContain('alert read')
    } finally {
      await relay.close()
    }
  })
})
