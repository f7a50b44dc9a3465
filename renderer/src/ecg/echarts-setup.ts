/**
 * ECharts, only the parts the monitor uses (tree-shaken: echarts/core + the line chart, the cartesian grid and the
 * canvas renderer) instead of the full bundle.
 */
import { init, use } from 'echarts/core'
import { LineChart } from 'echarts/charts'
import { GridComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([LineChart, GridComponent, CanvasRenderer])

export { init }
export type { EChartsType } from 'echarts/core'
