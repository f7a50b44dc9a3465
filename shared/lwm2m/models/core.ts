// The core LwM2M objects 0-7, checked against the OMA DDF files (LwM2M registry, Leshan's copies).
// Where a later DDF moved a unit into the description text, the unit is kept here.
import type { ObjectModel } from '../object-model.ts'
import { defineObject, type ResourceDef } from './compact.ts'

// --- 0 LwM2M Security: written by the bootstrap server only, hence no operations ---

const SECURITY_1_0: readonly ResourceDef[] = [
  [0, 'LwM2M Server URI', '', 'string', { mandatory: true, range: '0..255 bytes', description: 'URI of the server or bootstrap server this account is for' }],
  [1, 'Bootstrap-Server', '', 'boolean', { mandatory: true, description: 'True when this account is for a bootstrap server' }],
  [2, 'Security Mode', '', 'integer', { mandatory: true, range: '0..4', description: '0 PSK, 1 raw public key, 2 certificate, 3 no security, 4 certificate with EST' }],
  [3, 'Public Key or Identity', '', 'opaque', { mandatory: true, description: "The client's certificate, public key or PSK identity" }],
  [4, 'Server Public Key', '', 'opaque', { mandatory: true, description: "The server's certificate, public key or trust anchor" }],
  [5, 'Secret Key', '', 'opaque', { mandatory: true, description: 'The PSK or private key; never readable by a server' }],
  [6, 'SMS Security Mode', '', 'integer', { range: '0..255', description: 'Security mode of the SMS binding' }],
  [7, 'SMS Binding Key Parameters', '', 'opaque', { range: '6 bytes', description: 'KIc, KID, SPI and TAR of the SMS binding' }],
  [8, 'SMS Binding Secret Key(s)', '', 'opaque', { range: '16, 32 or 48 bytes', description: 'Keys of the SMS binding' }],
  [9, 'LwM2M Server SMS Number', '', 'string', { description: 'MSISDN of the server for the SMS binding' }],
  [10, 'Short Server ID', '', 'integer', { range: '1..65534', description: 'Links this account to a Server object instance' }],
  [11, 'Client Hold Off Time', '', 'integer', { units: 's', description: 'Delay before a client-initiated bootstrap' }],
  [12, 'Bootstrap-Server Account Timeout', '', 'integer', { units: 's', description: 'Lifetime of the bootstrap account; 0 is forever' }],
]

const SECURITY_1_1: readonly ResourceDef[] = [
  ...SECURITY_1_0,
  [13, 'Matching Type', '', 'unsigned', { range: '0..3', description: 'How the server public key is given: 0 exact, 1 SHA-256, 2 SHA-384, 3 SHA-512' }],
  [14, 'SNI', '', 'string', { description: 'Server Name Indication to send in the (D)TLS handshake' }],
  [15, 'Certificate Usage', '', 'integer', { range: '0..3', description: 'How the server certificate is matched (DANE-style usage)' }],
  [16, 'DTLS/TLS Ciphersuite', '', 'integer', { multiple: true, description: 'IANA cipher suite numbers to offer, e.g. 49320 for 0xC0A8' }],
  [17, 'OSCORE Security Mode', '', 'objlnk', { description: 'Link to the OSCORE object instance to use' }],
]

const U16 = '0..65535'

