/**
 * Active observe cancel over two real UDP transports (issue 5): the observer sends a GET with Observe 1 and the
 * observation's token, and waits for the answer — also a late (separate) one, and not a notification still in flight.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { IncomingRequest, NotificationChannel, Responder } from '../../electron/coap/transport.ts'
import { UdpTransport } from '../../electron/coap/udp-transport.ts'
import { waitFor } from '../support/server-harness.ts'

const PATH = '/1031/0/1'
/** Longer than the piggyback delay (50 ms): the device ACKs first and answers in a separate message. */
const LATE_MS = 300
/** The cancel's whole time budget: the old behaviour ran into it. */
const TIMEOUT_MS = 1500

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

const open: UdpTransport[] = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()))
})

/** An observed device that answers a cancel after LATE_MS, sending `before` notifications on the observation first. */
async function startDevice(before: number): Promise<{ port: number; cancels: string[]; channel: () => NotificationChannel | undefined }> {
  const device = new UdpTransport({ host4: '127.0.0.1', port: 0 })
  open.push(device)
  const { port4 } = await device.listen()
  let channel: NotificationChannel | undefined
  const cancels: string[] = []
  device.onRequest((req: IncomingRequest, res: Responder) => {
    if (req.observe === 0 && res.observe) {
      channel = res.observe(new TextEncoder().encode('first'))
      return
    }
    if (req.observe === 1) {
      cancels.push(req.token ?? '')
      for (let i = 0; i < before; i++) channel?.notify(new TextEncoder().encode(`stale ${i}`), { confirmable: false })
      setTimeout(() => res.respond('2.05', 'answer'), LATE_MS)
      return
    }
    res.respond('4.04')
  })
  return { port: port4 as number, cancels, channel: () => channel }
}

async function startObserver(): Promise<UdpTransport> {
  const observer = new UdpTransport({ host4: '127.0.0.1', port: 0 })
  open.push(observer)
  await observer.listen()
  return observer
}

describe('active observe cancel', () => {
  it('takes a late, separate answer to the cancel (it used to time out)', async () => {
    const device = await startDevice(0)
    const observer = await startObserver()
    const notifications: string[] = []
    const handle = await observer.observe({ address: '127.0.0.1', port: device.port }, { method: 'GET', path: PATH, timeoutMs: TIMEOUT_MS }, (n) => notifications.push(text(n.payload)))
    expect(text(handle.response.payload)).toBe('first')
    device.channel()?.notify(new TextEncoder().encode('second'))
    await waitFor(() => notifications.includes('second'), 'a notification')

    const answer = await handle.cancel()
    expect(answer).toMatchObject({ code: '2.05' })
    expect(text(answer?.payload ?? new Uint8Array())).toBe('answer')
    expect(device.cancels).toHaveLength(1)
  })

  it('refuses notifications in flight during the cancel instead of taking one for its answer', async () => {
    const device = await startDevice(2)
    const observer = await startObserver()
    const notifications: string[] = []
    const handle = await observer.observe({ address: '127.0.0.1', port: device.port }, { method: 'GET', path: PATH, timeoutMs: TIMEOUT_MS }, (n) => notifications.push(text(n.payload)))

    const answer = await handle.cancel()
    expect(answer?.code).toBe('2.05')
    expect(answer?.observe).toBeUndefined()
    expect(text(answer?.payload ?? new Uint8Array())).toBe('answer')
    // The observation was over: the stale notifications reached nobody, and their RST ended the device's side.
    expect(notifications.filter((n) => n.startsWith('stale'))).toEqual([])
    await waitFor(() => device.channel()?.closed, "the device's observation to end")
  })
})
