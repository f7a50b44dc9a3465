import { describe, expect, it } from 'vitest'
import { MqttConfigureInput, type MqttSettingsView } from '../../../shared/api/mqtt-schemas.ts'
import { configureInput, formFromSettings, mqttStateText } from './mqtt-form.ts'

const settings: MqttSettingsView = {
  enabled: true, url: 'mqtts://hub:8883', clientId: 'objecttwin-1', username: 'u', qos: 1, protocolVersion: 5, keepaliveSeconds: 30,
  reconnectPeriodMs: 2000, connectTimeoutMs: 10_000, cleanSession: true, topicPrefix: 'objecttwin', tls: { caFile: '/ca.pem', rejectUnauthorized: true }, hasPassword: true,
}

describe('MQTT settings form', () => {
  it('keeps the stored password unless a new one is typed or it is removed', () => {
    const form = formFromSettings(settings)
    expect(form.password).toBe('')
    expect(configureInput(form)).not.toHaveProperty('password')
    expect(configureInput({ ...form, password: 'new' }).password).toBe('new')
    expect(configureInput({ ...form, password: 'new', removePassword: true }).password).toBeNull()
  })

  it('gives a valid change; emptied optional fields are removed', () => {
    const input = configureInput({ ...formFromSettings(settings), username: ' ', caFile: '', url: ' mqtt://b:1883 ' })
    expect(MqttConfigureInput.safeParse(input).success).toBe(true)
    expect(input).toMatchObject({ url: 'mqtt://b:1883', username: null, tls: { caFile: null, certFile: null, keyFile: null, rejectUnauthorized: true } })
  })

  it('says off when the bridge is off, else its state', () => {
    const status = { state: 'disconnected' as const, settings, published: 0, received: 0, dropped: 0 }
    expect(mqttStateText(undefined)).toBe('unknown')
    expect(mqttStateText(status)).toBe('disconnected')
    expect(mqttStateText({ ...status, settings: { ...settings, enabled: false } })).toBe('off')
  })
})