const SECURITY_1_2: readonly ResourceDef[] = [
  ...SECURITY_1_1.filter(([id]) => id !== 15 && id !== 16),
  [15, 'Certificate Usage', '', 'unsigned', { range: '0..3', description: 'How the server certificate is matched (DANE-style usage)' }],
  [16, 'DTLS/TLS Ciphersuite', '', 'unsigned', { multiple: true, description: 'IANA cipher suite numbers to offer, e.g. 49320 for 0xC0A8' }],
  [18, 'Groups To Use by Client', '', 'unsigned', { multiple: true, range: U16, description: 'TLS 1.3 key-exchange groups, most preferred first' }],
  [19, 'Signature Algorithms Supported by Server', '', 'unsigned', { multiple: true, range: U16, description: 'TLS signature schemes the server supports' }],
  [20, 'Signature Algorithms To Use by Client', '', 'unsigned', { multiple: true, range: U16, description: 'TLS signature schemes for the client, most preferred first' }],
  [21, 'Signature Algorithm Certs Supported by Server', '', 'unsigned', { multiple: true, range: U16, description: 'Certificate signature schemes the server supports' }],
  [22, 'TLS 1.3 Features To Use by Client', '', 'unsigned', { range: U16, description: 'Bitmask of TLS 1.3 features the client should use' }],
  [23, 'TLS Extensions Supported by Server', '', 'unsigned', { range: U16, description: 'Bitmask of TLS extensions the server supports' }],
  [24, 'TLS Extensions To Use by Client', '', 'unsigned', { range: U16, description: 'Bitmask of TLS extensions the client should use' }],
  [25, 'Secondary LwM2M Server URI', '', 'string', { multiple: true, range: '0..255', description: 'Other URIs of the same server, e.g. over another transport' }],
  [26, 'MQTT Server', '', 'objlnk', { description: 'Link to the MQTT server object instance' }],
  [27, 'LwM2M COSE Security', '', 'objlnk', { multiple: true, description: 'Links to COSE object instances' }],
  [28, 'RDS Destination Port', '', 'integer', { range: '0..15', description: 'RDS destination port for the non-IP binding' }],
  [29, 'RDS Source Port', '', 'integer', { range: '0..15', description: 'RDS source port for the non-IP binding' }],
  [30, 'RDS Application ID', '', 'string', { description: 'RDS application id for the non-IP binding' }],
]

const SECURITY_HEAD = { id: 0, name: 'LwM2M Security', multiple: true, mandatory: true, description: 'Keys and URIs the client uses to reach its servers' } as const

// --- 1 LwM2M Server ---

const SERVER_1_0: readonly ResourceDef[] = [
  [0, 'Short Server ID', 'R', 'integer', { mandatory: true, range: '1..65534', description: 'Identifies the server account' }],
  [1, 'Lifetime', 'RW', 'integer', { mandatory: true, units: 's', description: 'Registration lifetime' }],
  [2, 'Default Minimum Period', 'RW', 'integer', { units: 's', description: 'pmin used when an observation sets none' }],
  [3, 'Default Maximum Period', 'RW', 'integer', { units: 's', description: 'pmax used when an observation sets none' }],
  [4, 'Disable', 'E', 'none', { description: 'De-register and stay silent for the Disable Timeout' }],
  [5, 'Disable Timeout', 'RW', 'integer', { units: 's', description: 'How long Disable lasts; 86400 when unset' }],
  [6, 'Notification Storing When Disabled or Offline', 'RW', 'boolean', { mandatory: true, description: 'Keep notifications while offline and send them later' }],
  [7, 'Binding', 'RW', 'string', { mandatory: true, description: 'Transport binding, e.g. "U"' }],
  [8, 'Registration Update Trigger', 'E', 'none', { mandatory: true, description: 'Makes the client send a registration update' }],
]

