/** npm run contract-test passes against a freshly started server, and fails against one that breaks the contract. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { sharedUrl } from '../helpers/database.js'
import { runContractTest, startServer } from '../helpers/server.js'
import { newUserId, TEST_SECRET, tokenFor } from '../helpers/tokens.js'

t.test('npm run contract-test', async (t) => {
  t.test('passes against the service', async (t) => {
    const server = await startServer(t, { DATABASE_URL: sharedUrl(), JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', NODE_ENV: 'test' })
    const { code, stdout } = await runContractTest(server.baseUrl, tokenFor(newUserId('contract'), { expiresIn: 3600 }))
    t.equal(code, 0, stdout)
    t.match(stdout, /PASS createTask/)
    // A new operation of openapi.yaml without its step in the journey fails this line.
    t.match(stdout, /^PASS every operation of openapi\.yaml exercised \(\d+\)$/m)
    t.match(stdout, /^\d+ passed, 0 failed$/m)
    t.notMatch(stdout, /FAIL/)
  })

  t.test('fails against a server that drifts from the contract', async (t) => {
    // Answers every request with a 200 and a body no operation declares.
    const impostor = createServer((_request, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}') })
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { impostor.close() })
    const { code, stdout } = await runContractTest(`http://127.0.0.1:${(impostor.address() as AddressInfo).port}`, 'x')
    t.equal(code, 1)
    t.match(stdout, /FAIL getHealth/)
  })
})
