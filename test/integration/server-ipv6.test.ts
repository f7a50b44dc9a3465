import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { hostLacks } from '../support/host-tools.ts'

const run = promisify(execFile)

describe.skipIf(hostLacks('coap-client-notls'))('one CoAP endpoint per address family', () => {
  let service: ConsoleService

  beforeAll(async () => {
    service = await ConsoleService.create({ coapHost: '127.0.0.1', coapPort: 0 })
  })
  afterAll(async () => {
    await service.close()
  })

  it('opens IPv4 and IPv6 loopback on the same port number', () => {
    expect(service.coapPorts.ipv4).toBeGreaterThan(0)
    expect(service.coapPorts.ipv6).toBe(service.coapPorts.ipv4)
    expect(service.health().coapPorts).toEqual(service.coapPorts)
  })

  it('registers a client over IPv6 and answers it from the IPv6 endpoint', async () => {
    const { stdout } = await run('coap-client-notls', [
      '-m', 'post', '-t', '40', '-v', '6',
      '-e', '</1/0>,</3/0>',
      `coap://[::1]:${service.coapPorts.ipv6}/rd?ep=v6-client&lt=300&lwm2m=1.1`,
    ], { timeout: 15_000 })
    expect(stdout + '').toMatch(/2\.01/)
    const client = service.getClient('v6-client')
    expect(client.ok && client.value.address).toBe('::1')
    // libcoap has exited, so a read times out: but it is sent, over IPv6, and fails as a transport timeout.
    const read = await service.read('v6-client', '/3/0/0', { timeoutMs: 300 })
    expect(read.ok ? 'answered' : read.error.code).toBe('timeout')
  })
})