const SERVER_1_1: readonly ResourceDef[] = [
  ...SERVER_1_0,
  [9, 'Bootstrap-Request Trigger', 'E', 'none', { description: 'Makes the client start a client-initiated bootstrap' }],
  [10, 'APN Link', 'RW', 'objlnk', { description: 'Link to the APN connection profile to use' }],
  [11, 'TLS-DTLS Alert Code', 'R', 'unsigned', { range: '0..255', description: 'Last (D)TLS alert received from this server' }],
  [12, 'Last Bootstrapped', 'R', 'time', { description: 'When the bootstrap server last updated this account' }],
  [13, 'Registration Priority Order', '', 'unsigned', { description: 'Order in which the client registers to its servers' }],
  [14, 'Initial Registration Delay Timer', '', 'unsigned', { units: 's', description: 'Wait after the previous server registered' }],
  [15, 'Registration Failure Block', '', 'boolean', { description: 'A failed registration here blocks the next servers' }],
  [16, 'Bootstrap on Registration Failure', '', 'boolean', { description: 'Bootstrap again when registration fails' }],
  [17, 'Communication Retry Count', '', 'unsigned', { description: 'Attempts per communication sequence' }],
  [18, 'Communication Retry Timer', '', 'unsigned', { units: 's', description: 'Base delay between attempts, doubled each time' }],
  [19, 'Communication Sequence Delay Timer', '', 'unsigned', { units: 's', description: 'Delay between communication sequences' }],
  [20, 'Communication Sequence Retry Count', '', 'unsigned', { description: 'Sequences before registration counts as failed' }],
  [21, 'Trigger', 'RW', 'boolean', { description: 'The client can be woken up over SMS' }],
  [22, 'Preferred Transport', 'RW', 'string', { description: 'Transport the client should use first' }],
  [23, 'Mute Send', 'RW', 'boolean', { description: 'True (or absent) turns the Send operation off' }],
]

// 1.2 makes Lifetime unsigned and the registration-order resources readable or writable by the server.
const SERVER_1_2_CHANGED: readonly ResourceDef[] = [
  [1, 'Lifetime', 'RW', 'unsigned', { mandatory: true, units: 's', description: 'Registration lifetime; 0 is infinite' }],
  [13, 'Registration Priority Order', 'R', 'unsigned', { description: 'Order in which the client registers to its servers' }],
  [14, 'Initial Registration Delay Timer', 'RW', 'unsigned', { units: 's', description: 'Wait after the previous server registered' }],
  [15, 'Registration Failure Block', 'R', 'boolean', { description: 'A failed registration here blocks the next servers' }],
  [16, 'Bootstrap on Registration Failure', 'R', 'boolean', { description: 'Bootstrap again when registration fails' }],
  [17, 'Communication Retry Count', 'RW', 'unsigned', { description: 'Attempts per communication sequence' }],
  [18, 'Communication Retry Timer', 'RW', 'unsigned', { units: 's', description: 'Base delay between attempts, doubled each time' }],
  [19, 'Communication Sequence Delay Timer', 'RW', 'unsigned', { units: 's', description: 'Delay between communication sequences' }],
  [20, 'Communication Sequence Retry Count', 'RW', 'unsigned', { description: 'Sequences before registration counts as failed' }],
]

const SERVER_1_2: readonly ResourceDef[] = [
  ...SERVER_1_1.filter(([id]) => !SERVER_1_2_CHANGED.some(([changed]) => changed === id)),
  ...SERVER_1_2_CHANGED,
  [24, 'Alternate APN Links', 'RW', 'objlnk', { multiple: true, description: 'APN profiles to try when the APN Link conflicts' }],
  [25, 'Supported Server Versions', 'RW', 'string', { multiple: true, description: 'LwM2M versions the server supports, e.g. "1.2"' }],
  [26, 'Default Notification Mode', 'RW', 'integer', { range: '0..1', description: '0 non-confirmable, 1 confirmable notifications' }],
  [27, 'Profile ID Hash Algorithm', 'RW', 'unsigned', { range: '0..255', description: 'Hash (RFC 6920 suite id) for generated profile ids' }],
]

const SERVER_HEAD = { id: 1, name: 'LwM2M Server', multiple: true, mandatory: true, description: 'Settings of one server account' } as const

// --- 2 Access Control ---

const ACCESS_CONTROL_1_0: readonly ResourceDef[] = [
  [0, 'Object ID', 'R', 'integer', { mandatory: true, range: '1..65534', description: 'Object the rights apply to' }],
  [1, 'Object Instance ID', 'R', 'integer', { mandatory: true, range: '0..65535', description: 'Instance the rights apply to; 65535 for the object itself' }],
  [2, 'ACL', 'RW', 'integer', { multiple: true, range: '16-bit', description: 'Rights per short server id: bit 0 read, 1 write, 2 execute, 3 delete, 4 create' }],
  [3, 'Access Control Owner', 'RW', 'integer', { mandatory: true, range: '0..65535', description: 'Short server id of the owner; 65535 for bootstrap only' }],
]

