import { describe, expect, it } from 'vitest'
import { commandResult, parseCommand } from './commands.ts'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('MQTT command payloads', () => {
  it('accepts the documented bodies', () => {
    expect(parseCommand('read', bytes('{"id":"1","path":"/3/0/0","format":"senml-cbor","timeoutMs":500}'))).toMatchObject({ ok: true, id: '1', op: 'read', body: { path: '/3/0/0' } })
    expect(parseCommand('write', bytes('{"path":"/1031/0/2","value":200}'))).toMatchObject({ ok: true, body: { value: 200 } })
    expect(parseCommand('write', bytes('{"path":"/3/0","records":[{"path":"13","value":5,"type":"time"}],"replace":false}'))).toMatchObject({ ok: true })
    expect(parseCommand('execute', bytes('{"path":"/3/0/4","args":"0=\'x\'"}'))).toMatchObject({ ok: true })
    expect(parseCommand('observe', bytes('{"paths":["/3/0/9","/3/0/7"]}'))).toMatchObject({ ok: true })
    // An empty payload is an empty command: cancel-observe of everything.
    expect(parseCommand('cancel-observe', bytes(''))).toMatchObject({ ok: true, body: {} })
  })

  it('rejects everything else with a reason, keeping the id when one can be read', () => {
    const cases: Array<[string, string, RegExp, string | undefined]> = [
      ['read', '{"id":"1","path":', /not JSON/, undefined],
      ['read', '[1,2]', /must be a JSON object/, undefined],
      ['read', '"text"', /must be a JSON object/, undefined],
      ['reboot', '{"id":"2"}', /unknown command "reboot"; the commands are read, write/, '2'],
      ['read', '{"id":"3","path":"3/0"}', /path/, '3'],
      ['read', '{"id":"4","path":"/3/0","colour":"red"}', /colour/, '4'],
      ['write', '{"id":"a/b","path":"/3/0/1","value":{}}', /id must not contain|value/, undefined],
      ['read', '{"id":"5","path":"/3","format":"xml"}', /format/, '5'],
    ]
    for (const [op, text, reason, id] of cases) {
      const parsed = parseCommand(op, bytes(text))
      expect(parsed.ok, text).toBe(false)
      if (!parsed.ok) expect(parsed.error).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(reason) })
      expect(parsed.id, text).toBe(id)
    }
  })

  it('answers with the id, operation, endpoint and the result or the error', () => {
    expect(commandResult({ id: '7', op: 'read' }, 'gw', { ok: true, value: { code: '2.05' } }, 9)).toEqual({ id: '7', op: 'read', endpoint: 'gw', ok: true, value: { code: '2.05' }, time: 9 })
    expect(commandResult({ op: 'read' }, 'gw', { ok: false, error: { code: 'timeout', message: 'no answer' } }, 9)).toEqual({ op: 'read', endpoint: 'gw', ok: false, error: { code: 'timeout', message: 'no answer' }, time: 9 })
  })
})
