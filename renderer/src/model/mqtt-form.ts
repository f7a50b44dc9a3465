import type { MqttConfigureInput, MqttQos, MqttSettingsView, MqttStatus } from '../../../shared/api/mqtt-schemas.ts'

/** The MQTT settings form: text fields as typed, the password only when the user types a new one (or removes it). */
export interface MqttForm {
  enabled: boolean
  url: string
  clientId: string
  username: string
  /** Empty: keep the stored password. */
  password: string
  removePassword: boolean
  qos: MqttQos
  protocolVersion: 4 | 5
  keepaliveSeconds: number
  reconnectPeriodMs: number
  cleanSession: boolean
  topicPrefix: string
  caFile: string
  certFile: string
  keyFile: string
  rejectUnauthorized: boolean
}

export function formFromSettings(s: MqttSettingsView): MqttForm {
  return {
    enabled: s.enabled,
    url: s.url,
    clientId: s.clientId,
    username: s.username ?? '',
    password: '',
    removePassword: false,
    qos: s.qos,
    protocolVersion: s.protocolVersion,
    keepaliveSeconds: s.keepaliveSeconds,
    reconnectPeriodMs: s.reconnectPeriodMs,
    cleanSession: s.cleanSession,
    topicPrefix: s.topicPrefix,
    caFile: s.tls.caFile ?? '',
    certFile: s.tls.certFile ?? '',
    keyFile: s.tls.keyFile ?? '',
    rejectUnauthorized: s.tls.rejectUnauthorized,
  }
}

/** An empty optional field removes the setting. */
const optional = (text: string): string | null => (text.trim() === '' ? null : text.trim())

/** What the form asks the console to store; the server checks it (and says what is wrong). */
export function configureInput(form: MqttForm): MqttConfigureInput {
  return {
    enabled: form.enabled,
    url: form.url.trim(),
    clientId: form.clientId.trim(),
    username: optional(form.username),
    ...(form.removePassword ? { password: null } : form.password !== '' ? { password: form.password } : {}),
    qos: form.qos,
    protocolVersion: form.protocolVersion,
    keepaliveSeconds: form.keepaliveSeconds,
    reconnectPeriodMs: form.reconnectPeriodMs,
    cleanSession: form.cleanSession,
    topicPrefix: form.topicPrefix.trim(),
    tls: { caFile: optional(form.caFile), certFile: optional(form.certFile), keyFile: optional(form.keyFile), rejectUnauthorized: form.rejectUnauthorized },
  }
}

/** The badge text: off, or the connection state. */
export function mqttStateText(status: MqttStatus | undefined): string {
  if (!status) return 'unknown'
  if (!status.settings.enabled) return 'off'
  return status.state
}