// --- 3 Device: 1.0, 1.1 and 1.2 share resources 0-22; 1.2 widens the error codes to 0..32 ---

function deviceResources(errorCodeRange: string): ResourceDef[] {
  return [
    [0, 'Manufacturer', 'R', 'string', { description: 'Manufacturer name' }],
    [1, 'Model Number', 'R', 'string', { description: 'Model identifier' }],
    [2, 'Serial Number', 'R', 'string', { description: 'Serial number' }],
    [3, 'Firmware Version', 'R', 'string', { description: 'Current firmware version' }],
    [4, 'Reboot', 'E', 'none', { mandatory: true, description: 'Reboots the device' }],
    [5, 'Factory Reset', 'E', 'none', { description: 'Restores factory settings; the device then bootstraps again' }],
    [6, 'Available Power Sources', 'R', 'integer', { multiple: true, range: '0..7', description: '0 DC, 1 internal battery, 2 external battery, 3 fuel cell, 4 PoE, 5 USB, 6 mains, 7 solar' }],
    [7, 'Power Source Voltage', 'R', 'integer', { multiple: true, units: 'mV', description: 'Voltage per power source (same instance ids as resource 6)' }],
    [8, 'Power Source Current', 'R', 'integer', { multiple: true, units: 'mA', description: 'Current per power source (same instance ids as resource 6)' }],
    [9, 'Battery Level', 'R', 'integer', { range: '0..100', units: '%', description: 'Internal battery charge' }],
    [10, 'Memory Free', 'R', 'integer', { units: 'KB', description: 'Free storage' }],
    [11, 'Error Code', 'R', 'integer', { multiple: true, mandatory: true, range: errorCodeRange, description: '0 no error, 1 low battery, 2 external power off, 3 GPS failure, 4 low signal, 5 out of memory, 6 SMS failure, 7 IP failure, 8 peripheral fault' }],
    [12, 'Reset Error Code', 'E', 'none', { description: 'Clears the error codes back to a single 0' }],
    [13, 'Current Time', 'RW', 'time', { description: 'Device clock, seconds since the epoch' }],
    [14, 'UTC Offset', 'RW', 'string', { description: 'UTC offset in effect, e.g. "+02:00"' }],
    [15, 'Timezone', 'RW', 'string', { description: 'IANA time zone name' }],
    [16, 'Supported Binding and Modes', 'R', 'string', { mandatory: true, description: 'Bindings the client supports, e.g. "U"' }],
    [17, 'Device Type', 'R', 'string', { description: 'Kind of device, as the manufacturer names it' }],
    [18, 'Hardware Version', 'R', 'string', { description: 'Hardware version' }],
    [19, 'Software Version', 'R', 'string', { description: 'Software version above the firmware' }],
    [20, 'Battery Status', 'R', 'integer', { range: '0..6', description: '0 normal, 1 charging, 2 charged, 3 damaged, 4 low, 5 not installed, 6 unknown' }],
    [21, 'Memory Total', 'R', 'integer', { units: 'KB', description: 'Total storage' }],
    [22, 'ExtDevInfo', 'R', 'objlnk', { multiple: true, description: 'Links to Device instances of external (host) devices' }],
  ]
}

const DEVICE_HEAD = { id: 3, name: 'Device', multiple: false, mandatory: true, description: 'Identity, power, clock and reboot of the device' } as const

// --- 4 Connectivity Monitoring ---

