// The aedes broker of the interop tests (tests/interop/brokers.py starts it).
//
//   node server.mjs HOST PORT USERNAME PASSWORD
//
// Listens on HOST:PORT; accepts only USERNAME/PASSWORD (CONNACK 4 otherwise). Prints
// "aedes listening on HOST:PORT" once it accepts connections, and "EADDRINUSE" then
// exits 2 when the port is taken. In-memory persistence (aedes-persistence): sessions,
// queued QoS 1 messages and retained messages live as long as the process.
// SIGTERM closes the broker and exits.
import net from 'node:net'
import { Aedes } from 'aedes'

const [host, portText, username, password] = process.argv.slice(2)
const port = Number(portText)

const broker = await Aedes.createBroker()

broker.authenticate = (client, user, pass, callback) => {
  if (user === username && pass !== undefined && pass.toString() === password) {
    callback(null, true)
    return
  }
  const error = new Error('bad user name or password')
  error.returnCode = 4
  callback(error, false)
}

// One line per event the tests may wait on (stdout is a file: no buffering issues).
broker.on('client', (client) => console.log(`client connected ${client.id}`))
broker.on('clientDisconnect', (client) => console.log(`client disconnected ${client.id}`))
broker.on('subscribe', (subs, client) =>
  console.log(`subscribe ${client.id} ${subs.map((s) => `${s.topic}@${s.qos}`).join(' ')}`)
)
broker.on('clientError', (client, err) => console.log(`client error ${client.id}: ${err.message}`))
broker.on('connectionError', (client, err) => console.log(`connection error: ${err.message}`))

const server = net.createServer(broker.handle)
server.on('error', (err) => {
  console.log(err.code === 'EADDRINUSE' ? 'EADDRINUSE' : `server error: ${err.message}`)
  process.exit(2)
})
server.listen(port, host, () => console.log(`aedes listening on ${host}:${port}`))

process.on('SIGTERM', () => {
  server.close()
  broker.close(() => process.exit(0))
})
