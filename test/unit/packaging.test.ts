import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, sep } from 'node:path'
import { inflateSync } from 'node:zlib'
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'

/**
 * The installers' configuration (build/electron-builder.yml), checked with electron-builder's own code
 * where it has one: its loader and schema, and its file matcher for what the package contains and
 * what is unpacked from app.asar. Then the icons each platform needs, read back from their headers,
 * and the deb's maintainer scripts as electron-builder renders them.
 */

const root = join(import.meta.dirname, '../..')
const builderRequire = createRequire(createRequire(join(root, 'package.json')).resolve('electron-builder/package.json'))
const builderConfig = builderRequire('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: unknown): Promise<Record<string, unknown>>
  validateConfiguration(config: unknown, debugLogger: { isEnabled: boolean; add(): void }): Promise<void>
}
const { FileMatcher } = builderRequire('app-builder-lib/out/fileMatcher.js') as {
  FileMatcher: new (from: string, to: string, expand: (s: string) => string, patterns: string[]) => { createFilter(): (file: string, stat: Pick<Stats, 'isDirectory'>) => boolean }
}

const CONFIG_FILE = 'build/electron-builder.yml'
const config = await builderConfig.getConfig(root, CONFIG_FILE, null)

interface TargetEntry {
  target: string
  arch: string[]
}
const platform = (name: 'mac' | 'win' | 'linux'): Record<string, unknown> & { target: TargetEntry[] } => config[name] as Record<string, unknown> & { target: TargetEntry[] }

/** electron-builder's filter for a list of patterns, over paths relative to the project. */
function matcher(patterns: string[]): (path: string) => boolean {
  const filter = new FileMatcher(root, '/app', (s) => s, patterns).createFilter()
  return (path) => {
    const full = join(root, path)
    return filter(full, existsSync(full) ? statSync(full) : { isDirectory: () => false })
  }
}