const CONNECTIVITY_MONITORING_1_0: readonly ResourceDef[] = [
  [0, 'Network Bearer', 'R', 'integer', { mandatory: true, description: 'Bearer in use: 0-20 cellular, 21 WLAN, 22 Bluetooth, 23 802.15.4, 41 Ethernet, 42 DSL, 43 PLC' }],
  [1, 'Available Network Bearer', 'R', 'integer', { multiple: true, mandatory: true, description: 'Bearers the device could use' }],
  [2, 'Radio Signal Strength', 'R', 'integer', { mandatory: true, units: 'dBm', description: 'Average received signal strength on the current bearer' }],
  [3, 'Link Quality', 'R', 'integer', { description: 'Bearer-specific link quality, e.g. LQI or RSRQ' }],
  [4, 'IP Addresses', 'R', 'string', { multiple: true, mandatory: true, description: 'Addresses of the connectivity interface' }],
  [5, 'Router IP Addresses', 'R', 'string', { multiple: true, description: 'Next-hop router addresses' }],
  [6, 'Link Utilization', 'R', 'integer', { range: '0..100', units: '%', description: 'Average use of the link to the next hop' }],
  [7, 'APN', 'R', 'string', { multiple: true, description: 'Access point names on a cellular bearer' }],
  [8, 'Cell ID', 'R', 'integer', { description: 'Serving cell id on a cellular bearer' }],
  [9, 'SMNC', 'R', 'integer', { range: '0..999', description: 'Serving mobile network code' }],
  [10, 'SMCC', 'R', 'integer', { range: '0..999', description: 'Serving mobile country code' }],
]

const CONNECTIVITY_MONITORING_1_2: readonly ResourceDef[] = [
  ...CONNECTIVITY_MONITORING_1_0,
  [11, 'SignalSNR', 'R', 'integer', { units: 'dB', description: 'Signal to interference plus noise ratio' }],
  [12, 'LAC', 'R', 'integer', { description: 'Location area code on a cellular bearer' }],
]

const CONNECTIVITY_MONITORING_HEAD = { id: 4, name: 'Connectivity Monitoring', description: 'Bearer, signal and addresses of the current connection' } as const

// --- 5 Firmware Update (resource 4 was removed before 1.0 was approved) ---

const FIRMWARE_UPDATE_1_0: readonly ResourceDef[] = [
  [0, 'Package', 'W', 'opaque', { mandatory: true, description: 'Firmware image pushed by the server' }],
  [1, 'Package URI', 'RW', 'string', { mandatory: true, range: '0..255', description: 'Where the client should download the image from' }],
  [2, 'Update', 'E', 'none', { mandatory: true, description: 'Installs the downloaded image' }],
  [3, 'State', 'R', 'integer', { mandatory: true, range: '0..3', description: '0 idle, 1 downloading, 2 downloaded, 3 updating' }],
  [5, 'Update Result', 'R', 'integer', { mandatory: true, range: '0..9', description: '0 initial, 1 success, 2-9 failure causes' }],
  [6, 'PkgName', 'R', 'string', { range: '0..255', description: 'Name of the package' }],
  [7, 'PkgVersion', 'R', 'string', { range: '0..255', description: 'Version of the package' }],
  [8, 'Firmware Update Protocol Support', 'R', 'integer', { multiple: true, range: '0..5', description: 'Download protocols: 0 CoAP, 1 CoAPS, 2 HTTP, 3 HTTPS, 4 CoAP/TCP, 5 CoAP/TLS' }],
  [9, 'Firmware Update Delivery Method', 'R', 'integer', { mandatory: true, range: '0..2', description: '0 pull, 1 push, 2 both' }],
]

// --- 6 Location ---

const LOCATION_1_0: readonly ResourceDef[] = [
  [0, 'Latitude', 'R', 'float', { mandatory: true, units: 'lat', description: 'WGS84 latitude in decimal degrees' }],
  [1, 'Longitude', 'R', 'float', { mandatory: true, units: 'lon', description: 'WGS84 longitude in decimal degrees' }],
  [2, 'Altitude', 'R', 'float', { units: 'm', description: 'Height above sea level' }],
  [3, 'Radius', 'R', 'float', { units: 'm', description: 'Uncertainty radius around the position' }],
  [4, 'Velocity', 'R', 'opaque', { description: 'Velocity as encoded by 3GPP TS 23.032' }],
  [5, 'Timestamp', 'R', 'time', { mandatory: true, description: 'When the position was measured' }],
  [6, 'Speed', 'R', 'float', { units: 'm/s', description: 'Scalar speed' }],
]

