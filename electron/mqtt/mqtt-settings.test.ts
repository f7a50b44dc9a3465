import { describe, expect, it } from 'vitest'
import { MqttSettings } from '../../shared/api/mqtt-schemas.ts'
import { defaultMqttSettings, mergeMqttSettings, mqttSettingsView } from './mqtt-settings.ts'

describe('MQTT bridge settings', () => {
  it('defaults are valid, off, and have a client id of their own', () => {
    const a = defaultMqttSettings()
    expect(MqttSettings.parse(a)).toEqual(a)
    expect(a).toMatchObject({ enabled: false, qos: 1, topicPrefix: 'objecttwin', tls: { rejectUnauthorized: true } })
    expect(defaultMqttSettings().clientId).not.toBe(a.clientId)
  })

  it('merges a change: absent fields stay, null removes, tls merges field by field', () => {
    const base = { ...defaultMqttSettings(), username: 'u', password: 'p', tls: { caFile: '/ca.pem', rejectUnauthorized: true } }
    const merged = mergeMqttSettings(base, { qos: 2, password: null, tls: { rejectUnauthorized: false } })
    expect(merged.ok && merged.value).toEqual({ ...base, qos: 2, password: undefined, tls: { caFile: '/ca.pem', rejectUnauthorized: false } })
    expect(merged.ok && 'password' in merged.value).toBe(false)
    const cleared = mergeMqttSettings(base, { tls: { caFile: null } })
    expect(cleared.ok && cleared.value.tls).toEqual({ rejectUnauthorized: true })
  })

  it('refuses what cannot work, naming it', () => {
    const base = defaultMqttSettings()
    expect(mergeMqttSettings(base, { url: 'tcp://x:1' })).toMatchObject({ ok: false, error: { message: expect.stringContaining('url') } })
    expect(mergeMqttSettings(base, { tls: { keyFile: '/k.pem' } })).toMatchObject({ ok: false, error: { message: expect.stringContaining('certificate') } })
    expect(mergeMqttSettings(base, { topicPrefix: '/lead' })).toMatchObject({ ok: false })
    expect(mergeMqttSettings(base, { topicPrefix: 'a//b' })).toMatchObject({ ok: false })
    expect(mergeMqttSettings(base, { topicPrefix: 'site-1/ward 2' })).toMatchObject({ ok: false })
    expect(mergeMqttSettings(base, { url: 'mqtts://broker.example:8883', topicPrefix: 'site-1/ward-2' }).ok).toBe(true)
  })

  it('shows whether there is a password, never the password', () => {
    const view = mqttSettingsView({ ...defaultMqttSettings(), password: 'secret' })
    expect(view.hasPassword).toBe(true)
    expect(JSON.stringify(view)).not.toContain('secret')
    expect(mqttSettingsView(defaultMqttSettings()).hasPassword).toBe(false)
  })
})
