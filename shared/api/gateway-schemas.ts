import { z } from 'zod'

/**
 * The console's local gateway, as the UI sees it: the BLE adapter it runs on, what the adapter has
 * heard, the sensors connected with their ObjectTwins and link quality, and — on the virtual radio —
 * the simulated sensors whose link can be degraded for demos and training.
 */

/** Which adapter the local gateway uses: the virtual radio, a Linux HCI device, a UART controller, or noble's platform default. */
export const AdapterSetting = z.union([
  z.literal('virtual'),
  z.literal('default'),
  z.literal('hci'),
  z.string().regex(/^hci:\d{1,3}$/, 'hci:N names an HCI device number'),
  z.string().regex(/^uart:.+$/, 'uart:PATH names a serial port'),
], { error: 'adapter must be virtual, default, hci, hci:N or uart:PATH' })
export type AdapterSetting = z.infer<typeof AdapterSetting>

export const LocalGatewaySettings = z.object({
  /** Start the local gateway with the console. */
  enabled: z.boolean(),
  adapter: AdapterSetting,
  /** The gateway's LwM2M endpoint name. */
  endpoint: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'endpoint: letters, digits and . _ : - only'),
})
export type LocalGatewaySettings = z.infer<typeof LocalGatewaySettings>

export const ConsoleSettings = z.object({
  localGateway: LocalGatewaySettings,
})
export type ConsoleSettings = z.infer<typeof ConsoleSettings>

/** A partial update: only the fields given change. */
export const SettingsPatch = z.object({ localGateway: LocalGatewaySettings.partial().optional() }).strict()
export type SettingsPatch = z.infer<typeof SettingsPatch>

/** noble's adapter state (`poweredOn`, `poweredOff`, `unauthorized`, `unsupported`, …) or `unavailable` when no binding loads. */
export const AdapterState = z.string()

export const DiscoveredSensor = z.object({
  address: z.string(),
  name: z.string().optional(),
  rssi: z.number(),
  connectable: z.boolean(),
  serviceUuids: z.array(z.string()),
  /** ms since the epoch. */
  lastSeen: z.number(),
})
export type DiscoveredSensor = z.infer<typeof DiscoveredSensor>

export const TwinSummary = z.object({
  objectId: z.number().int(),
  /** Service UUID as the gateway prints it. */
  service: z.string(),
  name: z.string(),
})
export type TwinSummary = z.infer<typeof TwinSummary>

export const ConnectedSensor = z.object({
  address: z.string(),
  name: z.string().optional(),
  connected: z.boolean(),
  rssi: z.number().optional(),
  /** Lost / (received + lost) in the last 5 s window. */
  dropRatio: z.number(),
  notificationsPerSecond: z.number(),
  lastSeen: z.number(),
  twins: z.array(TwinSummary),
})
export type ConnectedSensor = z.infer<typeof ConnectedSensor>

/** A simulated sensor on the virtual radio, with the link settings the demo can change. */
export const VirtualSensor = z.object({
  /** Its short name on the radio, used in routes: `ecg`, `hr`, `thermometer`, `battery` (with a number when there are several). */
  id: z.string(),
  kind: z.string(),
  address: z.string(),
  name: z.string(),
  interference: z.number().min(0).max(1),
  distanceM: z.number().min(0),
  /**
   * Whether the sensor's link layer retries a notification hit by interference (as real BLE links do): interference
   * then costs capacity and loss grows with the sampling rate. Without, each notification is lost with probability
   * ≈ interference whatever the rate.
   */
  linkLayerRetries: z.boolean(),
})
export type VirtualSensor = z.infer<typeof VirtualSensor>

export const GatewayStatus = z.object({
  /** False when the local gateway is off (settings) or failed to start (see `error`). */
  running: z.boolean(),
  endpoint: z.string(),
  adapter: AdapterSetting,
  adapterState: AdapterState,
  /** Registered with the console's server. */
  registered: z.boolean(),
  scanning: z.boolean(),
  discovered: z.array(DiscoveredSensor),
  sensors: z.array(ConnectedSensor),
  /** Present only on the virtual radio. */
  virtualSensors: z.array(VirtualSensor).optional(),
  /** Why the gateway is not running, or its last failure. */
  error: z.string().optional(),
})
export type GatewayStatus = z.infer<typeof GatewayStatus>

const Address = z.string().regex(/^[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2}){5}$/, 'address must look like c0:07:01:00:00:01')

export const ScanInput = z.object({
  /** How long to scan; 0 stops a scan in progress. */
  seconds: z.number().min(0).max(300).optional(),
})
export const SensorInput = z.object({ address: Address })
export const VirtualLinkInput = z.object({
  sensor: z.string().min(1).max(64),
  interference: z.number().min(0).max(1).optional(),
  distanceM: z.number().min(0).max(1000).optional(),
  /** Switch the link layer's retries of notifications on or off (see VirtualSensor). */
  linkLayerRetries: z.boolean().optional(),
})
export type ScanInput = z.infer<typeof ScanInput>
export type SensorInput = z.infer<typeof SensorInput>
export type VirtualLinkInput = z.infer<typeof VirtualLinkInput>
