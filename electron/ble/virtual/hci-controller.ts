/**
 * The virtual HCI controller: an LE controller in central role that speaks H4 packets with a host (noble) and drives
 * the simulated peripherals of a radio. Commands (0x01) and ACL (0x02) in; events (0x04) and ACL out.
 *
 * Covers what noble 2.8.0's hci-socket layer uses (REFERENCE.md §3): init commands, scanning with advertising reports
 * (ADV_IND + SCAN_RSP), LE Create Connection / Cancel, Connection Update, Read RSSI, Disconnect, data length
 * extension, Number Of Completed Packets for every ACL packet the host sends, LE Meta events honouring the event
 * masks. Unknown commands get Command Complete with "Unknown HCI Command" (0x01), as real controllers answer.
 */
import { H4_ACL, H4_COMMAND, H4_EVENT, normalizeAddress, readAddress, writeAddress } from './h4.ts'
import { LeConnection, type ConnectionHost } from './le-connection.ts'
import { createRandom, type Random } from './link-model.ts'
import { DisconnectReason, type VirtualPeripheral } from './virtual-peripheral.ts'

/** The medium the controller scans and connects on (implemented by VirtualRadio). */
export interface RadioMedium {
  peripherals(): Iterable<VirtualPeripheral>
  peripheral(address: string): VirtualPeripheral | undefined
}

export interface HciControllerOptions {
  /** Public BD_ADDR of the virtual adapter (default derived from the controller index). */
  address?: string
  /** LE ACL data packet length the controller accepts from the host (default 27). */
  aclBufferLength?: number
  /** Number of LE ACL buffers = credits the host may have outstanding (default 8). */
  aclBufferCount?: number
  /** HCI / LMP version (default 0x09, Bluetooth 5.0; noble refuses < 0x06). */
  hciVersion?: number
  /** Company identifier reported by Read Local Version (default 0x05f1, The Linux Foundation). */
  manufacturer?: number
  /** Advertise LE Data Packet Length Extension (noble then negotiates 251-octet PDUs). Default false. */
  dataLengthExtension?: boolean
  /**
   * Advertise LE Extended Advertising (feature bit 12): noble then auto-selects its extended scanning / connecting
   * code (LE Set Extended Scan Parameters/Enable, Extended Advertising Reports, Extended Create Connection).
   * Default false (legacy commands).
   */
  extended?: boolean
  /** Seed of the controller's randomness (advertising jitter, connection delays). */
  seed?: number
  /** Log function for protocol anomalies (default: none). */
  log?: (message: string) => void
}

/** HCI status / error codes used here. */
export const HciStatus = {
  success: 0x00,
  unknownCommand: 0x01,
  unknownConnectionId: 0x02,
  commandDisallowed: 0x0c,
  invalidParameters: 0x12,
  unsupportedRemoteFeature: 0x1a,
} as const

const OP = {
  disconnect: 0x0406,
  setEventMask: 0x0c01,
  reset: 0x0c03,
  setEventFilter: 0x0c05,
  writeLocalName: 0x0c13,
  readLocalName: 0x0c14,
  setControllerToHostFlowControl: 0x0c31,
  hostBufferSize: 0x0c33,
  setEventMaskPage2: 0x0c63,
  readLeHostSupported: 0x0c6c,
  writeLeHostSupported: 0x0c6d,
  readLocalVersion: 0x1001,
  readLocalCommands: 0x1002,
  readLocalFeatures: 0x1003,
  readBufferSize: 0x1005,
  readBdAddr: 0x1009,
  readRssi: 0x1405,
  leSetEventMask: 0x2001,
  leReadBufferSize: 0x2002,
  leReadLocalFeatures: 0x2003,
  leSetRandomAddress: 0x2005,
  leSetAdvParams: 0x2006,
  leReadAdvTxPower: 0x2007,
  leSetAdvData: 0x2008,
  leSetScanRspData: 0x2009,
  leSetAdvEnable: 0x200a,
  leSetScanParams: 0x200b,
  leSetScanEnable: 0x200c,
  leCreateConn: 0x200d,
  leCreateConnCancel: 0x200e,
  leReadWhiteListSize: 0x200f,
  leClearWhiteList: 0x2010,
  leConnUpdate: 0x2013,
  leRand: 0x2018,
  leStartEncryption: 0x2019,
  leReadSupportedStates: 0x201c,
  leSetDataLength: 0x2022,
  leReadDefaultDataLength: 0x2023,
  leWriteDefaultDataLength: 0x2024,
  leReadMaxDataLength: 0x202f,
  leReadPhy: 0x2030,
  leSetDefaultPhy: 0x2031,
  leSetExtScanParams: 0x2041,
  leSetExtScanEnable: 0x2042,
  leExtCreateConn: 0x2043,
} as const

