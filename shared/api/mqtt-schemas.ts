import { z } from 'zod'

/**
 * The MQTT bridge's settings and status as the API carries them (issue 7, docs/mqtt.md). The password is
 * write-only: it is stored, but a view of the settings only says whether there is one.
 */

/** One topic level of the prefix: MQTT wildcards and empty levels would break the topic scheme. */
const TopicPrefix = z.string().min(1).max(128).regex(/^[^/+#\s]+(?:\/[^/+#\s]+)*$/, 'topic prefix: levels without + # spaces or empty levels, no leading or trailing /')

export const MqttUrl = z
  .string()
  .max(1024)
  .regex(/^mqtts?:\/\/[^\s/?#]+(?::\d{1,5})?\/?$/, 'url must look like mqtt://host:1883 or mqtts://host:8883')
  // A password in the URL would be shown wherever the URL is (status, logs): it has a write-only field of its own.
  .refine((url) => !/^mqtts?:\/\/[^/]*@/.test(url), 'url must not carry a user name or password: give them in their own fields')

export const MqttQos = z.union([z.literal(0), z.literal(1), z.literal(2)], { error: 'qos must be 0, 1 or 2' })
export type MqttQos = z.infer<typeof MqttQos>

export const MqttTlsSettings = z.object({
  /** PEM file of the CA that signed the broker's certificate (default: the system's CAs). */
  caFile: z.string().min(1).max(4096).optional(),
  /** Client certificate and key (PEM files), for brokers that want them. */
  certFile: z.string().min(1).max(4096).optional(),
  keyFile: z.string().min(1).max(4096).optional(),
  /** False accepts any broker certificate: for trials only. */
  rejectUnauthorized: z.boolean(),
})
export type MqttTlsSettings = z.infer<typeof MqttTlsSettings>

/** What the bridge runs with: everything it needs to connect, the password included (stored encrypted: electron/mqtt/mqtt-settings-store.ts). */
export const MqttSettings = z.object({
  enabled: z.boolean(),
  url: MqttUrl,
  clientId: z.string().min(1).max(128),
  username: z.string().max(256).optional(),
  password: z.string().max(1024).optional(),
  /** QoS of everything the bridge publishes and subscribes to. */
  qos: MqttQos,
  /** 5 brings response topics and correlation data for commands; 4 is MQTT 3.1.1. */
  protocolVersion: z.union([z.literal(4), z.literal(5)]),
  keepaliveSeconds: z.number().int().min(0).max(65535),
  /** Wait between reconnect attempts. */
  reconnectPeriodMs: z.number().int().min(100).max(3_600_000),
  connectTimeoutMs: z.number().int().min(100).max(300_000),
  /** Clean session (MQTT 3.1.1) / clean start (MQTT 5). */
  cleanSession: z.boolean(),
  topicPrefix: TopicPrefix,
  tls: MqttTlsSettings,
})
export type MqttSettings = z.infer<typeof MqttSettings>

/** The settings as they are shown: the password replaced by whether one is set. */
export const MqttSettingsView = MqttSettings.omit({ password: true }).extend({ hasPassword: z.boolean() })
export type MqttSettingsView = z.infer<typeof MqttSettingsView>

/** A change of the settings: only the fields given change; `password: null` (or `username: null`) removes it. */
export const MqttConfigureInput = z
  .object({
    ...MqttSettings.omit({ username: true, password: true, tls: true }).partial().shape,
    username: z.string().max(256).nullable().optional(),
    password: z.string().max(1024).nullable().optional(),
    tls: z
      .object({
        caFile: z.string().min(1).max(4096).nullable().optional(),
        certFile: z.string().min(1).max(4096).nullable().optional(),
        keyFile: z.string().min(1).max(4096).nullable().optional(),
        rejectUnauthorized: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
export type MqttConfigureInput = z.infer<typeof MqttConfigureInput>

export const MqttConnectionState = z.enum(['disconnected', 'connecting', 'connected', 'error'])
export type MqttConnectionState = z.infer<typeof MqttConnectionState>

export const MqttStatus = z.object({
  /** `disconnected` also when the bridge is off (`settings.enabled` false). */
  state: MqttConnectionState,
  settings: MqttSettingsView,
  /** The last failure (connect, TLS files, broker refusal), kept after a later success until the next one. */
  lastError: z.string().optional(),
  /** ms since the epoch. */
  lastErrorAt: z.number().optional(),
  connectedSince: z.number().optional(),
  /** Messages handed to the broker, and commands received, since the console started. */
  published: z.number().int().min(0),
  received: z.number().int().min(0),
  /** Telemetry not published because the broker was unreachable at the time. */
  dropped: z.number().int().min(0),
})
export type MqttStatus = z.infer<typeof MqttStatus>
