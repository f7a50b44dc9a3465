/**
 * The UI's Content-Security-Policy, the same as the meta tag of renderer/index.html (a test checks):
 * sent by `objecttwin serve` and by the Electron shell. Apart from http-api.ts so the shell does not
 * pull in the HTTP server.
 */
export const RENDERER_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