const DEFAULT_EVENT_MASK = 0x00001fffffffffffn
const DEFAULT_LE_EVENT_MASK = 0x1fn

interface PendingConnect {
  address: string
  addressType: number
  minInterval: number
  maxInterval: number
  latency: number
  supervisionTimeoutMs: number
  timer: ReturnType<typeof setTimeout> | undefined
}

interface ScanState {
  nextAt: number
  reported: boolean
}

let controllerCount = 0

/** A virtual LE controller (one per virtual adapter). */
export class VirtualHciController implements ConnectionHost {
  readonly address: string
  readonly aclBufferLength: number
  readonly aclBufferCount: number
  readonly connections = new Map<number, LeConnection>()
  private readonly medium: RadioMedium
  private readonly hciVersion: number
  private readonly manufacturer: number
  private readonly dle: boolean
  private readonly extended: boolean
  /** The host scans with the extended commands: report with Extended Advertising Reports. */
  private extendedScan = false
  private readonly random: Random
  private readonly log: (message: string) => void
  private sink: ((packets: Buffer[]) => void) | undefined
  private out: Buffer[] = []
  private flushScheduled = false
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private eventMask = DEFAULT_EVENT_MASK
  private leEventMask = DEFAULT_LE_EVENT_MASK
  private leHostSupported = 0
  private localName = Buffer.alloc(0)
  private scanActive = false
  private scanEnabled = false
  private scanFilterDuplicates = false
  private scanTimer: ReturnType<typeof setInterval> | undefined
  private readonly scanState = new Map<VirtualPeripheral, ScanState>()
  private pending: PendingConnect | undefined
  /** Reasons of host-requested disconnects not yet completed. */
  private readonly terminating = new Map<number, number>()
  private nextHandle = 0x0040
  private closed = false

  constructor(medium: RadioMedium, options: HciControllerOptions = {}) {
    const index = ++controllerCount
    this.medium = medium
    this.address = normalizeAddress(options.address ?? `00:1a:7d:da:71:${(index & 0xff).toString(16).padStart(2, '0')}`)
    this.aclBufferLength = Math.max(27, Math.min(1021, options.aclBufferLength ?? 27))
    this.aclBufferCount = Math.max(1, Math.min(255, options.aclBufferCount ?? 8))
    this.hciVersion = options.hciVersion ?? 0x09
    this.manufacturer = options.manufacturer ?? 0x05f1
    this.dle = options.dataLengthExtension ?? false
    this.extended = options.extended ?? false
    this.random = createRandom(options.seed)
    this.log = options.log ?? (() => {})
  }

  /** True when the host last scanned with the extended commands. */
  get extendedScanning(): boolean {
    return this.extendedScan
  }

  /** True while a host is attached. */
  get attached(): boolean {
    return this.sink !== undefined
  }

  /** Attach the host: the controller's packets go to `sink` (in batches, asynchronously). */
  attach(sink: (packets: Buffer[]) => void): void {
    if (this.closed) throw new Error('virtual HCI controller is closed')
    if (this.sink) throw new Error(`virtual HCI controller ${this.address} is already in use by another host`)
    this.sink = sink
  }

  /** The host went away (socket closed, pty closed): like a dongle unplugged; links drop silently. */
  detach(): void {
    this.sink = undefined
    this.resetState(DisconnectReason.connectionTimeout)
    this.out = []
  }

  /** Stop everything for good. */
  close(): void {
    this.detach()
    this.closed = true
  }

