import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'

/** The object models the UI names things with: the same built-in registry the server uses. */
export const registry = ObjectRegistry.withBuiltins()
