/**
 * One LE connection inside the virtual controller: the link model, ACL reassembly of the host's fragments,
 * fragmentation of the peripheral's frames into link-layer PDUs, and L2CAP dispatch (CID 4 ATT, 5 LE signalling,
 * 6 SMP).
 */
import { AttBearer } from './att-server.ts'
import { H4_ACL } from './h4.ts'
import { ACL_HEADROOM, L2CAP_PAYLOAD_OFFSET, LinkModel, type LinkIo, type LinkStats } from './link-model.ts'
import type { PeripheralLink, VirtualPeripheral } from './virtual-peripheral.ts'

export const CID_ATT = 0x0004
export const CID_SIGNALING = 0x0005
export const CID_SMP = 0x0006

/** What a connection needs from its controller. */
export interface ConnectionHost {
  /** Queue an H4 packet for the host. */
  toHost(packet: Buffer): void
  /** `count` of the host's ACL packets on `handle` were transmitted (→ Number Of Completed Packets). */
  completed(handle: number, count: number): void
  /** The link ended from the peripheral / air side (peripheral terminate, supervision timeout). */
  lost(connection: LeConnection, reason: number): void
  /** Report a connection update to the host (LE Connection Update Complete). */
  updated(connection: LeConnection): void
}

export interface ConnectionParameters {
  intervalMs: number
  latency: number
  supervisionTimeoutMs: number
}

/** An LE connection between the virtual controller (central) and a simulated peripheral. */
export class LeConnection implements PeripheralLink {
  readonly handle: number
  readonly peripheral: VirtualPeripheral
  readonly link: LinkModel
  readonly bearer: AttBearer
  latency: number
  private readonly host: ConnectionHost
  private assembly: Buffer | undefined
  private assemblyCid = 0
  private assemblyFilled = 0
  private closed = false

  constructor(host: ConnectionHost, handle: number, peripheral: VirtualPeripheral, params: ConnectionParameters) {
    this.host = host
    this.handle = handle
    this.peripheral = peripheral
    this.latency = params.latency
    const io: LinkIo = {
      toCentral: (frame, index, count, pduOctets) => this.toCentral(frame, index, count, pduOctets),
      toPeripheral: (packet) => this.fromHostPacket(packet),
      eventDone: (completed) => {
        if (completed > 0) this.host.completed(this.handle, completed)
      },
      supervisionTimeout: () => this.host.lost(this, 0x08),
    }
    this.link = new LinkModel(peripheral.link, io, peripheral.random)
    this.link.supervisionTimeoutMs = params.supervisionTimeoutMs
    this.bearer = new AttBearer(
      peripheral.db,
      {
        alloc: (attLength) => this.allocFrame(CID_ATT, attLength),
        send: (frame, reliable, onSent) => this.link.send(frame, reliable, onSent),
        queued: () => this.link.queuedPdus,
      },
      peripheral.definition.hooks ?? {},
      peripheral.faults,
      peripheral.definition.attMtu ?? 247,
      (e) => peripheral.reportError(e),
    )
    if (!peripheral.inRange) this.link.setJammed(true)
  }

  get intervalMs(): number {
    return this.peripheral.link.connectionIntervalMs
  }

  get supervisionTimeoutMs(): number {
    return this.link.supervisionTimeoutMs
  }

  get stats(): LinkStats {
    return this.link.stats
  }

  get isClosed(): boolean {
    return this.closed
  }

  // ---- PeripheralLink ------------------------------------------------------------------------------------------

  terminate(reason: number): void {
    if (!this.closed) this.host.lost(this, reason)
  }

  settingsChanged(intervalChanged: boolean): void {
    if (this.closed) return
    this.link.settingsChanged()
    if (intervalChanged) {
      this.link.reanchor()
      this.host.updated(this)
    }
  }

  setOutOfRange(out: boolean): void {
    if (!this.closed) this.link.setJammed(out)
  }

  // ---- controller side -----------------------------------------------------------------------------------------

  /** An ACL packet from the host (queued for the next connection event). */
  fromHost(packet: Buffer): void {
    this.link.fromCentral(packet)
  }

