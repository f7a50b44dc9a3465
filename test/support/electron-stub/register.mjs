// `node --import ./register.mjs out/main/index.js`: every `electron` import and require, from the bundle
// and from its dependencies (electron-log), resolves to ./electron.mjs.
import { registerHooks } from 'node:module'

const stub = new URL('./electron.mjs', import.meta.url).href
registerHooks({
  resolve: (specifier, context, nextResolve) => (specifier === 'electron' ? { url: stub, format: 'module', shortCircuit: true } : nextResolve(specifier, context)),
})
