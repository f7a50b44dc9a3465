import { contextBridge, ipcRenderer } from 'electron'

// Named methods only: the renderer never sees ipcRenderer itself.
const bridge = {
  appInfo: (): Promise<{ name: string; version: string; platform: string }> => ipcRenderer.invoke('app:info'),
}

contextBridge.exposeInMainWorld('objecttwin', bridge)

export type PreloadBridge = typeof bridge