  /** Tear down (no events to the host: the controller reports the disconnection). */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.link.close()
    this.bearer.close()
  }

  /** Apply a host-requested update of the connection interval. */
  applyInterval(intervalMs: number, latency: number, supervisionTimeoutMs: number): void {
    this.latency = latency
    this.link.supervisionTimeoutMs = supervisionTimeoutMs
    if (intervalMs !== this.peripheral.link.connectionIntervalMs) {
      this.peripheral.link.connectionIntervalMs = intervalMs
      this.link.settingsChanged()
      this.link.reanchor()
    }
  }

  private allocFrame(cid: number, payloadLength: number): Buffer {
    const f = Buffer.allocUnsafe(L2CAP_PAYLOAD_OFFSET + payloadLength)
    f.writeUInt16LE(payloadLength, ACL_HEADROOM)
    f.writeUInt16LE(cid, ACL_HEADROOM + 2)
    return f
  }

  private sendL2cap(cid: number, payload: Buffer): void {
    const f = this.allocFrame(cid, payload.length)
    payload.copy(f, L2CAP_PAYLOAD_OFFSET)
    this.link.send(f, true)
  }

  /** One link-layer PDU of a frame → one HCI ACL packet (boundary flag 0x02 first, 0x01 continuation). */
  private toCentral(frame: Buffer, index: number, count: number, pduOctets: number): void {
    const l2capLength = frame.length - ACL_HEADROOM
    if (count === 1) {
      frame[0] = H4_ACL
      frame.writeUInt16LE(this.handle | 0x2000, 1)
      frame.writeUInt16LE(l2capLength, 3)
      this.host.toHost(frame)
      return
    }
    const start = index * pduOctets
    const len = Math.min(pduOctets, l2capLength - start)
    let pkt: Buffer
    if (index === 0) {
      // The headroom in front of the first PDU is free: no copy.
      pkt = frame.subarray(0, ACL_HEADROOM + len)
    } else {
      pkt = Buffer.allocUnsafe(ACL_HEADROOM + len)
      frame.copy(pkt, ACL_HEADROOM, ACL_HEADROOM + start, ACL_HEADROOM + start + len)
    }
    pkt[0] = H4_ACL
    pkt.writeUInt16LE(this.handle | (index === 0 ? 0x2000 : 0x1000), 1)
    pkt.writeUInt16LE(len, 3)
    this.host.toHost(pkt)
  }

  /** Reassemble the host's ACL fragments into L2CAP frames. */
  private fromHostPacket(packet: Buffer): void {
    if (packet.length < 5) return
    const pb = (packet.readUInt16LE(1) >> 12) & 0x3
    const data = packet.subarray(5, 5 + packet.readUInt16LE(3))
    if (pb === 0x00 || pb === 0x02) {
      if (data.length < 4) return
      const length = data.readUInt16LE(0)
      const cid = data.readUInt16LE(2)
      const payload = data.subarray(4)
      if (payload.length >= length) {
        this.assembly = undefined
        this.dispatch(cid, payload.subarray(0, length))
        return
      }
      this.assembly = Buffer.allocUnsafe(length)
      payload.copy(this.assembly)
      this.assemblyFilled = payload.length
      this.assemblyCid = cid
    } else if (pb === 0x01 && this.assembly) {
      const n = Math.min(data.length, this.assembly.length - this.assemblyFilled)
      data.copy(this.assembly, this.assemblyFilled, 0, n)
      this.assemblyFilled += n
      if (this.assemblyFilled === this.assembly.length) {
        const frame = this.assembly
        this.assembly = undefined
        this.dispatch(this.assemblyCid, frame)
      }
    }
  }

  private dispatch(cid: number, payload: Buffer): void {
    if (this.closed) return
    if (cid === CID_ATT) this.bearer.receive(payload)
    else if (cid === CID_SIGNALING) this.onSignaling(payload)
    else if (cid === CID_SMP) this.onSmp(payload)
  }

  /** LE signalling channel: the peripheral answers what a peripheral must. */
  private onSignaling(pdu: Buffer): void {
    if (pdu.length < 4) return
    const code = pdu[0] as number
    const id = pdu[1] as number
    switch (code) {
      case 0x01: // Command Reject
      case 0x13: // Connection Parameter Update Response (to a request we never send)
      case 0x15: // LE Credit Based Connection Response
      case 0x16: // Flow Control Credit
        return
      case 0x14: // LE Credit Based Connection Request → refused: LE_PSM not supported (0x0002)
        return this.sendSignaling(0x15, id, signalingFields(0, 0, 0, 0, 0x0002))
      case 0x17: // Enhanced Credit Based Connection Request → refused likewise
        return this.sendSignaling(0x18, id, signalingFields(0, 0, 0, 0x0002))
      case 0x06: {
        // Disconnection Request for a channel that does not exist → Command Reject: invalid CID (0x0002)
        const data = Buffer.alloc(6)
        data.writeUInt16LE(0x0002, 0)
        if (pdu.length >= 8) pdu.copy(data, 2, 4, 8)
        return this.sendSignaling(0x01, id, data)
      }
      default:
        // Includes a Connection Parameter Update Request, which only a peripheral may send:
        // Command Reject, reason "command not understood" (0x0000).
        return this.sendSignaling(0x01, id, signalingFields(0x0000))
    }
  }

  /** An L2CAP signaling command: code, identifier, data length, data. */
  private sendSignaling(code: number, id: number, data: Buffer): void {
    const command = Buffer.alloc(4 + data.length)
    command[0] = code
    command[1] = id
    command.writeUInt16LE(data.length, 2)
    data.copy(command, 4)
    this.sendL2cap(CID_SIGNALING, command)
  }

  /** SMP: the simulated sensors do not pair → Pairing Failed, reason Pairing Not Supported (0x05). */
  private onSmp(pdu: Buffer): void {
    if (pdu.length < 1) return
    const code = pdu[0] as number
    if (code === 0x01 || code === 0x03 || code === 0x04 || code === 0x0c) this.sendL2cap(CID_SMP, Buffer.from([0x05, 0x05]))
  }
}

/** Signaling command data of 16-bit little-endian fields. */
function signalingFields(...fields: number[]): Buffer {
  const data = Buffer.alloc(2 * fields.length)
  fields.forEach((f, i) => data.writeUInt16LE(f, 2 * i))
  return data
}
