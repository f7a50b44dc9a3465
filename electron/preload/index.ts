import { contextBridge, ipcRenderer } from 'electron'
import { createPreloadBridge } from './bridge.ts'

// Named methods only: the renderer never sees ipcRenderer itself.
contextBridge.exposeInMainWorld('objecttwin', createPreloadBridge(ipcRenderer))
