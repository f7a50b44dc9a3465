import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import { buildObjectTree, findNode, flattenTree, type ObjectNode, type TreeNode, type TreeRow } from '../model/object-tree.ts'
import { registry } from '../registry.ts'
import { useClientModelsStore } from './client-models.ts'
import { useClientsStore } from './clients.ts'
import { useObservationsStore } from './observations.ts'
import { useValuesStore } from './values.ts'

/**
 * The selected client's object tree: its registered objects, named from the registry (and from the
 * models the server learned from the client: an ObjectTwin gateway's twins), with the values from
 * reads and notifications and the observations the server holds. Rebuilt when any of them moves
 * (values at most once per animation frame).
 */
export const useTreeStore = defineStore('tree', () => {
  const endpoint = ref<string | undefined>(undefined)
  const selectedPath = ref<string | undefined>(undefined)
  /** Paths the user opened or closed, per client. */
  const overrides = shallowRef<ReadonlyMap<string, boolean>>(new Map())
  const overridesByEndpoint = new Map<string, ReadonlyMap<string, boolean>>()

  const clients = useClientsStore()
  const values = useValuesStore()
  const observations = useObservationsStore()

  const client = computed(() => (endpoint.value === undefined ? undefined : clients.get(endpoint.value)))

  // The server's models of the client's objects (its twins'), fetched once per registration and object list.
  const models = useClientModelsStore()
  watch(
    () => client.value?.info,
    (info) => {
      if (info) void models.ensure(info)
    },
    { immediate: true },
  )
  /** The selected client's models from the server; empty without them (the registry and twin fallbacks name things). */
  const clientModels = computed(() => (endpoint.value === undefined ? new Map() : models.of(endpoint.value)))

  const tree = computed<ObjectNode[]>(() => {
    void values.version
    const ep = endpoint.value
    const c = client.value
    if (ep === undefined || !c) return []
    return buildObjectTree({
      objects: c.info.objects,
      models: registry,
      clientModels: clientModels.value,
      values: values.valuesOf(ep),
      observed: observations.pathsOf(ep),
      discovered: values.discoveredOf(ep).keys(),
    })
  })

  const rows = computed<TreeRow[]>(() => flattenTree(tree.value, overrides.value))

  const selected = computed<TreeNode | undefined>(() => (selectedPath.value === undefined ? undefined : findNode(tree.value, selectedPath.value)))

  /** Observed resources of the selected client (exactly observed, not through a parent). */
  const observedResources = computed(() => tree.value.flatMap((o) => o.instances.flatMap((i) => i.resources.filter((r) => r.observed))))

  function open(ep: string, path?: string): void {
    if (endpoint.value !== undefined) overridesByEndpoint.set(endpoint.value, overrides.value)
    if (endpoint.value !== ep) {
      endpoint.value = ep
      overrides.value = overridesByEndpoint.get(ep) ?? new Map()
      void observations.refresh(ep)
    }
    selectedPath.value = path
    if (path) revealPath(path)
  }

  /** Opens the ancestors of a path so its row is visible. */
  function revealPath(path: string): void {
    const parts = path.split('/').filter((s) => s !== '')
    const next = new Map(overrides.value)
    for (let depth = 1; depth < parts.length; depth++) next.set('/' + parts.slice(0, depth).join('/'), true)
    overrides.value = next
  }

  function setExpanded(path: string, expanded: boolean): void {
    const next = new Map(overrides.value)
    next.set(path, expanded)
    overrides.value = next
  }

  function select(path: string | undefined): void {
    selectedPath.value = path
  }

  return { endpoint, selectedPath, client, clientModels, tree, rows, selected, observedResources, open, select, setExpanded, revealPath }
})