// --- 7 Connectivity Statistics ---

const CONNECTIVITY_STATISTICS_1_0: readonly ResourceDef[] = [
  [0, 'SMS Tx Counter', 'R', 'integer', { description: 'SMS sent during the collection period' }],
  [1, 'SMS Rx Counter', 'R', 'integer', { description: 'SMS received during the collection period' }],
  [2, 'Tx Data', 'R', 'integer', { units: 'KB', description: 'Data sent during the collection period' }],
  [3, 'Rx Data', 'R', 'integer', { units: 'KB', description: 'Data received during the collection period' }],
  [4, 'Max Message Size', 'R', 'integer', { units: 'B', description: 'Largest IP message in the period' }],
  [5, 'Average Message Size', 'R', 'integer', { units: 'B', description: 'Average IP message size in the period' }],
  [6, 'Start', 'E', 'none', { mandatory: true, description: 'Resets the counters and starts collecting' }],
  [7, 'Stop', 'E', 'none', { mandatory: true, description: 'Stops collecting, keeping the counters' }],
  [8, 'Collection Period', 'RW', 'integer', { units: 's', description: 'Default collection period; 0 means until Stop' }],
]

export const CORE_MODELS: readonly ObjectModel[] = [
  defineObject({ ...SECURITY_HEAD, version: '1.0', lwm2mVersion: '1.0' }, SECURITY_1_0),
  defineObject({ ...SECURITY_HEAD, version: '1.1', lwm2mVersion: '1.1' }, SECURITY_1_1),
  defineObject({ ...SECURITY_HEAD, version: '1.2', lwm2mVersion: '1.1' }, SECURITY_1_2),
  defineObject({ ...SERVER_HEAD, version: '1.0', lwm2mVersion: '1.0' }, SERVER_1_0),
  defineObject({ ...SERVER_HEAD, version: '1.1', lwm2mVersion: '1.1' }, SERVER_1_1),
  defineObject({ ...SERVER_HEAD, version: '1.2', lwm2mVersion: '1.2' }, SERVER_1_2),
  defineObject(
    { id: 2, name: 'LwM2M Access Control', version: '1.0', lwm2mVersion: '1.0', multiple: true, description: 'Which server may do what on one object instance' },
    ACCESS_CONTROL_1_0,
  ),
  defineObject({ ...DEVICE_HEAD, version: '1.0', lwm2mVersion: '1.0' }, deviceResources('0..8')),
  defineObject({ ...DEVICE_HEAD, version: '1.1', lwm2mVersion: '1.1' }, deviceResources('0..8')),
  defineObject({ ...DEVICE_HEAD, version: '1.2', lwm2mVersion: '1.1' }, deviceResources('0..32')),
  defineObject({ ...CONNECTIVITY_MONITORING_HEAD, version: '1.0', lwm2mVersion: '1.0' }, CONNECTIVITY_MONITORING_1_0),
  defineObject({ ...CONNECTIVITY_MONITORING_HEAD, version: '1.2', lwm2mVersion: '1.1' }, CONNECTIVITY_MONITORING_1_2),
  defineObject({ id: 5, name: 'Firmware Update', version: '1.0', lwm2mVersion: '1.0', description: 'Downloads and installs new firmware' }, FIRMWARE_UPDATE_1_0),
  defineObject({ id: 6, name: 'Location', version: '1.0', lwm2mVersion: '1.0', description: 'Position, speed and time of the last fix' }, LOCATION_1_0),
  defineObject(
    { id: 7, name: 'Connectivity Statistics', version: '1.0', lwm2mVersion: '1.0', description: 'Traffic counters over a collection period' },
    CONNECTIVITY_STATISTICS_1_0,
  ),
]
