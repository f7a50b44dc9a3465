/** ATT error codes (Core Spec Vol 3 Part F §3.4.1.1; 0xFC–0xFF: Core Specification Supplement Part B). */
const NAMES: Readonly<Record<number, string>> = {
  0x01: 'Invalid Handle',
  0x02: 'Read Not Permitted',
  0x03: 'Write Not Permitted',
  0x04: 'Invalid PDU',
  0x05: 'Insufficient Authentication',
  0x06: 'Request Not Supported',
  0x07: 'Invalid Offset',
  0x08: 'Insufficient Authorization',
  0x09: 'Prepare Queue Full',
  0x0a: 'Attribute Not Found',
  0x0b: 'Attribute Not Long',
  0x0c: 'Encryption Key Size Too Short',
  0x0d: 'Invalid Attribute Value Length',
  0x0e: 'Unlikely Error',
  0x0f: 'Insufficient Encryption',
  0x10: 'Unsupported Group Type',
  0x11: 'Insufficient Resources',
  0x12: 'Database Out Of Sync',
  0x13: 'Value Not Allowed',
  0xfc: 'Write Request Rejected',
  0xfd: 'Client Characteristic Configuration Descriptor Improperly Configured',
  0xfe: 'Procedure Already in Progress',
  0xff: 'Out of Range',
}

/** "Value Not Allowed (0x13)", "Application Error 0x80 (0x80)". */
export function attErrorName(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, '0')}`
  const name = NAMES[code] ?? (code >= 0x80 && code <= 0x9f ? `Application Error ${hex}` : 'Reserved')
  return `${name} (${hex})`
}

/** ATT opcodes of the requests noble sends, for messages ("Write Request"). */
const REQUESTS: Readonly<Record<number, string>> = {
  0x02: 'Exchange MTU Request', 0x04: 'Find Information Request', 0x06: 'Find By Type Value Request', 0x08: 'Read By Type Request',
  0x0a: 'Read Request', 0x0c: 'Read Blob Request', 0x0e: 'Read Multiple Request', 0x10: 'Read By Group Type Request',
  0x12: 'Write Request', 0x16: 'Prepare Write Request', 0x18: 'Execute Write Request', 0x52: 'Write Command',
}

export function attRequestName(opcode: number): string {
  return REQUESTS[opcode] ?? `ATT opcode 0x${opcode.toString(16).padStart(2, '0')}`
}
