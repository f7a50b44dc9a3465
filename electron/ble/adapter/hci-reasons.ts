/** HCI status codes seen as disconnect reasons (Core Spec Vol 1 Part F), with what they mean for a sensor link. */
const REASONS: Readonly<Record<number, string>> = {
  0x03: 'Hardware Failure',
  0x05: 'Authentication Failure',
  0x08: 'Connection Timeout (supervision timeout: the peripheral went silent or out of range)',
  0x13: 'Remote User Terminated Connection',
  0x14: 'Remote Device Terminated Connection due to Low Resources',
  0x15: 'Remote Device Terminated Connection due to Power Off',
  0x16: 'Connection Terminated By Local Host',
  0x1a: 'Unsupported Remote Feature',
  0x22: 'LL Response Timeout',
  0x28: 'Instant Passed',
  0x3b: 'Unacceptable Connection Parameters',
  0x3d: 'Connection Terminated due to MIC Failure',
  0x3e: 'Connection Failed to be Established',
}

/** noble's own (string) reasons. */
const NOBLE_REASONS: Readonly<Record<string, string>> = {
  cleanup: 'the adapter left the poweredOn state',
  unknown: 'unknown reason',
}

export function disconnectReasonText(reason: number | string): string {
  if (typeof reason === 'number') {
    const hex = `0x${reason.toString(16).padStart(2, '0')}`
    return `${REASONS[reason] ?? 'HCI status'} (${hex})`
  }
  return NOBLE_REASONS[reason] ?? reason
}
