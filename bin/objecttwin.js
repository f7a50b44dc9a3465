#!/usr/bin/env node
// Launches the TypeScript CLI with Node's built-in type stripping (on by default from Node 22.18;
// 22.12–22.17 need the flag, so we re-run ourselves with it).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const entry = fileURLToPath(new URL('../electron/cli/objecttwin.ts', import.meta.url))
const [major, minor] = process.versions.node.split('.').map(Number)

if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`objecttwin needs Node.js 22.12 or newer (24 LTS recommended); this is ${process.version}.`)
  process.exit(1)
}

if (process.features.typescript) {
  await import(entry)
} else {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', entry, ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)))
}