  /** One H4 packet from the host. */
  receive(packet: Buffer): void {
    if (this.closed || packet.length < 1) return
    const type = packet[0]
    if (type === H4_COMMAND) this.onCommand(packet)
    else if (type === H4_ACL) this.onAcl(packet)
    else this.log(`ignored H4 packet type 0x${(type as number).toString(16)}`)
  }

  // ---- output --------------------------------------------------------------------------------------------------

  toHost(packet: Buffer): void {
    if (!this.sink) return
    this.out.push(packet)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flush)
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const batch = this.out
    this.out = []
    if (batch.length && this.sink) this.sink(batch)
  }

  private event(code: number, params: Buffer): void {
    const p = Buffer.allocUnsafe(3 + params.length)
    p[0] = H4_EVENT
    p[1] = code
    p[2] = params.length
    params.copy(p, 3)
    this.toHost(p)
  }

  private eventEnabled(code: number): boolean {
    return ((this.eventMask >> BigInt(code - 1)) & 1n) === 1n
  }

  private leMeta(subevent: number, params: Buffer): void {
    if (!this.eventEnabled(0x3e)) return
    if (((this.leEventMask >> BigInt(subevent - 1)) & 1n) !== 1n) return
    this.event(0x3e, Buffer.concat([Buffer.from([subevent]), params]))
  }

  private commandComplete(opcode: number, status: number, params: Buffer | number[] = []): void {
    const rest = Buffer.isBuffer(params) ? params : Buffer.from(params)
    const p = Buffer.allocUnsafe(4 + rest.length)
    p[0] = 1 // Num_HCI_Command_Packets
    p.writeUInt16LE(opcode, 1)
    p[3] = status
    rest.copy(p, 4)
    this.event(0x0e, p)
  }

  private commandStatus(opcode: number, status: number): void {
    const p = Buffer.allocUnsafe(4)
    p[0] = status
    p[1] = 1
    p.writeUInt16LE(opcode, 2)
    this.event(0x0f, p)
  }

  completed(handle: number, count: number): void {
    const p = Buffer.allocUnsafe(8)
    p[0] = H4_EVENT
    p[1] = 0x13
    p[2] = 5
    p[3] = 1
    p.writeUInt16LE(handle, 4)
    p.writeUInt16LE(count, 6)
    this.toHost(p)
  }

  private later(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t)
      fn()
    }, ms)
    this.timers.add(t)
    return t
  }

  private cancel(t: ReturnType<typeof setTimeout> | undefined): void {
    if (t === undefined) return
    clearTimeout(t)
    this.timers.delete(t)
  }

  // ---- commands ------------------------------------------------------------------------------------------------

  private onCommand(packet: Buffer): void {
    if (packet.length < 4) return
    const op = packet.readUInt16LE(1)
    const p = packet.subarray(4, 4 + (packet[3] as number))
    switch (op) {
      case OP.reset:
        this.resetState(DisconnectReason.connectionTimeout)
        this.eventMask = DEFAULT_EVENT_MASK
        this.leEventMask = DEFAULT_LE_EVENT_MASK
        return this.commandComplete(op, 0)
      case OP.setEventMask:
        if (p.length >= 8) this.eventMask = p.readBigUInt64LE(0)
        return this.commandComplete(op, 0)
      case OP.leSetEventMask:
        if (p.length >= 8) this.leEventMask = p.readBigUInt64LE(0)
        return this.commandComplete(op, 0)
      case OP.setEventFilter:
      case OP.setControllerToHostFlowControl:
      case OP.hostBufferSize:
      case OP.setEventMaskPage2:
      case OP.leSetRandomAddress:
      case OP.leSetAdvParams:
      case OP.leSetAdvData:
      case OP.leSetScanRspData:
      case OP.leSetAdvEnable:
      case OP.leClearWhiteList:
      case OP.leSetDefaultPhy:
      case OP.leWriteDefaultDataLength:
        return this.commandComplete(op, 0)
      case OP.writeLocalName:
        this.localName = Buffer.from(p.subarray(0, Math.max(0, p.indexOf(0) >= 0 ? p.indexOf(0) : p.length)))
        return this.commandComplete(op, 0)
      case OP.readLocalName: {
        const name = Buffer.alloc(248)
        this.localName.copy(name)
        return this.commandComplete(op, 0, name)
      }
      case OP.writeLeHostSupported:
        this.leHostSupported = p[0] ?? 0
        return this.commandComplete(op, 0)
      case OP.readLeHostSupported:
        return this.commandComplete(op, 0, [this.leHostSupported, 0])
      case OP.readLocalVersion: {
        const r = Buffer.alloc(8)
        r[0] = this.hciVersion
        r.writeUInt16LE(0x0001, 1) // HCI revision
        r[3] = this.hciVersion // LMP version
        r.writeUInt16LE(this.manufacturer, 4)
        r.writeUInt16LE(0x0001, 6) // LMP subversion
        return this.commandComplete(op, 0, r)
      }
      case OP.readLocalCommands:
        return this.commandComplete(op, 0, supportedCommands(this.dle))
      case OP.readLocalFeatures:
        // LMP features: LE supported (controller) byte 4 bit 6; BR/EDR not supported byte 4 bit 5.
        return this.commandComplete(op, 0, [0, 0, 0, 0, 0x60, 0, 0, 0])
      case OP.readBufferSize: {
        const r = Buffer.alloc(7)
        r.writeUInt16LE(this.aclBufferLength, 0)
        r[2] = 0
        r.writeUInt16LE(this.aclBufferCount, 3)
        r.writeUInt16LE(0, 5)
        return this.commandComplete(op, 0, r)
      }
      case OP.readBdAddr: {
        const r = Buffer.alloc(6)
        writeAddress(r, 0, this.address)
        return this.commandComplete(op, 0, r)
      }
      case OP.leReadBufferSize: {
        const r = Buffer.alloc(3)
        r.writeUInt16LE(this.aclBufferLength, 0)
        r[2] = this.aclBufferCount
        return this.commandComplete(op, 0, r)
      }
      case OP.leReadLocalFeatures: {
        // Encryption (0), connection parameters request (1), peripheral-initiated features exchange (3), LE ping (4),
        // data packet length extension (5, optional), LE 2M PHY (8).
        const f = Buffer.alloc(8)
        f[0] = 0x1b | (this.dle ? 0x20 : 0)
        f[1] = 0x01 | (this.extended ? 0x10 : 0)
        return this.commandComplete(op, 0, f)
      }
      case OP.leReadAdvTxPower:
        return this.commandComplete(op, 0, [0])
      case OP.leReadWhiteListSize:
        return this.commandComplete(op, 0, [8])
      case OP.leRand: {
        const r = Buffer.alloc(8)
        for (let i = 0; i < 8; i++) r[i] = Math.floor(this.random() * 256)
        return this.commandComplete(op, 0, r)
      }
      case OP.leReadSupportedStates:
        return this.commandComplete(op, 0, [0xff, 0xff, 0xff, 0xff, 0xff, 0x03, 0, 0])
      case OP.leReadDefaultDataLength:
        return this.commandComplete(op, 0, [27, 0, 0x48, 0x01])
      case OP.leReadMaxDataLength:
        if (!this.dle) return this.commandComplete(op, HciStatus.unknownCommand)
        return this.commandComplete(op, 0, [251, 0, 0x48, 0x08, 251, 0, 0x48, 0x08])
      case OP.leSetDataLength:
        return this.onSetDataLength(op, p)
      case OP.leReadPhy: {
        const handle = p.length >= 2 ? p.readUInt16LE(0) & 0x0fff : 0
        const ok = this.connections.has(handle)
        return this.commandComplete(op, ok ? 0 : HciStatus.unknownConnectionId, [handle & 0xff, handle >> 8, 1, 1])
      }
      case OP.leSetScanParams:
        if (this.scanEnabled) return this.commandComplete(op, HciStatus.commandDisallowed)
        this.scanActive = (p[0] ?? 0) === 0x01
        this.extendedScan = false
        return this.commandComplete(op, 0)
      case OP.leSetScanEnable:
        this.extendedScan = false
        return this.onScanEnable(op, (p[0] ?? 0) === 1, (p[1] ?? 0) === 1)
      case OP.leSetExtScanParams:
        if (!this.extended) return this.commandComplete(op, HciStatus.unknownCommand)
        if (this.scanEnabled) return this.commandComplete(op, HciStatus.commandDisallowed)
        // own address type, filter policy, scanning PHYs, then per PHY: type, interval, window
        this.scanActive = (p[3] ?? 0) === 0x01
        this.extendedScan = true
        return this.commandComplete(op, 0)
      case OP.leSetExtScanEnable:
        if (!this.extended) return this.commandComplete(op, HciStatus.unknownCommand)
        this.extendedScan = true
        return this.onScanEnable(op, (p[0] ?? 0) === 1, (p[1] ?? 0) === 1)
      case OP.leCreateConn:
        if (p.length < 25) return this.commandStatus(op, HciStatus.invalidParameters)
        // scan interval (0), window (2), filter policy (4), peer address type (5), peer address (6), own type (12),
        // interval min (13), max (15), latency (17), supervision timeout (19), CE length (21, 23)
        return this.onCreateConnection(op, p[5] as number, readAddress(p, 6), p.subarray(13))
      case OP.leExtCreateConn:
        if (!this.extended) return this.commandStatus(op, HciStatus.unknownCommand)
        if (p.length < 26) return this.commandStatus(op, HciStatus.invalidParameters)
        // filter policy (0), own type (1), peer type (2), peer address (3), PHYs (9), then per PHY 16 octets:
        // scan interval, window, interval min, max, latency, supervision timeout, CE lengths
        return this.onCreateConnection(op, p[2] as number, readAddress(p, 3), p.subarray(14))
      case OP.leCreateConnCancel:
        return this.onCreateConnectionCancel(op)
      case OP.leConnUpdate:
        return this.onConnectionUpdate(op, p)
      case OP.readRssi: {
        const handle = p.length >= 2 ? p.readUInt16LE(0) & 0x0fff : 0
        const conn = this.connections.get(handle)
        const r = Buffer.alloc(3)
        r.writeUInt16LE(handle, 0)
        if (!conn) return this.commandComplete(op, HciStatus.unknownConnectionId, r)
        r.writeInt8(conn.peripheral.rssi.sample(), 2)
        return this.commandComplete(op, 0, r)
      }
      case OP.disconnect:
        return this.onDisconnect(op, p)
      case OP.leStartEncryption:
        return this.commandStatus(op, HciStatus.unsupportedRemoteFeature)
      default:
        this.log(`unknown HCI command 0x${op.toString(16).padStart(4, '0')}`)
        return this.commandComplete(op, HciStatus.unknownCommand)
    }
  }

  private onSetDataLength(op: number, p: Buffer): void {
    const handle = p.length >= 2 ? p.readUInt16LE(0) & 0x0fff : 0
    const conn = this.connections.get(handle)
    const r = [handle & 0xff, handle >> 8]
    if (!this.dle) return this.commandComplete(op, HciStatus.unknownCommand, r)
    if (!conn || p.length < 6) return this.commandComplete(op, HciStatus.unknownConnectionId, r)
    const octets = Math.max(27, Math.min(251, p.readUInt16LE(2)))
    this.commandComplete(op, 0, r)
    if (octets !== conn.link.pduOctets) {
      conn.link.pduOctets = octets
      const time = (octets + 14) * 8
      const e = Buffer.alloc(10)
      e.writeUInt16LE(handle, 0)
      e.writeUInt16LE(octets, 2)
      e.writeUInt16LE(time, 4)
      e.writeUInt16LE(octets, 6)
      e.writeUInt16LE(time, 8)
      this.leMeta(0x07, e)
    }
  }

  // ---- scanning ------------------------------------------------------------------------------------------------

  private onScanEnable(op: number, enable: boolean, filterDuplicates: boolean): void {
    this.commandComplete(op, 0)
    if (enable) {
      if (!this.scanEnabled) this.scanState.clear()
      this.scanEnabled = true
      this.scanFilterDuplicates = filterDuplicates
      if (!this.scanTimer) this.scanTimer = setInterval(this.scanTick, 20)
    } else {
      this.stopScan()
    }
  }

  private stopScan(): void {
    this.scanEnabled = false
    if (this.scanTimer) clearInterval(this.scanTimer)
    this.scanTimer = undefined
  }

  private readonly scanTick = (): void => {
    if (!this.sink) return
    const now = performance.now()
    for (const p of this.medium.peripherals()) {
      let s = this.scanState.get(p)
      if (!s) {
        s = { nextAt: now + this.random() * p.advertisingIntervalMs, reported: false }
        this.scanState.set(p, s)
      }
      if (now < s.nextAt) continue
      // advInterval + advDelay (0..10 ms)
      s.nextAt = now + p.advertisingIntervalMs + this.random() * 10
      if (!p.advertising) continue
      if (this.scanFilterDuplicates && s.reported) continue
      // Advertising packets are lost on a noisy channel too.
      if (p.link.interference > 0 && this.random() < p.link.interference) continue
      const rssi = p.rssi.sample(now)
      this.advertisingReport(p, p.connectable ? 0x00 : 0x03, p.advData, rssi)
      if (this.scanActive && p.connectable) this.advertisingReport(p, 0x04, p.scanResponseData, rssi)
      s.reported = true
    }
  }

  private advertisingReport(p: VirtualPeripheral, type: number, data: Buffer, rssi: number): void {
    if (this.extendedScan) return this.extendedAdvertisingReport(p, type, data, rssi)
    const r = Buffer.allocUnsafe(11 + data.length)
    r[0] = 1 // num reports
    r[1] = type
    r[2] = p.addressType === 'random' ? 1 : 0
    writeAddress(r, 3, p.address)
    r[9] = data.length
    data.copy(r, 10)
    r.writeInt8(rssi, 10 + data.length)
    this.leMeta(0x02, r)
  }

  /** The same legacy PDU as an LE Extended Advertising Report (subevent 0x0D). */
  private extendedAdvertisingReport(p: VirtualPeripheral, legacyType: number, data: Buffer, rssi: number): void {
    // Event type bits: connectable 0, scannable 1, directed 2, scan response 3, legacy 4.
    const type = legacyType === 0x00 ? 0x13 : legacyType === 0x04 ? 0x1b : 0x10
    const r = Buffer.alloc(26 + data.length)
    r[0] = 1 // num reports
    r.writeUInt16LE(type, 1)
    r[3] = p.addressType === 'random' ? 1 : 0
    writeAddress(r, 4, p.address)
    r[10] = 0x01 // primary PHY: LE 1M
    r[11] = 0x00 // secondary PHY: none
    r[12] = 0xff // SID: none
    r.writeInt8(p.definition.txPowerLevel ?? 0x7f, 13)
    r.writeInt8(rssi, 14)
    r.writeUInt16LE(0, 15) // periodic advertising interval: none
    r[17] = 0 // direct address type
    r[24] = data.length
    data.copy(r, 25)
    this.leMeta(0x0d, r.subarray(0, 25 + data.length))
  }

  // ---- connections ---------------------------------------------------------------------------------------------

  /** `params`: interval min, max, latency, supervision timeout (u16 each, HCI units). */
  private onCreateConnection(op: number, addressType: number, address: string, params: Buffer): void {
    if (this.pending) return this.commandStatus(op, HciStatus.commandDisallowed)
    const pending: PendingConnect = {
      address,
      addressType,
      minInterval: params.readUInt16LE(0) * 1.25,
      maxInterval: params.readUInt16LE(2) * 1.25,
      latency: params.readUInt16LE(4),
      supervisionTimeoutMs: params.readUInt16LE(6) * 10,
      timer: undefined,
    }
    if (this.connectedTo(address)) return this.commandStatus(op, 0x0b) // Connection Already Exists
    this.commandStatus(op, 0)
    this.pending = pending
    this.tryConnect()
  }

  private connectedTo(address: string): boolean {
    for (const c of this.connections.values()) if (c.peripheral.address === address) return true
    return false
  }

  /** Connect at the peer's next advertising event; keep trying while it is not advertising (until cancelled). */
  private tryConnect(): void {
    const pending = this.pending
    if (!pending) return
    const p = this.medium.peripheral(pending.address)
    const available = p !== undefined && p.advertising && p.connectable
    const wait = p ? p.advertisingIntervalMs : 100
    pending.timer = this.later(available ? 2 + this.random() * wait : wait, () => {
      pending.timer = undefined
      if (this.pending !== pending) return
      const q = this.medium.peripheral(pending.address)
      if (available && q && q.advertising && q.connectable) this.establish(pending, q)
      else this.tryConnect()
    })
  }

  private establish(pending: PendingConnect, p: VirtualPeripheral): void {
    this.pending = undefined
    let handle = this.nextHandle
    while (this.connections.has(handle)) handle = handle >= 0x0eff ? 0x0040 : handle + 1
    this.nextHandle = handle >= 0x0eff ? 0x0040 : handle + 1
    // The central picks the interval within the host's range; the sensor's preference when it fits.
    if (pending.minInterval >= 7.5 && pending.maxInterval >= pending.minInterval) {
      p.link.connectionIntervalMs = Math.min(pending.maxInterval, Math.max(pending.minInterval, p.link.connectionIntervalMs))
    }
    const conn = new LeConnection(this, handle, p, {
      intervalMs: p.link.connectionIntervalMs,
      latency: pending.latency,
      supervisionTimeoutMs: Math.max(100, pending.supervisionTimeoutMs || 420),
    })
    this.connections.set(handle, conn)
    p.connection = conn
    this.scanState.delete(p)
    this.connectionComplete(0, handle, p.addressType === 'random' ? 1 : 0, p.address, conn.intervalMs, conn.latency, conn.supervisionTimeoutMs)
    p.emit('connect', handle)
    p.callHook('onConnect', conn.bearer)
  }

  private connectionComplete(status: number, handle: number, addressType: number, address: string, intervalMs: number, latency: number, timeoutMs: number): void {
    const enhanced = ((this.leEventMask >> 9n) & 1n) === 1n
    const r = Buffer.alloc(enhanced ? 30 : 18)
    r[0] = status
    r.writeUInt16LE(handle, 1)
    r[3] = 0x00 // role: central
    r[4] = addressType
    writeAddress(r, 5, address)
    let o = 11
    if (enhanced) o += 12 // local and peer resolvable private addresses: none
    r.writeUInt16LE(Math.round(intervalMs / 1.25), o)
    r.writeUInt16LE(latency, o + 2)
    r.writeUInt16LE(Math.round(timeoutMs / 10), o + 4)
    r[o + 6] = 0x00 // central clock accuracy
    this.leMeta(enhanced ? 0x0a : 0x01, r)
  }

  private onCreateConnectionCancel(op: number): void {
    const pending = this.pending
    if (!pending) return this.commandComplete(op, HciStatus.commandDisallowed)
    this.cancel(pending.timer)
    this.pending = undefined
    this.commandComplete(op, 0)
    this.connectionComplete(HciStatus.unknownConnectionId, 0, pending.addressType, pending.address, 0, 0, 0)
  }

  private onConnectionUpdate(op: number, p: Buffer): void {
    if (p.length < 14) return this.commandStatus(op, HciStatus.invalidParameters)
    const handle = p.readUInt16LE(0) & 0x0fff
    const conn = this.connections.get(handle)
    if (!conn) return this.commandStatus(op, HciStatus.unknownConnectionId)
    const min = p.readUInt16LE(2) * 1.25
    const max = p.readUInt16LE(4) * 1.25
    const latency = p.readUInt16LE(6)
    const timeout = p.readUInt16LE(8) * 10
    if (min < 7.5 || max > 4000 || min > max || timeout < 100) return this.commandStatus(op, HciStatus.invalidParameters)
    this.commandStatus(op, 0)
    // The update takes effect a few connection events later.
    this.later(conn.intervalMs * 2, () => {
      if (conn.isClosed) return
      const current = conn.intervalMs
      const interval = current >= min && current <= max ? current : min
      conn.applyInterval(interval, latency, timeout)
      this.updated(conn)
    })
  }

  updated(conn: LeConnection): void {
    const r = Buffer.alloc(9)
    r[0] = 0
    r.writeUInt16LE(conn.handle, 1)
    r.writeUInt16LE(Math.round(conn.intervalMs / 1.25), 3)
    r.writeUInt16LE(conn.latency, 5)
    r.writeUInt16LE(Math.round(conn.supervisionTimeoutMs / 10), 7)
    this.leMeta(0x03, r)
  }

  private onDisconnect(op: number, p: Buffer): void {
    if (p.length < 3) return this.commandStatus(op, HciStatus.invalidParameters)
    const handle = p.readUInt16LE(0) & 0x0fff
    const reason = p[2] as number
    const conn = this.connections.get(handle)
    if (!conn) return this.commandStatus(op, HciStatus.unknownConnectionId)
    this.commandStatus(op, 0)
    this.terminating.set(handle, reason)
    // LL_TERMINATE_IND goes out at the next connection event.
    this.later(conn.intervalMs, () => {
      this.terminating.delete(handle)
      if (conn.isClosed) return
      this.drop(conn, reason)
      this.disconnectionComplete(handle, DisconnectReason.localHostTerminated)
    })
  }

  /** Peripheral / air side ended the link. */
  lost(conn: LeConnection, reason: number): void {
    if (conn.isClosed) return
    this.drop(conn, reason)
    this.disconnectionComplete(conn.handle, reason)
  }

  private disconnectionComplete(handle: number, reason: number): void {
    if (!this.eventEnabled(0x05)) return
    const r = Buffer.alloc(4)
    r[0] = 0
    r.writeUInt16LE(handle, 1)
    r[3] = reason
    this.event(0x05, r)
  }

  /** Remove a connection; the peripheral learns `peripheralReason`. */
  private drop(conn: LeConnection, peripheralReason: number): void {
    conn.close()
    this.connections.delete(conn.handle)
    const p = conn.peripheral
    if (p.connection === conn) p.connection = undefined
    p.lastStats = { ...conn.stats }
    p.emit('disconnect', peripheralReason)
    p.callHook('onDisconnect', peripheralReason)
  }

  private onAcl(packet: Buffer): void {
    if (packet.length < 5) return
    const handle = packet.readUInt16LE(1) & 0x0fff
    const conn = this.connections.get(handle)
    if (!conn) {
      this.log(`ACL data for unknown handle 0x${handle.toString(16)} dropped`)
      return
    }
    conn.fromHost(packet)
  }

  /** HCI Reset / host gone: stop scanning, forget the pending connection, drop every link. */
  private resetState(peripheralReason: number): void {
    this.stopScan()
    this.scanState.clear()
    this.scanActive = false
    if (this.pending) this.cancel(this.pending.timer)
    this.pending = undefined
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const conn of [...this.connections.values()]) this.drop(conn, this.terminating.get(conn.handle) ?? peripheralReason)
    this.connections.clear()
    this.terminating.clear()
  }
}

