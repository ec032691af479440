// Private infrastructure for fault tests: a `nats-server` and a `redis-server` of the test's own on
// spare ports (with their data on disk, so a restart keeps it), a TCP proxy in front of Postgres that
// can cut every connection, and `decomposer start` processes to kill. Never the shared services.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect as tcpConnect } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config } from '../../src/config.js'
import { envFor, eventually } from './env.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1')
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

/** A server process that can be killed and started again on the same port with the same data. */
class ServerProcess {
  private child: ChildProcess | undefined
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly command: string,
    private readonly args: string[],
  ) {}
  async start(): Promise<void> {
    this.child = spawn(this.command, this.args, { stdio: 'ignore', cwd: this.dir })
    await eventually(async () => ((await portOpen(this.port)) ? true : undefined), 10_000, `${this.command} on ${this.port}`)
  }
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    await new Promise<void>((r) => {
      child.once('exit', () => r())
      child.kill(signal)
    })
    this.child = undefined
  }
  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export async function startPrivateNats(): Promise<ServerProcess & { url: string }> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'decomposer-nats-'))
  const s = new ServerProcess(port, dir, 'nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir])
  await s.start()
  return Object.assign(s, { url: `nats://127.0.0.1:${port}` })
}

export async function startPrivateRedis(): Promise<ServerProcess & { url: string }> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'decomposer-redis-'))
  // Every write on disk before it is acknowledged: a killed Redis comes back with all it said it had.
  const s = new ServerProcess(port, dir, 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
  ])
  await s.start()
  return Object.assign(s, { url: `redis://127.0.0.1:${port}` })
}

/** A TCP proxy to Postgres: `cut()` drops every connection and refuses new ones until `restore()`. */
export class TcpProxy {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private constructor(readonly port: number, private readonly target: number) {}
  static async start(target: number): Promise<TcpProxy> {
    const p = new TcpProxy(await freePort(), target)
    await p.restore()
    return p
  }
  async restore(): Promise<void> {
    if (this.server) return
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target, '127.0.0.1')
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.once('close', () => this.sockets.delete(s))
        s.on('error', () => undefined)
      }
      client.pipe(upstream).pipe(client)
      client.once('close', () => upstream.destroy())
      upstream.once('close', () => client.destroy())
    })
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r))
    this.server = server
  }
  async cut(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    if (server) await new Promise((r) => server.close(r))
  }
  async dispose(): Promise<void> {
    await this.cut()
  }
}

/** `decomposer start` as its own process, with its logs kept for assertions and failure messages. */
export class ServiceProcess {
  logs = ''
  private constructor(private readonly child: ChildProcess) {}
  static async start(config: Config, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
      cwd: root,
      env: envFor(config, { LOG_LEVEL: 'info', ...extraEnv }),
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    const p = new ServiceProcess(child)
    child.stderr!.on('data', (d: Buffer) => (p.logs += d.toString()))
    await eventually(async () => (p.logs.includes('decomposer started') ? true : child.exitCode !== null ? false : undefined), 30_000, 'service start').then(
      (ok) => {
        if (!ok) throw new Error(`service exited at start: ${p.logs}`)
      },
    )
    return p
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return
    await new Promise<void>((r) => {
      this.child.once('exit', () => r())
      this.child.kill(signal)
    })
  }
}
