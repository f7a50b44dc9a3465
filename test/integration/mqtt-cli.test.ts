/**
 * `objecttwin serve --mqtt URL` (issue 7) turns the bridge on from the command line, and the broker tells its
 * subscribers when the console dies: the retained bridge status turns offline by the bridge's last will.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { MqttStatus } from '../../shared/api/mqtt-schemas.ts'
import { startBroker, subscribe, type Broker } from '../support/mosquitto.ts'
import { runObjecttwin, startObjecttwin, type RunningObjecttwin } from '../support/run-objecttwin.ts'
import { waitFor } from '../support/server-harness.ts'
import { hostLacks } from '../support/host-tools.ts'

let broker: Broker | undefined
let serve: RunningObjecttwin | undefined

afterEach(async () => {
  await serve?.stop('SIGTERM', 5000)
  await broker?.close()
  serve = undefined
  broker = undefined
})

describe.skipIf(hostLacks('mosquitto', 'posix-signals'))('serve --mqtt', () => {
  it('runs the bridge to the given broker; killed, the console goes offline by its last will', async () => {
    broker = await startBroker()
    const status = subscribe(broker, 'objecttwin/bridge/status', 2)
    await status.ready
    serve = startObjecttwin(['serve', '--memory', '--host', '127.0.0.1', '--http-port', '0', '--coap-port', '0', '--mqtt', broker.url])
    const [, httpPort] = await serve.line(/^listening http=(\d+)/, 20_000)
    await waitFor(() => status.received().length >= 1, 'the bridge online at the broker', 20_000)
    expect(JSON.parse(status.received()[0]?.payload ?? '{}')).toMatchObject({ online: true })

    const api = (await (await fetch(`http://127.0.0.1:${httpPort}/api/mqtt`)).json()) as MqttStatus
    expect(api).toMatchObject({ state: 'connected', settings: { enabled: true, url: broker.url } })

    // No clean disconnect: the broker publishes the will.
    await serve.stop('SIGKILL', 5000)
    const [, offline] = await status.messages
    expect(JSON.parse(offline?.payload ?? '{}')).toMatchObject({ online: false, clientId: api.settings.clientId })
  }, 60_000)

  it('refuses a URL that is not mqtt:// or mqtts://', async () => {
    const run = await runObjecttwin(['serve', '--memory', '--http-port', '0', '--coap-port', '0', '--mqtt', 'http://127.0.0.1:1883'], 20_000)
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/--mqtt: url must look like mqtt:\/\/host:1883/)
  }, 30_000)
})