/** Supported Commands bit mask (64 octets) for what this controller implements. */
function supportedCommands(dle: boolean): Buffer {
  const b = Buffer.alloc(64)
  const set = (octet: number, bit: number): void => {
    b[octet] = (b[octet] as number) | (1 << bit)
  }
  set(0, 5) // Disconnect
  set(5, 6) // Set Event Mask
  set(5, 7) // Reset
  set(6, 0) // Set Event Filter
  set(7, 5) // Read Local Name... (approximate)
  set(14, 3) // Read Local Version
  set(14, 5) // Read Local Supported Features
  set(14, 7) // Read Buffer Size
  set(15, 1) // Read BD_ADDR
  set(15, 5) // Read RSSI
  set(24, 5) // Read LE Host Supported
  set(24, 6) // Write LE Host Supported
  for (let bit = 0; bit < 8; bit++) set(25, bit) // LE Set Event Mask ... LE Set Advertising Enable
  for (let bit = 0; bit < 8; bit++) set(26, bit) // LE Set Scan Parameters ... LE Create Connection Cancel ...
  set(27, 0) // LE Connection Update
  set(27, 7) // LE Rand
  set(28, 0) // LE Start Encryption
  set(28, 3) // LE Read Supported States
  if (dle) {
    set(33, 6) // LE Set Data Length
    set(33, 7) // LE Read Suggested Default Data Length
    set(34, 0) // LE Write Suggested Default Data Length
    set(35, 3) // LE Read Maximum Data Length
  }
  set(35, 4) // LE Read PHY
  set(35, 5) // LE Set Default PHY
  return b
}