describe('the electron-builder configuration', () => {
  it('loads and passes electron-builder\'s schema (and the schema does reject a wrong key)', async () => {
    await expect(builderConfig.validateConfiguration(config, { isEnabled: false, add: () => {} })).resolves.toBeUndefined()
    await expect(builderConfig.validateConfiguration({ ...config, macOS: {} }, { isEnabled: false, add: () => {} })).rejects.toThrow(/macOS/)
    expect(config['appId']).toBe('org.objecttwin.console')
    expect(config['productName']).toBe('ObjectTwin Console')
  })

  it('builds every installer on x64 and arm64: NSIS, dmg and zip, AppImage and deb', () => {
    const targets = (name: 'mac' | 'win' | 'linux'): Record<string, string[]> => Object.fromEntries(platform(name).target.map((t) => [t.target, [...t.arch].sort()]))
    expect(targets('win')).toEqual({ nsis: ['arm64', 'x64'] })
    expect(targets('mac')).toEqual({ dmg: ['arm64', 'x64'], zip: ['arm64', 'x64'] })
    expect(targets('linux')).toEqual({ AppImage: ['arm64', 'x64'], deb: ['arm64', 'x64'] })
    expect(config['publish']).toEqual([{ provider: 'github', releaseType: 'draft' }])
  })

  it('signs macOS with the hardened runtime, Bluetooth and network entitlements, and says why it wants Bluetooth', () => {
    const mac = platform('mac')
    expect(mac['hardenedRuntime']).toBe(true)
    expect(mac['entitlements']).toBe('build/entitlements.mac.plist')
    expect(mac['entitlementsInherit']).toBe('build/entitlements.mac.plist')
    const plist = new XMLParser().parse(readFileSync(join(root, 'build/entitlements.mac.plist'), 'utf8')) as { plist: { dict: { key: string[]; true: unknown } } }
    expect(plist.plist.dict.key).toEqual(expect.arrayContaining(['com.apple.security.device.bluetooth', 'com.apple.security.network.client', 'com.apple.security.network.server', 'com.apple.security.cs.allow-jit']))
    const info = mac['extendInfo'] as Record<string, string>
    expect(info['NSBluetoothAlwaysUsageDescription']).toMatch(/^ObjectTwin Console connects to your Bluetooth Low Energy medical sensors/)
  })

  it('packs only the built bundles and package.json: no tests, sources, bench, docs or build resources', () => {
    // The loader normalises `files` into file sets; ours is one set, from the project directory.
    const fileSets = config['files'] as Array<{ from?: string; filter: string[] }>
    expect(fileSets).toHaveLength(1)
    expect(fileSets[0]?.from).toBeUndefined()
    const packed = matcher(fileSets[0]?.filter ?? [])
    // Every file of the project that is not ignored (tracked or new), and the build output.
    const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => f && existsSync(join(root, f)))
    const built = (readdirSync(join(root, 'out'), { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; parentPath: string; name: string }>)
      .filter((e) => e.isFile())
      .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    const inPackage = [...listed, ...built].filter(packed)
    expect(inPackage).toEqual(expect.arrayContaining(['package.json', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']))
    expect(inPackage.filter((f) => f !== 'package.json' && !f.startsWith('out/'))).toEqual([])
    expect(inPackage.filter((f) => f.endsWith('.ts') || f.endsWith('.map') || f.includes('test'))).toEqual([])
    expect(listed.filter((f) => /^(test|electron|renderer|shared|bench|docs|build|scripts)\//.test(f) && packed(f))).toEqual([])
  })

  it('unpacks every native (.node) file of the production dependencies from app.asar', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> }
    const production = Object.entries(lock.packages).filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && !p.devOptional && existsSync(join(root, path)))
    const native: string[] = []
    const walk = (dir: string): void => {
      for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`
        // A nested node_modules holds packages of their own, listed in the lockfile separately.
        if (entry.isDirectory() && entry.name !== 'node_modules') walk(path)
        else if (entry.isFile() && entry.name.endsWith('.node')) native.push(path)
      }
    }
    for (const [path] of production) walk(path)
    for (const pkg of ['@stoprocent/noble/prebuilds/linux-x64/', '@stoprocent/noble/prebuilds/win32-x64/', '@stoprocent/bluetooth-hci-socket/prebuilds/linux-arm64/']) {
      expect(native.some((f) => f.startsWith(`node_modules/${pkg}`)), pkg).toBe(true)
    }
    const unpacked = matcher(config['asarUnpack'] as string[])
    expect(native.filter((f) => !unpacked(f))).toEqual([])
    // Not everything, though: JavaScript stays in the archive.
    expect(unpacked('node_modules/@stoprocent/noble/index.js')).toBe(false)
    expect(config['npmRebuild']).toBe(false)
  })
})

// ---- icons ------------------------------------------------------------------------------------------

/** Width and height from a PNG's IHDR, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
  expect(png.toString('latin1', 12, 16)).toBe('IHDR')
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) }
}

/** The RGBA pixels of an 8-bit RGBA PNG (no interlace), undoing each row's filter. */
function pngPixels(png: Buffer): { width: number; rgba: Uint8Array } {
  const { width, height } = pngSize(png)
  const data: Buffer[] = []
  for (let p = 8; p < png.length; ) {
    const length = png.readUInt32BE(p)
    if (png.toString('latin1', p + 4, p + 8) === 'IDAT') data.push(png.subarray(p + 8, p + 8 + length))
    p += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * 4
  const rgba = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number
    for (let i = 0; i < stride; i++) {
      const a = i >= 4 ? (rgba[y * stride + i - 4] as number) : 0
      const b = y > 0 ? (rgba[(y - 1) * stride + i] as number) : 0
      const c = i >= 4 && y > 0 ? (rgba[(y - 1) * stride + i - 4] as number) : 0
      const p = a + b - c
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter] as number
      rgba[y * stride + i] = ((raw[y * (stride + 1) + 1 + i] as number) + predicted) & 0xff
    }
  }
  return { width, rgba }
}

const build = (file: string): Buffer => readFileSync(join(root, 'build', file))

describe('the icons', () => {
  it('has the drawing and a 1024 px PNG, transparent around a tile with a white trace', () => {
    expect(build('icon.svg').toString()).toMatch(/^<svg [^>]*viewBox="0 0 1024 1024"/)
    expect(pngSize(build('icon.png'))).toEqual({ width: 1024, height: 1024 })
    const { width, rgba } = pngPixels(build('icons/32x32.png'))
    const pixel = (x: number, y: number): number[] => [...rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)]
    expect(pixel(0, 0)[3]).toBe(0)
    expect(pixel(3, 16)[3]).toBe(255)
    // The R wave's peak: white, at the top middle of the tile.
    expect(pixel(16, 9)).toEqual([255, 255, 255, 255])
  })

  it('gives Linux one PNG per size of the icon theme, 16 to 512 px', () => {
    for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) expect(pngSize(build(`icons/${size}x${size}.png`)), `${size}x${size}`).toEqual({ width: size, height: size })
    expect(platform('linux')['icon']).toBe('build/icons')
  })

  it('gives Windows an ICO with 16 to 256 px images', () => {
    const ico = build('icon.ico')
    expect(ico.readUInt16LE(0)).toBe(0)
    expect(ico.readUInt16LE(2)).toBe(1)
    const sizes: number[] = []
    for (let n = 0; n < ico.readUInt16LE(4); n++) {
      const entry = 6 + 16 * n
      const declared = ico[entry] || 256
      const bytes = ico.readUInt32LE(entry + 8)
      const image = ico.subarray(ico.readUInt32LE(entry + 12), ico.readUInt32LE(entry + 12) + bytes)
      expect(image.length, `image ${n} lies within the file`).toBe(bytes)
      // Each image is a PNG or a 32-bit DIB (whose height counts the mask too); both must say the entry's size.
      const actual = image[0] === 0x89 ? pngSize(image).width : image.readInt32LE(4)
      if (image[0] !== 0x89) expect([image.readInt32LE(8), image.readUInt16LE(14)]).toEqual([2 * declared, 32])
      expect(actual).toBe(declared)
      sizes.push(declared)
    }
    expect(sizes).toEqual([16, 24, 32, 48, 64, 128, 256])
    expect(platform('win')['icon']).toBe('build/icon.ico')
  })

  it('gives macOS an ICNS with every size of an iconset, 16 px to 512 px @2x', () => {
    const icns = build('icon.icns')
    expect(icns.toString('latin1', 0, 4)).toBe('icns')
    expect(icns.readUInt32BE(4)).toBe(icns.length)
    const found: Record<string, number> = {}
    for (let p = 8; p < icns.length; p += icns.readUInt32BE(p + 4)) {
      found[icns.toString('latin1', p, p + 4)] = pngSize(icns.subarray(p + 8, p + icns.readUInt32BE(p + 4))).width
    }
    expect(found).toMatchObject({ icp4: 16, ic11: 32, icp5: 32, ic12: 64, ic07: 128, ic13: 256, ic08: 256, ic14: 512, ic09: 512, ic10: 1024 })
    expect(platform('mac')['icon']).toBe('build/icon.icns')
  })
})

// ---- the deb's maintainer scripts ------------------------------------------------------------------

/** A template as electron-builder fills it (FpmTarget: `${name}` from these options, anything else an error). */
function render(file: string): string {
  const options: Record<string, string> = { executable: 'objecttwin-console', sanitizedProductName: 'ObjectTwin Console', productFilename: 'objecttwin-console' }
  return readFileSync(join(root, file), 'utf8').replace(/\${([a-zA-Z]+)}/g, (_m, name: string) => {
    if (!(name in options)) throw new Error(`${file}: macro ${name} is not defined`)
    return options[name] as string
  })
}

/** The shell commands of a script, without comments and blank lines (to compare with electron-builder's own). */
const commands = (script: string): string[] => script.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))

describe('the deb', () => {
  const deb = config['deb'] as { afterInstall: string; afterRemove: string; depends: string[] }
  const templates = join(builderRequire.resolve('app-builder-lib/package.json'), '../templates/linux')

  it('grants the app raw HCI in its postinst, keeping electron-builder\'s own steps, and undoes its additions on removal', () => {
    for (const [ours, theirs] of [[deb.afterInstall, 'after-install.tpl'], [deb.afterRemove, 'after-remove.tpl']] as const) {
      const script = render(ours)
      expect(spawnSync('bash', ['-n'], { input: script }).status, `${ours} is valid bash`).toBe(0)
      const defaults = commands(readFileSync(join(templates, theirs), 'utf8').replace(/\${executable}/g, 'objecttwin-console').replace(/\${sanitizedProductName}/g, 'ObjectTwin Console'))
      expect(commands(script), `${ours} still does what electron-builder's ${theirs} does`).toEqual(expect.arrayContaining(defaults))
    }
    const install = render(deb.afterInstall)
    expect(install).toContain(`APP_DIR='/opt/ObjectTwin Console'`)
    expect(install).toContain('setcap cap_net_raw,cap_net_admin+eip "$APP_DIR/objecttwin-console"')
    expect(install).toContain(`echo "$LIB_DIR" > '/etc/ld.so.conf.d/objecttwin-console.conf'`)
    expect(render(deb.afterRemove)).toContain(`rm -f '/etc/ld.so.conf.d/objecttwin-console.conf'`)
    expect(deb.depends).toEqual(expect.arrayContaining(['libgtk-3-0', 'libnss3', 'libcap2-bin']))
  })
})
