import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { provideApi } from './api/api-context.ts'
import { selectTransport } from './api/select-transport.ts'
import { listenToShellCommands } from './api/shell-commands.ts'
import { useClientsStore } from './stores/clients.ts'
import { useConnectionStore } from './stores/connection.ts'
import { useLogsStore } from './stores/logs.ts'
import { useObservationsStore } from './stores/observations.ts'
import { useThemeStore } from './stores/theme.ts'
import { useValuesStore } from './stores/values.ts'
import './style.css'

// The transport is chosen once, at start: Electron's preload bridge when present, else REST + SSE.
const { kind, api } = selectTransport()
provideApi(api)

const app = createApp(App)
app.use(createPinia())
useConnectionStore().start(kind)
useLogsStore().start()
useValuesStore().start()
useObservationsStore().start()
useClientsStore().start()
// The Electron menu's View → Toggle theme.
listenToShellCommands(window, { 'toggle-theme': () => useThemeStore().toggle() })
app.mount('#app')
