// The service under bench, in a process of its own (as it runs in production), with the instant
// sampler. The bench drives it over NATS like any client and steers it on one control subject:
// `{"size": n}` sets the subtasks per decomposition, `{"rss": true}` answers with this process's
// resident memory. Configuration comes from the environment (see bench/main.ts). SIGTERM closes it.
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/log.js'
import { startService } from '../src/app.js'
import { instantSampler } from './instant-sampler.js'

const config = loadConfig()
const log = createLogger(config.logLevel)
const sampler = instantSampler()
const service = await startService(config, log, { sampler })
const control = service.connections.nc.subscribe(`${config.rpcPrefix}.bench.control`, {
  callback: (_err, m) => {
    const body = m.json<{ size?: number; rss?: boolean }>()
    if (body.size) sampler.size = body.size
    m.respond(JSON.stringify({ size: sampler.size, rssMb: process.memoryUsage().rss / 2 ** 20 }))
  },
})
await service.connections.nc.flush()
process.stdout.write('ready\n')
process.once('SIGTERM', () => {
  control.unsubscribe()
  void service.close().then(() => process.exit(0))
})
