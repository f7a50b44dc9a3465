import { describe, expect, it } from 'vitest'
import { clientStateTopic, commandFilter, dataTopic, decodeLevel, encodeLevel, parseCommandTopic, resultTopic } from './topics.ts'

describe('MQTT topic scheme', () => {
  it('builds the topics of docs/mqtt.md', () => {
    expect(clientStateTopic('objecttwin', 'gw-1')).toBe('objecttwin/clients/gw-1/state')
    expect(dataTopic('site/a', 'gw-1', '/1031/0/1')).toBe('site/a/clients/gw-1/data/1031/0/1')
    expect(dataTopic('p', 'gw', '/33001/0/9/2')).toBe('p/clients/gw/data/33001/0/9/2')
    expect(resultTopic('p', 'gw', 'r-1')).toBe('p/clients/gw/result/r-1')
    expect(resultTopic('p', 'gw', undefined)).toBe('p/clients/gw/result')
    expect(commandFilter('p')).toBe('p/clients/+/cmd/+')
  })

  it('keeps an endpoint name one level: / + # and % are escaped, and come back', () => {
    for (const name of ['urn:dev:os:1-2', 'a/b', 'x+y#z', '100%', 'plain.name_1']) {
      const level = encodeLevel(name)
      expect(level).not.toMatch(/[/+#]/)
      expect(decodeLevel(level)).toBe(name)
    }
    expect(encodeLevel('a/b+c#d%e')).toBe('a%2Fb%2Bc%23d%25e')
    expect(decodeLevel('bad%zz')).toBeUndefined()
  })

  it('parses command topics and nothing else', () => {
    expect(parseCommandTopic('p', 'p/clients/gw-1/cmd/read')).toEqual({ endpoint: 'gw-1', op: 'read' })
    expect(parseCommandTopic('p/q', 'p/q/clients/a%2Fb/cmd/write')).toEqual({ endpoint: 'a/b', op: 'write' })
    expect(parseCommandTopic('p', 'p/clients/gw-1/cmd/made-up')).toEqual({ endpoint: 'gw-1', op: 'made-up' })
    expect(parseCommandTopic('p', 'p/clients/gw-1/result/1')).toBeUndefined()
    expect(parseCommandTopic('p', 'p/clients/gw-1/cmd/read/extra')).toBeUndefined()
    expect(parseCommandTopic('p', 'other/clients/gw-1/cmd/read')).toBeUndefined()
    expect(parseCommandTopic('p', 'p/clients//cmd/read')).toBeUndefined()
    expect(parseCommandTopic('p', 'p/clients/%zz/cmd/read')).toBeUndefined()
  })
})
