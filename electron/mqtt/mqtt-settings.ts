import { describeIssues } from '../../shared/api/console-api.ts'
import { randomBytes } from 'node:crypto'
import { MqttSettings, type MqttConfigureInput, type MqttSettingsView } from '../../shared/api/mqtt-schemas.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'

/** First-run settings: off, a local broker, QoS 1 and a client id of its own (stored, so it stays the same). */
export function defaultMqttSettings(): MqttSettings {
  return {
    enabled: false,
    url: 'mqtt://127.0.0.1:1883',
    clientId: `objecttwin-${randomBytes(4).toString('hex')}`,
    qos: 1,
    protocolVersion: 5,
    keepaliveSeconds: 30,
    reconnectPeriodMs: 2000,
    connectTimeoutMs: 10_000,
    cleanSession: true,
    topicPrefix: 'objecttwin',
    tls: { rejectUnauthorized: true },
  }
}

/** The settings as the API shows them: the password only as `hasPassword`. */
export function mqttSettingsView(settings: MqttSettings): MqttSettingsView {
  const { password, ...rest } = settings
  return { ...rest, hasPassword: password !== undefined && password !== '' }
}

/** Only the fields present; `null` for one that is to be removed. */
function definedFields<T extends object>(patch: T): Array<[string, unknown]> {
  return Object.entries(patch).filter(([, v]) => v !== undefined)
}

function applyPatch(base: Record<string, unknown>, patch: object): Record<string, unknown> {
  const next = { ...base }
  for (const [key, value] of definedFields(patch)) {
    if (value === null) delete next[key]
    else next[key] = value
  }
  return next
}

/** The settings after a change; an inconsistent result (say a client certificate without its key) is refused. */
export function mergeMqttSettings(current: MqttSettings, patch: MqttConfigureInput): Result<MqttSettings> {
  const { tls, ...top } = patch
  const merged = applyPatch(current, top)
  merged['tls'] = tls ? applyPatch(current.tls, tls) : current.tls
  const parsed = MqttSettings.safeParse(merged)
  if (!parsed.success) return fail('invalid_input', describeIssues(parsed.error))
  if ((parsed.data.tls.certFile === undefined) !== (parsed.data.tls.keyFile === undefined)) return fail('invalid_input', 'tls: a client certificate needs its key file, and a key file its certificate')
  return ok(parsed.data)
}
